//! The four N1527 primitives through the public API only: the issue's
//! "Done when" checks, argument validation, per-item batches, zeroed growth,
//! `Reservation`, and per-thread fault injection on each `Heap` path.
//!
//! Counters are read with `Heap::thread_stats()` because tests run on
//! parallel threads.

mod common;

use core::mem::MaybeUninit;
use core::ptr::NonNull;

use common::{aligned, check, check_zero, dirty, fill, scaled, Rng};
use mallocv2::alloc::{Allocator, Layout};
use mallocv2::fault::{self, OsOp};
use mallocv2::{
    BatchAlloc, BatchItem, Block, Error, Flags, Heap, Reservation, ResizeInPlace, LARGE_THRESHOLD,
};

const MIB: usize = 1 << 20;

fn layout(size: usize, align: usize) -> Layout {
    Layout::from_size_align(size, align).expect("test layouts are valid")
}

/// Frees a Heap block.
fn free(p: NonNull<u8>, l: Layout) {
    // SAFETY: every caller passes a live Heap block fitting `l`.
    unsafe { Heap.deallocate(p, l) };
}

#[test]
fn one_mib_grows_to_256_mib_in_place_without_copying() {
    let l = layout(MIB, 8);
    let g = Heap
        .allocate_with(l, 256 * MIB, Flags::NONE)
        .expect("allocate 1 MiB with a 256 MiB reserve");
    assert!(g.reserved >= 256 * MIB, "reserved only {}", g.reserved);
    let p = g.ptr();
    // SAFETY: 1 MiB is ours.
    unsafe { fill(p, MIB, 1) };
    let before = Heap::thread_stats();
    // SAFETY: live block fitting `l`.
    let n = unsafe { Heap.try_grow_in_place(p, l, 256 * MIB) }.expect("grow in place to 256 MiB");
    let d = Heap::thread_stats().since(&before);
    assert!(n >= 256 * MIB);
    assert_eq!(d.bytes_copied, 0, "{d}");
    assert_eq!(d.relocations, 0, "{d}");
    assert!(d.in_place_grows >= 1, "{d}");
    // SAFETY: the block kept its address and the first MiB.
    unsafe { check(p, MIB, MIB, 1, "1 MiB -> 256 MiB") };
    // The new end is writable.
    // SAFETY: `n` bytes are ours now.
    unsafe { p.as_ptr().add(n - 1).write(1) };
    free(p, layout(n, 8));
}

#[test]
fn aligned_64_mib_grows_to_1_gib_without_copying() {
    let l = layout(64 * MIB, 64);
    let p: NonNull<u8> = Heap.allocate(l).expect("allocate 64 MiB").cast();
    assert!(aligned(p, 64));
    // Sparse cookies: a few bytes per MiB, so RSS stays small.
    // SAFETY: 64 MiB are ours.
    unsafe { fill(p, 64 * MIB, 2) };
    let before = Heap::thread_stats();
    let nl = layout(1 << 30, 64);
    // SAFETY: live block fitting `l`.
    let q = unsafe { Heap.grow(p, l, nl) }.expect("grow to 1 GiB");
    let d = Heap::thread_stats().since(&before);
    let q: NonNull<u8> = q.cast();
    assert!(aligned(q, 64), "{q:p}");
    assert_eq!(d.bytes_copied, 0, "{d}");
    assert_eq!(d.relocations, 0, "{d}");
    // SAFETY: the first 64 MiB moved (or stayed) with the block.
    unsafe { check(q, 64 * MIB, 64 * MIB, 2, "64 MiB -> 1 GiB") };
    // SAFETY: 1 GiB is ours; touch the end only.
    unsafe { q.as_ptr().add((1 << 30) - 1).write(3) };
    free(q, nl);
}

#[test]
fn in_place_growth_past_usable_size_refuses_intact() {
    for &(size, align) in &[(24usize, 8usize), (100, 16), (1000, 64), (4000, 4096)] {
        let l = layout(size, align);
        let p: NonNull<u8> = Heap.allocate(l).expect("small block").cast();
        // SAFETY: live block fitting `l`.
        let usable = unsafe { Heap.usable_size(p, l) };
        // SAFETY: `usable` bytes are ours.
        unsafe { fill(p, usable, 3) };
        // SAFETY: live block fitting `l`; the target is larger.
        let r = unsafe { Heap.try_grow_in_place(p, l, usable + 1) };
        assert_eq!(r, Err(Error::NoSpace), "size {size} usable {usable}");
        // Past the small/large boundary too.
        // SAFETY: as above.
        let r = unsafe { Heap.try_grow_in_place(p, l, LARGE_THRESHOLD * 2) };
        assert_eq!(r, Err(Error::NoSpace));
        // SAFETY: a refusal leaves the block as it was.
        unsafe { check(p, usable, usable, 3, "refused grow") };
        // Within the usable size it succeeds.
        // SAFETY: as above.
        let n = unsafe { Heap.try_grow_in_place(p, l, usable) }.expect("grow within usable");
        assert_eq!(n, usable);
        free(p, layout(usable, align));
    }
}

