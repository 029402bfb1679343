//! A quickcheck model test: random programs of allocator operations applied
//! to `Heap`, with a shadow model of every live block (address, a layout it
//! fits, and its expected contents as a cookie seed and length). After each
//! operation every live block is checked for its contents and alignment;
//! everything is freed at the end.

mod common;

use core::mem::MaybeUninit;
use core::ptr::NonNull;

use common::{aligned, check, check_zero, fill, scaled};
use mallocv2::alloc::{Allocator, Layout};
use mallocv2::{BatchAlloc, BatchItem, Block, Error, Flags, Heap, ResizeInPlace};
use quickcheck::{Arbitrary, Gen, QuickCheck};

/// One step of a program. Indices pick a live block modulo the number of
/// live blocks; sizes are drawn from classes by `size_of`.
#[derive(Clone, Debug)]
enum Op {
    Alloc {
        size: u32,
        align: u8,
        zeroed: bool,
    },
    Grow {
        idx: u32,
        size: u32,
        zeroed: bool,
    },
    Shrink {
        idx: u32,
        size: u32,
    },
    TryGrowInPlace {
        idx: u32,
        size: u32,
        use_usable: bool,
    },
    TryShrinkInPlace {
        idx: u32,
        size: u32,
        use_usable: bool,
    },
    TryRemap {
        idx: u32,
        size: u32,
    },
    GrowLive {
        idx: u32,
        size: u32,
        live: u32,
        align: u8,
    },
    BatchAlloc {
        size: u32,
        align: u8,
        n: u8,
        zeroed: bool,
    },
    BatchFree {
        idx: u32,
    },
    Free {
        idx: u32,
    },
    HeapBatch {
        items: Vec<(u8, u32, u32, u8)>,
    },
}

/// A size from a class picked by the low bits of `r`: small, medium, or
/// large (a span).
fn size_of(r: u32) -> usize {
    let v = (r >> 4) as usize;
    match r % 16 {
        0..=7 => 1 + v % 512,
        8..=14 => 512 + v % (64 << 10),
        _ => (256 << 10) + v % (4 << 20),
    }
}

/// An alignment: mostly small, sometimes a page, rarely 64 KiB or 2 MiB.
fn align_of(a: u8) -> usize {
    match a % 32 {
        30 => 64 << 10,
        31 => 2 << 20,
        x => 1 << (x % 13),
    }
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Self {
        let idx = u32::arbitrary(g);
        let size = u32::arbitrary(g);
        match u8::arbitrary(g) % 24 {
            0..=4 => Op::Alloc {
                size,
                align: u8::arbitrary(g),
                zeroed: bool::arbitrary(g),
            },
            5..=6 => Op::Grow {
                idx,
                size,
                zeroed: bool::arbitrary(g),
            },
            7..=8 => Op::Shrink { idx, size },
            9..=10 => Op::TryGrowInPlace {
                idx,
                size,
                use_usable: bool::arbitrary(g),
            },
            11 => Op::TryShrinkInPlace {
                idx,
                size,
                use_usable: bool::arbitrary(g),
            },
            12 => Op::TryRemap { idx, size },
            13..=14 => Op::GrowLive {
                idx,
                size,
                live: u32::arbitrary(g),
                align: u8::arbitrary(g),
            },
            15..=16 => Op::BatchAlloc {
                size,
                align: u8::arbitrary(g),
                n: u8::arbitrary(g),
                zeroed: bool::arbitrary(g),
            },
            17 => Op::BatchFree { idx },
            18..=20 => Op::Free { idx },
            _ => {
                let n = usize::arbitrary(g) % 6;
                Op::HeapBatch {
                    items: (0..n)
                        .map(|_| {
                            (
                                u8::arbitrary(g),
                                u32::arbitrary(g),
                                u32::arbitrary(g),
                                u8::arbitrary(g),
                            )
                        })
                        .collect(),
                }
            }
        }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        Box::new(core::iter::empty())
    }
}

