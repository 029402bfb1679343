//! `TreeMap`/`TreeSet`: differential tests against `BTreeMap`/`BTreeSet`
//! with the AVL invariants checked after every operation, batch
//! accounting, panic safety, ZSTs and over-aligned keys, and failure
//! injection through a failing allocator.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::panic::{catch_unwind, AssertUnwindSafe};

use mallocv2::alloc::Allocator;
use mallocv2::{BatchAlloc, Heap};
use mallocv2_collections::tree::{Entry, TreeMap, TreeSet};
use mallocv2_collections::TryReserveError;
use quickcheck::{Arbitrary, Gen, QuickCheck};

mod common;
use common::Failing;

// ---------------------------------------------------------------------------
// Drop counting and panicking keys.

thread_local! {
    static DROPS: Cell<usize> = const { Cell::new(0) };
    static CLONES: Cell<usize> = const { Cell::new(0) };
    static CMP_BOMB: Cell<usize> = const { Cell::new(usize::MAX) };
}

fn drops() -> usize {
    DROPS.with(|d| d.get())
}

/// `PartialEq`, `Eq` and `PartialOrd` answering exactly what the type's
/// `Ord` answers, so a lying `Ord` lies through every comparison trait.
macro_rules! eq_and_partial_ord_from_ord {
    ($t:ty) => {
        impl PartialEq for $t {
            fn eq(&self, o: &Self) -> bool {
                self.cmp(o).is_eq()
            }
        }
        impl Eq for $t {}
        impl PartialOrd for $t {
            fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(o))
            }
        }
    };
}

/// A key that counts drops, can panic when dropped or cloned, and whose
/// comparison panics once the `CMP_BOMB` countdown reaches zero.
#[derive(Debug)]
struct Key {
    k: u32,
    bomb: bool,
    clone_bomb: usize,
}

impl Key {
    fn new(k: u32) -> Self {
        Key {
            k,
            bomb: false,
            clone_bomb: usize::MAX,
        }
    }
}

impl Clone for Key {
    fn clone(&self) -> Self {
        let n = CLONES.with(|c| {
            c.set(c.get() + 1);
            c.get()
        });
        if n == self.clone_bomb {
            panic!("clone bomb");
        }
        Key {
            k: self.k,
            bomb: false,
            clone_bomb: self.clone_bomb,
        }
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        DROPS.with(|d| d.set(d.get() + 1));
        if self.bomb {
            self.bomb = false;
            panic!("drop bomb");
        }
    }
}

eq_and_partial_ord_from_ord!(Key);
impl Ord for Key {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        CMP_BOMB.with(|b| match b.get() {
            usize::MAX => {}
            0 => {
                b.set(usize::MAX);
                panic!("cmp bomb");
            }
            n => b.set(n - 1),
        });
        self.k.cmp(&o.k)
    }
}

// ---------------------------------------------------------------------------
// Differential test.

#[derive(Clone, Debug)]
enum B {
    In(u8),
    Ex(u8),
    Un,
}

impl Arbitrary for B {
    fn arbitrary(g: &mut Gen) -> Self {
        match u8::arbitrary(g) % 3 {
            0 => B::In(u8::arbitrary(g) % 70),
            1 => B::Ex(u8::arbitrary(g) % 70),
            _ => B::Un,
        }
    }
}

impl B {
    fn bound(&self) -> Bound<u8> {
        match *self {
            B::In(x) => Bound::Included(x),
            B::Ex(x) => Bound::Excluded(x),
            B::Un => Bound::Unbounded,
        }
    }
}

