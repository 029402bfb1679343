//! Model checks of [`AppendVec`]'s publish protocol with loom.
//!
//! loom runs each closure under every interleaving of its threads (up to a
//! preemption bound) and every outcome the C++/Rust memory model allows for
//! each atomic load, so a missing `Release`/`Acquire` pair, a lost wake-up
//! (a writer blocked forever on the condition variable) or a slot read
//! that is not ordered after its write shows up as a failure here, where a
//! stress test would need luck. The code checked is `append.rs` itself:
//! built with `--cfg loom`, its atomics, mutexes, condition variable and
//! spin/yield points are loom's models, every slot has a loom cell that
//! `push` writes and `get`/`as_slice` read, and a blocked writer waits
//! without a timeout (so a missed notification deadlocks the model).
//!
//! Run (a separate target directory keeps the normal build's cache):
//! ```sh
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test -p mallocv2-collections --release --test loom_append
//! ```
//! `LOOM_MAX_PREEMPTIONS` overrides the bound each model sets.

#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use mallocv2_collections::AppendVec;
use mallocv2_collections::TryReserveError;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `f` under loom with at most `bound` preemptions per execution
/// (unless `LOOM_MAX_PREEMPTIONS` says otherwise) and returns how many
/// executions were explored.
fn check(bound: usize, f: impl Fn() + Sync + Send + 'static) -> usize {
    let runs = std::sync::Arc::new(AtomicUsize::new(0));
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(bound);
    }
    let counted = std::sync::Arc::clone(&runs);
    b.check(move || {
        counted.fetch_add(1, Ordering::Relaxed);
        f();
    });
    let n = runs.load(Ordering::Relaxed);
    eprintln!("explored {n} executions");
    assert!(n > 1, "the model explored a single execution");
    n
}

/// Spawns a model thread with room on its stack for 64 KiB elements moved
/// by value (loom's default coroutine stack is smaller).
fn spawn_big<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> thread::JoinHandle<T> {
    thread::Builder::new()
        .stack_size(4 << 20)
        .spawn(f)
        .expect("spawn a model thread")
}

/// Reads `v` the way a lock-free reader does, until it has seen `n`
/// elements: every `len()` is followed by reads of the slots it covers
/// (each must be ordered after its write, and hold one of `allowed`), and
/// `len()` never goes backwards. Yields between rounds, so the model puts
/// writers' stores before later loads (loom's scheduler only switches at
/// its own operations).
fn read_until<T: PartialEq + std::fmt::Debug>(v: &AppendVec<T>, n: usize, allowed: &[T]) {
    let mut last = 0;
    loop {
        let s = v.as_slice();
        assert!(s.len() >= last, "len went back from {last} to {}", s.len());
        last = s.len();
        for (i, x) in s.iter().enumerate() {
            assert!(allowed.contains(x), "read {x:?} at {i}");
            assert_eq!(v.get(i), Some(x));
        }
        if last >= n {
            return;
        }
        thread::yield_now();
    }
}

