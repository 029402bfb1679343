//! Tests of `ReservedVec`: differential against std `Vec`, panic safety,
//! zero-sized and over-aligned elements, `try_reserve` boundaries, stable
//! pointers, failure injection and `RLIMIT_AS` / RSS checks in child
//! processes.

use std::cell::Cell;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};

use mallocv2::fault::{self, OsOp};
use mallocv2_collections::reserved::{ReservedVec, DEFAULT_MAX_BYTES};
use mallocv2_collections::TryReserveError;
use quickcheck::{Arbitrary, Gen, QuickCheck};

mod common;
use common::{in_child, limit_address_space, statm, CHILD_OK};

// ---------------------------------------------------------------------------
// Differential test against std Vec.

#[derive(Clone, Debug)]
enum Op {
    Push(u16),
    TryPush(u16),
    Pop,
    Insert(usize, u16),
    Remove(usize),
    SwapRemove(usize),
    Truncate(usize),
    Clear,
    Drain(usize, usize),
    Retain(u16),
    Dedup,
    Extend(Vec<u16>),
    ExtendFromSlice(Vec<u16>),
    ExtendFromWithin(usize, usize),
    TryReserve(usize),
    ShrinkToFit,
    ShrinkTo(usize),
    Resize(usize, u16),
    SplitOffAppend(usize),
    Sort,
    IntoIterRoundTrip,
    ExtractIf(usize, usize, u16, bool),
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Op {
        let n = |g: &mut Gen| usize::arbitrary(g) % 64;
        let small_vec = |g: &mut Gen| {
            let len = usize::arbitrary(g) % 20;
            (0..len).map(|_| u16::arbitrary(g) % 8).collect::<Vec<_>>()
        };
        match u8::arbitrary(g) % 21 {
            0..=2 => Op::Push(u16::arbitrary(g) % 8),
            3 => Op::TryPush(u16::arbitrary(g)),
            4 => Op::Pop,
            5 => Op::Insert(n(g), u16::arbitrary(g)),
            6 => Op::Remove(n(g)),
            7 => Op::SwapRemove(n(g)),
            8 => Op::Truncate(n(g)),
            9 => Op::Clear,
            10 => Op::Drain(n(g), n(g)),
            11 => Op::Retain(u16::arbitrary(g) % 4 + 1),
            12 => Op::Dedup,
            13 => Op::Extend(small_vec(g)),
            14 => Op::ExtendFromSlice(small_vec(g)),
            15 => Op::ExtendFromWithin(n(g), n(g)),
            16 => Op::TryReserve(usize::arbitrary(g) % 200),
            17 => {
                if bool::arbitrary(g) {
                    Op::ShrinkToFit
                } else {
                    Op::ShrinkTo(n(g) * 100)
                }
            }
            18 => Op::Resize(n(g), u16::arbitrary(g)),
            19 => {
                if bool::arbitrary(g) {
                    Op::SplitOffAppend(n(g))
                } else {
                    Op::Sort
                }
            }
            20 => {
                if bool::arbitrary(g) {
                    Op::IntoIterRoundTrip
                } else {
                    Op::ExtractIf(n(g), n(g), u16::arbitrary(g) % 4 + 1, bool::arbitrary(g))
                }
            }
            _ => unreachable!(),
        }
    }
}