/// Whether `BTreeMap::range` accepts these bounds (it panics otherwise).
fn valid(lo: Bound<u8>, hi: Bound<u8>) -> bool {
    match (lo, hi) {
        (Bound::Excluded(a), Bound::Excluded(b)) => a < b,
        (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => {
            a <= b
        }
        _ => true,
    }
}

#[derive(Clone, Debug)]
enum Op {
    Insert(u8, u32),
    Remove(u8),
    Get(u8),
    GetMut(u8, u32),
    PopFirst,
    PopLast,
    Range(B, B, Vec<bool>),
    RangeMut(B, B),
    EntryOrInsert(u8, u32),
    EntryModify(u8),
    EntryRemove(u8),
    Retain(u8),
    Clear,
    Extend(Vec<(u8, u32)>),
    Rebuild(Vec<(u8, u32)>),
    TryExtend(Vec<(u8, u32)>),
    Append(Vec<(u8, u32)>),
    SplitOffAppend(u8),
    CloneReplace,
    IntoIterBothEnds(Vec<bool>),
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Self {
        let k = |g: &mut Gen| u8::arbitrary(g) % 64;
        let pairs = |g: &mut Gen| {
            Vec::<(u8, u32)>::arbitrary(g)
                .into_iter()
                .take(40)
                .map(|(k, v)| (k % 64, v))
                .collect::<Vec<_>>()
        };
        match u8::arbitrary(g) % 22 {
            0..=4 => Op::Insert(k(g), u32::arbitrary(g)),
            5..=7 => Op::Remove(k(g)),
            8 => Op::Get(k(g)),
            9 => Op::GetMut(k(g), u32::arbitrary(g)),
            10 => Op::PopFirst,
            11 => Op::PopLast,
            12 => Op::Range(B::arbitrary(g), B::arbitrary(g), Vec::arbitrary(g)),
            13 => Op::RangeMut(B::arbitrary(g), B::arbitrary(g)),
            14 => Op::EntryOrInsert(k(g), u32::arbitrary(g)),
            15 => Op::EntryModify(k(g)),
            16 => Op::EntryRemove(k(g)),
            17 => Op::Retain(u8::arbitrary(g)),
            18 => Op::Clear,
            19 => Op::Extend(pairs(g)),
            20 => match u8::arbitrary(g) % 3 {
                0 => Op::Rebuild(pairs(g)),
                1 => Op::TryExtend(pairs(g)),
                _ => {
                    if bool::arbitrary(g) {
                        Op::Append(pairs(g))
                    } else {
                        Op::SplitOffAppend(k(g))
                    }
                }
            },
            _ => {
                if bool::arbitrary(g) {
                    Op::CloneReplace
                } else {
                    Op::IntoIterBothEnds(Vec::arbitrary(g))
                }
            }
        }
    }
}

fn same<A: Allocator + BatchAlloc>(t: &TreeMap<u8, u32, A>, m: &BTreeMap<u8, u32>) -> bool {
    t.check_invariants();
    t.len() == m.len()
        && t.iter().eq(m.iter())
        && t.iter().rev().eq(m.iter().rev())
        && t.iter().len() == m.len()
        && t.keys().eq(m.keys())
        && t.values().rev().eq(m.values().rev())
        && t.first_key_value() == m.first_key_value()
        && t.last_key_value() == m.last_key_value()
}

fn run_ops<A: Allocator + BatchAlloc + Clone>(ops: Vec<Op>, alloc: A) -> bool {
    let mut t: TreeMap<u8, u32, A> = TreeMap::new_in(alloc.clone());
    let mut m: BTreeMap<u8, u32> = BTreeMap::new();
    for op in ops {
        match op {
            Op::Insert(k, v) => assert_eq!(t.insert(k, v), m.insert(k, v)),
            Op::Remove(k) => assert_eq!(t.remove(&k), m.remove(&k)),
            Op::Get(k) => {
                assert_eq!(t.get(&k), m.get(&k));
                assert_eq!(t.contains_key(&k), m.contains_key(&k));
                assert_eq!(t.get_key_value(&k), m.get_key_value(&k));
            }
            Op::GetMut(k, v) => {
                if let Some(x) = t.get_mut(&k) {
                    *x = v;
                }
                if let Some(x) = m.get_mut(&k) {
                    *x = v;
                }
            }
            Op::PopFirst => assert_eq!(t.pop_first(), m.pop_first()),
            Op::PopLast => assert_eq!(t.pop_last(), m.pop_last()),
            Op::Range(lo, hi, dirs) => {
                let (lo, hi) = (lo.bound(), hi.bound());
                if valid(lo, hi) {
                    let mut a = t.range((lo, hi));
                    let mut b = m.range((lo, hi));
                    for front in dirs.into_iter().chain(std::iter::repeat_n(true, 70)) {
                        let (x, y) = if front {
                            (a.next(), b.next())
                        } else {
                            (a.next_back(), b.next_back())
                        };
                        assert_eq!(x, y, "range {lo:?}..{hi:?}");
                        if x.is_none() {
                            break;
                        }
                    }
                }
            }
            Op::RangeMut(lo, hi) => {
                let (lo, hi) = (lo.bound(), hi.bound());
                if valid(lo, hi) {
                    t.range_mut((lo, hi))
                        .rev()
                        .for_each(|(_, v)| *v = v.wrapping_mul(3));
                    m.range_mut((lo, hi))
                        .rev()
                        .for_each(|(_, v)| *v = v.wrapping_mul(3));
                }
            }
            Op::EntryOrInsert(k, v) => {
                let x = t.entry(k).or_insert(v);
                *x = x.wrapping_add(1);
                let x = m.entry(k).or_insert(v);
                *x = x.wrapping_add(1);
            }
            Op::EntryModify(k) => {
                let a = *t.entry(k).and_modify(|v| *v ^= 0xff).or_default();
                let b = *m.entry(k).and_modify(|v| *v ^= 0xff).or_default();
                assert_eq!(a, b);
            }
            Op::EntryRemove(k) => {
                let a = match t.entry(k) {
                    Entry::Occupied(o) => Some(o.remove_entry()),
                    Entry::Vacant(v) => {
                        assert_eq!(*v.key(), k);
                        None
                    }
                };
                assert_eq!(a, m.remove_entry(&k));
            }
            Op::Retain(d) => {
                let keep = |k: &u8, v: &mut u32| {
                    d == 0 || u32::from(*k).wrapping_add(*v) % u32::from(d.max(2)) != 0
                };
                t.retain(keep);
                m.retain(keep);
            }
            Op::Clear => {
                t.clear();
                m.clear();
            }
            Op::Extend(v) => {
                t.extend(v.iter().copied());
                m.extend(v.iter().copied());
            }
            Op::Rebuild(v) => {
                let mut a: TreeMap<u8, u32, A> =
                    TreeMap::try_from_iter_in(v.iter().copied(), alloc.clone()).unwrap();
                a.check_invariants();
                std::mem::swap(&mut t, &mut a);
                m = v.into_iter().collect();
            }
            Op::TryExtend(v) => {
                t.try_extend(v.iter().copied()).unwrap();
                m.extend(v.iter().copied());
            }
            Op::Append(v) => {
                let mut a: TreeMap<u8, u32, A> = TreeMap::new_in(alloc.clone());
                for (k, x) in &v {
                    a.insert(*k, *x);
                }
                let mut b: BTreeMap<u8, u32> = v.into_iter().collect();
                t.append(&mut a);
                m.append(&mut b);
                assert!(a.is_empty());
                a.check_invariants();
            }
            Op::SplitOffAppend(k) => {
                let mut a = t.split_off(&k);
                let mut b = m.split_off(&k);
                a.check_invariants();
                t.check_invariants();
                assert!(a.iter().eq(b.iter()));
                assert!(t.iter().eq(m.iter()));
                t.append(&mut a);
                m.append(&mut b);
            }
            Op::CloneReplace => {
                let c = t.clone();
                c.check_invariants();
                assert!(c == t);
                t = c;
            }
            Op::IntoIterBothEnds(dirs) => {
                let mut a = std::mem::replace(&mut t, TreeMap::new_in(alloc.clone())).into_iter();
                let mut b = std::mem::take(&mut m).into_iter();
                let mut kept = Vec::new();
                for front in dirs {
                    let (x, y) = if front {
                        (a.next(), b.next())
                    } else {
                        (a.next_back(), b.next_back())
                    };
                    assert_eq!(x, y);
                    assert_eq!(a.len(), b.len());
                    kept.extend(x);
                }
                // Put back what was taken; the rest is dropped with `a`.
                t.extend(kept.iter().copied());
                m.extend(kept.iter().copied());
            }
        }
        if !same(&t, &m) {
            eprintln!("mismatch: {t:?} vs {m:?}");
            return false;
        }
    }
    true
}

#[test]
fn differential_against_btreemap() {
    QuickCheck::new()
        .tests(300)
        .quickcheck((|ops| run_ops(ops, Heap)) as fn(Vec<Op>) -> bool);
}

#[test]
fn differential_with_system_allocator() {
    // Every node a `malloc` block: valgrind/ASan runs see each node's life.
    QuickCheck::new()
        .tests(100)
        .quickcheck((|ops| run_ops(ops, std::alloc::System)) as fn(Vec<Op>) -> bool);
}

#[test]
fn differential_with_partial_batches() {
    QuickCheck::new().tests(100).quickcheck(
        (|ops| {
            let a = Failing::new();
            a.0.batch_cap.set(5);
            let ok = run_ops(ops, a.clone());
            ok && a.live() == 0
        }) as fn(Vec<Op>) -> bool,
    );
}

#[test]
fn set_differential_against_btreeset() {
    fn prop(ops: Vec<(u8, u8)>) -> bool {
        let mut s: TreeSet<u8> = TreeSet::new();
        let mut m: BTreeSet<u8> = BTreeSet::new();
        for (op, x) in ops {
            let x = x % 50;
            match op % 8 {
                0..=2 => assert_eq!(s.insert(x), m.insert(x)),
                3 | 4 => assert_eq!(s.remove(&x), m.remove(&x)),
                5 => assert_eq!(s.pop_first(), m.pop_first()),
                6 => assert_eq!(s.take(&x), m.take(&x)),
                _ => {
                    let v: Vec<u8> = s.range(x..).rev().copied().collect();
                    let w: Vec<u8> = m.range(x..).rev().copied().collect();
                    assert_eq!(v, w);
                }
            }
            s.check_invariants();
            if !s.iter().eq(m.iter())
                || s.first() != m.first()
                || s.last() != m.last()
                || s.len() != m.len()
            {
                return false;
            }
        }
        let rebuilt: TreeSet<u8> = m.iter().rev().copied().collect();
        rebuilt == s
    }
    QuickCheck::new()
        .tests(200)
        .quickcheck(prop as fn(Vec<(u8, u8)>) -> bool);
}

#[test]
fn ranges_of_every_kind_match_btreemap() {
    let t: TreeMap<u32, u32> = (0..200).map(|i| (i * 2, i)).collect();
    let m: BTreeMap<u32, u32> = (0..200).map(|i| (i * 2, i)).collect();
    for a in 0..402 {
        for b in (a..402).step_by(7) {
            assert!(t.range(a..b).eq(m.range(a..b)));
            assert!(t.range(a..=b).rev().eq(m.range(a..=b).rev()));
            assert!(t
                .range((Bound::Excluded(a), Bound::Included(b)))
                .eq(m.range((Bound::Excluded(a), Bound::Included(b)))));
        }
        assert!(t.range(a..).eq(m.range(a..)));
        assert!(t.range(..a).rev().eq(m.range(..a).rev()));
    }
    assert!(t.range::<u32, _>(..).eq(m.range::<u32, _>(..)));
}

#[test]
#[should_panic(expected = "range start is greater than range end")]
fn range_start_above_end_panics() {
    let t: TreeMap<u32, u32> = (0..10).map(|i| (i, i)).collect();
    #[allow(clippy::reversed_empty_ranges)]
    let _ = t.range(5..3);
}

#[test]
#[should_panic(expected = "equal and excluded")]
fn range_equal_excluded_panics() {
    let t: TreeMap<u32, u32> = (0..10).map(|i| (i, i)).collect();
    let _ = t.range((Bound::Excluded(4), Bound::Excluded(4)));
}

// ---------------------------------------------------------------------------
// Batch accounting.

#[test]
fn from_iter_is_one_batch_call() {
    let items: Vec<(u64, u64)> = (0..10_000u64).map(|i| ((i * 7919) % 10_000, i)).collect();
    let before = Heap::thread_stats();
    let t: TreeMap<u64, u64> = items.into_iter().collect();
    let d = Heap::thread_stats().since(&before);
    assert_eq!(d.batch_calls, 1);
    assert_eq!(d.batch_blocks, 10_000);
    t.check_invariants();
    assert!(t.keys().copied().eq(0..10_000));
    let before = Heap::thread_stats();
    let c = t.clone();
    assert_eq!(Heap::thread_stats().since(&before).batch_calls, 1);
    assert!(c == t);
    let before = Heap::thread_stats();
    let s: TreeSet<u32> = (0..10_000).rev().collect();
    assert_eq!(Heap::thread_stats().since(&before).batch_calls, 1);
    s.check_invariants();
}

#[test]
fn duplicates_keep_the_last_value() {
    let t: TreeMap<u8, u32> = [(3, 1), (1, 1), (3, 2), (2, 0), (3, 3), (1, 9)]
        .into_iter()
        .collect();
    let m: BTreeMap<u8, u32> = [(3, 1), (1, 1), (3, 2), (2, 0), (3, 3), (1, 9)]
        .into_iter()
        .collect();
    assert!(t.iter().eq(m.iter()));
    let s = TreeMap::<u8, u32>::from_sorted_iter([(1, 1), (1, 2), (2, 2)]);
    assert_eq!(s[&1], 2);
    s.check_invariants();
}

#[test]
fn pop_frees_one_node_drop_frees_in_batches() {
    let a = Failing::new();
    let mut t = TreeMap::try_from_iter_in((0..5000u32).map(|i| (i, i)), a.clone()).unwrap();
    assert_eq!(a.0.batch_calls.get(), 1);
    assert_eq!(a.live(), 5000);
    assert_eq!(t.pop_first(), Some((0, 0)));
    assert_eq!(t.pop_last(), Some((4999, 4999)));
    assert_eq!(t.remove(&2500), Some(2500));
    assert_eq!(
        a.0.single_frees.get(),
        3,
        "each removal frees exactly its node"
    );
    // A single insertion takes its node as a one-block batch (so nodes stay
    // out of the C malloc), never through `allocate` while batches succeed.
    t.insert(2500, 1);
    assert_eq!(a.0.single_allocs.get(), 0);
    assert_eq!(a.0.batch_calls.get(), 2);
    t.check_invariants();
    drop(t);
    assert_eq!(a.live(), 0);
    assert_eq!(a.0.single_frees.get(), 3);
    assert_eq!(
        a.0.batch_frees.get(),
        4998usize.div_ceil(mallocv2_collections::list::FREE_CHUNK)
    );
}

#[test]
fn single_insert_falls_back_to_allocate_when_batches_fail() {
    let a = Failing::new();
    a.0.batch_cap.set(0);
    let mut t: TreeMap<u32, u32, Failing> = TreeMap::new_in(a.clone());
    t.insert(1, 1);
    *t.entry(2).or_insert(0) += 2;
    assert_eq!(a.0.batch_calls.get(), 2, "a one-block batch is tried first");
    assert_eq!(a.0.single_allocs.get(), 2, "then a single allocation");
    assert!(t.iter().eq([(&1, &1), (&2, &2)]));
    drop(t);
    assert_eq!(a.live(), 0);
}

#[test]
fn bulk_built_tree_walks_memory_forwards() {
    let t: TreeMap<u64, u64> = (0..4096).map(|i| (i, i)).collect();
    let addrs: Vec<usize> = t.keys().map(|k| k as *const u64 as usize).collect();
    let forward = addrs.windows(2).filter(|w| w[1] > w[0]).count();
    assert!(
        forward > addrs.len() * 9 / 10,
        "{forward} forward steps of {}",
        addrs.len()
    );
}

#[test]
fn extend_in_bulk_or_one_by_one() {
    let a = Failing::new();
    let mut t: TreeMap<u32, u32, Failing> = TreeMap::new_in(a.clone());
    t.extend((0..1000).rev().map(|i| (i * 2, i)));
    assert_eq!(a.0.batch_calls.get(), 1);
    // Few items: inserted one by one, each node a one-block batch.
    t.extend([(5000, 0), (5001, 0)]);
    assert_eq!(a.0.single_allocs.get(), 0);
    assert_eq!(a.0.batch_calls.get(), 3);
    // Many items (half of them new): one more batch call for the new nodes.
    t.extend((0..1000).map(|i| (i, 7)));
    assert_eq!(a.0.batch_calls.get(), 4);
    assert_eq!(a.live(), 1502);
    t.check_invariants();
    assert_eq!(t.len(), 1502);
    assert!(t.range(..1000).all(|(_, v)| *v == 7));
    // All or nothing.
    a.0.fail_from.set(a.0.attempts.get());
    let d0 = drops();
    let mut k: TreeMap<Key, u32, Failing> = TreeMap::new_in(a.clone());
    assert!(k.try_extend((0..10).map(|i| (Key::new(i), i))).is_err());
    assert_eq!(drops() - d0, 10);
    assert!(k.is_empty());
    assert!(matches!(
        t.try_extend([(3001, 0)]),
        Err(TryReserveError::AllocError { .. })
    ));
    assert_eq!(t.len(), 1502);
    // Appending relinks without allocating.
    a.0.fail_from.set(usize::MAX);
    let mut u: TreeMap<u32, u32, Failing> =
        TreeMap::try_from_iter_in((1990..2100).map(|i| (i, 1)), a.clone()).unwrap();
    let calls = (a.0.batch_calls.get(), a.0.single_allocs.get());
    t.append(&mut u);
    assert_eq!((a.0.batch_calls.get(), a.0.single_allocs.get()), calls);
    assert!(u.is_empty());
    t.check_invariants();
    // 110 keys, 5 of them (1990, 1992, ..., 1998) already present.
    assert_eq!(t.len(), 1502 + 105);
    assert_eq!(a.live(), 1607, "the 5 duplicate nodes were freed");
    drop(t);
    assert_eq!(a.live(), 0);
}

#[test]
fn panicking_ord_in_bulk_merge_changes_nothing() {
    let mut t: TreeMap<Key, u32> = (0..100).map(|i| (Key::new(i * 2), i)).collect();
    let mut o: TreeMap<Key, u32> = (0..50).map(|i| (Key::new(i * 3), i)).collect();
    for countdown in [0, 10, 60] {
        CMP_BOMB.with(|b| b.set(countdown));
        let r = catch_unwind(AssertUnwindSafe(|| {
            t.try_extend((0..60).map(|i| (Key::new(i * 5), 0)))
        }));
        assert!(r.is_err());
        CMP_BOMB.with(|b| b.set(countdown));
        assert!(catch_unwind(AssertUnwindSafe(|| t.append(&mut o))).is_err());
        CMP_BOMB.with(|b| b.set(usize::MAX));
        t.check_invariants();
        o.check_invariants();
        assert!(t
            .iter()
            .map(|(k, v)| (k.k, *v))
            .eq((0..100).map(|i| (i * 2, i))));
        assert_eq!(o.len(), 50);
    }
}

// ---------------------------------------------------------------------------
// Panic safety.

#[test]
fn panicking_ord_leaves_the_map_unchanged() {
    let mut t: TreeMap<Key, u32> = TreeMap::new();
    for i in 0..100 {
        t.insert(Key::new(i * 2), i);
    }
    for countdown in 0..3 {
        CMP_BOMB.with(|b| b.set(countdown));
        let r = catch_unwind(AssertUnwindSafe(|| t.insert(Key::new(51), 0)));
        assert!(r.is_err());
        CMP_BOMB.with(|b| b.set(countdown));
        let r = catch_unwind(AssertUnwindSafe(|| t.remove(&Key::new(53))));
        assert!(r.is_err());
        CMP_BOMB.with(|b| b.set(usize::MAX));
        assert_eq!(t.len(), 100);
        assert!(t.keys().map(|k| k.k).eq((0..100).map(|i| i * 2)));
    }
    CMP_BOMB.with(|b| b.set(usize::MAX));
}

#[test]
fn panicking_ord_during_bulk_build_drops_everything_once() {
    let d0 = drops();
    CMP_BOMB.with(|b| b.set(500));
    let r = catch_unwind(|| {
        (0..1000)
            .rev()
            .map(|i| (Key::new(i), ()))
            .collect::<TreeMap<Key, ()>>()
    });
    CMP_BOMB.with(|b| b.set(usize::MAX));
    assert!(r.is_err());
    assert_eq!(drops() - d0, 1000);
}

#[test]
fn panicking_clone_and_drop() {
    let a = Failing::new();
    let base = CLONES.with(|c| c.get());
    let mut t: TreeMap<Key, u32, Failing> = TreeMap::new_in(a.clone());
    for i in 0..50 {
        let mut k = Key::new(i);
        k.clone_bomb = base + 20;
        t.insert(k, i);
    }
    let d0 = drops();
    assert!(catch_unwind(AssertUnwindSafe(|| t.clone())).is_err());
    assert_eq!(drops() - d0, 19, "the clones made were dropped");
    assert_eq!(
        a.live(),
        50,
        "no node of the failed clone was allocated or kept"
    );
    // A key that panics when dropped: every other entry is still dropped
    // and every node freed.
    let mut k = Key::new(1000);
    k.bomb = true;
    t.insert(k, 0);
    let d0 = drops();
    assert!(catch_unwind(AssertUnwindSafe(|| drop(t))).is_err());
    assert_eq!(drops() - d0, 51);
    assert_eq!(a.live(), 0);
}

#[test]
fn into_iter_drops_the_rest_once() {
    let a = Failing::new();
    let t = TreeMap::try_from_iter_in((0..100).map(|i| (Key::new(i), i)), a.clone()).unwrap();
    let d0 = drops();
    let mut it = t.into_iter();
    assert_eq!(it.next().map(|(k, _)| k.k), Some(0));
    assert_eq!(it.next_back().map(|(k, _)| k.k), Some(99));
    assert_eq!(it.len(), 98);
    drop(it);
    assert_eq!(drops() - d0, 100);
    assert_eq!(a.live(), 0);
}

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
    for (lower, upper) in [
        (1000, Some(1000)),
        (0, Some(0)),
        (usize::MAX, None),
        (9, Some(1)),
    ] {
        let t: TreeMap<u32, u32> = Liar {
            inner: (0..100).map(|i| (i, i)),
            lower,
            upper,
        }
        .collect();
        t.check_invariants();
        assert_eq!(t.len(), 100);
        let mut s: TreeSet<u32> = TreeSet::new();
        s.extend(Liar {
            inner: 0..50,
            lower,
            upper,
        });
        assert_eq!(s.len(), 50);
    }
}

