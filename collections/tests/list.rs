//! `LinkedList`: differential tests against `std::collections::LinkedList`,
//! batch-allocation accounting, panic safety, ZSTs and over-aligned types,
//! and failure injection through a failing allocator.

use std::cell::Cell;
use std::collections::LinkedList as StdList;
use std::panic::{catch_unwind, AssertUnwindSafe};

use mallocv2::alloc::Allocator;
use mallocv2::{BatchAlloc, Heap};
use mallocv2_collections::list::{LinkedList, FREE_CHUNK};
use mallocv2_collections::TryReserveError;
use quickcheck::{Arbitrary, Gen, QuickCheck};

mod common;
use common::{in_child, limit_address_space, Failing, CHILD_OK};

// ---------------------------------------------------------------------------
// Drop counting.

thread_local! {
    static DROPS: Cell<usize> = const { Cell::new(0) };
    static CLONES: Cell<usize> = const { Cell::new(0) };
}

fn drops() -> usize {
    DROPS.with(|d| d.get())
}

/// Counts its drops; panics on drop when `bomb`, and on clone when the
/// clone counter reaches `clone_bomb`.
#[derive(Debug, PartialEq)]
struct Tracked {
    v: u32,
    bomb: bool,
    clone_bomb: usize,
}

impl Tracked {
    fn new(v: u32) -> Self {
        Tracked {
            v,
            bomb: false,
            clone_bomb: usize::MAX,
        }
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        let n = CLONES.with(|c| {
            c.set(c.get() + 1);
            c.get()
        });
        if n == self.clone_bomb {
            panic!("clone bomb");
        }
        Tracked {
            v: self.v,
            bomb: false,
            clone_bomb: self.clone_bomb,
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        DROPS.with(|d| d.set(d.get() + 1));
        if self.bomb {
            self.bomb = false;
            panic!("drop bomb");
        }
    }
}

// ---------------------------------------------------------------------------
// Differential test.

#[derive(Clone, Debug)]
enum Op {
    PushBack(u8),
    PushFront(u8),
    PopBack,
    PopFront,
    Extend(Vec<u8>),
    ExtendFiltered(Vec<u8>),
    ExtendFromSlice(Vec<u8>),
    SplitOffAppend(usize),
    SplitOffDrop(usize),
    Append(Vec<u8>),
    Remove(usize),
    Retain(u8),
    CursorInsertAfter(usize, u8),
    CursorInsertBefore(usize, u8),
    CursorRemove(usize),
    FrontMut(u8),
    Clear,
    CloneReplace,
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Self {
        let small = |g: &mut Gen| {
            Vec::<u8>::arbitrary(g)
                .into_iter()
                .take(20)
                .collect::<Vec<_>>()
        };
        match u8::arbitrary(g) % 20 {
            0 | 1 => Op::PushBack(u8::arbitrary(g)),
            2 | 3 => Op::PushFront(u8::arbitrary(g)),
            4 => Op::PopBack,
            5 => Op::PopFront,
            6 => Op::Extend(small(g)),
            7 => Op::ExtendFiltered(small(g)),
            8 => Op::ExtendFromSlice(small(g)),
            9 => Op::SplitOffAppend(usize::arbitrary(g)),
            10 => Op::SplitOffDrop(usize::arbitrary(g)),
            11 => Op::Append(small(g)),
            12 => Op::Remove(usize::arbitrary(g)),
            13 => Op::Retain(u8::arbitrary(g)),
            14 => Op::CursorInsertAfter(usize::arbitrary(g), u8::arbitrary(g)),
            15 => Op::CursorInsertBefore(usize::arbitrary(g), u8::arbitrary(g)),
            16 => Op::CursorRemove(usize::arbitrary(g)),
            17 => Op::FrontMut(u8::arbitrary(g)),
            18 => Op::Clear,
            _ => Op::CloneReplace,
        }
    }
}

fn same<A: Allocator + BatchAlloc>(l: &LinkedList<u8, A>, m: &StdList<u8>) -> bool {
    l.check_invariants();
    l.len() == m.len()
        && l.is_empty() == m.is_empty()
        && l.iter().eq(m.iter())
        && l.iter().rev().eq(m.iter().rev())
        && l.front() == m.front()
        && l.back() == m.back()
        && l.iter().len() == m.len()
}

fn run_ops<A: Allocator + BatchAlloc + Clone>(ops: Vec<Op>, alloc: A) -> bool {
    let mut l: LinkedList<u8, A> = LinkedList::new_in(alloc.clone());
    let mut m: StdList<u8> = StdList::new();
    for op in ops {
        match op {
            Op::PushBack(x) => {
                l.push_back(x);
                m.push_back(x);
            }
            Op::PushFront(x) => {
                l.push_front(x);
                m.push_front(x);
            }
            Op::PopBack => assert_eq!(l.pop_back(), m.pop_back()),
            Op::PopFront => assert_eq!(l.pop_front(), m.pop_front()),
            Op::Extend(v) => {
                l.extend(v.iter().copied());
                m.extend(v.iter().copied());
            }
            Op::ExtendFiltered(v) => {
                l.extend(v.iter().copied().filter(|x| x % 3 != 0));
                m.extend(v.iter().copied().filter(|x| x % 3 != 0));
            }
            Op::ExtendFromSlice(v) => {
                l.extend_from_slice(&v);
                m.extend(v.iter().copied());
            }
            Op::SplitOffAppend(at) => {
                let at = at % (m.len() + 1);
                let mut a = l.split_off(at);
                let mut b = m.split_off(at);
                assert!(a.iter().eq(b.iter()));
                l.append(&mut a);
                m.append(&mut b);
                assert!(a.is_empty());
            }
            Op::SplitOffDrop(at) => {
                let at = at % (m.len() + 1);
                let a = l.split_off(at);
                let b = m.split_off(at);
                assert!(a.iter().eq(b.iter()));
                assert!(a.iter().rev().eq(b.iter().rev()));
            }
            Op::Append(v) => {
                let mut a: LinkedList<u8, A> = LinkedList::new_in(alloc.clone());
                a.extend(v.iter().copied());
                l.append(&mut a);
                m.extend(v.iter().copied());
            }
            Op::Remove(i) => {
                if !m.is_empty() {
                    let i = i % m.len();
                    let mut tail = m.split_off(i);
                    let x = tail.pop_front();
                    m.append(&mut tail);
                    assert_eq!(Some(l.remove(i)), x);
                }
            }
            Op::Retain(d) => {
                let keep = |x: &u8| d == 0 || x % d.max(2) != 0;
                l.retain(keep);
                m = m.into_iter().filter(|x| keep(x)).collect();
            }
            Op::CursorInsertAfter(i, x) | Op::CursorInsertBefore(i, x) => {
                let after = matches!(op, Op::CursorInsertAfter(..));
                // Position `i` in 0..=len, where len means the ghost.
                let i = i % (m.len() + 1);
                let mut c = l.cursor_front_mut();
                for _ in 0..i {
                    c.move_next();
                }
                assert_eq!(c.index(), (i < m.len()).then_some(i));
                let at = match (i == m.len(), after) {
                    (true, true) => 0,        // ghost: after = at the front
                    (true, false) => m.len(), // ghost: before = at the back
                    (false, true) => i + 1,
                    (false, false) => i,
                };
                if after {
                    c.insert_after(x);
                } else {
                    c.insert_before(x);
                }
                let mut tail = m.split_off(at);
                m.push_back(x);
                m.append(&mut tail);
            }
            Op::CursorRemove(i) => {
                if !m.is_empty() {
                    let i = i % m.len();
                    let mut c = l.cursor_back_mut();
                    for _ in 0..(m.len() - 1 - i) {
                        c.move_prev();
                    }
                    assert_eq!(c.index(), Some(i));
                    let got = c.remove_current();
                    assert_eq!(c.index(), (i < m.len() - 1).then_some(i));
                    let mut tail = m.split_off(i);
                    assert_eq!(got, tail.pop_front());
                    m.append(&mut tail);
                }
            }
            Op::FrontMut(x) => {
                if let Some(f) = l.front_mut() {
                    *f = x;
                }
                if let Some(f) = m.front_mut() {
                    *f = x;
                }
                if let Some(b) = l.back_mut() {
                    *b = b.wrapping_add(1);
                }
                if let Some(b) = m.back_mut() {
                    *b = b.wrapping_add(1);
                }
            }
            Op::Clear => {
                l.clear();
                m.clear();
            }
            Op::CloneReplace => {
                let c = l.clone();
                assert!(c == l);
                l = c;
            }
        }
        if !same(&l, &m) {
            eprintln!("mismatch: {l:?} vs {m:?}");
            return false;
        }
    }
    true
}

#[test]
fn differential_against_std() {
    QuickCheck::new()
        .tests(300)
        .quickcheck((|ops| run_ops(ops, Heap)) as fn(Vec<Op>) -> bool);
}

#[test]
fn differential_with_system_allocator() {
    // `System` batches by looping `allocate`: every node is a `malloc`
    // block, so valgrind/ASan runs of this test see each node's life.
    QuickCheck::new()
        .tests(100)
        .quickcheck((|ops| run_ops(ops, std::alloc::System)) as fn(Vec<Op>) -> bool);
}

#[test]
fn differential_with_partial_batches() {
    // Batches of at most 3 blocks: bulk operations fall back to more calls.
    QuickCheck::new().tests(150).quickcheck(
        (|ops| {
            let a = Failing::new();
            a.0.batch_cap.set(3);
            let ok = run_ops(ops, a.clone());
            ok && a.live() == 0
        }) as fn(Vec<Op>) -> bool,
    );
}

// ---------------------------------------------------------------------------
// Batch accounting.

#[test]
fn from_iter_is_one_batch_call() {
    let before = Heap::thread_stats();
    let l: LinkedList<u64> = (0..10_000).collect();
    let d = Heap::thread_stats().since(&before);
    assert_eq!(d.batch_calls, 1);
    assert_eq!(d.batch_blocks, 10_000);
    assert_eq!(l.len(), 10_000);
    assert!(l.iter().copied().eq(0..10_000));
}

#[test]
fn clone_and_extend_are_one_batch_call_each() {
    let l: LinkedList<u64> = (0..5000).collect();
    let before = Heap::thread_stats();
    let c = l.clone();
    assert_eq!(Heap::thread_stats().since(&before).batch_calls, 1);
    assert!(c == l);
    let mut e = LinkedList::new();
    e.push_back(1u64);
    let before = Heap::thread_stats();
    e.extend(0..3000u64);
    e.extend_from_slice(&[7; 100]);
    assert_eq!(Heap::thread_stats().since(&before).batch_calls, 2);
    assert_eq!(e.len(), 3101);
}

#[test]
fn pop_frees_one_node_drop_frees_in_batches() {
    let a = Failing::new();
    let mut l: LinkedList<u32, Failing> = LinkedList::new_in(a.clone());
    l.extend(0..10_000);
    assert_eq!(a.0.batch_calls.get(), 1);
    assert_eq!(a.0.single_allocs.get(), 0);
    assert_eq!(a.live(), 10_000);
    assert_eq!(l.pop_front(), Some(0));
    assert_eq!(l.pop_back(), Some(9_999));
    assert_eq!(l.remove(10), 11);
    assert_eq!(
        a.0.single_frees.get(),
        3,
        "each removal frees exactly its node"
    );
    assert_eq!(a.0.batch_frees.get(), 0);
    assert_eq!(a.live(), 9_997);
    drop(l);
    assert_eq!(a.live(), 0);
    assert_eq!(a.0.single_frees.get(), 3);
    assert_eq!(a.0.batch_frees.get(), 9_997usize.div_ceil(FREE_CHUNK));
}

#[test]
fn unknown_length_iterator_batches_grow_geometrically() {
    let a = Failing::new();
    let mut l: LinkedList<u32, Failing> = LinkedList::new_in(a.clone());
    // `filter` reports a lower bound of 0.
    l.extend((0..1000).filter(|_| true));
    assert_eq!(l.len(), 1000);
    // 1 + 2 + 4 + ... : about log2(1000) calls, not 1000.
    assert!(
        a.0.batch_calls.get() <= 11,
        "{} batch calls",
        a.0.batch_calls.get()
    );
    assert_eq!(a.live(), 1000, "leftover blocks were handed back");
    drop(l);
    assert_eq!(a.live(), 0);
}

#[test]
fn nodes_of_a_bulk_build_are_close_together() {
    let l: LinkedList<u64> = (0..4096).collect();
    let addrs: Vec<usize> = l.iter().map(|x| x as *const u64 as usize).collect();
    let forward = addrs
        .windows(2)
        .filter(|w| w[1] > w[0] && w[1] - w[0] <= 64)
        .count();
    assert!(
        forward > addrs.len() * 9 / 10,
        "{forward} of {} steps go forward by one slot",
        addrs.len()
    );
}

// ---------------------------------------------------------------------------
// Lying size hints.

struct Liar<I> {
    inner: I,
    lower: usize,
    upper: Option<usize>,
}

impl<I: Iterator> Iterator for Liar<I> {
    type Item = I::Item;
    fn next(&mut self) -> Option<I::Item> {
        self.inner.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.lower, self.upper)
    }
}

