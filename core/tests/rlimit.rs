//! Real OS refusals: `RLIMIT_AS` (which counts `PROT_NONE` reservations)
//! makes `mmap`/`mremap` fail, and many live spans approach
//! `vm.max_map_count`.
//!
//! A limit set with `setrlimit` applies to the whole process, so each such
//! test re-executes this test binary with `--exact <name>` and an
//! environment variable that selects the child half; the parent checks the
//! child's exit status and its final "ok" line.

mod common;

use core::ptr::NonNull;
use std::process::Command;

use common::{check, fill, scaled, Rng};
use mallocv2::alloc::{Allocator, Layout};
use mallocv2::fault::{self, OsOp};
use mallocv2::{BatchAlloc, Error, Flags, Heap, Reservation, ResizeInPlace};

const MIB: usize = 1 << 20;
const CHILD_ENV: &str = "MALLOCV2_TEST_CHILD";

fn layout(size: usize, align: usize) -> Layout {
    Layout::from_size_align(size, align).expect("test layouts are valid")
}

/// In the parent, runs the test `name` in a child process and checks that
/// it printed `CHILD OK name` and exited successfully; returns false. In
/// the child (selected by the environment), returns true.
fn in_child(name: &str) -> bool {
    if std::env::var(CHILD_ENV).as_deref() == Ok(name) {
        return true;
    }
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new(exe)
        // A panic under RLIMIT_AS must not try to print a backtrace: that
        // allocates, fails, and deadlocks on the backtrace lock.
        .env("RUST_BACKTRACE", "0")
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, name)
        .output()
        .expect("spawn the child test process");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains(&format!("CHILD OK {name}")),
        "child {name} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    false
}

/// The process's current virtual size in bytes (`/proc/self/statm`).
fn vm_size() -> usize {
    let s = std::fs::read_to_string("/proc/self/statm").expect("read statm");
    let pages: usize = s
        .split_whitespace()
        .next()
        .and_then(|x| x.parse().ok())
        .expect("statm format");
    pages * Reservation::page_size()
}