// ---------------------------------------------------------------------------
// ZSTs and over-aligned types.

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(align(256))]
struct Big(u32);

#[test]
fn over_aligned_keys_and_zero_sized_values() {
    let mut t: TreeMap<Big, ()> = (0..300).map(|i| (Big(i), ())).collect();
    for round in 0..3 {
        for i in 0..100 {
            t.insert(Big(1000 + round * 100 + i), ());
        }
        for i in (0..300).step_by(3) {
            t.remove(&Big(i + round));
        }
        t.check_invariants();
        for (k, _) in &t {
            assert_eq!(k as *const Big as usize % 256, 0, "key at {k:p} misaligned");
        }
        let c = t.clone();
        assert!(c.keys().all(|k| k as *const Big as usize % 256 == 0));
    }
    let mut z: TreeSet<()> = (0..10).map(|_| ()).collect();
    assert_eq!(z.len(), 1);
    assert!(!z.insert(()));
    assert_eq!(z.pop_last(), Some(()));
    let u: TreeMap<u32, ()> = (0..100).map(|i| (i, ())).collect();
    assert_eq!(u.len(), 100);
}

// ---------------------------------------------------------------------------
// Failure injection.

#[test]
fn try_insert_failure_keeps_everything() {
    let a = Failing::new();
    let mut t: TreeMap<Key, u32, Failing> = TreeMap::new_in(a.clone());
    for i in 0..20 {
        t.try_insert(Key::new(i), i).unwrap();
    }
    a.0.fail_from.set(a.0.attempts.get());
    let d0 = drops();
    assert!(matches!(
        t.try_insert(Key::new(100), 0),
        Err(TryReserveError::AllocError { .. })
    ));
    assert_eq!(drops() - d0, 1, "the rejected key was dropped");
    // Replacing an existing key needs no allocation.
    assert_eq!(t.try_insert(Key::new(3), 33), Ok(Some(3)));
    let r = catch_unwind(AssertUnwindSafe(|| t.insert(Key::new(101), 0)));
    let msg = r.unwrap_err();
    assert!(msg
        .downcast_ref::<String>()
        .unwrap()
        .contains("node allocation failed"));
    t.check_invariants();
    assert_eq!(t.len(), 20);
    assert_eq!(a.live(), 20);
    let mut s: TreeSet<u32, Failing> = TreeSet::new_in(a.clone());
    assert!(s.try_insert(1).is_err());
    a.0.fail_from.set(usize::MAX);
    assert_eq!(s.try_insert(1), Ok(true));
    drop((t, s));
    assert_eq!(a.live(), 0);
}