/// Applies `ops` to a `ReservedVec` with maximum `max` and to a std `Vec`,
/// checking contents and invariants after every op.
fn run_ops(ops: Vec<Op>, max: Option<usize>) -> bool {
    let mut v: ReservedVec<u16> = match max {
        Some(m) => ReservedVec::with_max_capacity(m),
        None => ReservedVec::new(),
    };
    let max = v.max_capacity();
    let mut m: Vec<u16> = Vec::new();
    let mut base: Option<*const u16> = None;
    for op in ops {
        // Whether the op fits under the maximum; if not, the fallible form
        // must fail and change nothing.
        let fits = |extra: usize, len: usize| len + extra <= max;
        match op {
            Op::Push(x) => {
                if fits(1, m.len()) {
                    v.push(x);
                    m.push(x);
                }
            }
            Op::TryPush(x) => {
                let r = v.try_push(x);
                if fits(1, m.len()) {
                    assert_eq!(r, Ok(()));
                    m.push(x);
                } else {
                    assert_eq!(r, Err(TryReserveError::Exhausted { max_capacity: max }));
                }
            }
            Op::Pop => assert_eq!(v.pop(), m.pop()),
            Op::Insert(i, x) => {
                if i <= m.len() && fits(1, m.len()) {
                    v.insert(i, x);
                    m.insert(i, x);
                } else if i <= m.len() {
                    assert!(v.try_insert(i, x).is_err());
                }
            }
            Op::Remove(i) => {
                if i < m.len() {
                    assert_eq!(v.remove(i), m.remove(i));
                }
            }
            Op::SwapRemove(i) => {
                if i < m.len() {
                    assert_eq!(v.swap_remove(i), m.swap_remove(i));
                }
            }
            Op::Truncate(n) => {
                v.truncate(n);
                m.truncate(n);
            }
            Op::Clear => {
                v.clear();
                m.clear();
            }
            Op::Drain(a, b) => {
                let (a, b) = (a.min(b), a.max(b));
                if b <= m.len() {
                    let d1: Vec<_> = v.drain(a..b).collect();
                    let d2: Vec<_> = m.drain(a..b).collect();
                    assert_eq!(d1, d2);
                }
            }
            Op::Retain(k) => {
                v.retain(|x| x % k == 0);
                m.retain(|x| x % k == 0);
            }
            Op::Dedup => {
                v.dedup();
                m.dedup();
            }
            Op::Extend(xs) => {
                if fits(xs.len(), m.len()) {
                    v.extend(xs.iter().copied());
                    m.extend(xs);
                }
            }
            Op::ExtendFromSlice(xs) => {
                let r = v.try_extend_from_slice(&xs);
                if fits(xs.len(), m.len()) {
                    assert_eq!(r, Ok(()));
                    m.extend_from_slice(&xs);
                } else {
                    assert!(r.is_err());
                }
            }
            Op::ExtendFromWithin(a, b) => {
                let (a, b) = (a.min(b), a.max(b));
                if b <= m.len() && fits(b - a, m.len()) {
                    v.extend_from_within(a..b);
                    m.extend_from_within(a..b);
                }
            }
            Op::TryReserve(n) => {
                let r = v.try_reserve(n);
                if fits(n, m.len()) {
                    assert_eq!(r, Ok(()));
                    assert!(v.capacity() - v.len() >= n);
                } else {
                    assert_eq!(r, Err(TryReserveError::Exhausted { max_capacity: max }));
                }
            }
            Op::ShrinkToFit => {
                v.shrink_to_fit();
                m.shrink_to_fit();
            }
            Op::ShrinkTo(n) => {
                v.shrink_to(n);
                assert!(v.capacity() >= n.min(max).max(v.len()) || v.capacity() >= v.len());
            }
            Op::Resize(n, x) => {
                if n <= max {
                    v.resize(n, x);
                    m.resize(n, x);
                }
            }
            Op::SplitOffAppend(at) => {
                if at <= m.len() {
                    let mut t = v.split_off(at);
                    let mt = m.split_off(at);
                    assert_eq!(t, mt);
                    assert_eq!(t.max_capacity(), v.max_capacity());
                    v.append(&mut t);
                    m.extend(mt);
                    assert!(t.is_empty());
                }
            }
            Op::Sort => {
                v.sort();
                m.sort();
            }
            Op::ExtractIf(a, b, k, all) => {
                let (a, b) = (a.min(b), a.max(b));
                if b <= m.len() {
                    let pred = |x: &u16| x % k == 0;
                    let got: Vec<u16> = if all {
                        v.extract_if(a..b, |x| pred(x)).collect()
                    } else {
                        v.extract_if(a..b, |x| pred(x)).take(1).collect()
                    };
                    // The model: all matches in the range, or the first.
                    let hits: Vec<usize> = (a..b).filter(|&i| pred(&m[i])).collect();
                    let hits = if all {
                        &hits[..]
                    } else {
                        &hits[..hits.len().min(1)]
                    };
                    let want: Vec<u16> = hits.iter().map(|&i| m[i]).collect();
                    for &i in hits.iter().rev() {
                        m.remove(i);
                    }
                    assert_eq!(got, want);
                }
            }
            Op::IntoIterRoundTrip => {
                let c = v.clone();
                assert_eq!(c, m);
                let back: Vec<u16> = c.into_iter().rev().collect();
                let mut expect = m.clone();
                expect.reverse();
                assert_eq!(back, expect);
            }
        }
        assert_eq!(v, m);
        assert_eq!(v.len(), m.len());
        assert!(
            v.len() <= v.capacity() && v.capacity() <= v.max_capacity(),
            "len {} cap {} max {}",
            v.len(),
            v.capacity(),
            v.max_capacity()
        );
        assert_eq!(v.max_capacity(), max);
        // The base never moves once the vector has memory.
        if v.capacity() > 0 {
            match base {
                None => base = Some(v.as_ptr()),
                Some(p) => assert_eq!(p, v.as_ptr()),
            }
        }
    }
    true
}

#[test]
fn differential_default_max() {
    QuickCheck::new()
        .tests(300)
        .quickcheck((|ops| run_ops(ops, None)) as fn(Vec<Op>) -> bool);
}

#[test]
fn differential_small_max() {
    // A tiny maximum makes `Exhausted` frequent.
    QuickCheck::new()
        .tests(300)
        .quickcheck((|ops| run_ops(ops, Some(24))) as fn(Vec<Op>) -> bool);
}

#[test]
fn differential_page_max() {
    // One page of u16 (if pages are 4 KiB): crossing page commits.
    QuickCheck::new()
        .tests(100)
        .quickcheck((|ops| run_ops(ops, Some(2048))) as fn(Vec<Op>) -> bool);
}

