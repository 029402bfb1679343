//! Multi-thread stress in the style of mimalloc's `test-stress`: threads
//! allocate blocks of random sizes (small, batch, large), fill them with
//! cookies, resize some, hand some to other threads through shared slots,
//! and whoever frees a block verifies its cookie first. Threads are spawned
//! and joined repeatedly (churn), so thread-local state comes and goes.

mod common;

use core::ptr::NonNull;
use std::sync::Mutex;

use common::{aligned, check, fill, scaled, Rng};
use mallocv2::alloc::{Allocator, Layout};
use mallocv2::{BatchAlloc, Heap, ResizeInPlace};

const THREADS: usize = 4;
const SLOTS: usize = 512;

/// A block in flight: where it is, the layout it fits, its cookie seed,
/// the length the cookie was written for, and how much of that is still
/// part of the block (after shrinking).
struct Item {
    ptr: NonNull<u8>,
    layout: Layout,
    seed: u64,
    filled: usize,
    live: usize,
}

// SAFETY: an `Item` owns its block exclusively; `Heap` blocks may be freed
// on any thread.
unsafe impl Send for Item {}

impl Item {
    fn verify(&self, what: &str) {
        assert!(aligned(self.ptr, self.layout.align()), "{what}: misaligned");
        // SAFETY: the item owns `layout.size() >= live` bytes.
        unsafe { check(self.ptr, self.filled, self.live, self.seed, what) };
    }

    fn free(self) {
        self.verify("free");
        // SAFETY: a live Heap block fitting `layout`.
        unsafe { Heap.deallocate(self.ptr, self.layout) };
    }
}

fn new_item(rng: &mut Rng, seed: u64) -> Item {
    let r = rng.below(100);
    let size = if r < 70 {
        rng.range(1, 512)
    } else if r < 95 {
        rng.range(512, 64 << 10)
    } else {
        rng.range(256 << 10, 2 << 20)
    };
    let align = 1usize << rng.below(if r < 95 { 7 } else { 13 });
    let layout = Layout::from_size_align(size, align).expect("valid layout");
    let ptr: NonNull<u8> = Heap.allocate(layout).expect("allocate").cast();
    // SAFETY: `size` bytes are ours.
    unsafe { fill(ptr, size, seed) };
    Item {
        ptr,
        layout,
        seed,
        filled: size,
        live: size,
    }
}

/// Grows, shrinks or tries in place, keeping the cookie.
fn resize(rng: &mut Rng, it: Item) -> Item {
    it.verify("before resize");
    let old = it.layout;
    let new_size = match rng.below(3) {
        0 => old.size() * 2 + rng.below(100),
        1 => (old.size() / 2).max(1),
        _ => old.size() + rng.below(4096),
    };
    let new_size = new_size.min(8 << 20);
    let new = Layout::from_size_align(new_size, old.align()).expect("valid layout");
    if rng.below(4) == 0 && new_size >= old.size() {
        // SAFETY: live block fitting `old`; new_size >= old.size().
        if let Ok(n) = unsafe { Heap.try_grow_in_place(it.ptr, old, new_size) } {
            let layout = Layout::from_size_align(n, old.align()).expect("usable fits");
            let moved = Item { layout, ..it };
            moved.verify("after in-place grow");
            return moved;
        }
        return it;
    }
    // SAFETY: live block fitting `old`.
    let r = unsafe {
        if new_size >= old.size() {
            Heap.grow(it.ptr, old, new)
        } else {
            Heap.shrink(it.ptr, old, new)
        }
    }
    .expect("resize");
    let moved = Item {
        ptr: r.cast(),
        layout: new,
        seed: it.seed,
        filled: it.filled,
        live: it.live.min(new_size),
    };
    moved.verify("after resize");
    moved
}

