//! `Vec<T, A>`: differential tests against `std::vec::Vec`, panic safety,
//! zero-sized and over-aligned elements, `try_reserve` boundaries, a failing
//! allocator, `RLIMIT_AS` in a child process, and the bytes copied while
//! growing.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;

use mallocv2::alloc::{Allocator, Global, Layout};
use mallocv2::{Heap, ResizeInPlace, LARGE_THRESHOLD};
use mallocv2_collections::TryReserveError;
use mallocv2_collections::Vec;
use quickcheck::{Arbitrary, Gen, QuickCheck};

mod common;
use common::{in_child, limit_address_space, FailingResize, CHILD_OK};

// ---------------------------------------------------------------------------
// Differential test against std::vec::Vec.

/// One operation of a random program.
#[derive(Clone, Debug)]
enum Op {
    Push(u16),
    PushMany(u16, u16),
    Pop,
    Insert(usize, u16),
    Remove(usize),
    SwapRemove(usize),
    Truncate(usize),
    Clear,
    Reserve(usize),
    ReserveExact(usize),
    TryReserve(usize),
    ShrinkToFit,
    ShrinkTo(usize),
    ExtendFromSlice(std::vec::Vec<u16>),
    ExtendFromWithin(usize, usize),
    Append(std::vec::Vec<u16>),
    SplitOff(usize),
    Drain(usize, usize, usize),
    Retain(u16),
    Dedup,
    DedupByKey(u16),
    Resize(usize, u16),
    ResizeWith(usize),
    IntoIterRoundTrip(usize),
    Clone,
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Op {
        let small = |g: &mut Gen| usize::arbitrary(g) % 64;
        match u8::arbitrary(g) % 25 {
            0..=3 => Op::Push(u16::arbitrary(g)),
            4 => Op::PushMany(u16::arbitrary(g), u16::arbitrary(g) % 2000),
            5 => Op::Pop,
            6 => Op::Insert(usize::arbitrary(g), u16::arbitrary(g)),
            7 => Op::Remove(usize::arbitrary(g)),
            8 => Op::SwapRemove(usize::arbitrary(g)),
            9 => Op::Truncate(usize::arbitrary(g)),
            10 => Op::Clear,
            11 => Op::Reserve(usize::arbitrary(g) % 5000),
            12 => Op::ReserveExact(small(g)),
            13 => Op::TryReserve(usize::arbitrary(g)),
            14 => Op::ShrinkToFit,
            15 => Op::ShrinkTo(small(g)),
            16 => Op::ExtendFromSlice(Arbitrary::arbitrary(g)),
            17 => Op::ExtendFromWithin(usize::arbitrary(g), usize::arbitrary(g)),
            18 => Op::Append(Arbitrary::arbitrary(g)),
            19 => Op::SplitOff(usize::arbitrary(g)),
            20 => Op::Drain(usize::arbitrary(g), usize::arbitrary(g), small(g)),
            21 => Op::Retain(u16::arbitrary(g) % 4 + 1),
            22 => {
                if bool::arbitrary(g) {
                    Op::Dedup
                } else {
                    Op::DedupByKey(u16::arbitrary(g) % 8 + 1)
                }
            }
            23 => {
                if bool::arbitrary(g) {
                    Op::Resize(usize::arbitrary(g) % 300, u16::arbitrary(g))
                } else {
                    Op::ResizeWith(usize::arbitrary(g) % 300)
                }
            }
            _ => {
                if bool::arbitrary(g) {
                    Op::IntoIterRoundTrip(small(g))
                } else {
                    Op::Clone
                }
            }
        }
    }
}

/// An element type of any alignment made from a `u16`.
trait Elem: Clone + PartialEq + std::fmt::Debug + Ord {
    fn from_u16(x: u16) -> Self;
    fn key(&self) -> u16;
}

impl Elem for u16 {
    fn from_u16(x: u16) -> Self {
        x
    }
    fn key(&self) -> u16 {
        *self
    }
}

/// An over-aligned element.
#[repr(align(256))]
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct Big(u16);

impl Elem for Big {
    fn from_u16(x: u16) -> Self {
        Big(x)
    }
    fn key(&self) -> u16 {
        self.0
    }
}

/// An element that owns heap memory (drops matter).
impl Elem for String {
    fn from_u16(x: u16) -> Self {
        x.to_string()
    }
    fn key(&self) -> u16 {
        self.parse().unwrap()
    }
}