/// The shadow of one live block.
struct Shadow {
    ptr: NonNull<u8>,
    /// A layout the block fits (requested size or usable size).
    layout: Layout,
    /// Cookie seed and the length it was written for.
    seed: u64,
    filled: usize,
}

struct Model {
    blocks: Vec<Shadow>,
    next_seed: u64,
}

fn layout(size: usize, align: usize) -> Layout {
    Layout::from_size_align(size, align).expect("model layouts are valid")
}

impl Model {
    /// Records a block and writes a fresh cookie over its `layout.size()`.
    fn add(&mut self, ptr: NonNull<u8>, layout: Layout) {
        assert!(
            aligned(ptr, layout.align()),
            "{ptr:p} misaligned for {layout:?}"
        );
        self.next_seed += 1;
        // SAFETY: the block has at least `layout.size()` bytes.
        unsafe { fill(ptr, layout.size(), self.next_seed) };
        self.blocks.push(Shadow {
            ptr,
            layout,
            seed: self.next_seed,
            filled: layout.size(),
        });
    }

    fn pick(&self, idx: u32) -> Option<usize> {
        (!self.blocks.is_empty()).then(|| idx as usize % self.blocks.len())
    }

    /// Checks that the first `keep` bytes of block `b` are now at `p`.
    fn check_moved(b: &Shadow, p: NonNull<u8>, keep: usize, what: &str) {
        // SAFETY: the new block has at least `keep` bytes, and `keep` is
        // within the old contents.
        unsafe { check(p, b.filled, keep.min(b.filled), b.seed, what) };
    }

    fn check_all(&self, what: &str) {
        for b in &self.blocks {
            assert!(aligned(b.ptr, b.layout.align()), "{what}: {:p}", b.ptr);
            // SAFETY: each live block has `layout.size() >= filled` bytes.
            unsafe { check(b.ptr, b.filled, b.filled, b.seed, what) };
        }
    }

