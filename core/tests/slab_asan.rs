//! Batch blocks under AddressSanitizer: a free slab slot is poisoned, so a
//! use-after-free of a batch block (a tree or list node) is reported.
//!
//! Runs only when the crate is built with `-Zsanitizer=address` (the CI's
//! sanitizer step; `cfg(mallocv2_asan)` comes from core's build script).
//! Each case re-executes this test binary with `--exact <name>` and an
//! environment variable that selects the child half, which makes the
//! deliberate bad access; the parent checks that the child died with
//! ASan's report naming that access.

use core::mem::MaybeUninit;
use core::ptr::NonNull;
use std::process::Command;

use mallocv2::alloc::{Allocator, Layout};
use mallocv2::{BatchAlloc, Heap};

const CHILD_ENV: &str = "MALLOCV2_ASAN_CHILD";

/// In the parent, runs test `name` in a child and checks that ASan reported
/// a use-after-poison read in it; returns false. In the child, returns true.
fn in_child(name: &str) -> bool {
    if std::env::var(CHILD_ENV).as_deref() == Ok(name) {
        return true;
    }
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, name)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("spawn the child test process");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains(&format!("CHILD ALIVE {name}")),
        "child {name} did not reach the bad access ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        !out.status.success()
            && stderr.contains("ERROR: AddressSanitizer: use-after-poison")
            && stderr.contains("READ of size 8"),
        "child {name}: no ASan report of the use-after-free ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        !stdout.contains(&format!("CHILD SURVIVED {name}")),
        "child {name} read a freed batch block unnoticed"
    );
    false
}

fn node() -> Layout {
    Layout::from_size_align(40, 8).expect("valid layout")
}

/// Allocates a batch of 64 nodes, writes all of them, and returns them.
fn batch() -> Vec<NonNull<u8>> {
    let mut out = [MaybeUninit::uninit(); 64];
    let b = Heap.allocate_batch(node(), &mut out);
    assert_eq!(b.count, 64);
    let blocks: Vec<NonNull<u8>> = out
        .iter()
        // SAFETY: all 64 entries were written by `allocate_batch`.
        .map(|p| unsafe { p.assume_init() })
        .collect();
    for (i, p) in blocks.iter().enumerate() {
        // SAFETY: each block is live with 40 writable bytes; the whole slot
        // (its usable size) is addressable while live.
        unsafe { p.as_ptr().cast::<u64>().write(i as u64) };
    }
    blocks
}

/// A freed block's first word, read the way a dangling node pointer would.
///
/// # Safety
/// None: this is the bug the test wants reported.
unsafe fn read_freed(p: NonNull<u8>) -> u64 {
    // SAFETY: deliberately not sound; ASan aborts the child here.
    unsafe { p.as_ptr().cast::<u64>().read_volatile() }
}

#[test]
#[cfg_attr(not(mallocv2_asan), ignore = "needs -Zsanitizer=address")]
fn use_after_single_free_is_reported() {
    if !in_child("use_after_single_free_is_reported") {
        return;
    }
    let blocks = batch();
    // Neighbours stay live and readable; the freed one is poisoned.
    // SAFETY: a live batch block, freed once.
    unsafe { Heap.deallocate(blocks[5], node()) };
    // SAFETY: live blocks.
    unsafe {
        assert_eq!(blocks[4].as_ptr().cast::<u64>().read(), 4);
        assert_eq!(blocks[6].as_ptr().cast::<u64>().read(), 6);
    }
    println!("CHILD ALIVE use_after_single_free_is_reported");
    // SAFETY: none (see `read_freed`).
    let v = unsafe { read_freed(blocks[5]) };
    println!("CHILD SURVIVED use_after_single_free_is_reported {v}");
}

#[test]
#[cfg_attr(not(mallocv2_asan), ignore = "needs -Zsanitizer=address")]
fn use_after_batch_free_is_reported() {
    if !in_child("use_after_batch_free_is_reported") {
        return;
    }
    let blocks = batch();
    // SAFETY: live batch blocks, each freed once.
    unsafe { Heap.deallocate_batch(&blocks[..32], node()) };
    // The slot reallocated next is addressable again.
    let again = batch();
    // SAFETY: live blocks.
    unsafe { assert_eq!(again[0].as_ptr().cast::<u64>().read(), 0) };
    // SAFETY: live batch blocks, each freed once.
    unsafe { Heap.deallocate_batch(&again, node()) };
    println!("CHILD ALIVE use_after_batch_free_is_reported");
    // SAFETY: none (see `read_freed`): `again[0]` was just freed by
    // `deallocate_batch`.
    let w = unsafe { read_freed(again[0]) };
    println!("CHILD SURVIVED use_after_batch_free_is_reported {w}");
}