fn check<T: Elem, A: ResizeInPlace>(v: &Vec<T, A>, model: &[T]) {
    assert_eq!(v.as_slice(), model);
    assert!(
        v.len() <= v.capacity(),
        "len {} > capacity {}",
        v.len(),
        v.capacity()
    );
    assert_eq!(
        v.as_ptr() as usize % core::mem::align_of::<T>(),
        0,
        "buffer {:p} misaligned",
        v.as_ptr()
    );
}

fn run<T: Elem>(ops: std::vec::Vec<Op>) -> bool {
    let mut v: Vec<T> = Vec::new();
    let mut m: std::vec::Vec<T> = std::vec::Vec::new();
    for op in ops {
        let len = m.len();
        match op {
            Op::Push(x) => {
                v.push(T::from_u16(x));
                m.push(T::from_u16(x));
            }
            Op::PushMany(x, n) => {
                for i in 0..n {
                    v.push(T::from_u16(x.wrapping_add(i)));
                    m.push(T::from_u16(x.wrapping_add(i)));
                }
            }
            Op::Pop => assert_eq!(v.pop(), m.pop()),
            Op::Insert(i, x) => {
                let i = i % (len + 1);
                v.insert(i, T::from_u16(x));
                m.insert(i, T::from_u16(x));
            }
            Op::Remove(i) if len > 0 => assert_eq!(v.remove(i % len), m.remove(i % len)),
            Op::SwapRemove(i) if len > 0 => {
                assert_eq!(v.swap_remove(i % len), m.swap_remove(i % len))
            }
            Op::Remove(_) | Op::SwapRemove(_) => {}
            Op::Truncate(n) => {
                let n = n % (len + 2);
                v.truncate(n);
                m.truncate(n);
            }
            Op::Clear => {
                v.clear();
                m.clear();
            }
            Op::Reserve(n) => {
                v.reserve(n);
                assert!(v.capacity() >= len + n);
            }
            Op::ReserveExact(n) => {
                v.reserve_exact(n);
                assert!(v.capacity() >= len + n);
            }
            Op::TryReserve(n) => {
                let r = v.try_reserve(n);
                // Huge requests fail cleanly; small ones succeed.
                if n <= 10_000 {
                    r.unwrap();
                } else if n > isize::MAX as usize / core::mem::size_of::<T>() {
                    assert_eq!(r, Err(TryReserveError::CapacityOverflow));
                }
            }
            Op::ShrinkToFit => {
                v.shrink_to_fit();
            }
            Op::ShrinkTo(n) => {
                let cap = v.capacity();
                v.shrink_to(n);
                assert!(v.capacity() >= n.max(len).min(cap));
            }
            Op::ExtendFromSlice(s) => {
                let s: std::vec::Vec<T> = s.into_iter().map(T::from_u16).collect();
                v.extend_from_slice(&s);
                m.extend_from_slice(&s);
            }
            Op::ExtendFromWithin(a, b) => {
                let a = a % (len + 1);
                let b = a + b % (len - a + 1);
                v.extend_from_within(a..b);
                m.extend_from_within(a..b);
            }
            Op::Append(s) => {
                let mut o: Vec<T> = s.iter().copied().map(T::from_u16).collect();
                let mut mo: std::vec::Vec<T> = s.into_iter().map(T::from_u16).collect();
                v.append(&mut o);
                m.append(&mut mo);
                assert!(o.is_empty());
            }
            Op::SplitOff(i) => {
                let i = i % (len + 1);
                let a = v.split_off(i);
                let b = m.split_off(i);
                check(&a, &b);
            }
            Op::Drain(a, b, take) => {
                let a = a % (len + 1);
                let b = a + b % (len - a + 1);
                let got: std::vec::Vec<T> = v.drain(a..b).take(take).collect();
                let want: std::vec::Vec<T> = m.drain(a..b).take(take).collect();
                assert_eq!(got, want);
            }
            Op::Retain(k) => {
                v.retain(|x| x.key() % k == 0);
                m.retain(|x| x.key() % k == 0);
            }
            Op::Dedup => {
                v.dedup();
                m.dedup();
            }
            Op::DedupByKey(k) => {
                v.dedup_by_key(|x| x.key() / k);
                m.dedup_by_key(|x| x.key() / k);
            }
            Op::Resize(n, x) => {
                v.resize(n, T::from_u16(x));
                m.resize(n, T::from_u16(x));
            }
            Op::ResizeWith(n) => {
                let mut i = 0;
                v.resize_with(n, || {
                    i += 1;
                    T::from_u16(i)
                });
                let mut i = 0;
                m.resize_with(n, || {
                    i += 1;
                    T::from_u16(i)
                });
            }
            Op::IntoIterRoundTrip(skip) => {
                let mut it = core::mem::take(&mut v).into_iter();
                assert_eq!(it.len(), len);
                let front: std::vec::Vec<T> = it.by_ref().take(skip).collect();
                let back = it.next_back();
                let mut rest: std::vec::Vec<T> = front;
                rest.extend(it);
                rest.extend(back);
                // Front, then the middle, then the back: the model's order.
                assert_eq!(rest, m);
                v = rest.into_iter().collect();
            }
            Op::Clone => {
                let c = v.clone();
                check(&c, &m);
                v = c;
            }
        }
        check(&v, &m);
    }
    true
}

