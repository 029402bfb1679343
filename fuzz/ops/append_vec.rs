//! `append_vec_ops`: random programs on
//! `mallocv2_collections::append::AppendVec<T>` against std's `Vec`, for
//! three element types: a heap-owning, drop-counted value, `u8`, and a
//! drop-counted zero-sized type. The counter is a process-wide atomic, so
//! elements pushed, dropped or refused on other threads are counted too.
//!
//! Covers push/try_push below, at and past the maximum capacity (past it:
//! `Exhausted`, the value dropped, the vector unchanged; `push` panics),
//! try_push under injected OS failures (`AllocError` only when memory had to
//! be committed, vector unchanged), get/index (out of range: `None`/panic),
//! as_slice/iter/len/capacity, get_mut/as_mut_slice, extend (pushes what
//! fits, then panics), clone, `==`, into_reserved and `From<ReservedVec>`
//! round trips (same base address and maximum, with changes made on the
//! `ReservedVec` side in between), fresh vectors from a `ReservedVec` or
//! `collect`, into_vec, into_iter (consumed from both ends or dropped), and
//! pushes from two scoped threads while the main thread reads: afterwards
//! the old elements are untouched, the new ones are exactly the values
//! pushed (as a multiset), every returned index holds the value its pusher
//! pushed, each thread's indices increase, and only the pushes past the
//! maximum failed.
//!
//! After every operation: contents equal the model, `len <= capacity <=
//! max_capacity`, the maximum and the base address never change (except
//! when the program replaces the vector), and exactly `len` counted
//! elements are alive.

use std::fmt::Debug;
use std::sync::atomic::{AtomicIsize, Ordering};

use mallocv2_collections::append::AppendVec;
use mallocv2_collections::reserved::ReservedVec;
use mallocv2_collections::TryReserveError;

use super::common::{check_bounds, take_ends};
use super::input::{arm_fault, must_panic, Input};

/// Counted elements alive in the process (all threads).
static LIVE: AtomicIsize = AtomicIsize::new(0);

fn live() -> isize {
    LIVE.load(Ordering::SeqCst)
}

/// A heap-owning element counted in [`LIVE`].
#[derive(PartialEq, Debug)]
struct Counted(Box<u32>);

