//! Requests larger than the machine are refused, not granted and then
//! killed for: commits are charged by the kernel like any writable memory
//! (no `MAP_NORESERVE`), so a `try_*` call or an allocation of twice the
//! machine's RAM + swap returns an error with nothing lost.
//!
//! Each test runs in a child process with a memory watchdog that aborts it
//! if its resident set grows by more than 256 MiB or it runs longer than a
//! minute: the memory asked for must never be touched.
//!
//! Under `vm.overcommit_memory = 1` the kernel grants every commit, as it
//! grants every `malloc`: there is nothing to refuse, a granted table is
//! written (hashbrown's control bytes, as with std's `HashMap`), and these
//! tests say so on stderr and check nothing. Under `0` (the default) and `2`
//! they must see every request refused.

mod common;

use std::mem::MaybeUninit;
use std::ptr::NonNull;

use common::{in_child, memory_watchdog, overcommit_mode, twice_the_machine, CHILD_OK};
use mallocv2::alloc::{Allocator, Layout};
use mallocv2::{BatchAlloc, Heap};
use mallocv2_collections::aligned::AlignedVec;
use mallocv2_collections::append::AppendVec;
use mallocv2_collections::hash::{HashMap, HashSet};
use mallocv2_collections::reserved::ReservedVec;
use mallocv2_collections::reserved_string::ReservedString;
use mallocv2_collections::string::String;
use mallocv2_collections::vec::Vec;
use mallocv2_collections::TryReserveError;

const MIB: usize = 1 << 20;
const GIB: usize = 1 << 30;

/// Runs `body` in a child with the watchdog armed.
fn child(name: &str, body: impl FnOnce(usize)) {
    if overcommit_mode() == 1 {
        eprintln!("{name}: vm.overcommit_memory = 1 grants every commit; nothing to check");
        return;
    }
    if !in_child(name) {
        return;
    }
    memory_watchdog(256 * MIB, 60);
    body(twice_the_machine());
    println!("{CHILD_OK}");
}

/// Checks a `try_reserve` result: an error, and never a capacity-overflow error for a size that fits in `isize`.
fn check_refused(what: &str, r: Result<(), TryReserveError>) {
    match r {
        Err(TryReserveError::CapacityOverflow) => {
            panic!("{what}: CapacityOverflow for a request that fits in isize")
        }
        Err(_) => {}
        Ok(()) => panic!("{what}: a request of twice the machine was granted"),
    }
}

#[test]
fn vec_try_reserve_beyond_the_machine() {
    child("vec_try_reserve_beyond_the_machine", |huge| {
        for bytes in [huge, 64 << 40] {
            let mut v: Vec<u8> = (0..100u8).collect();
            check_refused("Vec<u8>", v.try_reserve(bytes));
            assert_eq!(v.len(), 100);
            assert!(v.iter().copied().eq(0..100u8), "Vec lost its elements");
            check_refused("Vec<u8> exact", v.try_reserve_exact(bytes));
            assert!(v.iter().copied().eq(0..100u8));
            v.push(100);
            assert_eq!(v.len(), 101);
        }
        // A vector already large enough to be a page span grows by commits.
        let mut v: Vec<u64> = (0..(1u64 << 17)).collect();
        check_refused("Vec<u64> span", v.try_reserve(huge / 8));
        assert!(v.iter().copied().eq(0..(1u64 << 17)));
    });
}

#[test]
fn string_try_reserve_beyond_the_machine() {
    child("string_try_reserve_beyond_the_machine", |huge| {
        let mut s = String::from("kept");
        check_refused("String", s.try_reserve(huge));
        check_refused("String exact", s.try_reserve_exact(huge));
        assert_eq!(s.as_str(), "kept");
        s.push_str(" and grown");
        assert_eq!(s.as_str(), "kept and grown");
    });
}

#[test]
fn aligned_vec_try_reserve_beyond_the_machine() {
    child("aligned_vec_try_reserve_beyond_the_machine", |huge| {
        let mut v: AlignedVec<u32, 64> = AlignedVec::new();
        v.extend(0..1000u32);
        check_refused("AlignedVec", v.try_reserve(huge / 4));
        check_refused("AlignedVec exact", v.try_reserve_exact(huge / 4));
        assert!(v.iter().copied().eq(0..1000u32));
        assert_eq!(v.as_ptr() as usize % 64, 0);
    });
}

#[test]
fn reserved_vec_try_reserve_beyond_the_machine() {
    child("reserved_vec_try_reserve_beyond_the_machine", |huge| {
        // Reserving twice that much address space is free.
        let mut v: ReservedVec<u8> = ReservedVec::try_with_max_capacity(2 * huge)
            .expect("reserving address space beyond the machine costs nothing");
        v.extend(0..50u8);
        let (cap, base) = (v.capacity(), v.as_ptr());
        check_refused("ReservedVec", v.try_reserve(huge));
        check_refused("ReservedVec exact", v.try_reserve_exact(huge));
        assert_eq!(
            (v.capacity(), v.as_ptr()),
            (cap, base),
            "a refusal changed the vector"
        );
        assert!(v.iter().copied().eq(0..50u8));
        v.push(50);
        assert_eq!(v.len(), 51);
    });
}