#[test]
fn lying_size_hint() {
    for (lower, upper, n) in [
        (1000, Some(1000), 10),
        (0, Some(0), 50),
        (usize::MAX, None, 3),
        (7, Some(2), 100),
    ] {
        let a = Failing::new();
        let mut l: LinkedList<u32, Failing> = LinkedList::new_in(a.clone());
        l.extend(Liar {
            inner: 0..n,
            lower,
            upper,
        });
        assert!(
            l.iter().copied().eq(0..n),
            "hint ({lower}, {upper:?}) with {n} items"
        );
        assert_eq!(a.live(), n as isize, "no leftover block leaks");
        let f: LinkedList<u32> = Liar {
            inner: 0..n,
            lower,
            upper,
        }
        .collect();
        assert_eq!(f.len(), n as usize);
        drop(l);
        assert_eq!(a.live(), 0);
    }
}

// ---------------------------------------------------------------------------
// Panic safety.

#[test]
fn panicking_iterator_keeps_pushed_elements_and_frees_spare_blocks() {
    let a = Failing::new();
    let mut l: LinkedList<u32, Failing> = LinkedList::new_in(a.clone());
    let r = catch_unwind(AssertUnwindSafe(|| {
        l.extend((0..100).map(|i| {
            if i == 40 {
                panic!("iterator panics")
            } else {
                i
            }
        }));
    }));
    assert!(r.is_err());
    assert_eq!(l.len(), 40);
    assert_eq!(a.live(), 40, "the 60 unused blocks of the batch were freed");
    drop(l);
    assert_eq!(a.live(), 0);
}