#[test]
fn million_blocks_in_one_batch_call_freed_singly() {
    let n = scaled(1_000_000, 100_000);
    let l = layout(32, 8);
    let mut blocks = Vec::new();
    let before = Heap::thread_stats();
    let b = Heap.allocate_batch_into(l, n, &mut blocks);
    let d = Heap::thread_stats().since(&before);
    assert_eq!(b.count, n);
    assert_eq!(blocks.len(), n);
    assert!(b.usable_size >= 32);
    assert_eq!(d.batch_calls, 1, "{d}");
    assert_eq!(d.batch_blocks, n as u64, "{d}");
    for (i, p) in blocks.iter().enumerate() {
        assert!(aligned(*p, 8));
        // SAFETY: 32 bytes are ours.
        unsafe { p.as_ptr().cast::<u64>().write_unaligned(i as u64) };
    }
    let mut rng = Rng::new(7);
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    for i in order {
        let p = blocks[i];
        // SAFETY: written above.
        let v = unsafe { p.as_ptr().cast::<u64>().read_unaligned() };
        assert_eq!(v, i as u64, "block {i} at {p:p} was overwritten");
        free(p, l);
    }
}

#[test]
fn alignments_kept_through_grow_shrink_cycles() {
    let cycle = [
        MIB,
        8 * MIB,
        64 * MIB,
        2 * MIB,
        128 * MIB,
        512 << 10,
        3 * MIB,
        300_000,
    ];
    for &align in &[64usize, 4096, 2 * MIB] {
        let mut l = layout(cycle[0], align);
        let mut p: NonNull<u8> = Heap.allocate(l).expect("allocate").cast();
        assert!(aligned(p, align));
        // SAFETY: `l.size()` bytes are ours.
        unsafe { fill(p, l.size(), 4) };
        let mut filled = l.size();
        let before = Heap::thread_stats();
        for &next in &cycle[1..] {
            let nl = layout(next, align);
            // SAFETY: live block fitting `l`.
            let r = unsafe {
                if next > l.size() {
                    Heap.grow(p, l, nl)
                } else {
                    Heap.shrink(p, l, nl)
                }
            }
            .unwrap_or_else(|_| panic!("align {align}: resize {} -> {next}", l.size()));
            p = r.cast();
            assert!(
                aligned(p, align),
                "align {align}: {p:p} after resize to {next}"
            );
            // SAFETY: min(filled, next) bytes are readable.
            unsafe { check(p, filled, next, 4, &format!("align {align} -> {next}")) };
            // SAFETY: `next` bytes are ours.
            unsafe { fill(p, next, 4) };
            filled = next;
            l = nl;
        }
        let d = Heap::thread_stats().since(&before);
        assert_eq!(d.bytes_copied, 0, "align {align}: {d}");
        assert_eq!(d.relocations, 0, "align {align}: {d}");
        free(p, l);
    }
    // Small blocks keep their alignment too (copies are allowed there).
    for &align in &[64usize, 4096] {
        let mut l = layout(8, align);
        let mut p: NonNull<u8> = Heap.allocate(l).expect("allocate").cast();
        for next in [100, 5000, 40, 70_000, 16, 200_000, 1000] {
            let nl = layout(next, align);
            // SAFETY: `l.size()` bytes are ours.
            unsafe { fill(p, l.size(), 5) };
            // SAFETY: live block fitting `l`.
            let r = unsafe {
                if next > l.size() {
                    Heap.grow(p, l, nl)
                } else {
                    Heap.shrink(p, l, nl)
                }
            }
            .expect("small resize");
            p = r.cast();
            assert!(aligned(p, align), "small align {align}: {p:p}");
            // SAFETY: min(old, next) bytes are readable.
            unsafe { check(p, l.size(), next, 5, "small cycle") };
            l = nl;
        }
        free(p, l);
    }
}

