//! A generic conformance suite for allocators with the N1527 primitives,
//! run over `Heap`, `Global` and `System` (in the style of allocator-api2's
//! generic tests).
//!
//! Whatever the allocator, the contract is the same: blocks are aligned and
//! at least as large as asked, every byte of the returned slice is writable,
//! `allocate_zeroed`/`grow_zeroed` zero the new bytes, `grow`/`shrink` keep
//! the contents, in-place resizes either succeed at the same address or
//! refuse with the block untouched, batch blocks are freed one by one in any
//! order, and `grow_live` preserves the live prefix.

mod common;

use core::mem::MaybeUninit;
use core::ptr::NonNull;

use common::{aligned, check, check_zero, dirty, fill, Rng};
use mallocv2::alloc::{Allocator, Global, Layout, System};
use mallocv2::{BatchAlloc, Heap, ResizeInPlace};

const SIZES: [usize; 11] = [
    0,
    1,
    7,
    8,
    100,
    4095,
    4096,
    200_000,
    256 << 10,
    1 << 20,
    10 << 20,
];

/// Alignments 1..=4096, plus 64 KiB and 2 MiB when `big` is set.
fn alignments(big: bool) -> Vec<usize> {
    let mut v: Vec<usize> = (0..=12).map(|s| 1usize << s).collect();
    if big {
        v.push(64 << 10);
        v.push(2 << 20);
    }
    v
}

fn layout(size: usize, align: usize) -> Layout {
    Layout::from_size_align(size, align).expect("test layouts are valid")
}

/// A block handed out by the allocator under test.
struct Blk {
    ptr: NonNull<u8>,
    /// The layout it was asked with (a layout it fits).
    layout: Layout,
    /// The length of the returned slice (the usable size).
    len: usize,
}

fn alloc<A: Allocator>(a: &A, l: Layout, what: &str) -> Blk {
    let b = a
        .allocate(l)
        .unwrap_or_else(|_| panic!("{what}: allocate {l:?} failed"));
    let blk = Blk {
        ptr: b.cast(),
        layout: l,
        len: b.len(),
    };
    assert!(blk.len >= l.size(), "{what}: {l:?} gave {} bytes", blk.len);
    assert!(
        aligned(blk.ptr, l.align()),
        "{what}: {:p} not aligned for {l:?}",
        blk.ptr
    );
    blk
}

/// Writes the whole usable length (first and last byte for big blocks) to
/// show it is really ours.
fn touch_usable(b: &Blk) {
    if b.len == 0 {
        return;
    }
    // SAFETY: the returned slice is `b.len` writable bytes.
    unsafe {
        b.ptr.as_ptr().write(0x5A);
        b.ptr.as_ptr().add(b.len - 1).write(0xA5);
    }
}

/// Allocation and deallocation over the size × alignment grid; zeroed
/// allocation returns zeros over the whole returned slice.
fn check_alloc_grid<A: Allocator>(a: &A, name: &str, big: bool) {
    let mut seed = 1;
    for &align in &alignments(big) {
        for &size in &SIZES {
            // The largest sizes only at a few alignments, to keep the run short.
            if size >= (1 << 20) && ![1, 64, 4096, 2 << 20].contains(&align) {
                continue;
            }
            let what = format!("{name}: size {size} align {align}");
            let l = layout(size, align);
            let b = alloc(a, l, &what);
            touch_usable(&b);
            // SAFETY: `b.len` bytes are ours.
            unsafe { fill(b.ptr, b.len, seed) };
            // SAFETY: as above.
            unsafe { check(b.ptr, b.len, b.len, seed, &what) };
            // SAFETY: the block is live and fits `l`.
            unsafe { a.deallocate(b.ptr, l) };

            let z = a
                .allocate_zeroed(l)
                .unwrap_or_else(|_| panic!("{what}: allocate_zeroed failed"));
            let zb = Blk {
                ptr: z.cast(),
                layout: l,
                len: z.len(),
            };
            assert!(aligned(zb.ptr, align), "{what}: zeroed block misaligned");
            assert!(zb.len >= size, "{what}: zeroed block too short");
            // SAFETY: the returned slice is `zb.len` readable bytes.
            unsafe { check_zero(zb.ptr, 0, zb.len, &format!("{what} allocate_zeroed")) };
            // Dirty it so a later zeroed allocation that reuses the memory
            // must really clear it.
            // SAFETY: as above.
            unsafe { dirty(zb.ptr, 0, zb.len, 0xEE) };
            // SAFETY: the block is live and fits its layout.
            unsafe { a.deallocate(zb.ptr, zb.layout) };
            seed += 1;
        }
    }
}