#[test]
fn fail_nth_allocation_in_bulk_build() {
    for nth in 0..30 {
        for cap in [1, 6, usize::MAX] {
            for persistent in [false, true] {
                let a = Failing::new();
                a.0.batch_cap.set(cap);
                if persistent {
                    a.0.fail_from.set(nth);
                } else {
                    a.0.fail_only.set(nth);
                }
                let d0 = drops();
                match TreeMap::try_from_iter_in((0..25).map(|i| (Key::new(i), i)), a.clone()) {
                    Ok(t) => {
                        t.check_invariants();
                        assert!(t.keys().map(|k| k.k).eq(0..25));
                        assert_eq!(a.live(), 25);
                        drop(t);
                    }
                    Err(e) => {
                        assert!(persistent, "a one-off failure is absorbed by the next call");
                        assert!(matches!(e, TryReserveError::AllocError { .. }));
                    }
                }
                assert_eq!(
                    drops() - d0,
                    25,
                    "nth {nth} cap {cap}: every key dropped once"
                );
                assert_eq!(a.live(), 0, "nth {nth} cap {cap}: no block leaked");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Traits.

#[test]
fn std_traits() {
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};
    let a: TreeMap<i32, i32> = [(1, 1), (2, 2)].into();
    let b: TreeMap<i32, i32> = [(1, 1), (2, 3)].into();
    assert!(a < b);
    assert_ne!(a, b);
    assert_eq!(format!("{a:?}"), "{1: 1, 2: 2}");
    let h = |m: &TreeMap<i32, i32>| {
        let mut s = DefaultHasher::new();
        m.hash(&mut s);
        s.finish()
    };
    assert_eq!(h(&a), h(&a.clone()));
    assert_eq!(a[&2], 2);
    let s: TreeSet<&str> = ["b", "a"].into();
    assert_eq!(format!("{s:?}"), "{\"a\", \"b\"}");
    let mut e = a.clone();
    e.extend([(&5, &5)]);
    assert_eq!(e.into_keys().collect::<Vec<_>>(), [1, 2, 5]);
    assert_eq!(a.clone().into_values().rev().collect::<Vec<_>>(), [2, 1]);
    let strings: TreeMap<String, u32> = [("x".to_string(), 1)].into();
    assert_eq!(strings.get("x"), Some(&1));
    assert_eq!(strings["x"], 1);
    fn send_sync<T: Send + Sync>() {}
    send_sync::<TreeMap<i32, String>>();
    send_sync::<TreeSet<i32>>();
    send_sync::<mallocv2_collections::tree::Iter<'static, i32, i32>>();
}

#[cfg(feature = "serde")]
#[test]
fn serde_round_trip() {
    let t: TreeMap<String, u32> = (0..50).map(|i| (format!("k{i:02}"), i)).collect();
    let s = serde_json::to_string(&t).unwrap();
    assert!(s.starts_with("{\"k00\":0,\"k01\":1"));
    let before = Heap::thread_stats();
    let back: TreeMap<String, u32> = serde_json::from_str(&s).unwrap();
    assert_eq!(Heap::thread_stats().since(&before).batch_calls, 1);
    back.check_invariants();
    assert!(back == t);
    let set: TreeSet<u32> = (0..20).collect();
    let s = serde_json::to_string(&set).unwrap();
    let back: TreeSet<u32> = serde_json::from_str(&s).unwrap();
    assert!(back == set);
}

// ---------------------------------------------------------------------------
// An inconsistent `Ord` must never cause undefined behaviour (it may give
// wrong results). The first two tests are the reported reproductions; the
// rest drive every path that compares keys with keys that lie, flip or
// panic, with entries large enough (> 2 KiB nodes) to bypass the batch
// slabs, so valgrind and ASan see any access to a freed node.

thread_local! {
    static ALWAYS_EQUAL: Cell<bool> = const { Cell::new(false) };
}

/// Compares its string honestly until `ALWAYS_EQUAL` is set, then says
/// `Equal` to everything.
#[derive(Debug)]
struct FlipKey(String);

eq_and_partial_ord_from_ord!(FlipKey);
impl Ord for FlipKey {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        // Reads both strings either way.
        let honest = self.0.cmp(&o.0);
        if ALWAYS_EQUAL.with(Cell::get) {
            std::cmp::Ordering::Equal
        } else {
            honest
        }
    }
}

#[test]
fn retain_with_an_ord_that_flips_to_equal() {
    let mut m = TreeMap::new();
    for i in 0..8 {
        m.insert(FlipKey(format!("key-{i:04}-padding-padding")), i);
    }
    ALWAYS_EQUAL.with(|e| e.set(true));
    m.retain(|_, _| false);
    ALWAYS_EQUAL.with(|e| e.set(false));
    assert!(m.is_empty());
    assert_eq!(m.iter().count(), 0);
}

thread_local! {
    static SAY_LESS: Cell<bool> = const { Cell::new(false) };
}

/// Compares honestly, except that it answers `Less` while `SAY_LESS` is
/// set.
#[derive(Debug)]
struct LessKey(u32);

eq_and_partial_ord_from_ord!(LessKey);
impl Ord for LessKey {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        if SAY_LESS.with(Cell::get) {
            std::cmp::Ordering::Less
        } else {
            self.0.cmp(&o.0)
        }
    }
}

#[test]
fn vacant_entry_insert_after_the_ord_changed_its_mind() {
    let mut m: TreeMap<LessKey, Vec<u8>> = TreeMap::new();
    m.insert(LessKey(1), vec![1]);
    SAY_LESS.with(|s| s.set(true));
    let e = m.entry(LessKey(1));
    assert!(matches!(e, Entry::Vacant(_)));
    SAY_LESS.with(|s| s.set(false));
    let v = e.or_insert(vec![2]);
    v.push(7);
    assert_eq!(*v, [2, 7]);
    // The entry went where the first search put it: two nodes, both
    // reachable, each value intact.
    assert_eq!(m.len(), 2);
    let mut vals: Vec<Vec<u8>> = m.values().cloned().collect();
    vals.sort();
    assert_eq!(vals, [vec![1], vec![2, 7]]);
}

/// How [`Huge`]'s `Ord` lies once it starts to.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Lie {
    Honest,
    Equal,
    Less,
    Greater,
    Reversed,
    Random,
}