fn qc(tests: u64) -> QuickCheck {
    QuickCheck::new().tests(tests).max_tests(tests * 10)
}

#[test]
fn differential_u16() {
    qc(500).quickcheck(run::<u16> as fn(std::vec::Vec<Op>) -> bool);
}

#[test]
fn differential_overaligned() {
    qc(100).quickcheck(run::<Big> as fn(std::vec::Vec<Op>) -> bool);
}

#[test]
fn differential_strings() {
    qc(200).quickcheck(run::<String> as fn(std::vec::Vec<Op>) -> bool);
}

// ---------------------------------------------------------------------------
// Panic safety.

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static DROPS: Cell<usize> = const { Cell::new(0) };
}

/// Counts live values; can panic on clone or drop.
#[derive(Debug, PartialEq)]
struct Dummy {
    id: usize,
    panic_on_clone: bool,
    panic_on_drop: bool,
}

impl Dummy {
    fn new(id: usize) -> Self {
        LIVE.with(|l| l.set(l.get() + 1));
        Dummy {
            id,
            panic_on_clone: false,
            panic_on_drop: false,
        }
    }
}

impl Clone for Dummy {
    fn clone(&self) -> Self {
        if self.panic_on_clone {
            panic!("clone of {}", self.id);
        }
        Dummy::new(self.id)
    }
}

impl Drop for Dummy {
    fn drop(&mut self) {
        LIVE.with(|l| l.set(l.get() - 1));
        DROPS.with(|d| d.set(d.get() + 1));
        if self.panic_on_drop && !std::thread::panicking() {
            panic!("drop of {}", self.id);
        }
    }
}

fn live() -> isize {
    LIVE.with(|l| l.get())
}

fn dummies(n: usize) -> Vec<Dummy> {
    (0..n).map(Dummy::new).collect()
}

fn quiet<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    catch_unwind(AssertUnwindSafe(f))
}

#[test]
fn panicking_clone_leaks_nothing() {
    let base = live();
    let mut v = dummies(10);
    v[6].panic_on_clone = true;
    assert!(quiet(|| v.clone()).is_err());
    assert_eq!(live() - base, 10);
    let mut w = dummies(2);
    assert!(quiet(|| w.extend_from_slice(&v)).is_err());
    assert_eq!(w.len(), 8, "the clones made before the panic are kept");
    w.extend_from_within(..);
    assert_eq!(w.len(), 16);
    drop(w);
    let mut p = Dummy::new(99);
    p.panic_on_clone = true;
    assert!(quiet(|| v.resize(20, p)).is_err());
    assert_eq!(v.len(), 10);
    drop(v);
    assert_eq!(live(), base);
}

#[test]
fn panicking_drop_drops_every_other_element_once() {
    for target in [0usize, 3, 9] {
        let base = live();
        let mut v = dummies(10);
        v[target].panic_on_drop = true;
        assert!(quiet(move || drop(v)).is_err());
        assert_eq!(live(), base, "target {target}");

        let mut v = dummies(10);
        v[target].panic_on_drop = true;
        assert!(quiet(|| v.truncate(0)).is_err());
        assert_eq!(v.len(), 0);
        assert_eq!(live(), base);

        let mut v = dummies(10);
        v[target].panic_on_drop = true;
        assert_eq!(
            quiet(|| drop(v.drain(2..8))).is_err(),
            (2..8).contains(&target)
        );
        assert_eq!(v.len(), 4);
        drop(quiet(move || drop(v)));
        assert_eq!(live(), base);

        let v = dummies(10);
        let mut it = v.into_iter();
        it.next();
        let mut it2 = it;
        if let Some(d) = it2.as_mut_slice().get_mut(target.saturating_sub(1)) {
            d.panic_on_drop = true;
        }
        assert!(quiet(move || drop(it2)).is_err());
        assert_eq!(live(), base);
    }
}