/// An element that counts its drops in a per-execution counter (std
/// atomics: bookkeeping outside the model).
struct Counted {
    value: u64,
    drops: std::sync::Arc<AtomicUsize>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

/// Two writers and a concurrent reader: each writer finds its own value at
/// the index `push` returned (visible as soon as `push` returns); the
/// reader sees a prefix of the pushed values, each slot read ordered after
/// its write; at the end both values are there once, at their indices.
#[test]
fn two_writers_one_reader() {
    check(2, || {
        let v = Arc::new(AppendVec::<u64>::with_max_capacity(4));
        let writers: Vec<_> = (0..2u64)
            .map(|t| {
                let v = Arc::clone(&v);
                thread::spawn(move || {
                    let i = v.push(10 + t);
                    assert_eq!(v.get(i), Some(&(10 + t)));
                    assert!(v.len() > i);
                    i
                })
            })
            .collect();
        read_until(&v, 2, &[10, 11]);
        let idx: Vec<usize> = writers.into_iter().map(|h| h.join().unwrap()).collect();
        assert_ne!(idx[0], idx[1]);
        assert!(idx.iter().all(|&i| i < 2));
        assert_eq!(v.len(), 2);
        for (t, &i) in idx.iter().enumerate() {
            assert_eq!(v[i], 10 + t as u64);
        }
    });
}

/// Three writers: whenever a later slot is written before an earlier one,
/// its writer takes the slow path (marks its bit, helps publish, blocks on
/// the condition variable), and a writer may publish slots other writers
/// wrote. Every writer returns with its slot published, nobody sleeps
/// forever, and each writer then reads every published slot: reads of
/// slots a helper published must be ordered after their writes too.
#[test]
fn three_writers_slow_path_and_wakeups() {
    check(1, || {
        let v = Arc::new(AppendVec::<u32>::with_max_capacity(8));
        let writers: Vec<_> = (0..3u32)
            .map(|t| {
                let v = Arc::clone(&v);
                thread::spawn(move || {
                    let i = v.push(t);
                    let seen = v.as_slice();
                    assert!(seen.len() > i);
                    assert_eq!(seen[i], t);
                    assert!(seen.iter().all(|x| *x < 3), "read {seen:?}");
                    (t, i)
                })
            })
            .collect();
        let got: Vec<(u32, usize)> = writers.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(v.len(), 3);
        let mut idx: Vec<usize> = got.iter().map(|&(_, i)| i).collect();
        idx.sort_unstable();
        assert_eq!(idx, [0, 1, 2]);
        for (t, i) in got {
            assert_eq!(v[i], t);
        }
    });
}

/// One writer pushes twice while another pushes once and a reader reads
/// element by element: every `get` that returns `Some` reads a written
/// slot, and `len` never goes backwards.
#[test]
fn reader_sees_a_growing_prefix() {
    check(2, || {
        let v = Arc::new(AppendVec::<u64>::with_max_capacity(4));
        let a = {
            let v = Arc::clone(&v);
            thread::spawn(move || {
                v.push(1);
                v.push(2);
            })
        };
        let b = {
            let v = Arc::clone(&v);
            thread::spawn(move || {
                v.push(3);
            })
        };
        read_until(&v, 3, &[1, 2, 3]);
        a.join().unwrap();
        b.join().unwrap();
        let mut all = v.as_slice().to_vec();
        all.sort_unstable();
        assert_eq!(all, [1, 2, 3]);
        // `push` order within one thread is index order.
        let pos = |x| v.iter().position(|&y| y == x).unwrap();
        assert!(pos(1) < pos(2));
    });
}

/// Elements of 64 KiB, so every push needs a fresh commit: writers race
/// into `commit_more` (the lock, the double check of `committed`, the
/// `Release` store) while claiming; a claimed slot is always writable.
#[test]
fn writers_race_to_commit() {
    check(2, || {
        let v = Arc::new(AppendVec::<[u8; 65536]>::with_max_capacity(3));
        let writers: Vec<_> = (1..=2u8)
            .map(|t| {
                let v = Arc::clone(&v);
                spawn_big(move || {
                    let i = v.push([t; 65536]);
                    assert!(v.get(i).unwrap().iter().all(|&b| b == t));
                })
            })
            .collect();
        for h in writers {
            h.join().unwrap();
        }
        assert_eq!(v.len(), 2);
        let mut firsts: Vec<u8> = v.iter().map(|e| e[0]).collect();
        firsts.sort_unstable();
        assert_eq!(firsts, [1, 2]);
    });
}

/// Two writers race for the last slot: exactly one gets it, the other gets
/// `Exhausted` with its value dropped, and every element is dropped once.
#[test]
fn race_for_the_last_slot() {
    check(3, || {
        let drops = std::sync::Arc::new(AtomicUsize::new(0));
        let v = Arc::new(AppendVec::<Counted>::with_max_capacity(1));
        let writers: Vec<_> = (0..2u64)
            .map(|t| {
                let v = Arc::clone(&v);
                let drops = std::sync::Arc::clone(&drops);
                thread::spawn(move || {
                    v.try_push(Counted { value: t, drops })
                        .map(|i| (t, i))
                        .map_err(|e| (t, e))
                })
            })
            .collect();
        let results: Vec<_> = writers.into_iter().map(|h| h.join().unwrap()).collect();
        let won: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(won.len(), 1);
        let &&(t, i) = won.first().unwrap();
        assert_eq!(i, 0);
        assert_eq!(v[0].value, t);
        for r in &results {
            if let Err((_, e)) = r {
                assert_eq!(*e, TryReserveError::Exhausted { max_capacity: 1 });
            }
        }
        assert_eq!(drops.load(Ordering::Relaxed), 1, "the loser's value");
        drop(v);
        assert_eq!(drops.load(Ordering::Relaxed), 2);
    });
}

/// Zero-sized elements: a push is one compare-and-swap of `published`;
/// two writers race for two of three slots, a third is refused.
#[test]
fn zero_sized_pushes() {
    check(3, || {
        let v = Arc::new(AppendVec::<()>::with_max_capacity(2));
        let writers: Vec<_> = (0..3)
            .map(|_| {
                let v = Arc::clone(&v);
                thread::spawn(move || v.try_push(()).ok())
            })
            .collect();
        let mut got: Vec<usize> = writers
            .into_iter()
            .filter_map(|h| h.join().unwrap())
            .collect();
        got.sort_unstable();
        assert_eq!(got, [0, 1]);
        assert_eq!(v.len(), 2);
    });
}

/// After the writers are joined, `into_reserved` takes over exactly the
/// published elements (the same addresses) and can keep growing.
#[test]
fn into_reserved_after_concurrent_pushes() {
    check(3, || {
        let v = Arc::new(AppendVec::<u64>::with_max_capacity(4));
        let w = {
            let v = Arc::clone(&v);
            thread::spawn(move || {
                v.push(7);
            })
        };
        v.push(8);
        w.join().unwrap();
        let v = Arc::try_unwrap(v).unwrap_or_else(|_| panic!("the writer's handle is gone"));
        let base = v.as_slice().as_ptr();
        let mut r = v.into_reserved();
        assert_eq!(r.as_ptr(), base);
        r.push(9);
        let mut all = r.to_vec();
        all.sort_unstable();
        assert_eq!(all, [7, 8, 9]);
    });
}

/// One writer claims a run of three with `push_slice` while another pushes
/// one element and a reader reads: the run gets three consecutive indices
/// (the single push lands before or after it, never inside), the reader
/// sees the run whole or not at all (whichever writer publishes it, the
/// fast path's store or a helper's compare-and-swap over the run's bits),
/// and every slot read is ordered after its write.
#[test]
fn slice_push_claims_and_publishes_a_run() {
    check(2, || {
        let v = Arc::new(AppendVec::<u64>::with_max_capacity(8));
        let run = {
            let v = Arc::clone(&v);
            thread::spawn(move || {
                let i = v.push_slice(&[1, 2, 3]);
                assert!(v.len() >= i + 3);
                assert_eq!(&v.as_slice()[i..i + 3], &[1, 2, 3]);
                i
            })
        };
        let one = {
            let v = Arc::clone(&v);
            thread::spawn(move || {
                let j = v.push(9);
                assert_eq!(v.get(j), Some(&9));
                j
            })
        };
        let mut last = 0;
        loop {
            let s = v.as_slice();
            assert!(s.len() >= last, "len went back from {last} to {}", s.len());
            last = s.len();
            if let Some(k) = s.iter().position(|&x| x == 1) {
                assert_eq!(
                    s.get(k..k + 3),
                    Some(&[1, 2, 3][..]),
                    "a partial run: {s:?}"
                );
            }
            assert!(!s.starts_with(&[2]) && !s.starts_with(&[3]), "read {s:?}");
            if last >= 4 {
                break;
            }
            thread::yield_now();
        }
        let i = run.join().unwrap();
        let j = one.join().unwrap();
        assert!(
            (i == 0 && j == 3) || (j == 0 && i == 1),
            "run at {i}, single at {j}"
        );
        assert_eq!(v.len(), 4);
    });
}

/// Two runs of 64 KiB elements race for a vector of three: each claim
/// needs a fresh commit (the writers race into `commit_more`), exactly one
/// run fits, and the other is refused whole with nothing claimed, so the
/// winner publishes and the loser can still push one element after it.
#[test]
fn slice_pushes_race_to_commit_and_one_is_refused() {
    check(2, || {
        let v = Arc::new(AppendVec::<[u8; 65536]>::with_max_capacity(3));
        let writers: Vec<_> = (1..=2u8)
            .map(|t| {
                let v = Arc::clone(&v);
                spawn_big(move || {
                    let run = [[t; 65536]; 2];
                    match v.try_push_slice(&run) {
                        Ok(i) => {
                            assert!(v.as_slice()[i..i + 2].iter().flatten().all(|&b| b == t));
                            Ok(i)
                        }
                        Err(e) => {
                            assert_eq!(e, TryReserveError::Exhausted { max_capacity: 3 });
                            Err(v.push([t; 65536]))
                        }
                    }
                })
            })
            .collect();
        let results: Vec<_> = writers.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "{results:?}"
        );
        assert!(
            results.contains(&Ok(0)) && results.contains(&Err(2)),
            "{results:?}"
        );
        assert_eq!(v.len(), 3);
        let firsts: Vec<u8> = v.iter().map(|e| e[0]).collect();
        assert_eq!(firsts[0], firsts[1]);
        assert_ne!(firsts[1], firsts[2]);
    });
}