#[test]
fn absurd_sizes_and_alignments_are_errors() {
    // Sizes at the top of the address space.
    for &(size, align) in &[
        (isize::MAX as usize - 4095, 4096usize),
        (isize::MAX as usize, 1),
        (isize::MAX as usize / 2, 8),
        (1usize << 47, 64),
    ] {
        let l = layout(size, align);
        assert!(Heap.allocate(l).is_err(), "allocate {size}");
        assert!(Heap.allocate_zeroed(l).is_err(), "allocate_zeroed {size}");
        assert!(Heap.allocate_with(l, 0, Flags::NONE).is_err());
        assert!(Heap
            .allocate_with(l, usize::MAX, Flags::RESERVE_IS_MULT)
            .is_err());
    }
    // A reserve hint that overflows is clamped, not trusted.
    let g = Heap
        .allocate_with(layout(MIB, 8), usize::MAX, Flags::NONE)
        .or_else(|_| Heap.allocate_with(layout(MIB, 8), 0, Flags::NONE));
    if let Ok(g) = g {
        free(g.ptr(), layout(MIB, 8));
    }
    // Alignments above MAX_ALIGN.
    for align in [1usize << 31, 1 << 40, 1 << 62] {
        let l = layout(8, align);
        assert_eq!(
            Heap.allocate_with(l, 0, Flags::NONE).err(),
            Some(Error::BadAlignment { align })
        );
        assert!(Heap.allocate(l).is_err());
    }

    // Resizing an existing block to absurd sizes or alignments fails and
    // leaves it intact.
    for &(size, align) in &[(100usize, 8usize), (MIB, 64)] {
        let l = layout(size, align);
        let p: NonNull<u8> = Heap.allocate(l).expect("allocate").cast();
        // SAFETY: `size` bytes are ours.
        unsafe { fill(p, size, 6) };
        for &(ns, na) in &[
            (isize::MAX as usize - 4095, 4096usize),
            (isize::MAX as usize, 1),
            (1 << 47, align),
            (size, 1 << 40),
            (size * 2, 1 << 31),
        ] {
            let nl = layout(ns, na);
            for flags in [Flags::NONE, Flags::PREVENT_MOVE, Flags::ZERO_MEMORY] {
                // SAFETY: live block fitting `l`.
                let r = unsafe { Heap.resize(p, l, nl, 0, flags) };
                assert!(
                    r.is_err(),
                    "resize {size} -> {ns} align {na} {flags:?}: {r:?}"
                );
            }
            // SAFETY: live block fitting `l`.
            assert!(unsafe { Heap.grow(p, l, nl) }.is_err());
            if ns > (1 << 40) {
                // SAFETY: as above.
                assert!(unsafe { Heap.try_grow_in_place(p, l, ns) }.is_err());
                // SAFETY: as above.
                assert!(unsafe { Heap.try_remap(p, l, ns) }.is_err());
            }
            if let Ok(gl) = Layout::from_size_align(ns, align)
                .map_err(drop)
                .and_then(|gl| if ns > (1 << 40) { Ok(gl) } else { Err(()) })
            {
                // SAFETY: as above.
                assert!(unsafe { Heap.grow_live(p, l, gl, 0) }.is_err());
            }
        }
        // SAFETY: live block fitting `l`.
        let r = unsafe { Heap.try_grow_in_place(p, l, usize::MAX) };
        assert_eq!(r, Err(Error::CapacityOverflow));
        // SAFETY: every failure left the block as it was.
        unsafe { check(p, size, size, 6, "after absurd resizes") };
        free(p, l);
    }

    // Per-item batch requests with absurd arguments.
    let mut items = [
        BatchItem::alloc(usize::MAX, 8),
        BatchItem::alloc(isize::MAX as usize, 1),
        BatchItem::alloc(64, 3),
        BatchItem::alloc(64, 1 << 40),
        BatchItem::alloc(usize::MAX / 2, 1 << 20).with_reserve(usize::MAX),
        BatchItem::alloc(16, 8)
            .with_reserve(usize::MAX)
            .with_flags(Flags::RESERVE_IS_MULT),
        BatchItem::alloc(100, 8),
    ];
    // SAFETY: no existing blocks are involved.
    let ok = unsafe { Heap.batch(&mut items) };
    assert!(ok >= 1, "{items:?}");
    assert_eq!(items[0].result, Err(Error::CapacityOverflow));
    assert!(items[1].result.is_err(), "{:?}", items[1]);
    assert_eq!(items[2].result, Err(Error::BadAlignment { align: 3 }));
    assert_eq!(items[3].result, Err(Error::BadAlignment { align: 1 << 40 }));
    assert!(items[4].result.is_err(), "{:?}", items[4]);
    assert!(items[6].result.is_ok());
    for it in &items {
        if it.result.is_err() {
            assert!(it.block.is_none(), "failed item got a block: {it:?}");
        } else if let Some(b) = it.block {
            free(b.ptr, b.layout);
        }
    }
    // Batch resize items with absurd sizes leave the block intact.
    let l = layout(200, 8);
    let p: NonNull<u8> = Heap.allocate(l).expect("allocate").cast();
    // SAFETY: 200 bytes are ours.
    unsafe { fill(p, 200, 8) };
    let blk = Block { ptr: p, layout: l };
    for it in [
        BatchItem::resize(blk, usize::MAX),
        BatchItem::resize(blk, isize::MAX as usize),
        BatchItem {
            align: 6,
            ..BatchItem::resize(blk, 400)
        },
        BatchItem {
            align: 1 << 40,
            ..BatchItem::resize(blk, 400)
        },
    ] {
        let mut items = [it];
        // SAFETY: `blk` is live and appears once.
        assert_eq!(unsafe { Heap.batch(&mut items) }, 0, "{items:?}");
        assert!(items[0].result.is_err());
        assert_eq!(items[0].block, Some(blk), "failed item changed its block");
        // SAFETY: the block is untouched.
        unsafe { check(p, 200, 200, 8, "absurd batch resize") };
    }
    free(p, l);
}