// ---------------------------------------------------------------------------
// Drop counting and panic safety.

thread_local! {
    static DROPS: Cell<usize> = const { Cell::new(0) };
    static CLONES: Cell<usize> = const { Cell::new(0) };
    /// The value whose drop (or clone) panics.
    static PANIC_ON: Cell<Option<u32>> = const { Cell::new(None) };
}

fn drops() -> usize {
    DROPS.with(Cell::get)
}

fn reset() {
    DROPS.with(|d| d.set(0));
    CLONES.with(|c| c.set(0));
    PANIC_ON.with(|p| p.set(None));
}

/// Counts drops and clones; panics in `drop`/`clone` when its value is
/// `PANIC_ON`.
#[derive(Debug, PartialEq)]
struct Dummy(u32);

impl Clone for Dummy {
    fn clone(&self) -> Self {
        if PANIC_ON.with(Cell::get) == Some(self.0) {
            panic!("clone of {}", self.0);
        }
        CLONES.with(|c| c.set(c.get() + 1));
        Dummy(self.0)
    }
}

impl Drop for Dummy {
    fn drop(&mut self) {
        DROPS.with(|d| d.set(d.get() + 1));
        if PANIC_ON.with(Cell::get) == Some(self.0) {
            PANIC_ON.with(|p| p.set(None));
            panic!("drop of {}", self.0);
        }
    }
}

fn dummies(n: u32) -> ReservedVec<Dummy> {
    (0..n).map(Dummy).collect()
}

#[test]
fn drop_counts() {
    reset();
    let mut v = dummies(100);
    v.truncate(90);
    assert_eq!(drops(), 10);
    drop(v.remove(0));
    drop(v.swap_remove(0));
    assert_eq!(drops(), 12);
    v.drain(10..20).take(3).for_each(drop);
    assert_eq!(drops(), 22);
    assert_eq!(v.len(), 78);
    let mut it = v.into_iter();
    it.next();
    it.next_back();
    drop(it);
    assert_eq!(drops(), 100);
}

#[test]
fn panicking_clone_drops_the_partial_clone() {
    reset();
    let v = dummies(10);
    PANIC_ON.with(|p| p.set(Some(6)));
    let r = catch_unwind(AssertUnwindSafe(|| v.clone()));
    assert!(r.is_err());
    // Six clones were made, and all six were dropped during unwinding.
    assert_eq!(CLONES.with(Cell::get), 6);
    assert_eq!(drops(), 6);
    PANIC_ON.with(|p| p.set(None));
    assert_eq!(v.len(), 10);
    drop(v);
    assert_eq!(drops(), 16);
}

#[test]
fn panicking_drop_in_truncate_drops_everything_once() {
    reset();
    let mut v = dummies(10);
    PANIC_ON.with(|p| p.set(Some(3)));
    let r = catch_unwind(AssertUnwindSafe(|| v.truncate(2)));
    assert!(r.is_err());
    assert_eq!(v.len(), 2);
    assert_eq!(drops(), 8);
    drop(v);
    assert_eq!(drops(), 10);
}

#[test]
fn panicking_drop_in_drain() {
    reset();
    let mut v = dummies(10);
    PANIC_ON.with(|p| p.set(Some(4)));
    let r = catch_unwind(AssertUnwindSafe(|| drop(v.drain(2..6))));
    assert!(r.is_err());
    // The tail moved back despite the panic.
    assert_eq!(
        v.iter().map(|d| d.0).collect::<Vec<_>>(),
        [0, 1, 6, 7, 8, 9]
    );
    assert_eq!(drops(), 4);
    drop(v);
    assert_eq!(drops(), 10);
}

#[test]
fn panicking_retain_predicate_keeps_the_rest() {
    reset();
    let mut v = dummies(10);
    let r = catch_unwind(AssertUnwindSafe(|| {
        v.retain(|d| {
            if d.0 == 5 {
                panic!("predicate");
            }
            d.0 % 2 == 0
        })
    }));
    assert!(r.is_err());
    // 1 and 3 are gone; 5..10 were not (fully) visited and stay.
    assert_eq!(
        v.iter().map(|d| d.0).collect::<Vec<_>>(),
        [0, 2, 4, 5, 6, 7, 8, 9]
    );
    assert_eq!(drops(), 2);
    drop(v);
    assert_eq!(drops(), 10);
}

#[test]
fn panicking_drop_in_retain() {
    reset();
    let mut v = dummies(10);
    PANIC_ON.with(|p| p.set(Some(3)));
    let r = catch_unwind(AssertUnwindSafe(|| v.retain(|d| d.0 % 3 != 0)));
    assert!(r.is_err());
    // 0 and 3 were removed (3's drop panicked but counts as dropped).
    assert_eq!(
        v.iter().map(|d| d.0).collect::<Vec<_>>(),
        [1, 2, 4, 5, 6, 7, 8, 9]
    );
    assert_eq!(drops(), 2);
    drop(v);
    assert_eq!(drops(), 10);
}