/// A run whose bits span two bitmap words: after 60 elements pushed
/// before the threads start, a single push, a run of 8 and a single push
/// race while the main thread reads. When the run's writer takes the slow
/// path it sets its bits in two `fetch_or`s, and a helper scanning from
/// `published` must not publish the part in the first word before the
/// rest: the reader sees the run whole or not at all.
#[test]
fn slice_push_across_bitmap_words_is_published_whole() {
    check(1, || {
        let v = Arc::new(AppendVec::<u64>::with_max_capacity(80));
        for i in 0..60 {
            v.push(i);
        }
        let run: Vec<u64> = (100..108).collect();
        let writers: Vec<_> = [None, Some(run.clone()), None]
            .into_iter()
            .enumerate()
            .map(|(t, r)| {
                let v = Arc::clone(&v);
                thread::spawn(move || match r {
                    Some(r) => v.push_slice(&r),
                    None => v.push(t as u64 + 1),
                })
            })
            .collect();
        let mut last = 60;
        loop {
            let s = v.as_slice();
            assert!(s.len() >= last);
            last = s.len();
            if let Some(k) = s.iter().position(|&x| x == 100) {
                assert_eq!(s.get(k..k + 8), Some(&run[..]), "a partial run: {s:?}");
            }
            if last >= 70 {
                break;
            }
            thread::yield_now();
        }
        let idx: Vec<usize> = writers.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(&v.as_slice()[idx[1]..idx[1] + 8], &run[..]);
        assert_eq!(v[idx[0]], 1);
        assert_eq!(v[idx[2]], 3);
    });
}