#[test]
fn batch_items_do_what_they_say() {
    let before = Heap::thread_stats();
    let mut items = [
        BatchItem::alloc(100, 8),
        BatchItem::alloc(MIB, 64).with_reserve(16 * MIB),
        BatchItem::alloc(2 * MIB, 4096)
            .with_reserve(4)
            .with_flags(Flags::RESERVE_IS_MULT | Flags::ZERO_MEMORY),
        BatchItem::alloc(5000, 64).with_flags(Flags::ZERO_MEMORY),
        BatchItem::alloc(0, 8),
    ];
    // SAFETY: no existing blocks.
    assert_eq!(unsafe { Heap.batch(&mut items) }, 5);
    assert_eq!(Heap::thread_stats().since(&before).batch_calls, 1);
    for it in &items[..4] {
        let b = it.block.expect("allocated");
        assert!(it.size >= b.layout.size().min(it.size));
        assert_eq!(b.layout.size(), it.size, "layout carries the usable size");
        assert!(aligned(b.ptr, b.layout.align()));
        assert!(it.reserve >= it.size, "{it:?}");
    }
    assert!(items[4].block.is_none(), "(None, 0) does nothing");
    assert!(items[0].size >= 100);
    assert!(
        items[1].reserve >= 16 * MIB,
        "reserve hint reported: {:?}",
        items[1]
    );
    assert!(
        items[2].reserve >= 8 * MIB,
        "RESERVE_IS_MULT: {:?}",
        items[2]
    );
    for it in &items[2..4] {
        let b = it.block.expect("allocated");
        // SAFETY: `it.size` bytes are ours.
        unsafe { check_zero(b.ptr, 0, it.size, "ZERO_MEMORY batch item") };
    }
    let small = items[0].block.expect("small");
    let big = items[1].block.expect("big");
    let zeroed = items[2].block.expect("zeroed");
    let aligned_small = items[3].block.expect("aligned small");
    // SAFETY: each block's usable size is ours.
    unsafe {
        fill(small.ptr, small.layout.size(), 10);
        fill(big.ptr, big.layout.size(), 11);
        fill(zeroed.ptr, zeroed.layout.size(), 12);
    }

    // PREVENT_MOVE: the big block grows into its reserve at the same address;
    // the small one cannot grow 100x in place and is left alone; the aligned
    // small one is freed; the zeroed big one grows with zeroed new bytes.
    let mut items = [
        BatchItem::resize(big, 8 * MIB).with_flags(Flags::PREVENT_MOVE),
        BatchItem::resize(small, 10_000).with_flags(Flags::PREVENT_MOVE),
        BatchItem::free(aligned_small),
        BatchItem::resize(zeroed, 6 * MIB).with_flags(Flags::PREVENT_MOVE | Flags::ZERO_MEMORY),
    ];
    let before = Heap::thread_stats();
    // SAFETY: all blocks are live and listed once.
    let ok = unsafe { Heap.batch(&mut items) };
    assert_eq!(ok, 3, "{items:?}");
    assert_eq!(Heap::thread_stats().since(&before).bytes_copied, 0);
    let big2 = items[0].block.expect("grown");
    assert_eq!(big2.ptr, big.ptr, "PREVENT_MOVE moved the block");
    assert!(items[0].size >= 8 * MIB);
    // SAFETY: the first MiB is unchanged.
    unsafe {
        check(
            big2.ptr,
            big.layout.size(),
            big.layout.size(),
            11,
            "PREVENT_MOVE grow",
        )
    };
    assert_eq!(items[1].result, Err(Error::NoSpace));
    assert_eq!(items[1].block, Some(small), "refused item changed");
    assert_eq!(items[1].size, 10_000, "refused item's size changed");
    // SAFETY: refused: untouched.
    unsafe {
        check(
            small.ptr,
            small.layout.size(),
            small.layout.size(),
            10,
            "refused",
        )
    };
    assert!(items[2].block.is_none() && items[2].result.is_ok());
    let z2 = items[3].block.expect("zeroed grow");
    assert_eq!(z2.ptr, zeroed.ptr);
    // SAFETY: readable.
    unsafe {
        check(
            z2.ptr,
            zeroed.layout.size(),
            zeroed.layout.size(),
            12,
            "zeroed grow",
        );
        check_zero(z2.ptr, zeroed.layout.size(), 6 * MIB, "zeroed grow tail");
    }

    // A moving resize of the small block, a shrink of the big one, then
    // free everything in one call.
    let mut items = [
        BatchItem::resize(small, 10_000),
        BatchItem::resize(big2, MIB / 2).with_flags(Flags::PREVENT_MOVE),
    ];
    // SAFETY: live, listed once.
    assert_eq!(unsafe { Heap.batch(&mut items) }, 2, "{items:?}");
    let small2 = items[0].block.expect("moved");
    let big3 = items[1].block.expect("shrunk");
    assert_eq!(big3.ptr, big.ptr);
    // SAFETY: contents follow the block.
    unsafe {
        check(
            small2.ptr,
            small.layout.size(),
            small.layout.size(),
            10,
            "moved",
        );
        check(big3.ptr, big.layout.size(), MIB / 2, 11, "shrunk");
    }
    let mut items = [
        BatchItem::free(small2),
        BatchItem::free(big3),
        BatchItem::free(z2),
    ];
    // SAFETY: live, listed once.
    assert_eq!(unsafe { Heap.batch(&mut items) }, 3);
    assert!(items.iter().all(|it| it.block.is_none()));
}