const LIES: [Lie; 5] = [
    Lie::Equal,
    Lie::Less,
    Lie::Greater,
    Lie::Reversed,
    Lie::Random,
];

/// When [`Huge`]'s `Ord` lies or panics, counted in calls since `arm`.
#[derive(Clone, Copy, Debug)]
struct Evil {
    lie: Lie,
    /// The first call that lies (the switch flips there).
    lie_from: usize,
    /// The call that panics.
    panic_at: usize,
}

const HONEST: Evil = Evil {
    lie: Lie::Honest,
    lie_from: usize::MAX,
    panic_at: usize::MAX,
};

thread_local! {
    static EVIL: Cell<Evil> = const { Cell::new(HONEST) };
    static CALLS: Cell<usize> = const { Cell::new(0) };
    static RNG: Cell<u64> = const { Cell::new(1) };
    static HUGE_LIVE: Cell<isize> = const { Cell::new(0) };
    /// Set when a dropped or corrupted `Huge` is seen, or an entry is
    /// yielded twice.
    static BAD: Cell<Option<&'static str>> = const { Cell::new(None) };
}

fn bad(what: &'static str) {
    BAD.with(|b| {
        if b.get().is_none() {
            b.set(Some(what));
        }
    });
}

fn arm(e: Evil) {
    CALLS.with(|c| c.set(0));
    RNG.with(|r| r.set(0x9E37_79B9_7F4A_7C15 ^ e.lie_from as u64));
    EVIL.with(|x| x.set(e));
}