#[test]
fn panicking_predicates() {
    let base = live();
    let mut v = dummies(10);
    let mut calls = 0;
    assert!(quiet(|| v.retain(|d| {
        calls += 1;
        if calls == 6 {
            panic!("predicate");
        }
        d.id % 2 == 0
    }))
    .is_err());
    // Elements 0..5 were judged (0, 2, 4 kept); 5.. are kept unjudged.
    let ids: std::vec::Vec<usize> = v.iter().map(|d| d.id).collect();
    assert_eq!(ids, [0, 2, 4, 5, 6, 7, 8, 9]);
    assert_eq!(live() - base, 8);

    let mut v = dummies(10);
    for d in v.iter_mut() {
        d.id /= 3;
    }
    let mut calls = 0;
    assert!(quiet(|| v.dedup_by(|a, b| {
        calls += 1;
        if calls == 5 {
            panic!("same_bucket");
        }
        a.id == b.id
    }))
    .is_err());
    let ids: std::vec::Vec<usize> = v.iter().map(|d| d.id).collect();
    assert_eq!(ids, [0, 1, 1, 2, 2, 2, 3]);
    drop(v);
    assert_eq!(live(), base + 8);
}

#[test]
fn panicking_drop_in_retain_and_dedup() {
    let base = live();
    let mut v = dummies(10);
    v[3].panic_on_drop = true;
    assert!(quiet(|| v.retain(|d| d.id % 2 == 0)).is_err());
    // No element is dropped twice or leaked: the rest stays in the vector.
    assert_eq!(live() - base, v.len() as isize);
    drop(v);
    assert_eq!(live(), base);

    let mut v = dummies(6);
    for d in v.iter_mut() {
        d.id = 0;
    }
    v[2].panic_on_drop = true;
    assert!(quiet(|| v.dedup_by_key(|d| d.id)).is_err());
    assert_eq!(live() - base, v.len() as isize);
    drop(v);
    assert_eq!(live(), base);
}

/// An iterator whose `size_hint` lies.
struct Liar {
    n: usize,
    hint: (usize, Option<usize>),
}

