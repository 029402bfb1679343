//! `reserved_vec_ops`: random programs on
//! `mallocv2_collections::reserved::ReservedVec<T>` against std's `Vec`,
//! with a small maximum capacity so the exhausted path is hit often. After
//! every operation: contents equal the model, `len <= capacity <=
//! max_capacity`, the maximum never changes, `as_ptr()` never changes, and
//! (for `Tracked`) exactly `len` elements are alive. Growth past the
//! maximum must fail with `Exhausted` (`try_*`, vector unchanged) or panic
//! (the other forms; vector unchanged, except `Extend`, which pushes until
//! full).

use mallocv2_collections::reserved::ReservedVec;
use mallocv2_collections::TryReserveError;

use super::input::{arm_fault, must_panic, panicky, range, retain_model, Elem, Input, Tracked};

/// Runs one program: the first byte picks the element type.
pub fn run(data: &[u8]) {
    let mut inp = Input::new(data);
    let base = Tracked::live();
    if inp.bool() {
        let max = match inp.u8() % 8 {
            0 => 0,
            1 => inp.below(8),
            _ => inp.below(400),
        };
        program::<Tracked>(&mut inp, max);
    } else {
        let max = match inp.u8() % 4 {
            0 => inp.below(64),
            1 | 2 => inp.below(20_000),
            _ => inp.below(300 << 10),
        };
        program::<u8>(&mut inp, max);
    }
    assert_eq!(
        Tracked::live(),
        base,
        "Tracked values leaked or dropped twice"
    );
}

/// A count of new elements: small, around the room left, or anything up to
/// the maximum.
fn count(inp: &mut Input, room: usize, max: usize) -> usize {
    match inp.u8() % 8 {
        0 => inp.below(max + 2),
        1 => room + inp.below(3),
        2 => room.saturating_sub(inp.below(3)),
        3 | 4 => inp.below(65),
        _ => inp.below(9),
    }
}

/// What `try_reserve(n)` must return for a vector of `len` elements and
/// maximum capacity `max`.
fn expected(len: usize, n: usize, max: usize) -> Result<(), TryReserveError> {
    match len.checked_add(n) {
        None => Err(TryReserveError::CapacityOverflow),
        Some(need) if need > max => Err(TryReserveError::Exhausted { max_capacity: max }),
        Some(_) => Ok(()),
    }
}

struct State<T: Elem> {
    v: ReservedVec<T>,
    model: Vec<T::Model>,
    max: usize,
    ptr: *const T,
    base: isize,
}

impl<T: Elem> State<T> {
    fn check(&self, extra: usize, what: &str) {
        let v = &self.v;
        assert_eq!(v.len(), self.model.len(), "{what}: len");
        assert_eq!(v.max_capacity(), self.max, "{what}: max_capacity changed");
        assert!(
            v.len() <= v.capacity() && v.capacity() <= v.max_capacity(),
            "{what}: len {} capacity {} max {}",
            v.len(),
            v.capacity(),
            v.max_capacity()
        );
        assert_eq!(v.as_ptr(), self.ptr, "{what}: the vector moved");
        assert_eq!(
            v.as_ptr() as usize % std::mem::align_of::<T>(),
            0,
            "{what}: misaligned"
        );
        if !T::same(v.as_slice(), &self.model) {
            let first = (0..self.model.len())
                .find(|&i| v[i].model() != self.model[i])
                .unwrap_or(0);
            panic!("{what}: contents differ from the model at {first}");
        }
        if T::TRACKED {
            assert_eq!(
                Tracked::live() - self.base,
                (v.len() + extra) as isize,
                "{what}: live elements"
            );
        }
    }
}

fn items<T: Elem>(xr: u32, n: usize) -> Vec<T::Model> {
    (0..n).map(|i| T::model_of(xr ^ (i as u32))).collect()
}