#[test]
fn panicking_dedup_by() {
    reset();
    let mut v: ReservedVec<Dummy> = [1, 1, 2, 2, 3, 3].into_iter().map(Dummy).collect();
    let r = catch_unwind(AssertUnwindSafe(|| {
        v.dedup_by(|a, b| {
            if a.0 == 3 {
                panic!("same_bucket");
            }
            a.0 == b.0
        })
    }));
    assert!(r.is_err());
    assert_eq!(v.iter().map(|d| d.0).collect::<Vec<_>>(), [1, 2, 3, 3]);
    assert_eq!(drops(), 2);
    drop(v);
    assert_eq!(drops(), 6);
}

#[test]
fn panicking_extract_if_filter() {
    reset();
    let mut v = dummies(10);
    let r = catch_unwind(AssertUnwindSafe(|| {
        v.extract_if(.., |d| {
            if d.0 == 5 {
                panic!("filter");
            }
            d.0 % 2 == 0
        })
        .collect::<Vec<_>>()
    }));
    assert!(r.is_err());
    // 0, 2, 4 were extracted (and dropped with the partial collection);
    // 5 and the unvisited rest stay, in order.
    assert_eq!(
        v.iter().map(|d| d.0).collect::<Vec<_>>(),
        [1, 3, 5, 6, 7, 8, 9]
    );
    assert_eq!(drops(), 3);
    // A forgotten iterator leaves an empty (leaking, not dangling) vector.
    std::mem::forget(v.extract_if(.., |_| true));
    assert!(v.is_empty());
}

/// An iterator whose `size_hint` lies.
struct Liar {
    left: u32,
    hint: (usize, Option<usize>),
}

impl Iterator for Liar {
    type Item = Dummy;
    fn next(&mut self) -> Option<Dummy> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        Some(Dummy(self.left))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.hint
    }
}

#[test]
fn lying_size_hint_in_extend() {
    reset();
    let mut v = ReservedVec::with_max_capacity(1000);
    // Claims far more than the maximum; yields few.
    v.extend(Liar {
        left: 5,
        hint: (usize::MAX, None),
    });
    assert_eq!(v.len(), 5);
    // Claims nothing; yields many.
    v.extend(Liar {
        left: 500,
        hint: (0, Some(0)),
    });
    assert_eq!(v.len(), 505);
    drop(v);
    assert_eq!(drops(), 505);
}

#[test]
fn panicking_iterator_in_extend_keeps_what_was_pushed() {
    reset();
    let mut v = dummies(3);
    let r = catch_unwind(AssertUnwindSafe(|| {
        v.extend((10..20).map(|i| {
            if i == 15 {
                panic!("iterator");
            }
            Dummy(i)
        }))
    }));
    assert!(r.is_err());
    assert_eq!(v.len(), 8);
    drop(v);
    assert_eq!(drops(), 8);
}

#[test]
#[should_panic(expected = "maximum capacity of 3 elements")]
fn push_past_max_panics_naming_the_maximum() {
    let mut v = ReservedVec::with_max_capacity(3);
    for i in 0..4 {
        v.push(i);
    }
}

#[test]
#[should_panic(expected = "insertion index (is 18446744073709551615) should be <= len (is 1)")]
fn insert_at_usize_max_panics() {
    let mut v = ReservedVec::from([1]);
    v.insert(usize::MAX, 2);
}

#[test]
#[should_panic(expected = "removal index")]
fn remove_at_usize_max_panics() {
    let mut v = ReservedVec::from([1]);
    v.remove(usize::MAX);
}

#[test]
#[should_panic(expected = "swap_remove index")]
fn swap_remove_at_usize_max_panics() {
    let mut v = ReservedVec::from([1]);
    v.swap_remove(usize::MAX);
}

#[test]
#[should_panic(expected = "out of range")]
fn drain_out_of_range_panics() {
    let mut v = ReservedVec::from([1]);
    v.drain(0..usize::MAX);
}

// ---------------------------------------------------------------------------
// Zero-sized and over-aligned elements.

#[test]
fn zero_sized_elements() {
    let mut v: ReservedVec<()> = ReservedVec::new();
    assert_eq!(v.max_capacity(), usize::MAX);
    assert_eq!(v.capacity(), usize::MAX);
    for _ in 0..1000 {
        v.push(());
    }
    assert_eq!(v.len(), 1000);
    assert_eq!(v.try_reserve(usize::MAX - 1000), Ok(()));
    assert_eq!(
        v.try_reserve(usize::MAX),
        Err(TryReserveError::CapacityOverflow)
    );
    v.truncate(10);
    v.shrink_to_fit();
    assert_eq!(v.drain(..).count(), 10);
    assert!(v.is_empty());

    // Zero-sized with a Drop impl: counted.
    #[derive(Clone)]
    struct Z;
    thread_local!(static ZD: Cell<usize> = const { Cell::new(0) });
    impl Drop for Z {
        fn drop(&mut self) {
            ZD.with(|d| d.set(d.get() + 1));
        }
    }
    let mut z = ReservedVec::with_max_capacity(5);
    for _ in 0..5 {
        z.push(Z);
    }
    assert!(z.try_push(Z).is_err()); // dropped: 1
    let c = z.clone();
    drop(z);
    drop(c);
    assert_eq!(ZD.with(Cell::get), 11);
}