/// Chains of grow / grow_zeroed / shrink keep contents and alignment.
fn check_grow_shrink<A: Allocator>(a: &A, name: &str, big: bool) {
    let chain = [
        1usize,
        24,
        100,
        4096,
        5000,
        200_000,
        300_000,
        1 << 20,
        3 << 20,
    ];
    let mut seed = 1000;
    for &align in &alignments(big) {
        if ![1, 8, 16, 64, 4096, 64 << 10, 2 << 20].contains(&align) {
            continue;
        }
        for zeroed in [false, true] {
            let what = format!("{name}: grow chain align {align} zeroed {zeroed}");
            let mut b = alloc(a, layout(chain[0], align), &what);
            // SAFETY: `chain[0]` bytes are ours.
            unsafe { fill(b.ptr, chain[0], seed) };
            let mut filled = chain[0];
            for &next in &chain[1..] {
                let new = layout(next, align);
                // Dirty the slack past the requested size: zeroed growth must
                // clear it (it is part of the new bytes).
                // SAFETY: the usable length is ours.
                unsafe { dirty(b.ptr, b.layout.size(), b.len, 0xCC) };
                // SAFETY: live block fitting `b.layout`, `next` is larger.
                let r = unsafe {
                    if zeroed {
                        a.grow_zeroed(b.ptr, b.layout, new)
                    } else {
                        a.grow(b.ptr, b.layout, new)
                    }
                };
                let r = r.unwrap_or_else(|_| panic!("{what}: grow to {next} failed"));
                let old_size = b.layout.size();
                b = Blk {
                    ptr: r.cast(),
                    layout: new,
                    len: r.len(),
                };
                assert!(b.len >= next, "{what}: grew to {} < {next}", b.len);
                assert!(aligned(b.ptr, align), "{what}: {:p} misaligned", b.ptr);
                // SAFETY: `filled <= old_size <= next` bytes are readable.
                unsafe { check(b.ptr, filled, filled, seed, &format!("{what} -> {next}")) };
                if zeroed {
                    // SAFETY: `next` bytes are readable.
                    unsafe { check_zero(b.ptr, old_size, next, &format!("{what} -> {next}")) };
                }
                touch_usable(&b);
                // SAFETY: `next` bytes are ours (touch_usable only wrote
                // bytes past `filled` or re-fills them here).
                unsafe { fill(b.ptr, next, seed) };
                filled = next;
            }
            // Shrink back down the chain.
            for &next in chain[..chain.len() - 1].iter().rev() {
                let new = layout(next, align);
                // SAFETY: live block fitting `b.layout`, `next` is smaller.
                let r = unsafe { a.shrink(b.ptr, b.layout, new) }
                    .unwrap_or_else(|_| panic!("{what}: shrink to {next} failed"));
                b = Blk {
                    ptr: r.cast(),
                    layout: new,
                    len: r.len(),
                };
                assert!(b.len >= next, "{what}: shrank to {} < {next}", b.len);
                assert!(aligned(b.ptr, align), "{what}: {:p} misaligned", b.ptr);
                // SAFETY: `next` bytes are readable.
                unsafe { check(b.ptr, filled, next, seed, &format!("{what} shrink {next}")) };
                touch_usable(&b);
                // SAFETY: `next` bytes are ours.
                unsafe { fill(b.ptr, next, seed) };
                filled = next;
            }
            // SAFETY: live block fitting its layout.
            unsafe { a.deallocate(b.ptr, b.layout) };
            seed += 1;
        }
    }
}