impl Iterator for Liar {
    type Item = Dummy;
    fn next(&mut self) -> Option<Dummy> {
        if self.n == 0 {
            None
        } else {
            self.n -= 1;
            Some(Dummy::new(self.n))
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.hint
    }
}

#[test]
fn lying_size_hint() {
    let base = live();
    for (n, hint) in [
        (100, (0, Some(0))),
        (3, (1000, Some(1000))),
        (50, (10, Some(10))),
        (0, (5, None)),
    ] {
        let v: Vec<Dummy> = Liar { n, hint }.collect();
        assert_eq!(v.len(), n);
        assert!(v.capacity() >= n);
        let mut w = dummies(2);
        w.extend(Liar { n, hint });
        assert_eq!(w.len(), n + 2);
    }
    assert_eq!(live(), base);
}

#[test]
fn absurd_indices_panic_cleanly() {
    let mut v: Vec<u8> = Vec::from([1, 2, 3]);
    assert!(quiet(|| v.insert(usize::MAX, 0)).is_err());
    assert!(quiet(|| v.remove(usize::MAX)).is_err());
    assert!(quiet(|| v.swap_remove(usize::MAX)).is_err());
    assert!(quiet(|| v.split_off(usize::MAX)).is_err());
    assert!(quiet(|| drop(v.drain(2..usize::MAX))).is_err());
    assert!(quiet(|| v.extend_from_within(..=usize::MAX)).is_err());
    assert_eq!(v, [1, 2, 3]);
}

// ---------------------------------------------------------------------------
// ZSTs and over-aligned elements.

#[test]
fn zero_sized_elements() {
    let base = live();
    let mut v: Vec<()> = Vec::new();
    assert_eq!(v.capacity(), usize::MAX);
    for _ in 0..1000 {
        v.push(());
    }
    v.shrink_to_fit();
    assert_eq!(v.capacity(), usize::MAX);
    assert_eq!(v.drain(10..20).count(), 10);
    assert_eq!(v.len(), 990);
    assert_eq!(
        v.try_reserve(usize::MAX - 989),
        Err(TryReserveError::CapacityOverflow)
    );
    v.dedup();
    assert_eq!(v.len(), 1);

    /// A zero-sized type with a drop counter.
    struct Z;
    impl Drop for Z {
        fn drop(&mut self) {
            DROPS.with(|d| d.set(d.get() + 1));
        }
    }
    let before = DROPS.with(|d| d.get());
    let mut z: Vec<Z> = (0..100).map(|_| Z).collect();
    z.truncate(40);
    let mut it = z.into_iter();
    it.next();
    drop(it);
    assert_eq!(DROPS.with(|d| d.get()) - before, 100);
    assert_eq!(live(), base);
}

#[test]
fn overaligned_through_grow_shrink_cycles() {
    #[repr(align(256))]
    #[derive(Clone, Copy, PartialEq, Debug)]
    struct A256(u32);
    #[repr(align(8192))]
    #[derive(Clone, Copy, PartialEq, Debug)]
    struct A8192(u8);

    let mut v: Vec<A256> = Vec::new();
    for round in 0..4u32 {
        for _ in 0..3000 {
            v.push(A256(v.len() as u32));
            assert_eq!(v.as_ptr() as usize % 256, 0);
        }
        v.truncate(round as usize * 7);
        v.shrink_to_fit();
        assert_eq!(v.as_ptr() as usize % 256, 0);
        assert!(v.iter().enumerate().all(|(i, x)| x.0 == i as u32));
    }
    let mut w: Vec<A8192> = Vec::new();
    for i in 0..200 {
        w.push(A8192(i as u8));
        assert_eq!(w.as_ptr() as usize % 8192, 0);
    }
    w.truncate(3);
    w.shrink_to_fit();
    assert_eq!(w.as_ptr() as usize % 8192, 0);
    assert_eq!(w, [A8192(0), A8192(1), A8192(2)]);
}

// ---------------------------------------------------------------------------
// try_reserve boundaries.

#[test]
fn try_reserve_boundaries() {
    let max = isize::MAX as usize;
    let mut v: Vec<u8> = Vec::new();
    // Exactly isize::MAX bytes is a valid request the allocator refuses.
    assert!(matches!(
        v.try_reserve(max),
        Err(TryReserveError::AllocError { .. })
    ));
    assert!(matches!(
        v.try_reserve_exact(max),
        Err(TryReserveError::AllocError { .. })
    ));
    assert_eq!(
        v.try_reserve(max + 1),
        Err(TryReserveError::CapacityOverflow)
    );
    assert_eq!(
        v.try_reserve_exact(max + 1),
        Err(TryReserveError::CapacityOverflow)
    );
    assert_eq!(
        v.try_reserve(usize::MAX),
        Err(TryReserveError::CapacityOverflow)
    );
    v.extend_from_slice(&[1; 10]);
    // len + additional overflows.
    assert_eq!(
        v.try_reserve(usize::MAX - 5),
        Err(TryReserveError::CapacityOverflow)
    );
    assert_eq!(
        v.try_reserve_exact(usize::MAX - 9),
        Err(TryReserveError::CapacityOverflow)
    );
    // len + additional == isize::MAX + 1.
    assert_eq!(
        v.try_reserve(max - 9),
        Err(TryReserveError::CapacityOverflow)
    );
    assert_eq!(v, [1; 10]);

    // Size multiplication overflows.
    let mut w: Vec<u32> = Vec::from([7]);
    assert!(matches!(
        w.try_reserve_exact(max / 4 - 1),
        Err(TryReserveError::AllocError { .. })
    ));
    assert_eq!(
        w.try_reserve(max / 4),
        Err(TryReserveError::CapacityOverflow)
    );
    assert_eq!(
        w.try_reserve(usize::MAX / 4 + 1),
        Err(TryReserveError::CapacityOverflow)
    );
    assert_eq!(
        w.try_reserve(usize::MAX / 2),
        Err(TryReserveError::CapacityOverflow)
    );
    assert_eq!(w, [7]);
    assert_eq!(
        Vec::<u64>::try_with_capacity(usize::MAX / 8 + 1).unwrap_err(),
        TryReserveError::CapacityOverflow
    );
    // The panicking forms panic with a message instead.
    let e = quiet(|| w.reserve(usize::MAX)).unwrap_err();
    let msg = e.downcast_ref::<String>().unwrap();
    assert!(msg.contains("capacity overflow"), "{msg}");
}

#[test]
fn failing_allocator_at_every_step_of_a_growth_path() {
    // Grow to well past LARGE_THRESHOLD so the path crosses small blocks,
    // the switch to a page span, in-place growth and remaps.
    let target = (LARGE_THRESHOLD * 3) / 8;
    let mut total_ops = None;
    for nth in 1.. {
        let a = FailingResize::new();
        let mut v: Vec<u64, FailingResize> = Vec::new_in(a.clone());
        a.arm(nth);
        let mut failed = false;
        for i in 0..target as u64 {
            match v.try_push(i) {
                Ok(()) => {}
                Err(e) => {
                    assert!(matches!(e, TryReserveError::AllocError { .. }), "{e:?}");
                    failed = true;
                    break;
                }
            }
        }
        // No element lost, whatever failed.
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64));
        if failed {
            let len = v.len();
            assert!(v.try_reserve(1).is_err());
            assert_eq!(v.len(), len);
            assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64));
            // Disarmed, the vector carries on.
            a.arm(usize::MAX);
            for i in len as u64..target as u64 {
                v.push(i);
            }
            assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64));
        } else {
            total_ops = Some(nth);
            break;
        }
    }
    assert!(
        total_ops.unwrap() > 10,
        "the growth path took {total_ops:?} operations"
    );
}