/// Limits the address space to the current size plus `headroom`.
fn limit_address_space(headroom: usize) {
    let lim = (vm_size() + headroom) as libc::rlim_t;
    let r = libc::rlimit {
        rlim_cur: lim,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: `r` is a valid rlimit; setrlimit(2) only affects this
    // (child) process.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_AS, &r) };
    assert_eq!(rc, 0, "setrlimit failed");
}

/// Small blocks still come and go after the failures.
fn small_allocations_still_work() {
    let mut v = Vec::new();
    for i in 0..1000 {
        let l = layout(16 + i % 200, 8);
        let p: NonNull<u8> = Heap
            .allocate(l)
            .expect("small allocation under the limit")
            .cast();
        // SAFETY: `l.size()` bytes are ours.
        unsafe { fill(p, l.size(), i as u64) };
        v.push((p, l, i));
    }
    let mut blocks = Vec::new();
    let b = Heap.allocate_batch_into(layout(48, 16), 10_000, &mut blocks);
    assert_eq!(b.count, 10_000, "batch under the limit");
    for (p, l, i) in v {
        // SAFETY: filled above.
        unsafe {
            check(
                p,
                l.size(),
                l.size(),
                i as u64,
                "small block under the limit",
            )
        };
        // SAFETY: live block fitting `l`.
        unsafe { Heap.deallocate(p, l) };
    }
    // SAFETY: live batch blocks, listed once.
    unsafe { Heap.deallocate_batch(&blocks, layout(48, 16)) };
}

#[test]
fn rlimit_reserve_commit_grow_remap_fail_cleanly() {
    if !in_child("rlimit_reserve_commit_grow_remap_fail_cleanly") {
        return;
    }
    // Blocks made before the limit.
    let big_l = layout(32 * MIB, 64);
    let big = Heap
        .allocate_with(big_l, 64 * MIB, Flags::NONE)
        .expect("32 MiB block");
    let p = big.ptr();
    // SAFETY: 32 MiB are ours.
    unsafe { fill(p, 32 * MIB, 1) };
    let mut res = Reservation::new(64 * MIB).expect("reservation");
    res.commit(MIB).expect("commit");
    // SAFETY: committed.
    unsafe { fill(res.as_ptr(), MIB, 2) };
    // Warm the batch region and the C heap before the limit.
    small_allocations_still_work();

    limit_address_space(128 * MIB);

    // Reserve: a large new reservation is refused.
    assert!(
        matches!(Reservation::new(1 << 30), Err(Error::Os(_))),
        "1 GiB reservation under the limit"
    );
    // A large new block is refused with OutOfMemory.
    let l = layout(512 * MIB, 8);
    assert_eq!(Heap.allocate(l).err().map(|_| ()), Some(()));
    assert_eq!(
        Heap.allocate_with(l, 0, Flags::NONE).err(),
        Some(Error::OutOfMemory { layout: l })
    );

    // Grow in place within the existing reservation still works (commit is
    // not limited by RLIMIT_AS) ...
    // SAFETY: live block fitting `big_l`.
    let n = unsafe { Heap.try_grow_in_place(p, big_l, 48 * MIB) }.expect("commit into the tail");
    let cur = layout(n, 64);
    // ... but growing past the reservation cannot extend it.
    // SAFETY: live block fitting `cur`.
    let r = unsafe { Heap.try_grow_in_place(p, cur, 1 << 30) };
    assert_eq!(r, Err(Error::NoSpace));
    // Remap needs a fresh reservation: refused.
    // SAFETY: as above.
    let r = unsafe { Heap.try_remap(p, cur, 1 << 30) };
    assert!(r.is_err(), "remap under the limit: {r:?}");
    // grow: every step fails, the block stays.
    // SAFETY: as above.
    let r = unsafe { Heap.grow(p, cur, layout(1 << 30, 64)) };
    assert!(r.is_err(), "grow under the limit");
    // SAFETY: as above.
    let r = unsafe { Heap.grow_live(p, cur, layout(1 << 30, 64), 32 * MIB) };
    assert!(matches!(r, Err(Error::OutOfMemory { .. })), "{r:?}");
    // SAFETY: every failure left the block intact.
    unsafe { check(p, 32 * MIB, 32 * MIB, 1, "block after refused growth") };

    // Commit: the kernel does not count mprotect against RLIMIT_AS, so a
    // refused commit is injected; the reservation and its contents stay.
    fault::fail_nth(OsOp::Commit, 1);
    assert!(matches!(res.commit(8 * MIB), Err(Error::Os(_))));
    fault::clear();
    assert_eq!(res.committed(), MIB);
    // Extending the reservation in place needs address space: refused.
    assert_eq!(res.try_extend(1 << 30), Err(Error::NoSpace));
    assert_eq!(res.len(), 64 * MIB);
    res.commit(8 * MIB).expect("commit inside the reservation");
    // SAFETY: committed.
    unsafe { check(res.as_ptr(), MIB, MIB, 2, "reservation after refusals") };

    small_allocations_still_work();

    // Large blocks that fit under the limit still work, exact reservation
    // included (the default tail is refused, the exact retry is not).
    let l = layout(16 * MIB, 4096);
    let q: NonNull<u8> = Heap.allocate(l).expect("16 MiB under the limit").cast();
    // SAFETY: ours.
    unsafe { fill(q, 16 * MIB, 3) };
    // SAFETY: live block fitting `l`.
    unsafe { Heap.deallocate(q, l) };
    // SAFETY: live block fitting `cur`.
    unsafe { Heap.deallocate(p, cur) };
    drop(res);
    println!("CHILD OK rlimit_reserve_commit_grow_remap_fail_cleanly");
}

#[test]
fn rlimit_batch_region_falls_back() {
    if !in_child("rlimit_batch_region_falls_back") {
        return;
    }
    // The batch region is reserved lazily: under a tight limit it cannot
    // be, and batch calls fall back to single blocks.
    limit_address_space(64 * MIB);
    let l = layout(32, 8);
    let mut blocks = Vec::new();
    let b = Heap.allocate_batch_into(l, 20_000, &mut blocks);
    assert_eq!(b.count, 20_000);
    let mut rng = Rng::new(3);
    for (i, p) in blocks.iter().enumerate() {
        // SAFETY: 32 bytes are ours.
        unsafe { fill(*p, 32, i as u64) };
    }
    let mut order: Vec<usize> = (0..blocks.len()).collect();
    rng.shuffle(&mut order);
    for i in order {
        // SAFETY: filled above.
        unsafe { check(blocks[i], 32, 32, i as u64, "batch block") };
        // SAFETY: live block of layout `l`.
        unsafe { Heap.deallocate(blocks[i], l) };
    }
    println!("CHILD OK rlimit_batch_region_falls_back");
}

/// 20,000 live 256 KiB spans (each two mappings: committed part and
/// `PROT_NONE` tail) stay under `vm.max_map_count` (65530 by default).
#[test]
fn many_live_spans() {
    if !in_child("many_live_spans") {
        return;
    }
    let n = scaled(20_000, 2_000);
    let l = layout(256 << 10, 8);
    let mut v = Vec::with_capacity(n);
    for i in 0..n {
        let p: NonNull<u8> = Heap
            .allocate(l)
            .unwrap_or_else(|_| panic!("span {i} of {n}"))
            .cast();
        // SAFETY: 256 KiB are ours; touch one byte.
        unsafe { p.as_ptr().add(i % (256 << 10)).write(i as u8) };
        v.push(p);
    }
    for (i, &p) in v.iter().enumerate() {
        // SAFETY: written above.
        assert_eq!(unsafe { *p.as_ptr().add(i % (256 << 10)) }, i as u8);
    }
    let mut rng = Rng::new(9);
    rng.shuffle(&mut v);
    for p in v {
        // SAFETY: live block of layout `l`.
        unsafe { Heap.deallocate(p, l) };
    }
    small_allocations_still_work();
    println!("CHILD OK many_live_spans");
}

/// Past the map-count limit (40,000 live spans would need 80,000 mappings)
/// the `Heap` degrades instead of failing: a span whose tailed reservation
/// is refused gets an exact one (all read-write, so it merges with its
/// neighbours). Allocations succeed or return an error, never crash; the
/// blocks stay intact and everything frees cleanly.
#[test]
fn past_the_map_count_limit() {
    if !in_child("past_the_map_count_limit") {
        return;
    }
    let max: usize = std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(65530);
    if common::slow_runner() || max > 100_000 {
        println!("CHILD OK past_the_map_count_limit");
        return;
    }
    let want = max * 2 / 3;
    let l = layout(256 << 10, 8);
    let mut v = Vec::with_capacity(want);
    let mut failures = 0;
    let mut exact = 0;
    for i in 0..want {
        match Heap.allocate(l) {
            Ok(b) => {
                let p: NonNull<u8> = b.cast();
                // SAFETY: ours.
                unsafe { p.as_ptr().add(i % (256 << 10)).write(i as u8) };
                // SAFETY: live block fitting `l`.
                if unsafe { Heap.reserved_size(p, l) } == b.len() {
                    exact += 1;
                }
                v.push((i, p));
            }
            Err(_) => failures += 1,
        }
    }
    println!(
        "{} live spans, {exact} without a tail, {failures} refused",
        v.len()
    );
    assert!(v.len() >= 20_000, "only {} live spans", v.len());
    assert!(
        exact + failures > 0,
        "{want} tailed spans fit under {max} mappings?"
    );
    for &(i, p) in &v {
        // SAFETY: written above.
        assert_eq!(unsafe { *p.as_ptr().add(i % (256 << 10)) }, i as u8);
    }
    let mut rng = Rng::new(10);
    rng.shuffle(&mut v);
    for (_, p) in v {
        // SAFETY: live block of layout `l`.
        unsafe { Heap.deallocate(p, l) };
    }
    small_allocations_still_work();
    let l = layout(8 * MIB, 64);
    let p: NonNull<u8> = Heap
        .allocate(l)
        .expect("large block after the storm")
        .cast();
    // SAFETY: ours.
    unsafe { fill(p, 8 * MIB, 4) };
    // SAFETY: live block.
    unsafe { Heap.deallocate(p, l) };
    println!("CHILD OK past_the_map_count_limit");
}