/// Back to honest; returns the number of comparisons made while armed.
fn disarm() -> usize {
    EVIL.with(|x| x.set(HONEST));
    CALLS.with(Cell::get)
}

const PAD: usize = 4096;
const MAGIC: u32 = 0x5AFE_B16E;

/// A key or value of over 4 KiB, so a node holding it is not in a batch
/// slab and valgrind/ASan see its memory; it counts the live instances and
/// checks on every use and drop that it is intact and not dropped yet.
struct Huge {
    k: u32,
    magic: u32,
    pad: [u8; PAD],
}

impl Huge {
    fn new(k: u32) -> Self {
        HUGE_LIVE.with(|l| l.set(l.get() + 1));
        Huge {
            k,
            magic: MAGIC,
            pad: [k as u8; PAD],
        }
    }

    fn check(&self) {
        if self.magic != MAGIC || self.pad[0] != self.k as u8 || self.pad[PAD - 1] != self.k as u8 {
            bad("a dropped or corrupted entry was used");
        }
    }
}

impl Clone for Huge {
    fn clone(&self) -> Self {
        self.check();
        Huge::new(self.k)
    }
}

impl std::fmt::Debug for Huge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Huge({})", self.k)
    }
}

impl Drop for Huge {
    fn drop(&mut self) {
        self.check();
        self.magic = 0;
        HUGE_LIVE.with(|l| l.set(l.get() - 1));
    }
}

eq_and_partial_ord_from_ord!(Huge);
impl Ord for Huge {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering::*;
        let n = CALLS.with(|c| {
            c.set(c.get() + 1);
            c.get() - 1
        });
        let e = EVIL.with(Cell::get);
        if n == e.panic_at {
            panic!("Ord panics at call {n}");
        }
        // Both sides are read whatever the answer.
        self.check();
        o.check();
        let honest = self
            .k
            .cmp(&o.k)
            .then(self.pad[PAD - 1].cmp(&o.pad[PAD - 1]));
        if n < e.lie_from {
            return honest;
        }
        match e.lie {
            Lie::Honest => honest,
            Lie::Equal => Equal,
            Lie::Less => Less,
            Lie::Greater => Greater,
            Lie::Reversed => honest.reverse(),
            Lie::Random => RNG.with(|r| {
                let mut x = r.get();
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                r.set(x);
                [Less, Equal, Greater][(x % 3) as usize]
            }),
        }
    }
}

type HugeMap = TreeMap<Huge, Huge, Failing>;
type HugeSet = TreeSet<Huge, Failing>;

/// Keys in a torture map: the even numbers below `2 * N_KEYS`.
const N_KEYS: u32 = 12;

fn pair(k: u32) -> (Huge, Huge) {
    (Huge::new(k), Huge::new(k + 1000))
}

/// A map of the even keys, built one insert at a time or in bulk.
fn huge_map(bulk: bool, alloc: &Failing) -> HugeMap {
    if bulk {
        TreeMap::try_from_iter_in((0..N_KEYS).map(|i| pair(2 * i)), alloc.clone()).unwrap()
    } else {
        let mut m = TreeMap::new_in(alloc.clone());
        for i in [5, 1, 9, 0, 11, 3, 7, 2, 10, 4, 8, 6] {
            m.insert(Huge::new(2 * i), Huge::new(2 * i + 1000));
        }
        m
    }
}