#[test]
fn failing_allocator_in_with_capacity_extend_and_shrink() {
    let a = FailingResize::new();
    a.arm(1);
    assert!(Vec::<u8, _>::try_with_capacity_in(100, a.clone()).is_err());
    a.arm(usize::MAX);
    let mut v = Vec::<u8, _>::try_with_capacity_in(100_000, a.clone()).unwrap();
    v.extend_from_slice(&[3; 100_000]);
    // A failing shrink keeps the buffer and every element.
    a.arm(1);
    let cap = v.capacity();
    v.truncate(10);
    v.shrink_to_fit();
    assert_eq!(v, [3; 10]);
    assert!(v.capacity() <= cap);
    a.arm(usize::MAX);
    v.shrink_to_fit();
    assert!(v.capacity() < 100_000);
    assert_eq!(v, [3; 10]);
}

#[test]
fn os_failures_during_heap_growth_lose_nothing() {
    use mallocv2::fault::{self, OsOp};
    // Every OS step of the Heap's span path fails once, at each position
    // along a growth to 4 MiB: the vector either falls back to another step
    // of the protocol or reports an error, and never loses an element.
    let target = (4usize << 20) / 8;
    let mut errors = 0;
    for op in [
        OsOp::Reserve,
        OsOp::Commit,
        OsOp::Move,
        OsOp::Extend,
        OsOp::Decommit,
    ] {
        for nth in 1..=6 {
            let mut v: Vec<u64> = Vec::new();
            fault::fail_nth(op, nth);
            for i in 0..target as u64 {
                if let Err(e) = v.try_push(i) {
                    assert!(matches!(e, TryReserveError::AllocError { .. }), "{e:?}");
                    errors += 1;
                    // The injected failure fired once; the retry works.
                    v.push(i);
                }
            }
            fault::clear();
            assert_eq!(v.len(), target, "{op:?} #{nth}");
            assert!(
                v.iter().enumerate().all(|(i, &x)| x == i as u64),
                "{op:?} #{nth}"
            );
            v.truncate(1000);
            v.shrink_to_fit();
            assert!(
                v.iter().enumerate().all(|(i, &x)| x == i as u64),
                "{op:?} #{nth}"
            );
        }
    }
    println!("{errors} growths failed and were retried");
}

#[test]
fn works_with_global_allocator() {
    let mut v: Vec<u32, Global> = Vec::new_in(Global);
    for i in 0..100_000 {
        v.push(i);
    }
    v.truncate(5);
    v.shrink_to_fit();
    assert_eq!(v, [0, 1, 2, 3, 4]);
}

// ---------------------------------------------------------------------------
// RLIMIT_AS in a child process.

#[test]
fn rlimit_as_child() {
    if in_child("rlimit_as_child") {
        rlimit_child_body();
    }
}

/// Runs under a tight address-space limit: growth must fail with an error
/// and keep every element.
fn rlimit_child_body() {
    limit_address_space(256 << 20);

    let mut v: Vec<u64> = Vec::new();
    let mut n = 0u64;
    let err = loop {
        match v.try_push(n) {
            Ok(()) => n += 1,
            Err(e) => break e,
        }
        if n > (1 << 30) {
            panic!("the limit never hit");
        }
    };
    assert!(matches!(err, TryReserveError::AllocError { .. }), "{err:?}");
    assert_eq!(v.len() as u64, n);
    assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64));
    // A huge reservation fails too and changes nothing.
    assert!(v.try_reserve(1 << 34).is_err());
    assert_eq!(v.len() as u64, n);
    drop(v);
    // After freeing, a modest vector works again.
    let w: Vec<u8> = Vec::with_capacity(1 << 16);
    assert!(w.capacity() >= 1 << 16);
    println!("{CHILD_OK}: pushed {n} before the limit");
}