    /// Replaces block `i` after a successful resize to `(p, new)`, having
    /// checked that the first `keep` bytes came along.
    fn replace(&mut self, i: usize, p: NonNull<u8>, new: Layout, keep: usize, what: &str) {
        let b = self.blocks.swap_remove(i);
        Self::check_moved(&b, p, keep, what);
        self.add(p, new);
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Alloc {
                size,
                align,
                zeroed,
            } => {
                let l = layout(size_of(size), align_of(align));
                let r = if zeroed {
                    Heap.allocate_zeroed(l)
                } else {
                    Heap.allocate(l)
                };
                let b = r.expect("allocate");
                assert!(b.len() >= l.size());
                if zeroed {
                    // SAFETY: the returned slice is readable.
                    unsafe { check_zero(b.cast(), 0, b.len(), "allocate_zeroed") };
                }
                self.add(b.cast(), l);
            }
            Op::Grow { idx, size, zeroed } => {
                let Some(i) = self.pick(idx) else { return };
                let b = &self.blocks[i];
                let old = b.layout;
                let new = layout(old.size().max(size_of(size)), old.align());
                // SAFETY: live block fitting `old`; new.size() >= old.size().
                let r = unsafe {
                    if zeroed {
                        Heap.grow_zeroed(b.ptr, old, new)
                    } else {
                        Heap.grow(b.ptr, old, new)
                    }
                }
                .expect("grow");
                let p: NonNull<u8> = r.cast();
                if zeroed {
                    // SAFETY: `new.size()` bytes are readable.
                    unsafe { check_zero(p, old.size(), new.size(), "grow_zeroed") };
                }
                self.replace(i, p, new, old.size(), "grow");
            }
            Op::Shrink { idx, size } => {
                let Some(i) = self.pick(idx) else { return };
                let b = &self.blocks[i];
                let old = b.layout;
                let new = layout(size_of(size).min(old.size()), old.align());
                // SAFETY: live block fitting `old`; new.size() <= old.size().
                let r = unsafe { Heap.shrink(b.ptr, old, new) }.expect("shrink");
                self.replace(i, r.cast(), new, new.size(), "shrink");
            }
            Op::TryGrowInPlace {
                idx,
                size,
                use_usable,
            } => {
                let Some(i) = self.pick(idx) else { return };
                let b = &self.blocks[i];
                let old = b.layout;
                let target = old.size().max(size_of(size));
                // SAFETY: live block fitting `old`; target >= old.size().
                match unsafe { Heap.try_grow_in_place(b.ptr, old, target) } {
                    Ok(n) => {
                        assert!(n >= target);
                        let keep = if use_usable { n } else { target };
                        let p = b.ptr;
                        self.replace(i, p, layout(keep, old.align()), old.size(), "grow in place");
                    }
                    Err(e) => assert!(
                        e.is_no_space() || matches!(e, Error::Os(_)),
                        "in-place refusal {e:?}"
                    ),
                }
            }
            Op::TryShrinkInPlace {
                idx,
                size,
                use_usable,
            } => {
                let Some(i) = self.pick(idx) else { return };
                let b = &self.blocks[i];
                let old = b.layout;
                let target = size_of(size).min(old.size());
                // SAFETY: live block fitting `old`; target <= old.size().
                match unsafe { Heap.try_shrink_in_place(b.ptr, old, target) } {
                    Ok(n) => {
                        assert!(n >= target);
                        let keep = if use_usable { n } else { target };
                        let p = b.ptr;
                        self.replace(i, p, layout(keep, old.align()), target, "shrink in place");
                    }
                    Err(e) => assert!(e.is_no_space(), "in-place refusal {e:?}"),
                }
            }
            Op::TryRemap { idx, size } => {
                let Some(i) = self.pick(idx) else { return };
                let b = &self.blocks[i];
                let old = b.layout;
                let target = old.size().max(size_of(size));
                // SAFETY: live block fitting `old`; target >= old.size().
                match unsafe { Heap.try_remap(b.ptr, old, target) } {
                    Ok(r) => {
                        assert!(r.len() >= target);
                        self.replace(
                            i,
                            r.cast(),
                            layout(target, old.align()),
                            old.size(),
                            "remap",
                        );
                    }
                    Err(e) => assert!(
                        e.is_no_space() || matches!(e, Error::Os(_)),
                        "remap refusal {e:?}"
                    ),
                }
            }
            Op::GrowLive {
                idx,
                size,
                live,
                align,
            } => {
                let Some(i) = self.pick(idx) else { return };
                let b = &self.blocks[i];
                let old = b.layout;
                let live = live as usize % (old.size() + 1);
                let align = if align % 4 == 0 {
                    old.align().max(align_of(align))
                } else {
                    old.align()
                };
                let new = layout(old.size().max(size_of(size)), align);
                // SAFETY: live block fitting `old`; new >= old >= live.
                let r = unsafe { Heap.grow_live(b.ptr, old, new, live) }.expect("grow_live");
                assert!(r.len() >= new.size());
                self.replace(i, r.cast(), new, live, "grow_live");
            }
            Op::BatchAlloc {
                size,
                align,
                n,
                zeroed,
            } => {
                // Mostly slab-sized blocks; one in five of any class.
                let size = if size % 5 == 0 { size } else { size & !8 };
                let l = layout(size_of(size), align_of(align % 8));
                let n = (n % 40) as usize + 1;
                let mut out = vec![MaybeUninit::uninit(); n];
                let before = Heap::thread_stats();
                let r = if zeroed {
                    Heap.allocate_batch_zeroed(l, &mut out)
                } else {
                    Heap.allocate_batch(l, &mut out)
                };
                assert_eq!(Heap::thread_stats().since(&before).batch_calls, 1);
                assert_eq!(r.count, n);
                assert!(r.usable_size >= l.size());
                for slot in &out {
                    // SAFETY: all `n` were written.
                    let p = unsafe { slot.assume_init() };
                    if zeroed {
                        // SAFETY: `usable_size` bytes are readable.
                        unsafe { check_zero(p, 0, r.usable_size, "batch zeroed") };
                    }
                    self.add(p, l);
                }
            }
            Op::BatchFree { idx } => {
                let Some(i) = self.pick(idx) else { return };
                let l = self.blocks[i].layout;
                let mut same = Vec::new();
                let mut k = 0;
                while k < self.blocks.len() {
                    if self.blocks[k].layout == l {
                        let b = self.blocks.swap_remove(k);
                        // SAFETY: live block.
                        unsafe { check(b.ptr, b.filled, b.filled, b.seed, "batch free") };
                        same.push(b.ptr);
                    } else {
                        k += 1;
                    }
                }
                // SAFETY: live blocks of layout `l`, listed once.
                unsafe { Heap.deallocate_batch(&same, l) };
            }
            Op::Free { idx } => {
                let Some(i) = self.pick(idx) else { return };
                let b = self.blocks.swap_remove(i);
                // SAFETY: live block.
                unsafe { check(b.ptr, b.filled, b.filled, b.seed, "free") };
                // SAFETY: live block fitting its layout.
                unsafe { Heap.deallocate(b.ptr, b.layout) };
            }
            Op::HeapBatch { ref items } => self.heap_batch(items),
        }
    }

    /// `Heap::batch` with a mix of allocate / resize / free items on
    /// distinct blocks.
    fn heap_batch(&mut self, spec: &[(u8, u32, u32, u8)]) {
        let mut items = Vec::new();
        // For each item, the shadow index it refers to (if any).
        let mut owners: Vec<Option<usize>> = Vec::new();
        let mut used = vec![false; self.blocks.len()];
        for &(kind, idx, size, fl) in spec {
            let mut flags = Flags::NONE;
            if fl & 1 != 0 {
                flags |= Flags::ZERO_MEMORY;
            }
            if fl & 2 != 0 {
                flags |= Flags::PREVENT_MOVE;
            }
            let reserve = if fl & 4 != 0 { size_of(size) * 4 } else { 0 };
            let target = self.pick(idx).filter(|&i| !used[i] && kind % 3 != 0);
            match target {
                None => {
                    let it = BatchItem::alloc(size_of(size), align_of(fl >> 3))
                        .with_flags(flags)
                        .with_reserve(reserve);
                    items.push(it);
                    owners.push(None);
                }
                Some(i) => {
                    used[i] = true;
                    let b = &self.blocks[i];
                    let blk = Block {
                        ptr: b.ptr,
                        layout: b.layout,
                    };
                    let it = if kind % 3 == 1 {
                        BatchItem::free(blk)
                    } else {
                        BatchItem::resize(blk, size_of(size))
                            .with_flags(flags)
                            .with_reserve(reserve)
                    };
                    items.push(it);
                    owners.push(Some(i));
                }
            }
        }
        let before: Vec<BatchItem> = items.clone();
        // SAFETY: every block given is live, fits its layout and appears in
        // one item only.
        let ok = unsafe { Heap.batch(&mut items) };
        assert_eq!(ok, items.iter().filter(|it| it.result.is_ok()).count());
        let mut remove = Vec::new();
        for ((it, was), owner) in items.iter().zip(&before).zip(&owners) {
            match (&it.result, owner) {
                (Err(e), _) => {
                    assert!(
                        e.is_no_space() && was.flags.contains(Flags::PREVENT_MOVE)
                            || matches!(e, Error::OutOfMemory { .. } | Error::Os(_)),
                        "batch item {was:?} failed: {e:?}"
                    );
                    assert_eq!(it.block, was.block, "a failed item changed its block");
                }
                (Ok(()), None) => {
                    let b = it.block.expect("allocated");
                    assert!(it.size >= was.size && it.reserve >= it.size, "{it:?}");
                    if was.flags.contains(Flags::ZERO_MEMORY) {
                        // SAFETY: `it.size` bytes are readable.
                        unsafe { check_zero(b.ptr, 0, it.size, "batch item zeroed") };
                    }
                    self.add(b.ptr, b.layout);
                }
                (Ok(()), Some(i)) => {
                    let old = &self.blocks[*i];
                    match it.block {
                        None => {
                            assert_eq!(was.size, 0);
                            remove.push(*i);
                        }
                        Some(b) => {
                            let old_size = old.layout.size();
                            if was.flags.contains(Flags::PREVENT_MOVE) {
                                assert_eq!(b.ptr, old.ptr, "PREVENT_MOVE moved");
                            }
                            assert!(aligned(b.ptr, b.layout.align()));
                            assert!(b.layout.size() >= was.size);
                            Self::check_moved(old, b.ptr, old_size.min(was.size), "batch resize");
                            if was.flags.contains(Flags::ZERO_MEMORY) && was.size > old_size {
                                // SAFETY: `was.size` bytes are readable.
                                unsafe { check_zero(b.ptr, old_size, was.size, "batch zeroed") };
                            }
                            // The block moved (or not): refill its new extent.
                            self.next_seed += 1;
                            let seed = self.next_seed;
                            let s = &mut self.blocks[*i];
                            s.ptr = b.ptr;
                            s.layout = b.layout;
                            // SAFETY: `layout.size()` bytes are ours.
                            unsafe { fill(s.ptr, s.layout.size(), seed) };
                            s.seed = seed;
                            s.filled = s.layout.size();
                        }
                    }
                }
            }
        }
        remove.sort_unstable();
        for i in remove.into_iter().rev() {
            self.blocks.swap_remove(i);
        }
    }

    fn free_all(&mut self) {
        for b in self.blocks.drain(..) {
            // SAFETY: live block.
            unsafe { check(b.ptr, b.filled, b.filled, b.seed, "final free") };
            // SAFETY: live block fitting its layout.
            unsafe { Heap.deallocate(b.ptr, b.layout) };
        }
    }
}