#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(align(256))]
struct A256(u64);

#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(align(8192))]
struct A8192(u64);

fn check_aligned<T: Copy + PartialEq + std::fmt::Debug>(make: fn(u64) -> T) {
    let align = std::mem::align_of::<T>();
    let mut v = ReservedVec::new();
    for round in 0..3u64 {
        for i in 0..300 {
            v.push(make(i + round));
            let p = v.last().unwrap() as *const T as usize;
            assert_eq!(p % align, 0, "element at {p:#x} not aligned to {align}");
        }
        assert_eq!(v.as_ptr() as usize % align, 0);
        v.truncate(10);
        v.shrink_to_fit();
        assert_eq!(v.as_ptr() as usize % align, 0);
        assert_eq!(v[3], make(3 + round));
        v.clear();
    }
    let w: ReservedVec<T> = ReservedVec::with_max_capacity(3);
    assert_eq!(w.as_ptr() as usize % align, 0);
}

#[test]
fn over_aligned_256() {
    check_aligned(A256);
}

#[test]
fn over_aligned_above_page_size() {
    check_aligned(A8192);
}

// ---------------------------------------------------------------------------
// try_reserve boundaries.

#[test]
fn try_reserve_boundaries() {
    let mut v: ReservedVec<u8> = ReservedVec::new();
    v.push(1);
    let max = v.max_capacity();
    assert_eq!(max, DEFAULT_MAX_BYTES);
    assert_eq!(
        v.try_reserve(isize::MAX as usize - 1),
        Err(TryReserveError::Exhausted { max_capacity: max })
    );
    assert_eq!(
        v.try_reserve(usize::MAX),
        Err(TryReserveError::CapacityOverflow)
    );
    assert_eq!(
        v.try_reserve_exact(usize::MAX),
        Err(TryReserveError::CapacityOverflow)
    );
    assert_eq!(v.try_reserve(max - 1), Ok(()));
    assert_eq!(
        v.try_reserve(max),
        Err(TryReserveError::Exhausted { max_capacity: max })
    );
    assert_eq!(v, [1]);

    // Size computations that overflow isize::MAX bytes.
    assert_eq!(
        ReservedVec::<u8>::try_with_max_capacity(isize::MAX as usize + 1).unwrap_err(),
        TryReserveError::CapacityOverflow
    );
    assert_eq!(
        ReservedVec::<u64>::try_with_max_capacity(isize::MAX as usize / 8 + 1).unwrap_err(),
        TryReserveError::CapacityOverflow
    );
    assert_eq!(
        ReservedVec::<u64>::try_with_capacity(usize::MAX).unwrap_err(),
        TryReserveError::CapacityOverflow
    );
    // Exactly isize::MAX bytes is a valid size, but rounded up to whole
    // pages it is not; 2^62 bytes is, and no OS reserves it.
    assert!(ReservedVec::<u8>::try_with_max_capacity(isize::MAX as usize).is_err());
    assert!(matches!(
        ReservedVec::<u8>::try_with_max_capacity(1 << 62),
        Err(TryReserveError::AllocError { .. })
    ));
}

/// Every fallible growth of `v` by `additional` returns `want`, and `v`
/// keeps its elements, capacity and base.
fn assert_growth_error(v: &mut ReservedVec<u64>, additional: usize, want: TryReserveError) {
    let (len, cap, base) = (v.len(), v.capacity(), v.as_ptr());
    assert_eq!(
        v.try_reserve(additional),
        Err(want),
        "try_reserve({additional})"
    );
    assert_eq!(
        v.try_reserve_exact(additional),
        Err(want),
        "try_reserve_exact({additional})"
    );
    assert_eq!((v.len(), v.capacity(), v.as_ptr()), (len, cap, base));
    assert!(v.iter().copied().eq(0..len as u64));
}