// ---------------------------------------------------------------------------
// Bytes copied while growing.

#[test]
fn growth_to_64_mib_copies_about_large_threshold() {
    let before = Heap::thread_stats();
    let mut v: Vec<u64> = Vec::new();
    let n = (64usize << 20) / 8;
    for i in 0..n as u64 {
        v.push(i);
    }
    let d = Heap::thread_stats().since(&before);
    println!("Vec<u64> to 64 MiB: {d}");
    assert_eq!(v.len(), n);
    assert_eq!(v[n - 1], n as u64 - 1);
    assert!(
        d.bytes_copied <= LARGE_THRESHOLD as u64 + (LARGE_THRESHOLD as u64) / 4,
        "copied {} bytes growing to 64 MiB: {d}",
        d.bytes_copied
    );
    // Shrinking a span gives pages back in place.
    v.truncate(1 << 20);
    v.shrink_to_fit();
    assert!(v.capacity() < 2 << 20);
    assert_eq!(v[(1 << 20) - 1], (1 << 20) - 1);
}

// ---------------------------------------------------------------------------
// Traits and conversions.

#[test]
fn traits_and_conversions() {
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};
    use std::io::Write;

    let v: Vec<i32> = Vec::from([3, 1, 2]);
    let s: std::vec::Vec<i32> = vec![3, 1, 2];
    assert_eq!(v, s);
    assert_eq!(s, v);
    assert_eq!(v, [3, 1, 2]);
    assert_eq!(v, &[3, 1, 2][..]);
    assert_eq!(&[3, 1, 2][..], v);
    assert_eq!(Vec::from(s.clone()), v);
    assert_eq!(std::vec::Vec::from(v.clone()), s);
    assert_eq!(Vec::from_std(s.clone()).into_std(), s);
    let (lo, hi) = (Vec::from([1, 2]), Vec::from([1, 3]));
    assert!(lo < hi);
    assert_eq!(
        Vec::from([1, 2]).cmp(&Vec::from([1, 2])),
        std::cmp::Ordering::Equal
    );
    let hash = |x: &dyn Fn(&mut DefaultHasher)| {
        let mut h = DefaultHasher::new();
        x(&mut h);
        h.finish()
    };
    assert_eq!(hash(&|h| v.hash(h)), hash(&|h| s.hash(h)));
    assert_eq!(format!("{v:?}"), "[3, 1, 2]");
    assert_eq!(v[1..], [1, 2]);
    let mut m = v.clone();
    m.sort();
    m[0] = 9;
    assert_eq!(m, [9, 2, 3]);
    let r: &[i32] = m.as_ref();
    assert_eq!(r.len(), 3);
    let total: i32 = (&m).into_iter().sum();
    assert_eq!(total, 14);
    for x in &mut m {
        *x += 1;
    }
    assert_eq!(
        m.into_iter().rev().collect::<std::vec::Vec<_>>(),
        [4, 3, 10]
    );
    let mut e: Vec<i32> = Vec::default();
    e.extend(&[1, 2]);
    e.extend(vec![3]);
    assert_eq!(e, [1, 2, 3]);
    let mut bytes: Vec<u8> = Vec::from("ab");
    write!(bytes, "{}", 12).unwrap();
    assert_eq!(bytes, *b"ab12");
    let leaked = Vec::from([5u8; 4]).leak();
    assert_eq!(leaked, &[5; 4]);
    // SAFETY: the block was requested with exactly 4 bytes at alignment 1
    // (`From<[T; N]>` reserves exactly `N`), so that layout frees it; the
    // slice is not used again.
    unsafe { Heap.deallocate(NonNull::from(leaked).cast(), Layout::new::<[u8; 4]>()) };
    let mut spare: Vec<u8> = Vec::with_capacity(4);
    for (i, s) in spare.spare_capacity_mut().iter_mut().take(4).enumerate() {
        s.write(i as u8);
    }
    // SAFETY: four elements were initialised.
    unsafe { spare.set_len(4) };
    assert_eq!(spare, [0, 1, 2, 3]);
    let mut a = Vec::from([1]);
    a.clone_from(&Vec::from([4, 5, 6]));
    assert_eq!(a, [4, 5, 6]);
}