fn worker(tid: usize, round: usize, iters: usize, slots: &[Mutex<Option<Item>>]) {
    let mut rng = Rng::new((round * 1000 + tid + 1) as u64 * 0x1234_5678_9ABC);
    let mut mine: Vec<Item> = Vec::new();
    let mut seed = ((round * 64 + tid) as u64) << 40;
    for _ in 0..iters {
        seed += 1;
        match rng.below(100) {
            0..=39 => mine.push(new_item(&mut rng, seed)),
            40..=44 => {
                // A batch of small blocks of one layout.
                let size = rng.range(8, 2048);
                let align = 1usize << rng.below(7);
                let l = Layout::from_size_align(size, align).expect("valid layout");
                let mut v = Vec::new();
                let n = rng.range(1, 64);
                let b = Heap.allocate_batch_into(l, n, &mut v);
                assert_eq!(b.count, n);
                for (k, p) in v.into_iter().enumerate() {
                    // SAFETY: `size` bytes are ours.
                    unsafe { fill(p, size, seed * 128 + k as u64) };
                    mine.push(Item {
                        ptr: p,
                        layout: l,
                        seed: seed * 128 + k as u64,
                        filled: size,
                        live: size,
                    });
                }
            }
            45..=59 if !mine.is_empty() => {
                let i = rng.below(mine.len());
                let it = mine.swap_remove(i);
                mine.push(resize(&mut rng, it));
            }
            60..=79 if !mine.is_empty() => {
                let i = rng.below(mine.len());
                mine.swap_remove(i).free();
            }
            80..=99 if !mine.is_empty() => {
                // Exchange with a shared slot: ours goes in, whatever was
                // there (from any thread) comes out and is ours now.
                let i = rng.below(mine.len());
                let it = mine.swap_remove(i);
                let s = rng.below(slots.len());
                let prev = slots[s].lock().expect("slot lock").replace(it);
                if let Some(prev) = prev {
                    prev.verify("taken from a slot");
                    mine.push(prev);
                }
            }
            _ => {}
        }
        // Keep the live set bounded.
        while mine.len() > 300 {
            let i = rng.below(mine.len());
            mine.swap_remove(i).free();
        }
    }
    // Free most of ours; leave a few in slots for the next round's threads.
    for it in mine {
        let s = rng.below(slots.len());
        let prev = slots[s].lock().expect("slot lock").replace(it);
        if let Some(prev) = prev {
            prev.free();
        }
    }
}

#[test]
fn threads_pass_blocks_and_churn() {
    let rounds = scaled(5, 2);
    let iters = scaled(2_000, 300);
    let slots: Vec<Mutex<Option<Item>>> = (0..SLOTS).map(|_| Mutex::new(None)).collect();
    for round in 0..rounds {
        std::thread::scope(|s| {
            for tid in 0..THREADS {
                let slots = &slots;
                s.spawn(move || worker(tid, round, iters, slots));
            }
        });
    }
    for slot in &slots {
        if let Some(it) = slot.lock().expect("slot lock").take() {
            it.free();
        }
    }
}

#[test]
fn batch_blocks_freed_on_other_threads() {
    // One thread allocates batches, the others free them one by one.
    let n = scaled(200_000, 20_000);
    let l = Layout::from_size_align(40, 8).expect("valid layout");
    let mut blocks = Vec::new();
    let b = Heap.allocate_batch_into(l, n, &mut blocks);
    assert_eq!(b.count, n);
    for (i, &p) in blocks.iter().enumerate() {
        // SAFETY: 40 bytes are ours.
        unsafe { fill(p, 40, i as u64) };
    }
    let items: Vec<Item> = blocks
        .into_iter()
        .enumerate()
        .map(|(i, ptr)| Item {
            ptr,
            layout: l,
            seed: i as u64,
            filled: 40,
            live: 40,
        })
        .collect();
    let mut chunks: Vec<Vec<Item>> = (0..THREADS).map(|_| Vec::new()).collect();
    for (i, it) in items.into_iter().enumerate() {
        chunks[i % THREADS].push(it);
    }
    std::thread::scope(|s| {
        for (t, chunk) in chunks.into_iter().enumerate() {
            s.spawn(move || {
                let mut rng = Rng::new(t as u64 + 1);
                let mut chunk = chunk;
                rng.shuffle(&mut chunk);
                // Mix in fresh batch traffic of the same class.
                let mut extra = Vec::new();
                for (k, it) in chunk.into_iter().enumerate() {
                    it.free();
                    if k % 1000 == 0 {
                        Heap.allocate_batch_into(l, 100, &mut extra);
                    }
                }
                // SAFETY: live batch blocks, listed once.
                unsafe { Heap.deallocate_batch(&extra, l) };
            });
        }
    });
}