#[test]
fn overflow_is_capacity_overflow_and_exhausted_means_a_valid_size() {
    // The rule: `len + additional` overflowing usize, or its size in bytes
    // exceeding isize::MAX, is `CapacityOverflow` (as std says); a valid
    // size beyond the maximum capacity is `Exhausted`.
    let largest = isize::MAX as usize / 8; // the most u64 any vector holds
    for reserved_now in [false, true] {
        let mut v: ReservedVec<u64> = if reserved_now {
            ReservedVec::with_max_capacity(1000)
        } else {
            ReservedVec::new() // nothing reserved until it grows
        };
        let max = v.max_capacity();
        let exhausted = TryReserveError::Exhausted { max_capacity: max };
        // Empty: std's `try_reserve(usize::MAX)` case.
        assert_growth_error(&mut v, usize::MAX, TryReserveError::CapacityOverflow);
        assert_growth_error(&mut v, largest + 1, TryReserveError::CapacityOverflow);
        assert_growth_error(&mut v, largest, exhausted);
        assert_growth_error(&mut v, max + 1, exhausted);
        // With elements: the bound moves by the length.
        v.extend(0..3);
        assert_growth_error(&mut v, usize::MAX - 2, TryReserveError::CapacityOverflow);
        assert_growth_error(&mut v, largest - 2, TryReserveError::CapacityOverflow);
        assert_growth_error(&mut v, largest - 3, exhausted);
        assert_growth_error(&mut v, max - 2, exhausted);
        assert_eq!(v.try_reserve(100), Ok(()));
        assert_eq!(v, [0, 1, 2]);
    }

    // Bytes: one element then isize::MAX more is one byte too many.
    let mut b: ReservedVec<u8> = ReservedVec::new();
    assert_eq!(
        b.try_reserve(usize::MAX),
        Err(TryReserveError::CapacityOverflow)
    );
    b.push(1);
    let max = b.max_capacity();
    for r in [
        b.try_reserve(isize::MAX as usize),
        b.try_reserve_exact(isize::MAX as usize),
    ] {
        assert_eq!(r, Err(TryReserveError::CapacityOverflow));
    }
    assert_eq!(
        b.try_reserve(isize::MAX as usize - 1),
        Err(TryReserveError::Exhausted { max_capacity: max })
    );
    assert_eq!(b, [1]);

    // Zero-sized elements have no byte size to overflow: past a maximum
    // below usize::MAX it is `Exhausted`, and only `len + additional`
    // overflowing usize is an overflow.
    let mut z: ReservedVec<()> = ReservedVec::with_max_capacity(3);
    z.push(());
    assert_eq!(
        z.try_reserve(usize::MAX - 1),
        Err(TryReserveError::Exhausted { max_capacity: 3 })
    );
    assert_eq!(
        z.try_reserve(usize::MAX),
        Err(TryReserveError::CapacityOverflow)
    );
    assert_eq!(z.len(), 1);
}

#[test]
fn exhaustion_keeps_every_element() {
    let mut v = ReservedVec::with_max_capacity(100_000);
    v.extend(0..100_000u32);
    assert_eq!(
        v.try_push(7),
        Err(TryReserveError::Exhausted {
            max_capacity: 100_000
        })
    );
    assert_eq!(
        v.try_extend_from_slice(&[1]).unwrap_err(),
        TryReserveError::Exhausted {
            max_capacity: 100_000
        }
    );
    assert_eq!(v.len(), 100_000);
    assert!(v.iter().copied().eq(0..100_000));
    let msg = TryReserveError::Exhausted {
        max_capacity: 100_000,
    }
    .to_string();
    assert!(msg.contains("100000"), "{msg}");
}

#[test]
fn max_capacity_zero() {
    let mut v = ReservedVec::<u32>::with_max_capacity(0);
    assert_eq!(
        v.try_push(1),
        Err(TryReserveError::Exhausted { max_capacity: 0 })
    );
    assert_eq!(v.capacity(), 0);
    v.shrink_to_fit();
    assert!(v.is_empty());
}

#[test]
fn commits_ahead_in_growing_steps() {
    // 1M u64 = 8 MB. Each commit adds at least an eighth of what was
    // committed (at least 64 KiB), so there are few of them: 64 KiB steps
    // up to 512 KiB, then x1.125 each, about 32 in all.
    let mut v: ReservedVec<u64> = ReservedVec::new();
    let mut cap = v.capacity();
    let mut commits = 0;
    for i in 0..1_000_000 {
        v.push(i);
        if v.capacity() != cap {
            commits += 1;
            assert!(
                v.capacity() >= cap + (cap / 8).max((64 << 10) / 8),
                "capacity went from {cap} to {}",
                v.capacity()
            );
            cap = v.capacity();
        }
    }
    assert!(commits <= 40, "{commits} commits");
}

// ---------------------------------------------------------------------------
// Stable pointers (std's `test_stable_pointers` as the model).

#[test]
fn stable_pointers() {
    let mut v: ReservedVec<u64> = ReservedVec::with_capacity(1);
    v.push(13);
    let first: *const u64 = &v[0];
    let base = v.as_ptr();
    let check = |v: &ReservedVec<u64>| {
        // SAFETY: the element is still there and the storage never
        // moves.
        let x = unsafe { *first };
        assert_eq!(x, 13);
        assert_eq!(v.as_ptr(), base);
    };
    v.push(1);
    check(&v);
    v.extend(0..1_000_000);
    check(&v);
    v.extend_from_slice(&[1, 2, 3]);
    check(&v);
    v.reserve(1 << 20);
    check(&v);
    v.truncate(10);
    check(&v);
    v.shrink_to_fit();
    check(&v);
    v.drain(3..7);
    check(&v);
    v.retain(|&x| x != 2);
    check(&v);
    v.insert(v.len(), 5);
    check(&v);
    v.resize(500_000, 9);
    check(&v);
    v.dedup();
    check(&v);
    let tail = v.split_off(1);
    check(&v);
    drop(tail);
    v.clear();
    v.shrink_to_fit();
    assert_eq!(v.as_ptr(), base);
    v.push(13);
    check(&v);
}