#[test]
fn panicking_clone() {
    let a = Failing::new();
    let mut l: LinkedList<Tracked, Failing> = LinkedList::new_in(a.clone());
    for i in 0..50 {
        l.push_back(Tracked {
            v: i,
            bomb: false,
            clone_bomb: CLONES.with(|c| c.get()) + 30,
        });
    }
    let d0 = drops();
    let r = catch_unwind(AssertUnwindSafe(|| l.clone()));
    assert!(r.is_err());
    assert_eq!(drops() - d0, 29, "the 29 clones made were dropped");
    assert_eq!(a.live(), 50, "the partial clone's nodes were freed");
    // try_extend_from_slice with a panicking clone leaves the list unchanged.
    let items: Vec<Tracked> = (0..10)
        .map(|i| Tracked {
            v: i,
            bomb: false,
            clone_bomb: CLONES.with(|c| c.get()) + 5,
        })
        .collect();
    let r = catch_unwind(AssertUnwindSafe(|| l.try_extend_from_slice(&items)));
    assert!(r.is_err());
    assert_eq!(l.len(), 50);
    assert_eq!(a.live(), 50);
    drop(items);
    let d0 = drops();
    drop(l);
    assert_eq!(drops() - d0, 50);
    assert_eq!(a.live(), 0);
}

