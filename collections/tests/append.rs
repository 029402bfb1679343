//! Tests of `AppendVec`: a multi-thread stress with content cookies,
//! differential against std `Vec`, drop counting, zero-sized and
//! over-aligned elements, stable references, failure injection and an
//! `RLIMIT_AS` child process.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Barrier;

use mallocv2::fault::{self, OsOp};
use mallocv2_collections::reserved::{ReservedVec, DEFAULT_MAX_BYTES};
use mallocv2_collections::AppendVec;
use mallocv2_collections::TryReserveError;
use quickcheck::{Arbitrary, Gen, QuickCheck};

mod common;
use common::{in_child, limit_address_space, CHILD_OK};

// ---------------------------------------------------------------------------
// Multi-thread stress: 4 pushers + 2 readers behind a barrier.

const COOKIE: u64 = 0x9E37_79B9_7F4A_7C15;

/// An element whose fields must agree: a reader that sees a torn or
/// unwritten element notices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Item {
    value: u64,
    check: u64,
    pad: [u64; 2],
}

impl Item {
    fn new(value: u64) -> Item {
        Item {
            value,
            check: value ^ COOKIE,
            pad: [value.rotate_left(17), !value],
        }
    }

    fn is_whole(&self) -> bool {
        self.check == self.value ^ COOKIE && self.pad == [self.value.rotate_left(17), !self.value]
    }
}

#[test]
fn stress_pushers_and_readers() {
    const PUSHERS: u64 = 4;
    const PER: u64 = 20_000;
    // A small maximum would be exhausted; a default one commits in steps, so
    // pushes cross many commit boundaries while readers read.
    let v: AppendVec<Item> = AppendVec::new();
    let barrier = Barrier::new(PUSHERS as usize + 2);
    let done = AtomicBool::new(false);
    let reads = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let mut pushers = Vec::new();
        for t in 0..PUSHERS {
            let (v, barrier) = (&v, &barrier);
            pushers.push(s.spawn(move || {
                barrier.wait();
                for i in 0..PER {
                    let x = Item::new(t * PER + i);
                    let idx = v.push(x);
                    // Visible as soon as push returns.
                    assert_eq!(v.get(idx), Some(&x));
                }
            }));
        }
        for _ in 0..2 {
            let (v, barrier, done, reads) = (&v, &barrier, &done, &reads);
            s.spawn(move || {
                barrier.wait();
                let mut last_len = 0;
                let mut checked = 0;
                loop {
                    let finished = done.load(Ordering::Acquire);
                    let s = v.as_slice();
                    assert!(s.len() >= last_len, "published prefix shrank");
                    // Check the part not seen before, plus a sample of the
                    // rest (it must not change either).
                    for x in &s[checked..] {
                        assert!(x.is_whole(), "torn element {x:?}");
                    }
                    if let Some(x) = s.first() {
                        assert!(x.is_whole());
                    }
                    checked = s.len();
                    last_len = s.len();
                    if let Some(i) = s.len().checked_sub(1) {
                        assert_eq!(v.get(i), Some(&s[i]));
                    }
                    reads.fetch_add(1, Ordering::Relaxed);
                    if finished {
                        break;
                    }
                    std::thread::yield_now();
                }
            });
        }
        // Let the readers stop once every pusher has finished (or
        // panicked: the scope then reports it).
        while !pushers.iter().all(|h| h.is_finished()) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        done.store(true, Ordering::Release);
    });
    assert!(reads.load(Ordering::Relaxed) >= 2);
    let mut all = v.into_vec();
    assert!(all.iter().all(Item::is_whole));
    all.sort();
    let expect: Vec<Item> = (0..PUSHERS * PER).map(Item::new).collect();
    assert_eq!(all, expect);
}