// ---------------------------------------------------------------------------
// Traits.

#[test]
fn traits() {
    let v: ReservedVec<i32> = ReservedVec::from([1, 2, 3]);
    let w = ReservedVec::from(vec![1, 2, 3]);
    assert_eq!(v, w);
    assert_eq!(v, [1, 2, 3]);
    assert_eq!(v, &[1, 2, 3][..]);
    assert_eq!(v, vec![1, 2, 3]);
    assert_eq!(vec![1, 2, 3], v);
    assert_eq!(&[1, 2, 3][..], v);
    let bigger = ReservedVec::from([1, 2, 4]);
    assert!(v < bigger);
    assert_eq!(v.cmp(&w), std::cmp::Ordering::Equal);
    let h = |x: &dyn Fn(&mut DefaultHasher)| {
        let mut s = DefaultHasher::new();
        x(&mut s);
        s.finish()
    };
    assert_eq!(h(&|s| v.hash(s)), h(&|s| [1, 2, 3][..].hash(s)));
    assert_eq!(h(&|s| v.hash(s)), h(&|s| vec![1, 2, 3].hash(s)));
    assert_eq!(format!("{v:?}"), "[1, 2, 3]");
    let set: std::collections::HashSet<ReservedVec<i32>> = [v.clone()].into_iter().collect();
    assert!(set.contains(&[1, 2, 3][..]));
    let mut c = ReservedVec::new();
    c.extend(&[4, 5]);
    c.clone_from(&v);
    assert_eq!(c, v);
    let s: i32 = (&v).into_iter().sum();
    assert_eq!(s, 6);
    let mut m = v.clone();
    for x in &mut m {
        *x *= 2;
    }
    m[0] = 0;
    assert_eq!(m[1..], [4, 6]);
    assert_eq!(AsRef::<[i32]>::as_ref(&m), &[0, 4, 6]);
    let std_vec: Vec<i32> = m.into();
    assert_eq!(std_vec, [0, 4, 6]);
    let d: ReservedVec<u8> = Default::default();
    assert!(d.is_empty());

    fn send_sync<T: Send + Sync>() {}
    send_sync::<ReservedVec<u8>>();
}

#[test]
fn io_write() {
    let mut v = ReservedVec::<u8>::new();
    write!(v, "hello {}", 42).unwrap();
    assert_eq!(&v[..], b"hello 42");

    let mut small = ReservedVec::<u8>::with_max_capacity(4);
    assert_eq!(small.write(b"abcdef").unwrap(), 4);
    let e = small.write_all(b"x").unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::StorageFull);
    assert_eq!(&small[..], b"abcd");
}

// ---------------------------------------------------------------------------
// Failure injection.

#[test]
fn failed_commit_keeps_every_element() {
    let mut v: ReservedVec<u64> = ReservedVec::new();
    v.push(0);
    let cap = v.capacity();
    let base = v.as_ptr();
    while v.len() < cap {
        let n = v.len() as u64;
        v.push(n);
    }
    fault::fail_nth(OsOp::Commit, 1);
    let r = v.try_push(99);
    fault::clear();
    assert!(
        matches!(r, Err(TryReserveError::AllocError { .. })),
        "{r:?}"
    );
    assert_eq!(v.len(), cap);
    assert_eq!(v.capacity(), cap);
    assert!(v.iter().copied().eq(0..cap as u64));
    // The next attempt goes through, in place.
    v.try_push(cap as u64).unwrap();
    assert_eq!(v.as_ptr(), base);
    assert!(v.iter().copied().eq(0..=cap as u64));

    // The same through try_reserve and try_extend_from_slice.
    let cap = v.capacity();
    fault::fail_nth(OsOp::Commit, 1);
    assert!(v.try_reserve(cap).is_err());
    fault::fail_nth(OsOp::Commit, 1);
    assert!(v.try_extend_from_slice(&vec![1; cap]).is_err());
    fault::clear();
    assert!(v.iter().copied().eq(0..=(v.len() - 1) as u64));
}

#[test]
#[should_panic(expected = "ReservedVec::push")]
fn failed_commit_in_push_panics() {
    let mut v: ReservedVec<u8> = ReservedVec::new();
    fault::fail_nth(OsOp::Commit, 1);
    v.push(1);
}

#[test]
fn failed_reservation_falls_back_to_a_smaller_one() {
    let mut v: ReservedVec<u64> = ReservedVec::new();
    fault::fail_nth(OsOp::Reserve, 1);
    v.push(1);
    fault::clear();
    assert_eq!(v.max_capacity(), DEFAULT_MAX_BYTES / 2 / 8);
    assert_eq!(v, [1]);

    // An explicit maximum does not fall back.
    fault::fail_nth(OsOp::Reserve, 1);
    let r = ReservedVec::<u64>::try_with_max_capacity(1000);
    fault::clear();
    assert!(matches!(r, Err(TryReserveError::AllocError { .. })));
}