/// In-place resizes succeed at the same address with contents kept, or
/// refuse with contents intact; the usable size is writable.
fn check_in_place<A: Allocator + ResizeInPlace>(a: &A, name: &str, big: bool) {
    let mut seed = 5000;
    for &align in &alignments(big) {
        for &size in &[1usize, 24, 100, 4096, 100_000, 300_000, 1 << 20] {
            let what = format!("{name}: in place size {size} align {align}");
            let l = layout(size, align);
            let b = alloc(a, l, &what);
            // SAFETY: live block fitting `l`.
            let usable = unsafe { a.usable_size(b.ptr, l) };
            assert!(usable >= size, "{what}: usable {usable} < {size}");
            // SAFETY: the usable size is writable (ResizeInPlace contract).
            unsafe { fill(b.ptr, usable, seed) };
            let mut cur = Layout::from_size_align(usable, align).expect("usable fits");
            let mut filled = usable;
            for target in [usable, usable + 1, usable * 2, usable + (4 << 20)] {
                // Growth only: a recycled span's usable size may exceed
                // 4 MiB, so the last target can be below the current size.
                if target < cur.size() {
                    continue;
                }
                // SAFETY: live block fitting `cur`; target >= cur.size().
                match unsafe { a.try_grow_in_place(b.ptr, cur, target) } {
                    Ok(n) => {
                        assert!(n >= target, "{what}: grew to {n} < {target}");
                        // SAFETY: the block did not move; `filled` bytes are
                        // readable.
                        unsafe { check(b.ptr, filled, filled, seed, &what) };
                        // SAFETY: `n` bytes are now ours.
                        unsafe { fill(b.ptr, n, seed) };
                        filled = n;
                        cur = layout(n, align);
                    }
                    Err(e) => {
                        assert!(
                            e.is_no_space() || matches!(e, mallocv2::Error::Os(_)),
                            "{what}: refusal {e:?}"
                        );
                        // SAFETY: a refusal leaves the block as it was.
                        unsafe { check(b.ptr, filled, filled, seed, &what) };
                    }
                }
            }
            for target in [cur.size(), cur.size() / 2 + 1, size.max(1)] {
                if target > cur.size() {
                    continue;
                }
                // SAFETY: live block fitting `cur`; target <= cur.size().
                match unsafe { a.try_shrink_in_place(b.ptr, cur, target) } {
                    Ok(n) => {
                        assert!(n >= target, "{what}: shrank to {n} < {target}");
                        // SAFETY: `target` bytes stay readable.
                        unsafe { check(b.ptr, filled, target, seed, &what) };
                        filled = target;
                        // The block now fits any size in target..=n.
                        cur = layout(n, align);
                        // SAFETY: `n` bytes are ours.
                        unsafe { fill(b.ptr, n, seed) };
                        filled = filled.max(n);
                    }
                    Err(e) => {
                        assert!(e.is_no_space(), "{what}: refusal {e:?}");
                        // SAFETY: a refusal leaves the block as it was.
                        unsafe { check(b.ptr, filled, filled, seed, &what) };
                    }
                }
            }
            // SAFETY: the block fits `cur`.
            unsafe { a.deallocate(b.ptr, cur) };
            seed += 1;
        }
    }
}

/// Batch blocks: distinct, aligned, writable, freed singly in random order.
fn check_batch<A: Allocator + BatchAlloc>(a: &A, name: &str) {
    let mut rng = Rng::new(42);
    let cases = [
        (1usize, 1usize, 1000usize),
        (8, 8, 1000),
        (32, 8, 2000),
        (100, 16, 500),
        (64, 64, 500),
        (2048, 64, 300),
        (3000, 4096, 50),
        (5000, 8, 100),
        (300_000, 4096, 4),
    ];
    for (k, &(size, align, n)) in cases.iter().enumerate() {
        let what = format!("{name}: batch {n} x {size} align {align}");
        let l = layout(size, align);
        let mut out = vec![MaybeUninit::<NonNull<u8>>::uninit(); n];
        let r = a.allocate_batch(l, &mut out);
        assert_eq!(r.count, n, "{what}: partial batch");
        assert!(r.usable_size >= size, "{what}: usable {}", r.usable_size);
        // SAFETY: the first `count` slots were written.
        let mut blocks: Vec<NonNull<u8>> = out[..r.count]
            .iter()
            .map(|p| unsafe { p.assume_init() })
            .collect();
        for (i, &p) in blocks.iter().enumerate() {
            assert!(aligned(p, align), "{what}: {p:p} misaligned");
            // SAFETY: each block has at least `usable_size` bytes.
            unsafe { fill(p, r.usable_size, (k * 100_000 + i) as u64) };
        }
        let mut sorted: Vec<usize> = blocks.iter().map(|p| p.as_ptr() as usize).collect();
        sorted.sort_unstable();
        for w in sorted.windows(2) {
            assert!(
                w[1] - w[0] >= r.usable_size,
                "{what}: blocks {:#x} and {:#x} overlap",
                w[0],
                w[1]
            );
        }
        for (i, &p) in blocks.iter().enumerate() {
            // SAFETY: as above.
            unsafe {
                check(
                    p,
                    r.usable_size,
                    r.usable_size,
                    (k * 100_000 + i) as u64,
                    &what,
                )
            };
        }
        rng.shuffle(&mut blocks);
        // Half freed one by one, the rest through deallocate_batch.
        let half = blocks.len() / 2;
        for &p in &blocks[..half] {
            // SAFETY: a live batch block of layout `l`.
            unsafe { a.deallocate(p, l) };
        }
        // SAFETY: the remaining blocks are live, listed once.
        unsafe { a.deallocate_batch(&blocks[half..], l) };
    }
    // A zero-length output is a no-op.
    let r = a.allocate_batch(layout(16, 8), &mut []);
    assert_eq!(r.count, 0, "{name}: empty batch");
}