#[test]
fn zeroed_growth_zeroes_from_the_old_size() {
    // Small (malloc), batch (slab) and large (span) blocks, in place and
    // moving: dirty the slack past the requested size, then grow zeroed.
    let cases = [
        (24usize, 8usize, 40usize),
        (24, 8, 5000),
        (100, 64, 3000),
        (300_000, 8, 600_000),
        (300_000, 4096, 5 * MIB),
        (MIB + 5, 64, 20 * MIB),
    ];
    for &(old, align, new) in &cases {
        for how in 0..3 {
            let ol = layout(old, align);
            let b = Heap.allocate(ol).expect("allocate");
            let p: NonNull<u8> = b.cast();
            // SAFETY: the usable size is ours.
            unsafe {
                fill(p, old, 13);
                dirty(p, old, b.len(), 0x77);
            }
            let nl = layout(new, align);
            // SAFETY: live block fitting `ol`.
            let q: NonNull<u8> = unsafe {
                match how {
                    0 => Heap.grow_zeroed(p, ol, nl).map(|b| b.cast()).ok(),
                    1 => Heap
                        .resize(p, ol, nl, 0, Flags::ZERO_MEMORY)
                        .map(|g| g.ptr())
                        .ok(),
                    _ => {
                        match Heap.resize(p, ol, nl, 0, Flags::ZERO_MEMORY | Flags::PREVENT_MOVE) {
                            Ok(g) => Some(g.ptr()),
                            Err(Error::NoSpace) => Some(p),
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            }
            .expect("zeroed growth");
            let grown = q != p || how != 2 || {
                // SAFETY: `p` is live (refused or grown in place).
                (unsafe { Heap.usable_size(p, ol) }) >= new
            };
            // SAFETY: `old` bytes are readable.
            unsafe { check(q, old, old, 13, "zeroed growth keeps old bytes") };
            if grown {
                // SAFETY: `new` bytes are readable.
                unsafe {
                    check_zero(
                        q,
                        old,
                        new,
                        &format!("zeroed growth {old}->{new} align {align} #{how}"),
                    )
                };
                free(q, nl);
            } else {
                free(p, ol);
            }
        }
    }
    // Batch blocks: growth within the slot.
    let l = layout(24, 8);
    let mut out = [MaybeUninit::uninit(); 4];
    let b = Heap.allocate_batch(l, &mut out);
    assert_eq!(b.count, 4);
    for slot in &out {
        // SAFETY: written by the batch call.
        let p = unsafe { slot.assume_init() };
        // SAFETY: the usable size is ours.
        unsafe { dirty(p, 0, b.usable_size, 0x55) };
        // SAFETY: live block fitting `l`.
        let q: NonNull<u8> = unsafe { Heap.grow_zeroed(p, l, layout(b.usable_size, 8)) }
            .expect("grow within slot")
            .cast();
        // SAFETY: readable.
        unsafe { check_zero(q, 24, b.usable_size, "batch zeroed growth") };
        free(q, layout(b.usable_size, 8));
    }
}

#[test]
fn reservation_basics() {
    let page = Reservation::page_size();
    let mut r = Reservation::new(64 * MIB).expect("reserve");
    assert_eq!(r.len(), 64 * MIB);
    assert_eq!(r.committed(), 0);
    let base = r.as_ptr();
    assert_eq!(r.commit(1).expect("commit"), page);
    assert_eq!(r.commit(10 * page + 1).expect("commit"), 11 * page);
    // SAFETY: 11 pages are committed.
    unsafe { fill(base, 11 * page, 20) };
    // Past the end: refused, contents intact.
    assert_eq!(
        r.commit(64 * MIB + 1),
        Err(Error::ReservationExhausted {
            requested: 64 * MIB + 1,
            reserved: 64 * MIB
        })
    );
    assert_eq!(r.committed(), 11 * page);
    assert_eq!(r.as_ptr(), base);
    // SAFETY: still committed.
    unsafe { check(base, 11 * page, 11 * page, 20, "after exhausted commit") };
    // Commit everything, decommit back: pages read zero when recommitted.
    assert_eq!(r.commit(64 * MIB).expect("commit all"), 64 * MIB);
    // SAFETY: committed.
    unsafe { base.as_ptr().add(64 * MIB - 1).write(9) };
    r.decommit(5 * page).expect("decommit");
    assert_eq!(r.committed(), 5 * page);
    // SAFETY: the first 5 pages stay committed.
    unsafe { check(base, 11 * page, 5 * page, 20, "kept after decommit") };
    r.commit(64 * MIB).expect("recommit");
    // SAFETY: committed again.
    unsafe {
        check_zero(base, 5 * page, 11 * page, "decommitted pages");
        assert_eq!(*base.as_ptr().add(64 * MIB - 1), 0);
    }
    // Extending in place keeps the base and contents, or refuses.
    match r.try_extend(128 * MIB) {
        Ok(()) => {
            assert_eq!(r.len(), 128 * MIB);
            r.commit(128 * MIB).expect("commit extension");
            // SAFETY: committed.
            unsafe { base.as_ptr().add(128 * MIB - 1).write(1) };
        }
        Err(e) => assert_eq!(e, Error::NoSpace),
    }
    assert_eq!(r.as_ptr(), base);
    // SAFETY: committed.
    unsafe { check(base, 11 * page, 5 * page, 20, "after extend") };
    r.decommit(0).expect("decommit all");
    assert_eq!(r.committed(), 0);
    // Aligned reservations and raw parts.
    let r2 = Reservation::with_align(MIB, 2 * MIB).expect("aligned reserve");
    assert!(aligned(r2.as_ptr(), 2 * MIB));
    let (b2, len2, c2) = r2.into_raw_parts();
    // SAFETY: the parts come from `into_raw_parts`, no other owner.
    let r2 = unsafe { Reservation::from_raw_parts(b2, len2, c2) };
    assert_eq!((r2.as_ptr(), r2.len(), r2.committed()), (b2, len2, c2));
    assert!(Reservation::with_align(MIB, 3).is_err());
    assert!(Reservation::with_align(MIB, 1 << 40).is_err());
    assert_eq!(
        Reservation::new(usize::MAX).err(),
        Some(Error::CapacityOverflow)
    );
    assert!(Reservation::new(isize::MAX as usize).is_err());
}

#[test]
fn reservation_fault_injection() {
    let page = Reservation::page_size();
    fault::fail_nth(OsOp::Reserve, 1);
    assert!(matches!(Reservation::new(MIB), Err(Error::Os(_))));
    let mut r = Reservation::new(MIB).expect("second reserve goes through");
    r.commit(2 * page).expect("commit");
    // SAFETY: committed.
    unsafe { fill(r.as_ptr(), 2 * page, 21) };
    fault::fail_nth(OsOp::Commit, 1);
    assert!(matches!(r.commit(8 * page), Err(Error::Os(_))));
    assert_eq!(r.committed(), 2 * page);
    fault::fail_nth(OsOp::Decommit, 1);
    assert!(r.decommit(page).is_err());
    assert_eq!(r.committed(), 2 * page);
    // SAFETY: still committed.
    unsafe { check(r.as_ptr(), 2 * page, 2 * page, 21, "after failed commit") };
    fault::fail_nth(OsOp::Extend, 1);
    assert_eq!(r.try_extend(4 * MIB), Err(Error::NoSpace));
    assert_eq!(r.len(), MIB);
    fault::clear();
    r.commit(8 * page).expect("commit after clear");
}

/// Runs `f` until it was not served from the span cache (other tests free
/// spans into it concurrently), so that the armed OS failure is reached.
fn without_cache<T>(mut f: impl FnMut() -> (T, bool)) -> T {
    for _ in 0..50 {
        Heap::trim();
        let before = Heap::thread_stats();
        let (t, retry_ok) = f();
        if Heap::thread_stats().since(&before).span_cache_hits == 0 || !retry_ok {
            fault::clear();
            return t;
        }
        fault::clear();
    }
    panic!("every attempt was served from the span cache");
}

#[test]
fn fault_injection_on_span_allocation() {
    let l = layout(3 * MIB, 4096);
    // An exact reservation cannot fall back to a smaller one: the failure
    // shows.
    let r = without_cache(|| {
        fault::fail_nth(OsOp::Reserve, 1);
        match Heap.allocate_with(l, 3 * MIB, Flags::NONE) {
            Ok(g) => {
                free(g.ptr(), l);
                (None, true)
            }
            Err(e) => (Some(e), false),
        }
    });
    assert_eq!(r, Some(Error::OutOfMemory { layout: l }));
    // With the default tail, the first refusal falls back to an exact
    // reservation that succeeds.
    let g = without_cache(|| {
        fault::fail_nth(OsOp::Reserve, 1);
        let g = Heap.allocate(l).expect("fallback to an exact reservation");
        (g, true)
    });
    let p: NonNull<u8> = g.cast();
    // SAFETY: 3 MiB are ours.
    unsafe { fill(p, 3 * MIB, 22) };
    free(p, l);
    // A refused commit of the first pages is an error (with the default
    // tail it would be retried with an exact reservation).
    let r = without_cache(|| {
        fault::fail_nth(OsOp::Commit, 1);
        match Heap.allocate_with(l, 3 * MIB, Flags::NONE) {
            Ok(g) => {
                free(g.ptr(), l);
                (None, true)
            }
            Err(_) => (Some(()), false),
        }
    });
    assert!(r.is_some(), "a refused commit must fail the allocation");
    fault::clear();
}

#[test]
fn fault_injection_on_grow_in_place_and_remap() {
    let l = layout(2 * MIB, 64);
    let g = Heap
        .allocate_with(l, 8 * MIB, Flags::NONE)
        .expect("allocate");
    let p = g.ptr();
    // A span recycled from the cache may have more committed than the
    // block it handed out: the usable size says how much.
    assert!(g.usable() >= 2 * MIB, "{g:?}");
    // SAFETY: live block fitting `l`.
    let usable = unsafe { Heap.usable_size(p, l) };
    assert!(usable >= g.usable(), "{usable} < {g:?}");
    assert!(g.reserved >= 8 * MIB, "{g:?}");
    // SAFETY: 2 MiB are ours.
    unsafe { fill(p, 2 * MIB, 23) };
    if usable + MIB <= g.reserved {
        // Commit refused while growing into the reserved tail.
        fault::fail_nth(OsOp::Commit, 1);
        // SAFETY: live block fitting `l`.
        let r = unsafe { Heap.try_grow_in_place(p, l, usable + MIB) };
        fault::clear();
        assert!(r.is_err(), "{r:?}");
        // SAFETY: untouched.
        unsafe { check(p, 2 * MIB, 2 * MIB, 23, "refused commit") };
        // SAFETY: live block fitting `l`.
        assert_eq!(unsafe { Heap.usable_size(p, l) }, usable);
    }

    // Extension of the reservation refused: in-place growth past the
    // reservation says NoSpace (or extends by the second, smaller attempt).
    fault::fail_nth(OsOp::Extend, 1);
    let past = g.reserved + MIB;
    // SAFETY: live block fitting `l`.
    let r = unsafe { Heap.try_grow_in_place(p, l, past) };
    fault::clear();
    let mut cur = l;
    match r {
        Ok(n) => {
            assert!(n >= past);
            cur = layout(n, 64);
        }
        Err(e) => assert_eq!(e, Error::NoSpace),
    }
    // SAFETY: untouched or grown in place.
    unsafe { check(p, 2 * MIB, 2 * MIB, 23, "extend") };

    // Copy-free move refused: the block stays.
    for op in [OsOp::Move, OsOp::Reserve, OsOp::Commit] {
        fault::fail_nth(op, 1);
        // SAFETY: live block fitting `cur`.
        let r = unsafe { Heap.try_remap(p, cur, cur.size() + 64 * MIB) };
        fault::clear();
        match r {
            // A refused reserve of the default tail falls back to an
            // exact one.
            Ok(b) => {
                assert_ne!(op, OsOp::Move, "a refused mremap cannot succeed");
                let q: NonNull<u8> = b.cast();
                assert!(aligned(q, 64));
                // SAFETY: moved with its contents.
                unsafe { check(q, 2 * MIB, 2 * MIB, 23, "remap fallback") };
                // Move it back into `p`'s role for the next round.
                let nl = layout(b.len(), 64);
                let back = Heap.allocate_with(nl, 0, Flags::NONE).expect("allocate");
                // SAFETY: two live blocks; copy the cookie region only.
                unsafe {
                    fill(back.ptr(), 2 * MIB, 23);
                    Heap.deallocate(q, nl);
                }
                // Continue with the fresh block from here on.
                return finish_remap_rounds(back.ptr(), nl);
            }
            Err(e) => {
                assert!(
                    e.is_no_space() || matches!(e, Error::Os(_)),
                    "{op:?}: {e:?}"
                );
                // SAFETY: untouched.
                unsafe { check(p, 2 * MIB, 2 * MIB, 23, &format!("remap refused by {op:?}")) };
            }
        }
    }
    finish_remap_rounds(p, cur);
}

/// The tail of `fault_injection_on_grow_in_place_and_remap`: `grow` with a
/// refused copy-free move falls back to copying (or grows in place), keeping
/// the contents; then a clean remap succeeds.
fn finish_remap_rounds(p: NonNull<u8>, l: Layout) {
    let target = layout(l.size() + 100 * MIB, 64);
    fault::fail_nth(OsOp::Move, 1);
    // SAFETY: live block fitting `l`.
    let q: NonNull<u8> = unsafe { Heap.grow(p, l, target) }
        .expect("grow falls back")
        .cast();
    fault::clear();
    assert!(aligned(q, 64));
    // SAFETY: the first 2 MiB followed the block.
    unsafe { check(q, 2 * MIB, 2 * MIB, 23, "grow with refused move") };
    // SAFETY: live block fitting `target`.
    let b = unsafe { Heap.try_remap(q, target, target.size() + 300 * MIB) }.expect("clean remap");
    let r: NonNull<u8> = b.cast();
    // SAFETY: moved with its contents.
    unsafe { check(r, 2 * MIB, 2 * MIB, 23, "clean remap") };
    free(r, layout(b.len(), 64));
}

#[test]
fn fault_injection_on_batch_region() {
    // However the region's commits go, the batch call hands out every
    // block (slabs, or single blocks as a fallback) and each frees alone.
    let l = layout(2048, 64);
    let n = 3000;
    for nth in 1..4 {
        fault::fail_nth(OsOp::Commit, nth);
        let mut out = vec![MaybeUninit::uninit(); n];
        let b = Heap.allocate_batch(l, &mut out);
        fault::clear();
        assert_eq!(b.count, n, "commit failure #{nth}");
        assert!(b.usable_size >= 2048);
        let mut blocks: Vec<NonNull<u8>> = out
            .iter()
            // SAFETY: all `n` were written.
            .map(|p| unsafe { p.assume_init() })
            .collect();
        for (i, &p) in blocks.iter().enumerate() {
            assert!(aligned(p, 64));
            // SAFETY: 2048 bytes are ours.
            unsafe { fill(p, 2048, i as u64) };
        }
        for (i, &p) in blocks.iter().enumerate() {
            // SAFETY: as above.
            unsafe { check(p, 2048, 2048, i as u64, "batch under faults") };
        }
        let mut rng = Rng::new(nth as u64);
        rng.shuffle(&mut blocks);
        for p in blocks {
            free(p, l);
        }
    }
}

#[test]
fn shrink_returns_memory_and_grows_back_in_place() {
    let l = layout(32 * MIB, 4096);
    let p: NonNull<u8> = Heap.allocate(l).expect("allocate").cast();
    // SAFETY: ours.
    unsafe { fill(p, 32 * MIB, 24) };
    let before = Heap::thread_stats();
    // SAFETY: live block fitting `l`.
    let n = unsafe { Heap.try_shrink_in_place(p, l, MIB + 1) }.expect("shrink in place");
    assert!((MIB + 1..=2 * MIB).contains(&n), "usable after shrink {n}");
    // SAFETY: the first MiB stays.
    unsafe { check(p, 32 * MIB, MIB, 24, "shrunk") };
    // SAFETY: live block fitting layout(n).
    let m = unsafe { Heap.try_grow_in_place(p, layout(n, 4096), 32 * MIB) }.expect("grow back");
    assert!(m >= 32 * MIB);
    let d = Heap::thread_stats().since(&before);
    assert_eq!(d.bytes_copied, 0);
    assert!(d.in_place_shrinks >= 1 && d.in_place_grows >= 1, "{d}");
    // Decommitted pages come back as zero.
    // SAFETY: committed again.
    unsafe { check_zero(p, 2 * MIB, 32 * MIB, "regrown pages") };
    free(p, layout(m, 4096));
}

/// A large block reports the request extended to the end of its last page,
/// even when it comes from a recycled span with more committed (the rest is
/// reached by growing in place): allocator users that size structures by the
/// returned length (hashbrown's tables) get what they asked for.
#[test]
fn recycled_span_reports_the_request() {
    let page = Reservation::page_size();
    for size in [300_000usize, MIB + 1, 3 * MIB] {
        let big = layout(16 * MIB, 64);
        let b = Heap.allocate(big).expect("allocate 16 MiB");
        // SAFETY: 16 MiB are ours.
        unsafe { fill(b.cast(), 16 * MIB, 5) };
        // SAFETY: live block fitting `big`; it goes to the span cache.
        unsafe { Heap.deallocate(b.cast(), big) };
        let l = layout(size, 64);
        let g = Heap.allocate(l).expect("allocate");
        // The request, extended to the end of its last page (the block may
        // start inside its first page).
        assert!(
            g.len() >= size && g.len() < size + page,
            "size {size}: handed out {}",
            g.len()
        );
        assert_eq!((g.cast::<u8>().as_ptr() as usize + g.len()) % page, 0);
        // SAFETY: live block fitting `l`.
        let usable = unsafe { Heap.usable_size(g.cast(), l) };
        assert!(usable >= g.len(), "usable {usable} < {}", g.len());
        // SAFETY: the handed-out bytes are ours.
        unsafe { fill(g.cast(), g.len(), 6) };
        // SAFETY: live block fitting `l`.
        unsafe { Heap.deallocate(g.cast(), l) };
    }
}
