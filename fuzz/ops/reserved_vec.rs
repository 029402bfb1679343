//! `reserved_vec_ops`: random programs on
//! `mallocv2_collections::reserved::ReservedVec<T>` against std's `Vec`,
//! with a small maximum capacity so the exhausted path is hit often. After
//! every operation: contents equal the model, `len <= capacity <=
//! max_capacity`, the maximum never changes, `as_ptr()` never changes, and
//! (for `Tracked`) exactly `len` elements are alive. Growth past the
//! maximum must fail with `Exhausted` (or `CapacityOverflow` for a size
//! that overflows `usize` or `isize::MAX` bytes; `try_*`, vector
//! unchanged) or panic
//! (the other forms; vector unchanged, except `Extend`, which pushes until
//! full).

use mallocv2_collections::reserved::ReservedVec;
use mallocv2_collections::TryReserveError;

use super::common::{check_bounds, expected, leak_checked, take_ends};
use super::input::{arm_fault, must_panic, range, Elem, Input, Tracked};
use super::vector::{self, index_or_max, items};

/// Runs one program: the first byte picks the element type.
pub fn run(data: &[u8]) {
    let mut inp = Input::new(data);
    leak_checked(|| {
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
    });
}

/// What a fallible growth by `n` must return for a `ReservedVec<T>` of
/// `len` elements and maximum `max`: as [`expected`], and also
/// `CapacityOverflow` when `len + n` elements exceed `isize::MAX` bytes (no
/// vector has that size, whatever its maximum).
pub fn expected_for<T>(len: usize, n: usize, max: usize) -> Result<(), TryReserveError> {
    let size = std::mem::size_of::<T>();
    match len.checked_add(n) {
        Some(need) if size > 0 && need > isize::MAX as usize / size => {
            Err(TryReserveError::CapacityOverflow)
        }
        _ => expected(len, n, max),
    }
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
        let (len, cap, max) = (v.len(), v.capacity(), v.max_capacity());
        check_bounds(len, cap, max, self.max, what);
        assert_eq!(v.as_ptr(), self.ptr, "{what}: the vector moved");
        assert_eq!(
            v.as_ptr() as usize % std::mem::align_of::<T>(),
            0,
            "{what}: misaligned"
        );
        vector::check_elems(v, &self.model, self.base, extra, what);
    }
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
                assert_eq!(r, expected_for::<T>(len, 1, max), "{what}");
                if r.is_ok() {
                    model.push(x);
                }
            }
            3 => {
                what = "push_within_capacity";
                vector::push_within_capacity(v, model, x, what);
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
                    assert_eq!(r, expected_for::<T>(len, 1, max), "try_insert");
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
                vector::remove(v, model, i, what);
            }
            7 => {
                what = "swap_remove";
                let i = index_or_max(inp, len);
                vector::swap_remove(v, model, i, what);
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
                let want = expected_for::<T>(len, n, max);
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
                let cap = vector::shrink(inp, v, what);
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
                let want = expected_for::<T>(len, n, max);
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
                    let want = expect.iter().copied();
                    let (front, back) = take_ends(inp, (&mut d).map(|e| e.model()), want, what);
                    assert!(T::same(d.as_slice(), &expect[front..expect.len() - back]));
                }
            }
            15 => {
                what = "retain";
                vector::retain(inp, v, model, what);
            }
            16 => {
                what = "dedup";
                vector::dedup(inp, v, model);
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
                let want = expected_for::<T>(len, if kind == 2 { 1 } else { n }, max);
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
                vector::shrink_under_fault(inp, v);
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