#[test]
fn reserved_string_try_reserve_beyond_the_machine() {
    child("reserved_string_try_reserve_beyond_the_machine", |huge| {
        let mut s = ReservedString::try_with_max_capacity(2 * huge)
            .expect("reserving address space beyond the machine costs nothing");
        s.push_str("kept");
        let (cap, base) = (s.capacity(), s.as_ptr());
        check_refused("ReservedString", s.try_reserve(huge));
        check_refused("ReservedString exact", s.try_reserve_exact(huge));
        assert_eq!(
            (s.capacity(), s.as_ptr()),
            (cap, base),
            "a refusal changed the string"
        );
        assert_eq!(s.as_str(), "kept");
    });
}

#[test]
fn append_vec_reserves_beyond_the_machine_for_free() {
    child("append_vec_reserves_beyond_the_machine_for_free", |huge| {
        // AppendVec has no reserve: it commits as pushes arrive. Its maximum
        // may exceed the machine; the watchdog checks nothing is touched.
        let v: AppendVec<u64> = AppendVec::try_with_max_capacity(huge / 8)
            .expect("reserving address space beyond the machine costs nothing");
        for i in 0..10_000u64 {
            assert_eq!(v.try_push(i).expect("small pushes commit"), i as usize);
        }
        assert!(v.as_slice().iter().copied().eq(0..10_000u64));
    });
}

#[test]
fn hash_try_reserve_beyond_the_machine() {
    child("hash_try_reserve_beyond_the_machine", |huge| {
        let mut m: HashMap<u64, u64> = (0..100).map(|i| (i, i * 2)).collect();
        for n in [1usize << 40, huge / 16] {
            check_refused("HashMap", m.try_reserve(n));
            assert_eq!(m.len(), 100);
            assert!((0..100).all(|i| m.get(&i) == Some(&(i * 2))));
        }
        let mut s: HashSet<u64> = (0..100).collect();
        check_refused("HashSet", s.try_reserve(huge / 8));
        assert_eq!(s.len(), 100);
        assert!((0..100).all(|i| s.contains(&i)));
    });
}

#[test]
fn heap_allocate_and_grow_beyond_the_machine() {
    child("heap_allocate_and_grow_beyond_the_machine", |huge| {
        let big = Layout::from_size_align(huge, 64).unwrap();
        assert!(
            Heap.allocate(big).is_err(),
            "Heap::allocate of twice the machine was granted"
        );
        // Growing a small block and a span: refused, the block unchanged.
        for old_size in [4096usize, 4 * MIB] {
            let old = Layout::from_size_align(old_size, 64).unwrap();
            let p = Heap.allocate(old).unwrap().cast::<u8>();
            // SAFETY: the block has `old_size` bytes.
            unsafe { p.as_ptr().write_bytes(0xA5, old_size) };
            // SAFETY: `p` was allocated with `old`; `big` is not smaller.
            let r = unsafe { Heap.grow(p, old, big) };
            assert!(r.is_err(), "Heap::grow to twice the machine was granted");
            // SAFETY: a failed grow leaves the block allocated and unchanged.
            let kept = unsafe { std::slice::from_raw_parts(p.as_ptr(), old_size) };
            assert!(
                kept.iter().all(|&b| b == 0xA5),
                "a failed grow changed the block"
            );
            // SAFETY: still allocated with `old`.
            unsafe { Heap.deallocate(p, old) };
        }
    });
}

#[test]
fn heap_allocate_batch_beyond_the_machine() {
    child("heap_allocate_batch_beyond_the_machine", |huge| {
        // Slab blocks, small blocks and spans: each block alone fits, the
        // total is twice the machine.
        for size in [2048usize, 64 << 10, GIB] {
            let layout = Layout::from_size_align(size, 8).unwrap();
            let count = huge / size;
            let mut out: std::vec::Vec<MaybeUninit<NonNull<u8>>> =
                std::vec::Vec::with_capacity(count);
            // SAFETY: MaybeUninit needs no initialisation; the capacity is
            // `count` and the pointer array is written only by the batch.
            unsafe { out.set_len(count) };
            let b = Heap.allocate_batch(layout, &mut out);
            assert_eq!(b.count, 0, "a batch of {count} x {size} B was granted");
        }
        // A batch that fits still works after the refusals.
        let layout = Layout::from_size_align(32, 8).unwrap();
        let mut out = [MaybeUninit::uninit(); 64];
        let b = Heap.allocate_batch(layout, &mut out);
        assert_eq!(b.count, 64);
        // SAFETY: all 64 were written by the batch call.
        let got: std::vec::Vec<NonNull<u8>> =
            out.iter().map(|p| unsafe { p.assume_init() }).collect();
        // SAFETY: from this batch call with `layout`.
        unsafe { Heap.deallocate_batch(&got, layout) };
    });
}