#[test]
fn send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Vec<u8>>();
    assert_send_sync::<mallocv2_collections::vec::IntoIter<u8>>();
    let v: Vec<u64> = (0..1000).collect();
    let h = std::thread::spawn(move || v.iter().sum::<u64>());
    assert_eq!(h.join().unwrap(), 999 * 1000 / 2);
}

#[cfg(feature = "serde")]
#[test]
fn serde_round_trip() {
    let v: Vec<u32> = Vec::from([1, 2, 3]);
    let j = serde_json::to_string(&v).unwrap();
    assert_eq!(j, "[1,2,3]");
    let back: Vec<u32> = serde_json::from_str(&j).unwrap();
    assert_eq!(back, v);
    let nested: Vec<Vec<String>> = serde_json::from_str(r#"[["a"],[],["b","c"]]"#).unwrap();
    assert_eq!(nested[2], ["b".to_string(), "c".to_string()]);
    assert!(serde_json::from_str::<Vec<u8>>("[1, 300]").is_err());
}

#[test]
fn from_iterator_for_every_default_allocator() {
    // `FromIterator` holds for any `A: ResizeInPlace + Default`, not only
    // for `Heap`.
    let v: Vec<u32, Global> = (0..1000).collect();
    assert!(v.iter().copied().eq(0..1000));
    let f: Vec<std::string::String, Global> = ["a", "b"].iter().map(|s| s.to_string()).collect();
    assert_eq!(f, ["a", "b"]);
    let a: mallocv2_collections::AlignedVec<u8, 128, Global> = (0..=255).collect();
    assert_eq!(a.as_ptr() as usize % 128, 0);
    assert!(a.iter().copied().eq(0..=255));
    let s: mallocv2_collections::String<Global> = "héllo".chars().collect();
    assert_eq!(s, "héllo");
    let s: mallocv2_collections::String<Global> = ["a", "b"].into_iter().collect();
    assert_eq!(s, "ab");
    let s: mallocv2_collections::String<Global> =
        [std::string::String::from("x")].into_iter().collect();
    assert_eq!(s, "x");
    let parts = [mallocv2_collections::String::from("y")];
    let s: mallocv2_collections::String<Global> = parts.into_iter().collect();
    assert_eq!(s, "y");
    let s: mallocv2_collections::String<Global> = ['p', 'q'].iter().collect();
    assert_eq!(s, "pq");
    // The Heap default still needs no annotation beyond the type.
    let h: Vec<u8> = (1..=3).collect();
    assert_eq!(h, [1, 2, 3]);
}

#[test]
fn try_insert_and_try_extend_from_slice() {
    // Success matches the infallible forms and std.
    let mut v: Vec<u32> = Vec::from([1, 3]);
    v.try_insert(1, 2).unwrap();
    v.try_insert(3, 4).unwrap();
    v.try_extend_from_slice(&[5, 6]).unwrap();
    let mut s = vec![1, 3];
    s.insert(1, 2);
    s.insert(3, 4);
    s.extend_from_slice(&[5, 6]);
    assert_eq!(v, s[..]);
    assert!(catch_unwind(AssertUnwindSafe(|| v.try_insert(99, 0))).is_err());
    assert_eq!(
        v.try_extend_from_slice(&[0; 1][..]).map(|_| v.len()),
        Ok(7),
        "a slice that fits"
    );

    // A refused allocation leaves every element, the pointer and the
    // capacity as they were.
    let a = FailingResize::new();
    let mut w: Vec<u64, FailingResize> = Vec::new_in(a.clone());
    w.extend(0..10);
    while w.len() < w.capacity() {
        w.push(w.len() as u64);
    }
    let (before, ptr, cap) = (w.to_vec(), w.as_ptr(), w.capacity());
    a.arm(1);
    assert!(matches!(
        w.try_insert(3, 99),
        Err(TryReserveError::AllocError { .. })
    ));
    assert!(matches!(
        w.try_extend_from_slice(&[7, 8, 9]),
        Err(TryReserveError::AllocError { .. })
    ));
    assert_eq!((w.as_ptr(), w.capacity()), (ptr, cap));
    assert_eq!(w[..], before[..]);
    a.disarm();
    w.try_insert(0, 42).unwrap();
    w.try_extend_from_slice(&[7, 8]).unwrap();
    assert_eq!(w[0], 42);
    assert_eq!(w[1..=before.len()], before[..]);
    assert_eq!(w[w.len() - 2..], [7, 8]);
}