impl Clone for Counted {
    fn clone(&self) -> Self {
        Counted::make(*self.0)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A zero-sized element counted in [`LIVE`].
#[derive(PartialEq, Debug)]
struct Zst;

impl Clone for Zst {
    fn clone(&self) -> Self {
        Zst::make(())
    }
}

impl Drop for Zst {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// An element type and the plain value its model holds.
trait El: Send + Sync + Clone + PartialEq + Debug + 'static {
    /// The model's element.
    type M: Copy + Ord + Debug + Send + Sync + 'static;
    /// Whether live instances are counted in [`LIVE`].
    const COUNTED: bool;
    /// A model value from input bits.
    fn model_of(x: u32) -> Self::M;
    /// The element for a model value.
    fn make(m: Self::M) -> Self;
    /// The model value of an element.
    fn model(&self) -> Self::M;
    /// Whether the elements equal the model, element by element.
    fn same(s: &[Self], m: &[Self::M]) -> bool {
        s.len() == m.len() && s.iter().zip(m).all(|(a, b)| a.model() == *b)
    }
}

impl El for Counted {
    type M = u32;
    const COUNTED: bool = true;
    fn model_of(x: u32) -> u32 {
        x
    }
    fn make(m: u32) -> Self {
        LIVE.fetch_add(1, Ordering::SeqCst);
        Counted(Box::new(m))
    }
    fn model(&self) -> u32 {
        *self.0
    }
}

impl El for u8 {
    type M = u8;
    const COUNTED: bool = false;
    fn model_of(x: u32) -> u8 {
        x as u8
    }
    fn make(m: u8) -> Self {
        m
    }
    fn model(&self) -> u8 {
        *self
    }
    fn same(s: &[u8], m: &[u8]) -> bool {
        s == m
    }
}

impl El for Zst {
    type M = ();
    const COUNTED: bool = true;
    fn model_of(_: u32) {}
    fn make((): ()) -> Self {
        LIVE.fetch_add(1, Ordering::SeqCst);
        Zst
    }
    fn model(&self) {}
}

fn same<T: El>(s: &[T], m: &[T::M]) -> bool {
    T::same(s, m)
}

/// Runs one program: the first byte picks the element type.
pub fn run(data: &[u8]) {
    let mut inp = Input::new(data);
    let base = live();
    match inp.u8() % 3 {
        0 => {
            let max = match inp.u8() % 8 {
                0 => 0,
                1 | 2 => inp.below(9),
                3 | 4 => inp.below(70),
                5 | 6 => inp.below(600),
                _ => inp.below(20_000),
            };
            program::<Counted>(&mut inp, max);
        }
        1 => {
            let max = match inp.u8() % 4 {
                0 => inp.below(70),
                1 | 2 => inp.below(20_000),
                _ => inp.below(200 << 10),
            };
            program::<u8>(&mut inp, max);
        }
        _ => {
            let max = match inp.u8() % 4 {
                0 => inp.below(9),
                1 => usize::MAX - inp.below(2),
                _ => inp.below(2000),
            };
            program::<Zst>(&mut inp, max);
        }
    }
    assert_eq!(live(), base, "counted elements leaked or dropped twice");
}

/// A count of new elements: small, around the room left, or anything up to
/// the maximum (bounded, for zero-sized elements with a huge maximum).
fn count<T>(inp: &mut Input, room: usize, max: usize) -> usize {
    let n = match inp.u8() % 8 {
        0 => inp.below(max.min(1 << 18) + 2),
        1 => room.saturating_add(inp.below(3)),
        2 => room.saturating_sub(inp.below(3)),
        3 | 4 => inp.below(65),
        _ => inp.below(9),
    };
    // Up to 128 KiB of bytes (a few commit steps), fewer of the others.
    n.min(if std::mem::size_of::<T>() == 1 {
        1 << 17
    } else {
        1 << 14
    })
}

fn items<T: El>(xr: u32, n: usize) -> Vec<T::M> {
    (0..n as u32).map(|i| T::model_of(xr ^ i)).collect()
}

struct State<T: El> {
    v: AppendVec<T>,
    model: Vec<T::M>,
    max: usize,
    /// The base address (`as_slice().as_ptr()`); never changes.
    ptr: *const T,
    base: isize,
}

impl<T: El> State<T> {
    /// Takes `v` as the vector from now on (new base and maximum).
    fn reset(&mut self, v: AppendVec<T>, model: Vec<T::M>) {
        self.max = v.max_capacity();
        self.ptr = v.as_slice().as_ptr();
        self.v = v;
        self.model = model;
    }

    fn check(&self, extra: usize, what: &str) {
        let v = &self.v;
        assert_eq!(v.len(), self.model.len(), "{what}: len");
        assert_eq!(v.is_empty(), self.model.is_empty(), "{what}: is_empty");
        check_bounds(v.len(), v.capacity(), v.max_capacity(), self.max, what);
        assert_eq!(v.as_slice().as_ptr(), self.ptr, "{what}: the vector moved");
        assert_eq!(
            self.ptr as usize % std::mem::align_of::<T>(),
            0,
            "{what}: misaligned"
        );
        if !same(v.as_slice(), &self.model) {
            let first = (0..self.model.len())
                .find(|&i| v[i].model() != self.model[i])
                .unwrap_or(0);
            panic!("{what}: contents differ from the model at {first}");
        }
        assert_eq!(v.iter().len(), self.model.len(), "{what}: iter().len()");
        assert_eq!(v.get(self.model.len()), None, "{what}: get(len)");
        if let Some(&m) = self.model.last() {
            assert_eq!(
                v.get(self.model.len() - 1).map(T::model),
                Some(m),
                "{what}: get(len - 1)"
            );
        }
        if T::COUNTED {
            assert_eq!(
                live() - self.base,
                (v.len() + extra) as isize,
                "{what}: live elements"
            );
        }
    }
}

fn program<T: El>(inp: &mut Input, max: usize) {
    let v = AppendVec::<T>::with_max_capacity(max);
    let mut st = State {
        ptr: v.as_slice().as_ptr(),
        v,
        model: Vec::new(),
        max,
        base: live(),
    };
    st.check(0, "with_max_capacity");
    let mut steps = 0;
    while !inp.is_empty() && steps < 200 {
        steps += 1;
        let xr = inp.u32();
        let x = T::model_of(xr);
        let max = st.max;
        let len = st.model.len();
        let room = max - len;
        let what;
        match inp.u8() % 16 {
            0..=2 => {
                what = "push";
                let v = &st.v;
                if room == 0 {
                    must_panic(what, || v.push(T::make(x)));
                } else {
                    assert_eq!(v.push(T::make(x)), len, "{what}: index");
                    st.model.push(x);
                }
            }
            3 => {
                what = "try_push";
                let r = st.v.try_push(T::make(x));
                if room == 0 {
                    assert_eq!(
                        r,
                        Err(TryReserveError::Exhausted { max_capacity: max }),
                        "{what}"
                    );
                } else {
                    assert_eq!(r, Ok(len), "{what}");
                    st.model.push(x);
                }
            }
            4 => {
                what = "get/index";
                let i = match inp.u8() % 8 {
                    0 => usize::MAX - inp.below(2),
                    _ => inp.below(len + 2),
                };
                let v = &st.v;
                assert_eq!(v.get(i).map(T::model), st.model.get(i).copied(), "get({i})");
                if i >= len {
                    must_panic(what, || v[i].model());
                } else {
                    assert_eq!(v[i].model(), st.model[i], "index {i}");
                }
                assert!((&st.v)
                    .into_iter()
                    .map(T::model)
                    .eq(st.model.iter().copied()));
                assert!(st
                    .v
                    .iter()
                    .rev()
                    .map(T::model)
                    .eq(st.model.iter().rev().copied()));
            }
            5 => {
                what = "get_mut/as_mut_slice";
                let v = &mut st.v;
                let model = &mut st.model;
                match inp.u8() % 3 {
                    0 if len > 0 => {
                        let i = inp.below(len);
                        *v.get_mut(i).expect("get_mut in range") = T::make(x);
                        model[i] = x;
                    }
                    1 => {
                        v.as_mut_slice().reverse();
                        model.reverse();
                    }
                    _ => {
                        let i = len + inp.below(3);
                        assert!(v.get_mut(i).is_none(), "get_mut({i}) past the end");
                        v.as_mut_slice().sort_by_key(T::model);
                        model.sort();
                    }
                }
            }
            6 => {
                what = "extend";
                let n = count::<T>(inp, room, max);
                let new = items::<T>(xr, n);
                let v = &mut st.v;
                if n > room {
                    must_panic(what, || v.extend(new.iter().map(|&m| T::make(m))));
                    // Extend pushes until full, then panics.
                    st.model.extend_from_slice(&new[..room]);
                } else {
                    v.extend(new.iter().map(|&m| T::make(m)));
                    st.model.extend_from_slice(&new);
                }
            }
            7 => {
                what = "clone/eq";
                let c = st.v.clone();
                assert!(c == st.v, "{what}: clone !=");
                assert_eq!(c.max_capacity(), max, "{what}: clone max");
                assert!(same(c.as_slice(), &st.model), "{what}: clone contents");
                st.check(c.len(), what);
                // A changed copy compares like the models.
                let mut other = st.model.clone();
                let w = AppendVec::<T>::with_max_capacity(len + 1);
                match inp.u8() % 3 {
                    0 => other.push(x),
                    1 => {
                        other.pop();
                    }
                    _ if len > 0 => other[inp.below(len)] = x,
                    _ => {}
                }
                w.extend_from(&other);
                assert_eq!(w == st.v, other == st.model, "{what}: ==");
                assert_eq!(st.v == w, st.model == other, "{what}: == back");
                st.check(c.len() + w.len(), what);
            }
            8 | 9 => {
                what = "into_reserved/from round trip";
                let v = std::mem::replace(&mut st.v, AppendVec::with_max_capacity(0));
                let mut r: ReservedVec<T> = if inp.bool() {
                    v.into_reserved()
                } else {
                    ReservedVec::from(v)
                };
                assert_eq!(r.as_ptr(), st.ptr, "into_reserved moved the elements");
                assert_eq!(r.max_capacity(), max, "into_reserved max");
                assert!(r.len() <= r.capacity(), "into_reserved capacity");
                assert!(same(&r, &st.model), "into_reserved contents");
                // Change it on the ReservedVec side.
                match inp.u8() % 5 {
                    0 if room > 0 => {
                        r.push(T::make(x));
                        st.model.push(x);
                    }
                    0 => assert_eq!(
                        r.try_push(T::make(x)),
                        Err(TryReserveError::Exhausted { max_capacity: max })
                    ),
                    1 => {
                        let n = inp.below(len + 1);
                        r.truncate(n);
                        st.model.truncate(n);
                    }
                    2 => {
                        r.shrink_to_fit();
                        assert!(r.capacity() >= r.len(), "shrink_to_fit");
                    }
                    3 => {
                        let n = count::<T>(inp, room, max).min(room);
                        let new = items::<T>(xr, n);
                        r.extend(new.iter().map(|&m| T::make(m)));
                        st.model.extend_from_slice(&new);
                    }
                    _ => assert_eq!(r.pop().map(|e| e.model()), st.model.pop()),
                }
                let v = AppendVec::from(r);
                assert_eq!(
                    v.as_slice().as_ptr(),
                    st.ptr,
                    "AppendVec::from moved the elements"
                );
                drop(std::mem::replace(&mut st.v, v));
            }
            10 => {
                what = "new vector";
                let n = count::<T>(inp, room, max).min(1 << 16);
                let new = items::<T>(xr, n);
                let v: AppendVec<T> = match inp.u8() % 4 {
                    0 => new.iter().map(|&m| T::make(m)).collect(),
                    1 => {
                        // Never grown: From reserves the address space.
                        let mut r = ReservedVec::new();
                        r.extend(new.iter().map(|&m| T::make(m)));
                        AppendVec::from(r)
                    }
                    2 => {
                        let m = n + inp.below(100);
                        let mut r = ReservedVec::with_max_capacity(m);
                        r.extend(new.iter().map(|&m| T::make(m)));
                        let v = AppendVec::from(r);
                        assert_eq!(v.max_capacity(), m, "{what}: From max");
                        v
                    }
                    _ => {
                        let v = AppendVec::<T>::new();
                        v.extend_from(&new);
                        v
                    }
                };
                assert!(same(v.as_slice(), &new), "{what}: contents");
                drop(std::mem::replace(
                    &mut st.v,
                    AppendVec::with_max_capacity(0),
                ));
                st.reset(v, new);
            }
            11 => {
                what = "into_vec/into_iter";
                let v = std::mem::replace(&mut st.v, AppendVec::with_max_capacity(0));
                if inp.bool() {
                    let all: Vec<T> = v.into_vec();
                    assert!(same(&all, &st.model), "into_vec");
                    let v = AppendVec::with_max_capacity(max);
                    for e in all {
                        v.push(e);
                    }
                    let model = std::mem::take(&mut st.model);
                    st.reset(v, model);
                } else {
                    let mut it = v.into_iter();
                    let want = st.model.iter().copied();
                    let (front, back) =
                        take_ends(inp, (&mut it).map(|e| e.model()), want, "into_iter");
                    assert_eq!(it.len(), len - front - back, "into_iter len");
                    drop(it);
                    let v = AppendVec::with_max_capacity(max);
                    v.extend_from(&st.model);
                    let model = std::mem::take(&mut st.model);
                    st.reset(v, model);
                }
            }
            12 | 13 => {
                what = "pushes from two threads";
                threads(&mut st, inp);
            }
            14 => {
                what = "try_push under an injected OS failure";
                let cap = st.v.capacity();
                arm_fault(inp);
                let r = st.v.try_push(T::make(x));
                mallocv2::fault::clear();
                match r {
                    Ok(i) => {
                        assert!(room > 0, "{what}: pushed past the maximum");
                        assert_eq!(i, len, "{what}: index");
                        st.model.push(x);
                    }
                    Err(TryReserveError::AllocError { .. }) => {
                        assert!(room > 0, "{what}: AllocError at the maximum");
                        assert_eq!(len, cap, "{what}: AllocError with room committed");
                    }
                    Err(e) => {
                        assert_eq!(
                            e,
                            TryReserveError::Exhausted { max_capacity: max },
                            "{what}"
                        );
                        assert_eq!(room, 0, "{what}: Exhausted with room");
                    }
                }
            }
            _ => {
                what = "capacity";
                let cap = st.v.capacity();
                assert!(cap >= len && cap <= max, "{what}");
                if cap > len {
                    // Pushes below the capacity need no memory: they
                    // succeed even with every OS call failing.
                    arm_fault(inp);
                    let r = st.v.try_push(T::make(x));
                    mallocv2::fault::clear();
                    assert_eq!(r, Ok(len), "{what}: push within capacity");
                    st.model.push(x);
                    assert_eq!(st.v.capacity(), cap, "{what}: capacity changed");
                }
            }
        }
        st.check(0, what);
    }
}

/// `extend` through `&self` (the vector is shared).
trait ExtendFrom<T: El> {
    fn extend_from(&self, m: &[T::M]);
}

impl<T: El> ExtendFrom<T> for AppendVec<T> {
    fn extend_from(&self, m: &[T::M]) {
        for &x in m {
            self.push(T::make(x));
        }
    }
}

/// One push from a thread: its result and the value pushed.
type Pushed<T> = (Result<usize, TryReserveError>, <T as El>::M);

/// Two scoped threads push `k` values each (with `push` while there is
/// room for all, else `try_push`) while this thread reads the vector.
fn threads<T: El>(st: &mut State<T>, inp: &mut Input) {
    let k = 1 + inp.below(8);
    let len0 = st.model.len();
    let max = st.max;
    let room = max - len0;
    let reads = inp.below(16);
    let try_only = inp.bool() || 2 * k > room;
    let value = |t: usize, j: usize| T::model_of((0x5a00 + t * 64 + j) as u32);
    let v = &st.v;
    let model = &st.model;
    let results: Vec<Vec<Pushed<T>>> = std::thread::scope(|sc| {
        let pushers: Vec<_> = (0..2)
            .map(|t| {
                sc.spawn(move || {
                    let mut out = Vec::with_capacity(k);
                    for j in 0..k {
                        let m = value(t, j);
                        let r = if try_only {
                            v.try_push(T::make(m))
                        } else {
                            Ok(v.push(T::make(m)))
                        };
                        if let Ok(i) = r {
                            // Visible as soon as push returns.
                            assert_eq!(v.get(i).map(T::model), Some(m), "get({i}) after push");
                        }
                        out.push((r, m));
                    }
                    out
                })
            })
            .collect();
        // Read while they push: the old elements never change, the length
        // never shrinks and stays within what can be pushed.
        let mut last = len0;
        for _ in 0..reads {
            let s = v.as_slice();
            assert!(
                s.len() >= last && s.len() <= len0 + 2 * k,
                "reader: len {} after {last}",
                s.len()
            );
            assert!(same(&s[..len0], model), "reader: old elements changed");
            last = s.len();
            std::thread::yield_now();
        }
        pushers
            .into_iter()
            .map(|h| h.join().expect("pusher thread"))
            .collect()
    });
    let mut pushed: Vec<(usize, T::M)> = Vec::new();
    for out in &results {
        let mut prev = None;
        for (r, m) in out {
            match *r {
                Ok(i) => {
                    assert!(prev < Some(i), "one thread's indices must increase");
                    prev = Some(i);
                    pushed.push((i, *m));
                }
                Err(ref e) => assert_eq!(
                    *e,
                    TryReserveError::Exhausted { max_capacity: max },
                    "threaded try_push"
                ),
            }
        }
    }
    let n = pushed.len();
    assert_eq!(n, (2 * k).min(room), "threaded pushes: successes");
    let v = &st.v;
    assert_eq!(v.len(), len0 + n, "threaded pushes: len");
    assert!(
        same(&v.as_slice()[..len0], &st.model),
        "threaded pushes: old elements"
    );
    pushed.sort_unstable_by_key(|p| p.0);
    for (j, &(i, m)) in pushed.iter().enumerate() {
        assert_eq!(i, len0 + j, "threaded pushes: indices not dense");
        assert_eq!(v[i].model(), m, "threaded pushes: slot {i}");
    }
    let mut got: Vec<T::M> = v.as_slice()[len0..].iter().map(T::model).collect();
    let mut want: Vec<T::M> = pushed.iter().map(|p| p.1).collect();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want, "threaded pushes: multiset");
    st.model.extend(v.as_slice()[len0..].iter().map(T::model));
}