#[test]
fn stress_more_pushers_than_cores() {
    // Oversubscribed writers overlap often: slots get published by helping.
    const PUSHERS: u64 = 8;
    const PER: u64 = 10_000;
    let v: AppendVec<Item> = AppendVec::new();
    let barrier = Barrier::new(PUSHERS as usize);
    std::thread::scope(|s| {
        for t in 0..PUSHERS {
            let (v, barrier) = (&v, &barrier);
            s.spawn(move || {
                barrier.wait();
                for i in 0..PER {
                    let x = Item::new(t * PER + i);
                    let idx = v.push(x);
                    assert!(v.len() > idx);
                    assert_eq!(v.as_slice()[idx], x);
                }
            });
        }
    });
    let mut all = v.into_vec();
    all.sort();
    assert!(all.iter().copied().eq((0..PUSHERS * PER).map(Item::new)));
}

/// An element of a run pushed with `push_slice`: which run, its length,
/// and its place in it, so a reader can check that every run it sees is
/// whole and contiguous.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct RunItem {
    run: u64,
    len: u32,
    k: u32,
    check: u64,
}

impl RunItem {
    fn new(run: u64, len: u32, k: u32) -> RunItem {
        RunItem {
            run,
            len,
            k,
            check: run ^ COOKIE ^ (u64::from(len) << 32 | u64::from(k)),
        }
    }

    fn is_whole(&self) -> bool {
        self.k < self.len
            && self.check == self.run ^ COOKIE ^ (u64::from(self.len) << 32 | u64::from(self.k))
    }
}

/// Checks that `s` is made of whole runs, each contiguous and in order.
fn check_runs(s: &[RunItem]) {
    let mut i = 0;
    while i < s.len() {
        let x = s[i];
        assert!(x.is_whole(), "torn element {x:?} at {i}");
        assert_eq!(x.k, 0, "element {i} starts inside a run: {x:?}");
        let len = x.len as usize;
        let run = s
            .get(i..i + len)
            .unwrap_or_else(|| panic!("run at {i} of {len} cut at {}", s.len()));
        for (k, y) in run.iter().enumerate() {
            assert_eq!(*y, RunItem::new(x.run, x.len, k as u32), "at {}", i + k);
        }
        i += len;
    }
}

#[test]
fn stress_slice_pushers_single_pushers_and_readers() {
    // Two writers push runs of 1..=300 elements (across bitmap words and
    // commit boundaries), two push single elements (runs of 1, in the
    // same encoding), and two readers check that the published prefix is
    // always whole runs.
    const WRITERS: u64 = 4;
    const PER: u64 = 40_000;
    let v: AppendVec<RunItem> = AppendVec::new();
    let barrier = Barrier::new(WRITERS as usize + 2);
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let mut writers = Vec::new();
        for t in 0..WRITERS {
            let (v, barrier) = (&v, &barrier);
            writers.push(s.spawn(move || {
                barrier.wait();
                let mut pushed = 0u64;
                let mut runs = Vec::new();
                let mut seed = t.wrapping_mul(COOKIE) | 1;
                while pushed < PER {
                    let run = t << 40 | pushed;
                    if t % 2 == 0 {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        let len = (seed % 300 + 1) as u32;
                        let items: Vec<RunItem> =
                            (0..len).map(|k| RunItem::new(run, len, k)).collect();
                        // Writer 0 copies runs, writer 2 moves them.
                        let first = if t == 0 {
                            v.push_slice(&items)
                        } else {
                            v.append(&mut items.clone())
                        };
                        // Visible, whole, as soon as push_slice returns.
                        assert_eq!(&v.as_slice()[first..first + items.len()], &items[..]);
                        pushed += u64::from(len);
                        runs.push((first, items.len()));
                    } else {
                        let first = v.push(RunItem::new(run, 1, 0));
                        assert_eq!(v.get(first), Some(&RunItem::new(run, 1, 0)));
                        pushed += 1;
                        runs.push((first, 1));
                    }
                }
                // One thread's runs land in index order.
                assert!(runs.windows(2).all(|w| w[0].0 + w[0].1 <= w[1].0));
                pushed
            }));
        }
        for _ in 0..2 {
            let (v, barrier, done) = (&v, &barrier, &done);
            s.spawn(move || {
                barrier.wait();
                let mut last = 0;
                loop {
                    let finished = done.load(Ordering::Acquire);
                    let s = v.as_slice();
                    assert!(s.len() >= last, "published prefix shrank");
                    last = s.len();
                    check_runs(s);
                    if finished {
                        break;
                    }
                    std::thread::yield_now();
                }
            });
        }
        while !writers.iter().all(|h| h.is_finished()) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        done.store(true, Ordering::Release);
        let total: u64 = writers.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(v.len() as u64, total);
    });
    check_runs(v.as_slice());
}