/// `grow_live` keeps the first `live` bytes and the alignment.
fn check_grow_live<A: Allocator + ResizeInPlace>(a: &A, name: &str, big: bool) {
    let mut seed = 9000;
    let pairs = [
        (16usize, 64usize),
        (100, 5000),
        (4096, 200_000),
        (200_000, 400_000),
        (300_000, 3 << 20),
        (1 << 20, 12 << 20),
    ];
    for &align in &alignments(big) {
        if ![1, 16, 64, 4096, 2 << 20].contains(&align) {
            continue;
        }
        for &(old, new) in &pairs {
            for live in [0, 1, old / 3, old] {
                let what = format!("{name}: grow_live {old}->{new} live {live} align {align}");
                let ol = layout(old, align);
                let b = alloc(a, ol, &what);
                // SAFETY: `old` bytes are ours.
                unsafe { fill(b.ptr, old, seed) };
                let nl = layout(new, align);
                // SAFETY: live block fitting `ol`; new >= old >= live.
                let r = unsafe { a.grow_live(b.ptr, ol, nl, live) }
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                let p: NonNull<u8> = r.cast();
                assert!(r.len() >= new, "{what}: {} bytes", r.len());
                assert!(aligned(p, align), "{what}: {p:p} misaligned");
                // SAFETY: `live <= old <= new` bytes are readable.
                unsafe { check(p, old, live, seed, &what) };
                let nb = Blk {
                    ptr: p,
                    layout: nl,
                    len: r.len(),
                };
                touch_usable(&nb);
                // SAFETY: live block fitting `nl`.
                unsafe { a.deallocate(p, nl) };
                seed += 1;
            }
        }
    }
}

/// The whole suite.
fn check_allocator<A: Allocator + ResizeInPlace + BatchAlloc>(a: &A, name: &str, big: bool) {
    check_alloc_grid(a, name, big);
    check_grow_shrink(a, name, big);
    check_in_place(a, name, big);
    check_batch(a, name);
    check_grow_live(a, name, big);
}

#[test]
fn heap_conforms() {
    check_allocator(&Heap, "Heap", true);
}

#[test]
fn global_conforms() {
    check_allocator(&Global, "Global", false);
}

#[test]
fn system_conforms() {
    check_allocator(&System, "System", false);
}

/// A zeroed allocation that reuses a dirty freed span (the span cache) is
/// zero over the whole returned slice, not just the requested size.
#[test]
fn heap_zeroed_reuse_is_zero() {
    for size in [(1 << 20) + 100, (3 << 20) + 1, 300_001] {
        for _ in 0..4 {
            let l = layout(size, 64);
            let b = alloc(&Heap, l, "dirty");
            // SAFETY: the returned slice is ours.
            unsafe { dirty(b.ptr, 0, b.len, 0xD1) };
            // SAFETY: live block fitting `l`.
            unsafe { Heap.deallocate(b.ptr, l) };
            let z = Heap.allocate_zeroed(l).expect("allocate_zeroed");
            // SAFETY: the returned slice is readable.
            unsafe { check_zero(z.cast(), 0, z.len(), &format!("reused zeroed {size}")) };
            // SAFETY: live block fitting `l`.
            unsafe { Heap.deallocate(z.cast(), l) };
        }
    }
}

/// Heap specifics of `grow_live`: only the live bytes are copied when the
/// block has to move (small blocks that go through `realloc` count the old
/// size, an upper bound).
#[test]
fn heap_grow_live_copies_live_only() {
    for &(old, new, align) in &[
        (100usize, 100_000usize, 64usize),
        (5000, 200_000, 4096),
        (300_000, 600_000, 8),
    ] {
        for live in [0, 7, old / 3] {
            let ol = layout(old, align);
            let b = alloc(&Heap, ol, "grow_live");
            // SAFETY: `old` bytes are ours.
            unsafe { fill(b.ptr, old, 77) };
            let before = Heap::thread_stats();
            // SAFETY: live block; new >= old >= live.
            let r =
                unsafe { Heap.grow_live(b.ptr, ol, layout(new, align), live) }.expect("grow_live");
            let d = Heap::thread_stats().since(&before);
            assert!(
                d.bytes_copied == 0 || d.bytes_copied == live as u64,
                "grow_live {old}->{new} live {live}: copied {} bytes",
                d.bytes_copied
            );
            // SAFETY: `live` bytes are readable.
            unsafe { check(r.cast(), old, live, 77, "grow_live") };
            // SAFETY: live block fitting the new layout.
            unsafe { Heap.deallocate(r.cast(), layout(new, align)) };
        }
    }
}