/// Walks the map both ways and checks every entry is intact, each node
/// is reached once and the length is right. (The order may be wrong: the
/// `Ord` lied.)
fn check_huge_map(m: &HugeMap) {
    let mut seen = std::collections::HashSet::new();
    for (k, v) in m.iter() {
        k.check();
        v.check();
        if !seen.insert(k as *const Huge) {
            bad("iter yielded a node twice");
        }
    }
    if seen.len() != m.len() || m.iter().rev().count() != m.len() {
        bad("iteration and len disagree");
    }
    // The tree still works for honest operations afterwards.
    let x = m.first_key_value().map(|(k, _)| k.k);
    let y = m.last_key_value().map(|(k, _)| k.k);
    assert_eq!(x.is_some(), y.is_some());
}

/// Runs `op` on a fresh map with `Huge`'s `Ord` set to `evil`; checks that
/// no entry was used after its drop, nothing leaked and nothing was
/// dropped twice. Returns how many comparisons were made.
fn run_evil<R>(what: &str, bulk: bool, evil: Evil, op: &dyn Fn(&mut HugeMap) -> R) -> usize {
    assert_eq!(HUGE_LIVE.with(Cell::get), 0, "{what}: live entries before");
    let alloc = Failing::new();
    let calls;
    {
        let mut m = huge_map(bulk, &alloc);
        arm(evil);
        let r = catch_unwind(AssertUnwindSafe(|| op(&mut m)));
        calls = disarm();
        check_huge_map(&m);
        drop(r);
        drop(m);
    }
    let case = format!("{what} (bulk {bulk}, {evil:?})");
    assert_eq!(BAD.with(Cell::take), None, "{case}");
    assert_eq!(
        HUGE_LIVE.with(Cell::get),
        0,
        "{case}: leaked or dropped twice"
    );
    assert_eq!(alloc.live(), 0, "{case}: nodes leaked or freed twice");
    calls
}

/// Every way `Huge`'s `Ord` can misbehave in `op`: each lie flipped on at
/// every call of an honest run, and a panic at every call.
fn torture<R>(what: &str, op: &dyn Fn(&mut HugeMap) -> R) {
    let slow = std::env::var_os("MALLOCV2_SLOW_RUNNER").is_some();
    for bulk in [false, true] {
        let calls = run_evil(what, bulk, HONEST, op);
        for lie in LIES {
            // Under the slow runner every third flip point (and the last).
            let step = if slow { 3 } else { 1 };
            for lie_from in (0..=calls).step_by(step).chain([calls]) {
                let evil = Evil {
                    lie,
                    lie_from,
                    panic_at: usize::MAX,
                };
                run_evil(what, bulk, evil, op);
            }
        }
        for panic_at in 0..calls {
            let evil = Evil { panic_at, ..HONEST };
            run_evil(what, bulk, evil, op);
        }
    }
}

/// A map from the odd keys 1, 3, .., 13 and some even ones, to merge in.
fn odd_map(alloc: &Failing) -> HugeMap {
    TreeMap::try_from_iter_in([1, 3, 4, 5, 7, 8, 13].map(pair), alloc.clone()).unwrap()
}

#[test]
fn evil_ord_insert_and_remove() {
    torture("insert", &|m| {
        m.insert(Huge::new(5), Huge::new(1005));
        m.insert(Huge::new(4), Huge::new(1004));
    });
    torture("remove", &|m| {
        drop(m.remove(&Huge::new(6)));
        drop(m.remove_entry(&Huge::new(7)));
    });
    torture("get", &|m| {
        if let Some(v) = m.get_mut(&Huge::new(8)) {
            v.check();
        }
        m.contains_key(&Huge::new(9))
    });
}

#[test]
fn evil_ord_entries() {
    torture("entry vacant insert", &|m| {
        let v = m.entry(Huge::new(5)).or_insert(Huge::new(1005));
        v.check();
        *v = Huge::new(2005);
    });
    torture("entry occupied remove", &|m| match m.entry(Huge::new(6)) {
        Entry::Occupied(o) => drop(o.remove_entry()),
        Entry::Vacant(v) => v.insert(Huge::new(1006)).check(),
    });
    torture("entry and_modify or_insert_with", &|m| {
        m.entry(Huge::new(3))
            .and_modify(|v| v.check())
            .or_insert_with(|| Huge::new(1003))
            .check();
    });
}

#[test]
fn evil_ord_retain() {
    torture("retain none", &|m| m.retain(|_, _| false));
    torture("retain some", &|m| m.retain(|k, _| k.k % 4 == 0));
}

#[test]
fn evil_ord_split_off_and_append() {
    torture("split_off", &|m| {
        let rest = m.split_off(&Huge::new(7));
        check_huge_map(&rest);
        rest
    });
    torture("append", &|m| {
        let mut other = odd_map(m.allocator());
        m.append(&mut other);
        assert!(other.is_empty());
    });
}

#[test]
fn evil_ord_extend() {
    torture("extend in bulk", &|m| {
        m.extend([9, 2, 5, 7, 2, 30].map(pair))
    });
    torture("extend one by one", &|m| m.extend([9].map(pair)));
    torture("try_extend", &|m| {
        m.try_extend([9, 2, 5, 7, 2, 30].map(pair))
    });
    torture("from_iter", &|m| {
        *m = TreeMap::try_from_iter_in([9, 2, 5, 7, 2, 30, 1].map(pair), m.allocator().clone())
            .unwrap();
    });
}

#[test]
fn evil_ord_ranges() {
    torture("range", &|m| {
        let n = m.range(Huge::new(3)..Huge::new(15)).count();
        let b = m.range(Huge::new(3)..=Huge::new(15)).rev().count();
        assert!(n <= m.len() && b <= m.len());
    });
    torture("range_mut", &|m| {
        let len = m.len();
        let mut seen = std::collections::HashSet::new();
        let mut r = m.range_mut((Bound::Excluded(Huge::new(3)), Bound::Unbounded));
        // Alternate the ends so they have to meet.
        let mut front = true;
        while let Some((k, v)) = if front { r.next() } else { r.next_back() } {
            front = !front;
            k.check();
            if !seen.insert(v as *mut Huge) {
                bad("range_mut yielded an entry twice");
            }
        }
        assert!(seen.len() <= len);
    });
}

