//! Batch blocks under valgrind's memcheck: the slabs tell memcheck (through
//! client requests) which slots are free, so a use-after-free of a batch
//! block (a tree or list node) is reported.
//!
//! The test runs its child half under `valgrind` when it is installed (the
//! CI installs it) and skips under the CI's sanitizer and valgrind steps,
//! where the test binary is already instrumented.

use core::mem::MaybeUninit;
use std::process::Command;

use mallocv2::alloc::{Allocator, Layout};
use mallocv2::{BatchAlloc, Heap};

const CHILD_ENV: &str = "MALLOCV2_VALGRIND_CHILD";

#[test]
fn use_after_free_of_a_batch_block_is_reported() {
    let name = "use_after_free_of_a_batch_block_is_reported";
    let l = Layout::from_size_align(40, 8).expect("valid layout");
    if std::env::var(CHILD_ENV).as_deref() == Ok(name) {
        let mut out = [MaybeUninit::uninit(); 8];
        assert_eq!(Heap.allocate_batch(l, &mut out).count, 8);
        // SAFETY: all 8 entries were written by `allocate_batch`.
        let blocks: Vec<_> = out.iter().map(|p| unsafe { p.assume_init() }).collect();
        for (i, p) in blocks.iter().enumerate() {
            // SAFETY: live blocks of 40 bytes.
            unsafe { p.as_ptr().cast::<u64>().write(i as u64) };
        }
        // SAFETY: a live batch block, freed once.
        unsafe { Heap.deallocate(blocks[3], l) };
        // Live neighbours are fine to read.
        // SAFETY: live, written above.
        let ok = unsafe {
            blocks[2].as_ptr().cast::<u64>().read() + blocks[4].as_ptr().cast::<u64>().read()
        };
        assert_eq!(ok, 6);
        println!("CHILD ALIVE");
        // SAFETY: none: the use-after-free memcheck must report.
        let v = unsafe { blocks[3].as_ptr().cast::<u64>().read_volatile() };
        println!("CHILD READ {v}");
        return;
    }
    if std::env::var_os("MALLOCV2_SANITIZER").is_some()
        || std::env::var_os("MALLOCV2_SLOW_RUNNER").is_some()
    {
        eprintln!("skipped: already under a sanitizer or valgrind");
        return;
    }
    let exe = std::env::current_exe().expect("test binary path");
    let out = match Command::new("valgrind")
        .args(["--quiet", "--error-exitcode=99", "--leak-check=no"])
        .arg(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, name)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: valgrind not runnable ({e})");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("CHILD ALIVE"),
        "child did not reach the bad read ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let reports = stderr.matches("Invalid read of size 8").count();
    assert!(
        out.status.code() == Some(99) && reports == 1,
        "memcheck did not report exactly the one use-after-free ({}, {reports} reports):\n{stdout}\n{stderr}",
        out.status
    );
}