#[test]
fn panicking_drop_still_drops_and_frees_the_rest() {
    let a = Failing::new();
    let mut l: LinkedList<Tracked, Failing> = LinkedList::new_in(a.clone());
    for i in 0..3000 {
        let mut t = Tracked::new(i);
        t.bomb = i == 1500;
        l.push_back(t);
    }
    let d0 = drops();
    let r = catch_unwind(AssertUnwindSafe(|| drop(l)));
    assert!(r.is_err());
    assert_eq!(drops() - d0, 3000, "every element dropped exactly once");
    assert_eq!(a.live(), 0, "every node freed");
}

#[test]
fn into_iter_drops_the_rest() {
    let a = Failing::new();
    let mut l: LinkedList<Tracked, Failing> = LinkedList::new_in(a.clone());
    l.extend((0..100).map(Tracked::new));
    let d0 = drops();
    let mut it = l.into_iter();
    assert_eq!(it.next().map(|t| t.v), Some(0));
    assert_eq!(it.next_back().map(|t| t.v), Some(99));
    assert_eq!(it.len(), 98);
    drop(it);
    assert_eq!(drops() - d0, 100);
    assert_eq!(a.live(), 0);
}

// ---------------------------------------------------------------------------
// ZSTs and over-aligned types.

#[test]
fn zero_sized_elements() {
    let mut l: LinkedList<()> = (0..1000).map(|_| ()).collect();
    assert_eq!(l.len(), 1000);
    l.push_front(());
    assert_eq!(l.pop_back(), Some(()));
    let r = l.split_off(500);
    assert_eq!((l.len(), r.len()), (500, 500));
    assert_eq!(l.iter().count(), 500);
}