/// Runs `op` on a set of the even keys with `Huge`'s `Ord` set to `evil`
/// (as [`run_evil`]).
fn run_evil_set<R>(what: &str, bulk: bool, evil: Evil, op: &dyn Fn(&mut HugeSet) -> R) -> usize {
    let alloc = Failing::new();
    let calls;
    {
        let mut s: HugeSet = if bulk {
            TreeSet::try_from_iter_in((0..N_KEYS).map(|i| Huge::new(2 * i)), alloc.clone()).unwrap()
        } else {
            let mut s = TreeSet::new_in(alloc.clone());
            for i in [5, 1, 9, 0, 11, 3, 7, 2, 10, 4, 8, 6] {
                s.insert(Huge::new(2 * i));
            }
            s
        };
        arm(evil);
        let r = catch_unwind(AssertUnwindSafe(|| op(&mut s)));
        calls = disarm();
        let mut seen = std::collections::HashSet::new();
        for k in s.iter() {
            k.check();
            seen.insert(k as *const Huge);
        }
        assert_eq!(seen.len(), s.len(), "{what}");
        drop(r);
        drop(s);
    }
    let case = format!("set {what} (bulk {bulk}, {evil:?})");
    assert_eq!(BAD.with(Cell::take), None, "{case}");
    assert_eq!(
        HUGE_LIVE.with(Cell::get),
        0,
        "{case}: leaked or dropped twice"
    );
    assert_eq!(alloc.live(), 0, "{case}: nodes leaked or freed twice");
    calls
}

fn torture_set<R>(what: &str, op: &dyn Fn(&mut HugeSet) -> R) {
    for bulk in [false, true] {
        let calls = run_evil_set(what, bulk, HONEST, op);
        for lie in LIES {
            for lie_from in 0..=calls {
                let evil = Evil {
                    lie,
                    lie_from,
                    panic_at: usize::MAX,
                };
                run_evil_set(what, bulk, evil, op);
            }
        }
        for panic_at in 0..calls {
            run_evil_set(what, bulk, Evil { panic_at, ..HONEST }, op);
        }
    }
}

#[test]
fn evil_ord_tree_set() {
    torture_set("insert, remove, take", &|s| {
        s.insert(Huge::new(5));
        s.insert(Huge::new(6));
        s.remove(&Huge::new(8));
        drop(s.take(&Huge::new(10)));
        s.contains(&Huge::new(3))
    });
    torture_set("retain", &|s| s.retain(|k| k.k % 4 == 0));
    torture_set("split_off and append", &|s| {
        let mut rest = s.split_off(&Huge::new(9));
        let mut more: HugeSet =
            TreeSet::try_from_iter_in([3, 4, 17].map(Huge::new), s.allocator().clone()).unwrap();
        s.append(&mut more);
        s.append(&mut rest);
    });
    torture_set("extend, try_extend, range", &|s| {
        s.extend([7, 2, 40].map(Huge::new));
        s.try_extend([9, 1].map(Huge::new)).unwrap();
        s.range(Huge::new(2)..Huge::new(12)).count()
    });
}

// ---------------------------------------------------------------------------
// A panicking `retain` predicate or `extend` iterator keeps the work done
// before the panic, as `BTreeMap` does.

#[test]
fn retain_predicate_panic_keeps_the_removals_before_it() {
    for bulk in [false, true] {
        for panic_at in 0..=N_KEYS as usize {
            let alloc = Failing::new();
            let mut m = huge_map(bulk, &alloc);
            let mut std: BTreeMap<u32, u32> = (0..N_KEYS).map(|i| (2 * i, 2 * i + 1000)).collect();
            // Removes the multiples of 4, panics at call `panic_at`.
            let pred = |calls: &mut usize, k: u32| {
                *calls += 1;
                if *calls - 1 == panic_at {
                    panic!("predicate panics");
                }
                k % 4 != 0
            };
            let mut calls = 0;
            let r = catch_unwind(AssertUnwindSafe(|| m.retain(|k, _| pred(&mut calls, k.k))));
            let mut calls = 0;
            let s = catch_unwind(AssertUnwindSafe(|| std.retain(|k, _| pred(&mut calls, *k))));
            assert_eq!(r.is_err(), s.is_err());
            assert_eq!(r.is_err(), panic_at < N_KEYS as usize);
            let got: Vec<(u32, u32)> = m.iter().map(|(k, v)| (k.k, v.k)).collect();
            let want: Vec<(u32, u32)> = std.into_iter().collect();
            assert_eq!(got, want, "bulk {bulk}, panic at {panic_at}");
            m.check_invariants();
            drop(m);
            assert_eq!(HUGE_LIVE.with(Cell::get), 0, "leaked or dropped twice");
            assert_eq!(alloc.live(), 0, "nodes leaked or freed twice");
        }
    }
}

#[test]
fn extend_iterator_panic_keeps_the_items_before_it() {
    // Small extends (one by one) and large ones (in bulk), into an empty
    // and a full map, with a repeated key among the items.
    let items = [31, 5, 2, 40, 5, 33, 7, 9, 11, 13, 15, 17, 19, 21, 23];
    for (bulk, start) in [(false, 0), (true, 0), (false, 12), (true, 12)] {
        for take in [1, 3, items.len()] {
            for panic_at in 0..=take {
                let alloc = Failing::new();
                let mut m: HugeMap = if start == 0 {
                    TreeMap::new_in(alloc.clone())
                } else {
                    huge_map(bulk, &alloc)
                };
                let mut std: BTreeMap<u32, u32> =
                    (0..start).map(|i| (2 * i, 2 * i + 1000)).collect();
                let src = |n: &mut usize, k: u32| {
                    *n += 1;
                    if *n - 1 == panic_at {
                        panic!("iterator panics");
                    }
                    k
                };
                let mut n = 0;
                let r = catch_unwind(AssertUnwindSafe(|| {
                    m.extend(items[..take].iter().map(|&k| pair(src(&mut n, k))));
                }));
                let mut n = 0;
                let s = catch_unwind(AssertUnwindSafe(|| {
                    std.extend(items[..take].iter().map(|&k| (src(&mut n, k), k + 1000)));
                }));
                assert_eq!(r.is_err(), s.is_err());
                let got: Vec<(u32, u32)> = m.iter().map(|(k, v)| (k.k, v.k)).collect();
                let want: Vec<(u32, u32)> = std.into_iter().collect();
                assert_eq!(got, want, "start {start}, take {take}, panic at {panic_at}");
                m.check_invariants();
                drop(m);
                assert_eq!(HUGE_LIVE.with(Cell::get), 0, "leaked or dropped twice");
                assert_eq!(alloc.live(), 0, "nodes leaked or freed twice");
            }
        }
    }
}

#[test]
fn try_extend_iterator_panic_adds_nothing() {
    let alloc = Failing::new();
    let mut m = huge_map(true, &alloc);
    let r = catch_unwind(AssertUnwindSafe(|| {
        m.try_extend((1..5).map(|k| {
            assert!(k != 4, "iterator panics");
            pair(2 * k + 1)
        }))
    }));
    assert!(r.is_err());
    assert_eq!(m.len(), N_KEYS as usize);
    assert!(m.keys().all(|k| k.k % 2 == 0));
    drop(m);
    assert_eq!(HUGE_LIVE.with(Cell::get), 0);
    assert_eq!(alloc.live(), 0);
}