fn run(ops: Vec<Op>) -> bool {
    let mut m = Model {
        blocks: Vec::new(),
        next_seed: 0,
    };
    for (k, op) in ops.iter().enumerate() {
        m.apply(op);
        m.check_all(&format!("after op {k} {op:?}"));
        // Keep the live set (and its page faults) bounded.
        while m.blocks.len() > 120 {
            m.apply(&Op::Free { idx: k as u32 });
        }
    }
    m.free_all();
    true
}

#[test]
fn heap_matches_model() {
    QuickCheck::new()
        .tests(scaled(60, 4) as u64)
        .rng(Gen::new(60))
        .quickcheck(run as fn(Vec<Op>) -> bool);
}

/// A fixed program touching every operation, so failures reproduce without
/// quickcheck's randomness.
#[test]
fn heap_fixed_program() {
    let mut ops = Vec::new();
    for k in 0..scaled(64, 16) as u32 {
        let s = k.wrapping_mul(2_654_435_761);
        ops.push(Op::Alloc {
            size: s,
            align: k as u8,
            zeroed: k % 3 == 0,
        });
        ops.push(Op::BatchAlloc {
            size: s >> 3,
            align: k as u8,
            n: k as u8,
            zeroed: k % 2 == 0,
        });
        ops.push(Op::Grow {
            idx: k,
            size: s ^ 0x5555,
            zeroed: k % 2 == 1,
        });
        ops.push(Op::TryGrowInPlace {
            idx: k * 7,
            size: s.rotate_left(7),
            use_usable: k % 2 == 0,
        });
        ops.push(Op::TryRemap {
            idx: k * 3,
            size: s.rotate_left(3),
        });
        ops.push(Op::GrowLive {
            idx: k * 5,
            size: s.rotate_left(11),
            live: s,
            align: k as u8,
        });
        ops.push(Op::TryShrinkInPlace {
            idx: k * 11,
            size: s.rotate_left(5),
            use_usable: k % 2 == 1,
        });
        ops.push(Op::Shrink {
            idx: k * 13,
            size: s.rotate_left(9),
        });
        ops.push(Op::HeapBatch {
            items: (0..5)
                .map(|j| {
                    (
                        j as u8 + k as u8,
                        k * 17 + j,
                        s.rotate_left(j),
                        (k + j) as u8,
                    )
                })
                .collect(),
        });
        if k % 4 == 3 {
            ops.push(Op::BatchFree { idx: k });
            ops.push(Op::Free { idx: k * 19 });
        }
    }
    assert!(run(ops));
}