// ---------------------------------------------------------------------------
// Child processes: RLIMIT_AS and RSS.

#[test]
fn rlimit_as_child() {
    if !in_child("rlimit_as_child") {
        return;
    }
    // A modest `ulimit -v`: what is mapped now plus 200 MiB.
    limit_address_space(200 << 20);

    // The default 1 GiB reservation is refused; the vector falls back.
    let mut v: ReservedVec<u64> = ReservedVec::new();
    v.extend(0..10_000);
    let max = v.max_capacity();
    assert!(max < DEFAULT_MAX_BYTES / 8, "max {max}");
    assert!(max >= 10_000);
    println!("fallback max capacity: {max} u64");

    // Fill to the maximum; past it, an error and no element lost.
    let room = max - v.len();
    v.reserve_exact(room);
    v.resize(max, 7);
    assert_eq!(
        v.try_push(1),
        Err(TryReserveError::Exhausted { max_capacity: max })
    );
    assert!(v[..10_000].iter().copied().eq(0..10_000));
    assert_eq!(v.len(), max);

    // An explicit maximum beyond the limit is refused with an error.
    assert!(matches!(
        ReservedVec::<u8>::try_with_max_capacity(1 << 30),
        Err(TryReserveError::AllocError { .. })
    ));
    // A second default vector still works: it takes what is left.
    drop(v);
    let mut w: ReservedVec<u8> = ReservedVec::new();
    w.extend_from_slice(b"still works");
    assert_eq!(&w[..], b"still works");
    println!("{CHILD_OK}");
}

/// Resident bytes that a `try_reserve` may add: one commit step at most
/// (the policy commits without faulting in, so it adds about nothing; the
/// slack covers the test harness's own allocations).
const RESERVE_RSS_SLACK: usize = 16 << 20;

#[test]
fn reserve_adds_no_resident_memory_child() {
    if !in_child("reserve_adds_no_resident_memory_child") {
        return;
    }
    const BIG: usize = 256 << 20;
    let mut v: ReservedVec<u8> = ReservedVec::with_max_capacity(1 << 30);
    v.push(1);
    let (_, rss_before) = statm();
    v.try_reserve(BIG).unwrap();
    let (_, rss_after) = statm();
    println!("try_reserve: RSS {rss_before} -> {rss_after}");
    assert!(v.capacity() - v.len() >= BIG);
    assert!(
        rss_after <= rss_before + RESERVE_RSS_SLACK,
        "try_reserve({BIG}) raised RSS from {rss_before} to {rss_after}"
    );

    // The same from a vector grown by pushes to a few MiB (its commit
    // steps are larger by then), and through `reserve`.
    let mut w: ReservedVec<u64> = ReservedVec::new();
    w.extend(0..(4 << 20) / 8);
    let (_, rss_before) = statm();
    w.reserve(BIG / 8);
    let (_, rss_after) = statm();
    println!("reserve: RSS {rss_before} -> {rss_after}");
    assert!(
        rss_after <= rss_before + RESERVE_RSS_SLACK,
        "reserve({}) raised RSS from {rss_before} to {rss_after}",
        BIG / 8
    );
    // The reserved memory is usable, and becomes resident as it is written.
    let len = w.len();
    w.extend(len as u64..(len + BIG / 8) as u64);
    let (_, rss_written) = statm();
    assert!(rss_written >= rss_after + BIG / 2, "RSS {rss_written}");
    assert!(w.iter().copied().eq(0..w.len() as u64));
    println!("{CHILD_OK}");
}

#[test]
fn shrink_to_fit_returns_memory_child() {
    if !in_child("shrink_to_fit_returns_memory_child") {
        return;
    }
    const BYTES: usize = 64 << 20;
    let mut v: ReservedVec<u8> = ReservedVec::new();
    v.resize(BYTES, 1); // touches every page
    let (_, rss_full) = statm();
    v.truncate(4096);
    v.shrink_to_fit();
    let (_, rss_after) = statm();
    println!("RSS {rss_full} -> {rss_after}");
    assert!(
        rss_full - rss_after >= BYTES / 2,
        "RSS only went from {rss_full} to {rss_after}"
    );
    assert!(v.capacity() < BYTES / 2);
    assert_eq!(v.len(), 4096);
    assert!(v.iter().all(|&b| b == 1));
    println!("{CHILD_OK}");
}

// ---------------------------------------------------------------------------
// serde.

#[cfg(feature = "serde")]
#[test]
fn serde_round_trip() {
    let v: ReservedVec<u32> = (0..100).collect();
    let json = serde_json::to_string(&v).unwrap();
    assert_eq!(
        json,
        serde_json::to_string(&(0..100).collect::<Vec<u32>>()).unwrap()
    );
    let back: ReservedVec<u32> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, v);
    let empty: ReservedVec<u32> = serde_json::from_str("[]").unwrap();
    assert!(empty.is_empty());
    assert!(serde_json::from_str::<ReservedVec<u32>>("[1, \"x\"]").is_err());
}