#[derive(Clone, Debug, PartialEq)]
#[repr(align(256))]
struct Big(u64);

#[test]
fn over_aligned_elements() {
    let mut l: LinkedList<Big> = (0..300).map(Big).collect();
    for _ in 0..3 {
        l.extend((0..100).map(Big));
        l.push_front(Big(1));
        for x in &l {
            assert_eq!(
                x as *const Big as usize % 256,
                0,
                "element at {x:p} misaligned"
            );
        }
        let c = l.clone();
        assert!(c.iter().all(|x| x as *const Big as usize % 256 == 0));
        while l.len() > 150 {
            l.pop_back();
        }
    }
}

// ---------------------------------------------------------------------------
// Failure injection.

#[test]
fn try_push_failure_keeps_everything() {
    let a = Failing::new();
    let mut l: LinkedList<Tracked, Failing> = LinkedList::new_in(a.clone());
    for i in 0..10 {
        l.try_push_back(Tracked::new(i)).unwrap();
    }
    a.0.fail_from.set(a.0.attempts.get());
    let d0 = drops();
    let e = l.try_push_back(Tracked::new(99)).unwrap_err();
    assert!(matches!(e, TryReserveError::AllocError { .. }));
    assert!(l.try_push_front(Tracked::new(98)).is_err());
    assert_eq!(drops() - d0, 2, "the rejected values were dropped");
    assert_eq!(l.len(), 10);
    assert!(l.iter().map(|t| t.v).eq(0..10));
    // Bulk, all-or-nothing.
    let more: Vec<Tracked> = (10..20).map(Tracked::new).collect();
    assert!(l.try_extend_from_slice(&more).is_err());
    assert_eq!(l.len(), 10);
    assert_eq!(a.live(), 10);
    // Panicking forms panic with a message and keep the list.
    let r = catch_unwind(AssertUnwindSafe(|| l.push_back(Tracked::new(5))));
    let msg = r.unwrap_err();
    let msg = msg.downcast_ref::<String>().expect("formatted message");
    assert!(msg.contains("node allocation failed"), "{msg}");
    assert_eq!(l.len(), 10);
    a.0.fail_from.set(usize::MAX);
    l.try_extend_from_slice(&more).unwrap();
    assert!(l.iter().map(|t| t.v).eq(0..20));
    drop(l);
    assert_eq!(a.live(), 0);
}

#[test]
fn fail_nth_allocation_in_bulk_operations() {
    // Fail each allocation attempt in turn, with batches of at most 4, over
    // every bulk path: nothing leaks and no element is lost or doubled.
    for nth in 0..40 {
        for cap in [1, 4, usize::MAX] {
            let a = Failing::new();
            a.0.batch_cap.set(cap);
            a.0.fail_only.set(nth);
            let mut l: LinkedList<Tracked, Failing> = LinkedList::new_in(a.clone());
            let d0 = drops();
            // A one-off failure of a batch block is absorbed by the next
            // call; a failing single fallback makes `extend` panic.
            let r = catch_unwind(AssertUnwindSafe(|| l.extend((0..20).map(Tracked::new))));
            if r.is_ok() {
                assert!(l.iter().map(|t| t.v).eq(0..20));
            } else {
                assert!(l.iter().map(|t| t.v).eq(0..l.len() as u32));
            }
            let items: Vec<Tracked> = (0..10).map(Tracked::new).collect();
            let before = l.len();
            match l.try_extend_from_slice(&items) {
                Ok(()) => assert_eq!(l.len(), before + 10),
                Err(_) => assert_eq!(l.len(), before),
            }
            assert_eq!(a.live(), l.len() as isize, "nth {nth} cap {cap}");
            let n = l.len();
            drop(l);
            drop(items);
            assert_eq!(a.live(), 0);
            // Every Tracked made (20 from extend - those never made + 10
            // items + clones) was dropped: count the list's share.
            assert!(drops() - d0 >= n);
        }
    }
}

#[test]
fn partial_batches_lose_nothing() {
    let a = Failing::new();
    a.0.batch_cap.set(7);
    let l: LinkedList<u32, Failing> = {
        let mut l = LinkedList::new_in(a.clone());
        l.extend(0..1000);
        l
    };
    assert!(l.iter().copied().eq(0..1000));
    assert_eq!(a.live(), 1000);
    let c = l.clone();
    assert!(c == l);
    drop((l, c));
    assert_eq!(a.live(), 0);
}