#[test]
fn stress_at_the_maximum() {
    // More pushes than room: exactly `max` succeed, the rest fail, and the
    // contents are the successful pushes.
    const MAX: usize = 10_000;
    let v: AppendVec<u64> = AppendVec::with_max_capacity(MAX);
    let barrier = Barrier::new(4);
    let ok: Vec<Vec<u64>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4u64)
            .map(|t| {
                let (v, barrier) = (&v, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    let mut mine = Vec::new();
                    for i in 0..4_000 {
                        let x = t * 1_000_000 + i;
                        match v.try_push(x) {
                            Ok(idx) => {
                                assert_eq!(v[idx], x);
                                mine.push(x);
                            }
                            Err(e) => {
                                assert_eq!(e, TryReserveError::Exhausted { max_capacity: MAX })
                            }
                        }
                    }
                    mine
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut pushed: Vec<u64> = ok.into_iter().flatten().collect();
    pushed.sort();
    assert_eq!(pushed.len(), MAX);
    let mut all = v.into_vec();
    all.sort();
    assert_eq!(all, pushed);
}

// ---------------------------------------------------------------------------
// Differential (single thread) against std Vec.

#[derive(Clone, Debug)]
enum Op {
    Push(u32),
    PushSlice(Vec<u32>),
    Get(usize),
    Slice,
    Iter,
    GetMut(usize, u32),
    RoundTrip,
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Op {
        match u8::arbitrary(g) % 9 {
            0..=2 => Op::Push(u32::arbitrary(g)),
            8 => Op::PushSlice(Vec::arbitrary(g)),
            3 => Op::Get(usize::arbitrary(g) % 80),
            4 => Op::Slice,
            5 => Op::Iter,
            6 => Op::GetMut(usize::arbitrary(g) % 80, u32::arbitrary(g)),
            _ => Op::RoundTrip,
        }
    }
}

fn run_ops(ops: Vec<Op>, max: usize) -> bool {
    let mut v: AppendVec<u32> = AppendVec::with_max_capacity(max);
    let mut m: Vec<u32> = Vec::new();
    for op in ops {
        match op {
            Op::Push(x) => {
                let r = v.try_push(x);
                if m.len() < max {
                    assert_eq!(r, Ok(m.len()));
                    m.push(x);
                } else {
                    assert_eq!(r, Err(TryReserveError::Exhausted { max_capacity: max }));
                }
            }
            Op::PushSlice(xs) => {
                let r = v.try_push_slice(&xs);
                if xs.is_empty() {
                    assert_eq!(r, Ok(m.len()));
                } else if xs.len() <= max - m.len() {
                    assert_eq!(r, Ok(m.len()));
                    m.extend_from_slice(&xs);
                } else {
                    // Refused whole: nothing appended.
                    assert_eq!(r, Err(TryReserveError::Exhausted { max_capacity: max }));
                }
            }
            Op::Get(i) => assert_eq!(v.get(i), m.get(i)),
            Op::Slice => assert_eq!(v.as_slice(), &m[..]),
            Op::Iter => assert!(v.iter().eq(m.iter())),
            Op::GetMut(i, x) => {
                if let Some(y) = v.get_mut(i) {
                    *y = x;
                    m[i] = x;
                }
            }
            Op::RoundTrip => {
                let r: ReservedVec<u32> = v.into_reserved();
                assert_eq!(r, m);
                v = AppendVec::from(r);
            }
        }
        assert_eq!(v.len(), m.len());
        assert!(v.len() <= v.capacity() && v.capacity() <= v.max_capacity());
        assert_eq!(v.max_capacity(), max);
    }
    assert_eq!(v.into_vec(), m);
    true
}

#[test]
fn differential() {
    QuickCheck::new()
        .tests(300)
        .quickcheck((|ops| run_ops(ops, 40)) as fn(Vec<Op>) -> bool);
    QuickCheck::new()
        .tests(100)
        .quickcheck((|ops| run_ops(ops, 100_000)) as fn(Vec<Op>) -> bool);
}

// ---------------------------------------------------------------------------
// Drops, ZSTs, alignment, stable references.

thread_local! {
    static DROPS: Cell<usize> = const { Cell::new(0) };
}

#[derive(Debug)]
struct Counted(#[allow(dead_code)] u32);

impl Drop for Counted {
    fn drop(&mut self) {
        DROPS.with(|d| d.set(d.get() + 1));
    }
}

#[test]
fn drop_drops_exactly_the_published_elements() {
    DROPS.with(|d| d.set(0));
    let v = AppendVec::with_max_capacity(10);
    for i in 0..10 {
        v.push(Counted(i));
    }
    assert!(v.try_push(Counted(99)).is_err()); // dropped at once
    assert_eq!(DROPS.with(Cell::get), 1);
    drop(v);
    assert_eq!(DROPS.with(Cell::get), 11);

    // Owned iteration drops the rest.
    DROPS.with(|d| d.set(0));
    let v: AppendVec<Counted> = (0..5).map(Counted).collect();
    let mut it = v.into_iter();
    drop(it.next());
    drop(it);
    assert_eq!(DROPS.with(Cell::get), 5);
}

#[test]
fn zero_sized_elements() {
    let v: AppendVec<()> = AppendVec::new();
    assert_eq!(v.max_capacity(), usize::MAX);
    for i in 0..1000 {
        assert_eq!(v.push(()), i);
    }
    assert_eq!(v.len(), 1000);
    assert_eq!(v.as_slice().len(), 1000);
    let small: AppendVec<()> = AppendVec::with_max_capacity(2);
    small.push(());
    small.push(());
    assert!(small.try_push(()).is_err());
    assert_eq!(small.into_reserved().len(), 2);
}

#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(align(256))]
struct A256(u64);

#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(align(8192))]
struct A8192(u64);

#[test]
fn over_aligned_elements() {
    let v = AppendVec::new();
    for i in 0..500 {
        let idx = v.push(A256(i));
        assert_eq!(&v[idx] as *const A256 as usize % 256, 0);
    }
    let w = AppendVec::new();
    for i in 0..100 {
        let idx = w.push(A8192(i));
        assert_eq!(&w[idx] as *const A8192 as usize % 8192, 0);
        assert_eq!(w[idx], A8192(i));
    }
}

#[test]
fn references_stay_valid_while_pushing() {
    let v = AppendVec::new();
    v.push(String::from("first"));
    let first: &String = v.get(0).unwrap();
    let slice = v.as_slice();
    for i in 0..200_000 {
        v.push(i.to_string());
    }
    // Borrowed before 200,000 pushes across many commits: still valid.
    assert_eq!(first, "first");
    assert_eq!(slice.len(), 1);
    assert_eq!(v.len(), 200_001);
    assert_eq!(v[200_000], "199999");
    let p = v.as_slice().as_ptr();
    let r = v.into_reserved();
    assert_eq!(r.as_ptr(), p);
}

#[test]
#[should_panic(expected = "maximum capacity of 3 elements")]
fn push_past_max_panics_naming_the_maximum() {
    let v = AppendVec::with_max_capacity(3);
    for i in 0..4 {
        v.push(i);
    }
}

#[test]
fn push_slice_basics() {
    let v: AppendVec<u16> = AppendVec::with_max_capacity(10);
    assert_eq!(v.push_slice(&[]), 0, "an empty run changes nothing");
    assert_eq!(v.push_slice(&[1, 2, 3]), 0);
    assert_eq!(v.push(4), 3);
    assert_eq!(v.push_slice(&[]), 4);
    // A run of the vector's own published elements.
    assert_eq!(v.push_slice(v.as_slice()), 4);
    assert_eq!(v.as_slice(), &[1, 2, 3, 4, 1, 2, 3, 4]);
    // Does not fit: refused whole, the vector unchanged.
    assert_eq!(
        v.try_push_slice(&[5, 6, 7]),
        Err(TryReserveError::Exhausted { max_capacity: 10 })
    );
    assert_eq!(v.len(), 8);
    assert_eq!(v.try_push_slice(&[5, 6]), Ok(8));
    assert_eq!(
        v.try_push_slice(&[7]),
        Err(TryReserveError::Exhausted { max_capacity: 10 })
    );
    assert_eq!(v.into_vec(), [1, 2, 3, 4, 1, 2, 3, 4, 5, 6]);

    // Runs that cross commit steps and bitmap words.
    let w: AppendVec<u8> = AppendVec::new();
    let data: Vec<u8> = (0..=255).cycle().take(300_000).collect();
    let mut at = 0;
    for chunk in data.chunks(70_001) {
        assert_eq!(w.push_slice(chunk), at);
        at += chunk.len();
    }
    assert_eq!(w.as_slice(), &data[..]);

    // Zero-sized elements.
    let z: AppendVec<()> = AppendVec::with_max_capacity(5);
    assert_eq!(z.push_slice(&[(); 3]), 0);
    assert_eq!(
        z.try_push_slice(&[(); 3]),
        Err(TryReserveError::Exhausted { max_capacity: 5 })
    );
    assert_eq!(z.push_slice(&[(); 2]), 3);
    assert_eq!(z.len(), 5);
    let huge: AppendVec<()> = AppendVec::new();
    huge.push(());
    assert_eq!(
        huge.try_push_slice(&[(); usize::MAX]),
        Err(TryReserveError::Exhausted {
            max_capacity: usize::MAX
        })
    );
    assert_eq!(huge.len(), 1);
}

#[test]
fn append_moves_a_run_and_drops_each_element_once() {
    DROPS.with(|d| d.set(0));
    let v: AppendVec<Counted> = AppendVec::with_max_capacity(5);
    let mut batch: Vec<Counted> = (0..3).map(Counted).collect();
    let cap = batch.capacity();
    assert_eq!(v.append(&mut batch), 0);
    assert!(batch.is_empty());
    assert_eq!(batch.capacity(), cap, "the source keeps its buffer");
    assert_eq!(v.append(&mut batch), 3, "an empty run changes nothing");
    // Does not fit: refused whole, the source keeps its elements.
    let mut more: Vec<Counted> = (3..6).map(Counted).collect();
    assert_eq!(
        v.try_append(&mut more),
        Err(TryReserveError::Exhausted { max_capacity: 5 })
    );
    assert_eq!(more.len(), 3);
    assert_eq!(v.len(), 3);
    assert_eq!(DROPS.with(Cell::get), 0, "nothing dropped so far");
    more.truncate(2);
    assert_eq!(DROPS.with(Cell::get), 1);
    assert_eq!(v.append(&mut more), 3);
    let values: Vec<u32> = v.iter().map(|c| c.0).collect();
    assert_eq!(values, [0, 1, 2, 3, 4]);
    drop(more);
    drop(v);
    assert_eq!(DROPS.with(Cell::get), 6, "each element dropped once");

    // Zero-sized elements with drop glue: moved in, dropped by the vector.
    #[derive(Debug)]
    struct Z;
    impl Drop for Z {
        fn drop(&mut self) {
            DROPS.with(|d| d.set(d.get() + 1));
        }
    }
    DROPS.with(|d| d.set(0));
    let z: AppendVec<Z> = AppendVec::with_max_capacity(3);
    let mut zs = vec![Z, Z];
    assert_eq!(z.append(&mut zs), 0);
    assert!(z.try_append(&mut vec![Z, Z]).is_err()); // its two dropped with it
    assert_eq!(DROPS.with(Cell::get), 2);
    drop(z);
    assert_eq!(DROPS.with(Cell::get), 4);
}

#[test]
fn failed_commit_keeps_every_element_of_an_appended_run() {
    let v: AppendVec<String> = AppendVec::new();
    v.push(String::from("x"));
    let n = v.capacity() + 5;
    let mut batch: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    fault::fail_nth(OsOp::Commit, 1);
    let r = v.try_append(&mut batch);
    fault::clear();
    assert!(
        matches!(r, Err(TryReserveError::AllocError { .. })),
        "{r:?}"
    );
    assert_eq!(v.as_slice(), ["x"]);
    assert!(batch.iter().map(String::as_str).eq((0..n)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .iter()
        .map(String::as_str)));
    assert_eq!(v.append(&mut batch), 1);
    assert_eq!(v.len(), n + 1);
    assert_eq!(v[n], (n - 1).to_string());
}

#[test]
#[should_panic(expected = "maximum capacity of 3 elements")]
fn push_slice_past_max_panics_naming_the_maximum() {
    let v = AppendVec::with_max_capacity(3);
    v.push_slice(&[1, 2]);
    v.push_slice(&[3, 4]);
}

#[test]
fn boundaries() {
    assert_eq!(
        AppendVec::<u64>::try_with_max_capacity(isize::MAX as usize / 8 + 1).err(),
        Some(TryReserveError::CapacityOverflow)
    );
    assert!(matches!(
        AppendVec::<u8>::try_with_max_capacity(1 << 62),
        Err(TryReserveError::AllocError { .. })
    ));
    let empty = AppendVec::<u8>::with_max_capacity(0);
    assert_eq!(
        empty.try_push(1),
        Err(TryReserveError::Exhausted { max_capacity: 0 })
    );
    assert_eq!(AppendVec::<u8>::new().max_capacity(), DEFAULT_MAX_BYTES);
}

#[test]
fn traits() {
    let v: AppendVec<i32> = (1..=3).collect();
    assert_eq!(format!("{v:?}"), "[1, 2, 3]");
    let c = v.clone();
    assert_eq!(c, v);
    assert_eq!(c.max_capacity(), v.max_capacity());
    assert_eq!((&v).into_iter().sum::<i32>(), 6);
    let mut e = AppendVec::default();
    e.extend([1, 2, 3]);
    assert_eq!(e, v);
    let r: ReservedVec<i32> = v.into();
    assert_eq!(r, [1, 2, 3]);
    let back = AppendVec::from(r);
    assert_eq!(back.as_slice(), &[1, 2, 3]);
    // From a ReservedVec that never reserved.
    let fresh = AppendVec::from(ReservedVec::<u8>::new());
    fresh.push(1);
    assert_eq!(fresh.as_slice(), &[1]);

    fn send_sync<T: Send + Sync>() {}
    send_sync::<AppendVec<u8>>();
    send_sync::<AppendVec<std::sync::Arc<String>>>();
}

// ---------------------------------------------------------------------------
// Failure injection.

#[test]
fn failed_commit_keeps_every_element() {
    let v: AppendVec<u64> = AppendVec::new();
    v.push(0);
    let cap = v.capacity();
    for i in 1..cap as u64 {
        v.push(i);
    }
    assert_eq!(v.len(), cap);
    fault::fail_nth(OsOp::Commit, 1);
    let r = v.try_push(99);
    fault::clear();
    assert!(
        matches!(r, Err(TryReserveError::AllocError { .. })),
        "{r:?}"
    );
    assert_eq!(v.len(), cap);
    assert!(v.iter().copied().eq(0..cap as u64));
    // Nothing was claimed by the failed push: the next one gets index cap.
    assert_eq!(v.try_push(cap as u64), Ok(cap));
    assert!(v.iter().copied().eq(0..=cap as u64));
}

#[test]
fn failed_commit_keeps_every_element_of_a_run() {
    let v: AppendVec<u64> = AppendVec::new();
    v.push(0);
    let cap = v.capacity();
    let run: Vec<u64> = (1..cap as u64 + 10).collect();
    fault::fail_nth(OsOp::Commit, 1);
    let r = v.try_push_slice(&run);
    fault::clear();
    assert!(
        matches!(r, Err(TryReserveError::AllocError { .. })),
        "{r:?}"
    );
    assert_eq!(v.as_slice(), &[0]);
    // Nothing was claimed: the run goes in at index 1 afterwards.
    assert_eq!(v.try_push_slice(&run), Ok(1));
    assert!(v.iter().copied().eq(0..cap as u64 + 10));
}

/// The element pages commit but the bitmap's commit fails: the push
/// reports the error and claims nothing, and a later `into_reserved` still
/// hands `ReservedVec` the capacity its reservation really has (found by
/// `fuzz/ops/append_vec.rs`).
#[test]
fn failed_bitmap_commit_then_into_reserved() {
    // Bytes: every 64 KiB step of elements needs new bitmap pages too.
    for fill_first in [false, true] {
        let v: AppendVec<u8> = AppendVec::with_max_capacity(1 << 22);
        let mut n = 0;
        if fill_first {
            v.push(0);
            n = v.capacity();
            for i in 1..n {
                v.push(i as u8);
            }
        }
        // The growth commits the element pages, then the bitmap's: fail
        // the bitmap's.
        fault::fail_nth(OsOp::Commit, 2);
        let r = v.try_push(99);
        fault::clear();
        assert!(
            matches!(r, Err(TryReserveError::AllocError { .. })),
            "{r:?}"
        );
        assert_eq!(v.len(), n);
        assert_eq!(v.capacity(), n, "capacity unchanged by the failure");
        let mut r = v.into_reserved();
        assert!(r.capacity() >= n);
        assert!(r.iter().copied().eq((0..n).map(|i| i as u8)));
        r.push(7);
        assert_eq!(r.last(), Some(&7));
        assert_eq!(r.len(), n + 1);
    }
}

#[test]
fn failed_reservation_falls_back() {
    fault::fail_nth(OsOp::Reserve, 1);
    let v: AppendVec<u64> = AppendVec::new();
    fault::clear();
    assert_eq!(v.max_capacity(), DEFAULT_MAX_BYTES / 2 / 8);
    v.push(1);

    fault::fail_nth(OsOp::Reserve, 1);
    let r = AppendVec::<u64>::try_with_max_capacity(10);
    fault::clear();
    assert!(matches!(r, Err(TryReserveError::AllocError { .. })));
}

// ---------------------------------------------------------------------------
// RLIMIT_AS child process.

#[test]
fn rlimit_as_child() {
    if !in_child("rlimit_as_child") {
        return;
    }
    limit_address_space(200 << 20);

    // 1 GiB is refused; `new` falls back to what the limit allows.
    let v: AppendVec<u64> = AppendVec::new();
    let max = v.max_capacity();
    assert!(max < DEFAULT_MAX_BYTES / 8 && max > 0, "max {max}");
    for i in 0..100_000 {
        v.push(i);
    }
    assert!(v.iter().copied().eq(0..100_000));
    // An explicit maximum beyond the limit is an error, not a crash.
    assert!(matches!(
        AppendVec::<u8>::try_with_max_capacity(1 << 30),
        Err(TryReserveError::AllocError { .. })
    ));
    println!("{CHILD_OK}");
}

// ---------------------------------------------------------------------------
// serde.

#[cfg(feature = "serde")]
#[test]
fn serde_round_trip() {
    let v: AppendVec<u32> = (0..10).collect();
    let json = serde_json::to_string(&v).unwrap();
    assert_eq!(json, "[0,1,2,3,4,5,6,7,8,9]");
    let back: AppendVec<u32> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, v);
    let empty: AppendVec<u32> = serde_json::from_str("[]").unwrap();
    assert!(empty.is_empty());
    empty.push(1);
}