fn program<T: Elem>(inp: &mut Input, max: usize) {
    let v = ReservedVec::<T>::with_max_capacity(max);
    let mut st = State {
        ptr: v.as_ptr(),
        v,
        model: Vec::new(),
        max,
        base: Tracked::live(),
    };
    st.check(0, "with_max_capacity");
    let mut steps = 0;
    while !inp.is_empty() && steps < 300 {
        steps += 1;
        let xr = u32::from(inp.u8());
        let x = T::model_of(xr);
        let len = st.model.len();
        let room = max - len;
        let (v, model) = (&mut st.v, &mut st.model);
        let what;
        match inp.u8() % 26 {
            0 | 1 => {
                what = "push";
                if room == 0 {
                    must_panic(what, || v.push(T::make(x)));
                } else {
                    v.push(T::make(x));
                    model.push(x);
                }
            }
            2 => {
                what = "try_push";
                let r = v.try_push(T::make(x));
                assert_eq!(r, expected(len, 1, max), "{what}");
                if r.is_ok() {
                    model.push(x);
                }
            }
            3 => {
                what = "push_within_capacity";
                let full = v.len() == v.capacity();
                match v.push_within_capacity(T::make(x)) {
                    Ok(()) => {
                        assert!(!full, "{what}: pushed past capacity");
                        model.push(x);
                    }
                    Err(e) => {
                        assert!(full, "{what}: refused with room");
                        assert_eq!(e.model(), x);
                    }
                }
            }
            4 => {
                what = "pop";
                assert_eq!(v.pop().map(|e| e.model()), model.pop());
            }
            5 => {
                what = "insert";
                let i = inp.below(len + 2);
                let fallible = inp.bool();
                if i > len || (room == 0 && !fallible) {
                    must_panic(what, || {
                        if fallible {
                            let _ = v.try_insert(i, T::make(x));
                        } else {
                            v.insert(i, T::make(x));
                        }
                    });
                } else if fallible {
                    let r = v.try_insert(i, T::make(x));
                    assert_eq!(r, expected(len, 1, max), "try_insert");
                    if r.is_ok() {
                        model.insert(i, x);
                    }
                } else {
                    v.insert(i, T::make(x));
                    model.insert(i, x);
                }
            }
            6 => {
                what = "remove";
                let i = inp.below(len + 1);
                if i >= len {
                    must_panic(what, || v.remove(i));
                } else {
                    assert_eq!(v.remove(i).model(), model.remove(i));
                }
            }
            7 => {
                what = "swap_remove";
                let i = if inp.u8() == 255 {
                    usize::MAX
                } else {
                    inp.below(len + 1)
                };
                if i >= len {
                    must_panic(what, || v.swap_remove(i));
                } else {
                    assert_eq!(v.swap_remove(i).model(), model.swap_remove(i));
                }
            }
            8 => {
                what = "truncate";
                let n = inp.below(len + 2);
                v.truncate(n);
                model.truncate(n);
            }
            9 => {
                what = "reserve";
                let n = match inp.u8() % 8 {
                    0 => usize::MAX - inp.below(2),
                    _ => count(inp, room, max),
                };
                let cap = v.capacity();
                let want = expected(len, n, max);
                match inp.u8() % 4 {
                    0 => assert_eq!(v.try_reserve(n), want, "try_reserve({n})"),
                    1 => assert_eq!(v.try_reserve_exact(n), want, "try_reserve_exact({n})"),
                    k => {
                        if want.is_err() {
                            must_panic(what, || {
                                if k == 2 {
                                    v.reserve(n)
                                } else {
                                    v.reserve_exact(n)
                                }
                            });
                        } else if k == 2 {
                            v.reserve(n);
                        } else {
                            v.reserve_exact(n);
                        }
                    }
                }
                if want.is_ok() {
                    assert!(v.capacity() >= len + n, "{what}: capacity");
                } else {
                    assert_eq!(
                        v.capacity(),
                        cap,
                        "{what}: a failed reserve changed capacity"
                    );
                }
            }
            10 => {
                what = "shrink";
                let cap = v.capacity();
                if inp.bool() {
                    v.shrink_to_fit();
                } else {
                    let n = inp.below(len + 64);
                    v.shrink_to(n);
                    assert!(v.capacity() >= len.max(n).min(cap), "{what}: below {n}");
                }
                assert!(v.capacity() <= cap, "{what}: grew");
            }
            11 => {
                what = "extend";
                let n = count(inp, room, max);
                let new = items::<T>(xr, n);
                let lying = inp.bool();
                let go = |v: &mut ReservedVec<T>| {
                    if lying {
                        v.extend(new.iter().filter(|_| true).map(|&m| T::make(m)));
                    } else {
                        v.extend(new.iter().map(|&m| T::make(m)));
                    }
                };
                if n > room {
                    must_panic(what, || go(v));
                    // Extend pushes until full, then panics.
                    model.extend_from_slice(&new[..room]);
                } else {
                    go(v);
                    model.extend_from_slice(&new);
                }
            }
            12 => {
                what = "extend_from_slice";
                let n = count(inp, room, max);
                let new = items::<T>(xr, n);
                let s: Vec<T> = new.iter().map(|&m| T::make(m)).collect();
                let want = expected(len, n, max);
                if inp.bool() {
                    assert_eq!(v.try_extend_from_slice(&s), want, "try_extend_from_slice");
                } else if want.is_err() {
                    must_panic(what, || v.extend_from_slice(&s));
                } else {
                    v.extend_from_slice(&s);
                }
                if want.is_ok() {
                    model.extend_from_slice(&new);
                }
                drop(s);
            }
            13 => {
                what = "extend_from_within";
                let (r, valid) = range(inp, len);
                if !valid || model[r].len() > room {
                    must_panic(what, || v.extend_from_within(r));
                } else {
                    v.extend_from_within(r);
                    model.extend_from_within(r);
                }
            }
            14 => {
                what = "drain";
                let (r, valid) = range(inp, len);
                if !valid {
                    must_panic(what, || drop(v.drain(r)));
                } else {
                    let expect: Vec<T::Model> = model.drain(r).collect();
                    let mut d = v.drain(r);
                    let front = inp.below(expect.len() + 1);
                    let back = inp.below(expect.len() - front + 1);
                    for (i, e) in (&mut d).take(front).enumerate() {
                        assert_eq!(e.model(), expect[i], "drain front");
                    }
                    for i in 0..back {
                        let e = d.next_back().expect("drain back");
                        assert_eq!(e.model(), expect[expect.len() - 1 - i], "drain back");
                    }
                    assert!(T::same(d.as_slice(), &expect[front..expect.len() - back]));
                }
            }
            15 => {
                what = "retain";
                let m = u32::from(inp.u8());
                let at = (len > 0 && inp.u8() % 4 == 0).then(|| inp.below(len));
                let f = |e: &T| keep::<T>(e.model(), m);
                let mut calls = 0;
                let mutable = inp.bool();
                let mut go = || {
                    if mutable {
                        v.retain_mut(|e| panicky(&mut calls, at, f, e));
                    } else {
                        v.retain(|e| panicky(&mut calls, at, f, e));
                    }
                };
                if at.is_some() {
                    must_panic(what, go);
                } else {
                    go();
                }
                retain_model(model, |e| keep::<T>(e, m), at);
            }
            16 => {
                what = "dedup";
                match inp.u8() % 3 {
                    0 => v.dedup(),
                    1 => v.dedup_by_key(|e| e.model()),
                    _ => v.dedup_by(|a, b| a.model() == b.model()),
                }
                model.dedup();
            }
            17 => {
                what = "resize";
                let n = if inp.bool() {
                    inp.below(len + 2)
                } else {
                    len + count(inp, room, max)
                };
                let with = inp.bool();
                if n > max {
                    must_panic(what, || {
                        if with {
                            v.resize_with(n, || T::make(x))
                        } else {
                            v.resize(n, T::make(x))
                        }
                    });
                } else {
                    if with {
                        v.resize_with(n, || T::make(x));
                    } else {
                        v.resize(n, T::make(x));
                    }
                    model.resize(n, x);
                }
            }
            18 => {
                what = "append";
                let n = count(inp, room, max);
                let new = items::<T>(xr, n);
                let mut other = ReservedVec::<T>::with_max_capacity(n);
                other.extend(new.iter().map(|&m| T::make(m)));
                if n > room {
                    must_panic(what, || v.append(&mut other));
                    assert!(
                        T::same(&other, &new),
                        "{what}: a failed append changed the source"
                    );
                } else {
                    v.append(&mut other);
                    model.extend_from_slice(&new);
                    assert!(other.is_empty(), "{what}: the source is not empty");
                }
                drop(other);
            }
            19 => {
                what = "split_off";
                let at = inp.below(len + 2);
                if at > len {
                    must_panic(what, || v.split_off(at));
                } else {
                    let tail = v.split_off(at);
                    let mtail = model.split_off(at);
                    assert!(T::same(&tail, &mtail), "split_off tail");
                    assert_eq!(tail.max_capacity(), max, "split_off max");
                    st.check(tail.len(), what);
                    if inp.bool() {
                        // Put it back (the room is there: it came from us).
                        st.v.extend(tail);
                        st.model.extend_from_slice(&mtail);
                    }
                }
            }
            20 => {
                what = "clone";
                let c = v.clone();
                assert!(T::same(&c, model) && c == *v, "clone");
                assert!(c.capacity() <= c.max_capacity());
                st.check(c.len(), what);
            }
            21 => {
                what = "slice ops";
                match inp.u8() % 3 {
                    0 => {
                        v.reverse();
                        model.reverse();
                    }
                    1 => {
                        v.sort();
                        model.sort();
                    }
                    _ if len > 0 => {
                        let i = inp.below(len);
                        v[i] = T::make(x);
                        model[i] = x;
                    }
                    _ => {}
                }
            }
            23 => {
                what = "try_* under an injected OS failure";
                let n = count(inp, room, max);
                let cap = v.capacity();
                let kind = inp.u8() % 4;
                let new = items::<T>(xr, n);
                let s: Vec<T> = new.iter().map(|&m| T::make(m)).collect();
                arm_fault(inp);
                let r = match kind {
                    0 => v.try_reserve(n),
                    1 => v.try_reserve_exact(n),
                    2 => v.try_push(T::make(x)),
                    _ => v.try_extend_from_slice(&s),
                };
                mallocv2::fault::clear();
                drop(s);
                let want = expected(len, if kind == 2 { 1 } else { n }, max);
                match r {
                    Ok(()) => {
                        assert_eq!(want, Ok(()), "{what}: succeeded past the maximum");
                        match kind {
                            2 => model.push(x),
                            3 => model.extend_from_slice(&new),
                            _ => assert!(v.capacity() >= len + n, "{what}: capacity"),
                        }
                    }
                    Err(TryReserveError::AllocError { .. }) => {
                        assert_eq!(want, Ok(()), "{what}: AllocError instead of {want:?}");
                        assert_eq!(v.capacity(), cap, "{what}: a failed call changed capacity");
                    }
                    Err(e) => assert_eq!(Err(e), want, "{what}"),
                }
            }
            24 => {
                what = "shrink under an injected OS failure";
                arm_fault(inp);
                if inp.bool() {
                    v.shrink_to_fit();
                } else {
                    v.shrink_to(inp.below(len + 64));
                }
                mallocv2::fault::clear();
            }
            22 => {
                what = "spare_capacity_mut";
                let spare = v.spare_capacity_mut().len();
                assert_eq!(spare, v.capacity() - len, "{what}");
            }
            _ => {
                what = "clear";
                if inp.u8() % 4 == 0 {
                    v.clear();
                    model.clear();
                }
            }
        }
        st.check(0, what);
    }
}

/// Which elements `retain` keeps: a hash of the value and the op's
/// parameter, so it removes runs and singles.
fn keep<T: Elem>(e: T::Model, m: u32) -> bool {
    (T::bits(e) ^ m).wrapping_mul(0x9e37_79b9) >> 28 < 11
}