// ---------------------------------------------------------------------------
// Traits.

#[test]
fn std_traits() {
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};
    let a: LinkedList<i32> = [1, 2, 3].into();
    let b: LinkedList<i32> = [1, 2, 4].into();
    assert!(a < b);
    assert_eq!(a.cmp(&b), std::cmp::Ordering::Less);
    assert_eq!(format!("{a:?}"), "[1, 2, 3]");
    let h = |l: &LinkedList<i32>| {
        let mut s = DefaultHasher::new();
        l.hash(&mut s);
        s.finish()
    };
    assert_eq!(h(&a), h(&a.clone()));
    assert!(a.contains(&2) && !a.contains(&9));
    let d: LinkedList<i32> = Default::default();
    assert!(d.is_empty());
    let mut e = a.clone();
    e.extend(&[4, 5]);
    assert_eq!(e.len(), 5);
    let v: Vec<i32> = e.into_iter().rev().collect();
    assert_eq!(v, [5, 4, 3, 2, 1]);
    fn send_sync<T: Send + Sync>() {}
    send_sync::<LinkedList<i32>>();
    send_sync::<mallocv2_collections::list::Iter<'static, i32>>();
}

#[test]
fn cursor_walks_like_std() {
    let l: LinkedList<i32> = (0..5).collect();
    let mut c = l.cursor_front();
    assert_eq!(c.current(), Some(&0));
    c.move_prev();
    assert_eq!(c.current(), None);
    assert_eq!(c.index(), None);
    assert_eq!(c.peek_next(), Some(&0));
    assert_eq!(c.peek_prev(), Some(&4));
    c.move_prev();
    assert_eq!((c.index(), c.current()), (Some(4), Some(&4)));
    c.move_next();
    c.move_next();
    assert_eq!((c.index(), c.current()), (Some(0), Some(&0)));
}

#[cfg(feature = "serde")]
#[test]
fn serde_round_trip() {
    let l: LinkedList<u32> = (0..100).collect();
    let s = serde_json::to_string(&l).unwrap();
    assert!(s.starts_with("[0,1,2"));
    let before = Heap::thread_stats();
    let back: LinkedList<u32> = serde_json::from_str(&s).unwrap();
    assert_eq!(Heap::thread_stats().since(&before).batch_calls, 1);
    assert!(back == l);
}

// ---------------------------------------------------------------------------
// Real OS failure: RLIMIT_AS in a child process.

/// Under `RLIMIT_AS`, a bulk append too large for the address space left
/// fails with an error and the list keeps every element. Runs in a child
/// process so the limit stays there.
#[test]
fn bulk_append_under_rlimit_as() {
    if in_child("bulk_append_under_rlimit_as") {
        rlimit_child();
    }
}

fn rlimit_child() {
    // 256 KiB elements need a big stack in debug builds; the thread's stack
    // is mapped before the limit is set.
    let t = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(rlimit_child_body)
        .unwrap();
    if let Err(p) = t.join() {
        std::panic::resume_unwind(p);
    }
}

fn rlimit_child_body() {
    // Nodes of 256 KiB are page spans, each in a fresh reservation (small
    // blocks and batch slabs live in address space reserved up front, which
    // the limit does not take back).
    type Page = [u8; 256 << 10];
    let mut l: LinkedList<Page> = LinkedList::new();
    for i in 0..10u8 {
        l.push_back([i; 256 << 10]);
    }
    // 400 items: 100 MiB of nodes against 32 MiB of address space left.
    let items: Vec<Page> = vec![[7u8; 256 << 10]; 400];
    limit_address_space(32 << 20);
    let r = l.try_extend_from_slice(&items);
    assert!(
        matches!(r, Err(TryReserveError::AllocError { .. })),
        "{r:?}"
    );
    assert_eq!(l.len(), 10);
    assert!(l.iter().map(|p| p[0]).eq(0..10));
    // The blocks obtained before the failure were handed back (to the
    // Heap's span cache): a small bulk append fits again.
    l.try_extend_from_slice(&items[..4]).unwrap();
    assert_eq!(l.len(), 14);
    mark(CHILD_OK);
    mark("\n");
}

/// Writes to stdout without allocating (memory is short in the child).
fn mark(s: &str) {
    // SAFETY: writes `s.len()` bytes of a live string to fd 1.
    unsafe { libc::write(1, s.as_ptr().cast(), s.len()) };
}
