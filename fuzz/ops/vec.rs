//! `vec_ops`: random programs on `mallocv2_collections::vec::Vec<T>` against
//! std's `Vec` as the model, for a heap-owning, drop-counted element
//! (`Tracked`: leaks and double drops change the live count) and for `u8`
//! (large enough to reach the Heap's page spans, so growth goes in place,
//! by remap, and by copy). After every operation: contents equal the model,
//! `capacity >= len`, the buffer is aligned, and (for `Tracked`) exactly
//! `len` elements are alive. Calls std would panic on must panic here too
//! and leave the vector unchanged.

use mallocv2::Heap;
use mallocv2_collections::vec::Vec as MVec;

use super::common::{leak_checked, overflow_refused, take_ends};
use super::input::{must_panic, range, Elem, Input, Tracked};
use super::vector::{self, copied_live_only, count, index_or_max, overflowing};

/// Runs one program: the first byte picks the element type.
pub fn run(data: &[u8]) {
    let mut inp = Input::new(data);
    leak_checked(|| {
        if inp.bool() {
            program::<Tracked>(&mut inp, 2048);
        } else {
            program::<u8>(&mut inp, 300 << 10);
        }
    });
}

fn check<T: Elem>(v: &MVec<T>, model: &[T::Model], base: isize, extra: usize, what: &str) {
    vector::check_len(v, model, what);
    assert_eq!(
        v.as_ptr() as usize % std::mem::align_of::<T>(),
        0,
        "{what}: misaligned buffer"
    );
    vector::check_elems(v, model, base, extra, what);
}

fn program<T: Elem>(inp: &mut Input, max_len: usize) {
    let base = Tracked::live();
    let mut v: MVec<T> = MVec::new();
    let mut model: Vec<T::Model> = Vec::new();
    let mut steps = 0;
    while !inp.is_empty() && steps < 300 {
        steps += 1;
        let xr = u32::from(inp.u8());
        let x = T::model_of(xr);
        let len = model.len();
        let room = max_len - len;
        let what;
        let op = inp.u8() % 27;
        match op {
            0 | 1 => {
                what = "push";
                if room > 0 {
                    let (stats, cap) = (Heap::thread_stats(), v.capacity());
                    v.push(T::make(x));
                    model.push(x);
                    copied_live_only::<T>(&stats, cap, len, what);
                }
            }
            5 => {
                what = "swap_remove";
                let i = index_or_max(inp, len);
                vector::swap_remove(&mut v, &mut model, i, what);
            }
            8 => {
                what = "try_reserve overflow";
                let n = overflowing::<T>(inp, len);
                let r = if inp.bool() {
                    v.try_reserve(n)
                } else {
                    v.try_reserve_exact(n)
                };
                overflow_refused(r, n, what);
            }
            11 => {
                what = "drain";
                let (r, valid) = range(inp, len);
                if !valid {
                    must_panic(what, || drop(v.drain(r)));
                } else {
                    let expect: Vec<T::Model> = model.drain(r).collect();
                    let mut d = v.drain(r);
                    // Take some from each end, then drop the rest.
                    let want = expect.iter().copied();
                    let (front, back) = take_ends(inp, (&mut d).map(|e| e.model()), want, what);
                    assert_eq!(d.len(), expect.len() - front - back);
                }
            }
            13 => {
                what = "dedup";
                v.dedup();
                model.dedup();
            }
            15 => {
                what = "split_off/append";
                let at = inp.below(len + 2);
                if at > len {
                    must_panic(what, || v.split_off(at));
                } else {
                    let mut tail = v.split_off(at);
                    let mtail = model.split_off(at);
                    assert!(T::same(&tail, &mtail), "split_off tail");
                    check(&v, &model, base, tail.len(), what);
                    if inp.bool() {
                        v.append(&mut tail);
                        model.extend_from_slice(&mtail);
                        assert!(tail.is_empty());
                    }
                }
            }
            16 => {
                what = "extend_from_within";
                vector::extend_from_within(inp, &mut v, &mut model, room, what);
            }
            17 => {
                what = "clone";
                let c = v.clone();
                assert!(T::same(&c, &model), "clone");
                assert!(c == v, "clone ==");
                check(&v, &model, base, c.len(), what);
            }
            18 => {
                what = "try_push/push_within_capacity";
                if room > 0 {
                    if inp.bool() {
                        v.try_push(T::make(x)).expect("try_push");
                        model.push(x);
                    } else {
                        vector::push_within_capacity(&mut v, &mut model, x, what);
                    }
                }
            }
            19 => {
                what = "slice ops";
                match inp.u8() % 4 {
                    0 => {
                        v.reverse();
                        model.reverse();
                    }
                    1 => {
                        v.sort();
                        model.sort();
                    }
                    2 if len > 0 => {
                        let i = inp.below(len);
                        v[i] = T::make(x);
                        model[i] = x;
                    }
                    _ => {
                        let k = inp.below(len + 1);
                        v.rotate_left(k);
                        model.rotate_left(k);
                    }
                }
            }
            20 => {
                what = "into_iter";
                let mut it = std::mem::take(&mut v).into_iter();
                let want = model.iter().copied();
                let (front, back) = take_ends(inp, (&mut it).map(|e| e.model()), want, what);
                assert!(T::same(it.as_slice(), &model[front..len - back]));
                if inp.bool() {
                    // Collect the rest back into a vector.
                    v = it.collect();
                    model = model[front..len - back].to_vec();
                } else {
                    drop(it);
                    model.clear();
                }
            }
            21 => {
                what = "std round trip";
                let s: Vec<T> = std::mem::take(&mut v).into_std();
                assert!(T::same(&s, &model));
                v = if inp.bool() {
                    MVec::from_std(s)
                } else {
                    s.into_iter().collect()
                };
            }
            22 => {
                what = "with_capacity";
                let n = count(inp, room);
                let w: MVec<T> = MVec::with_capacity(n);
                assert!(w.capacity() >= n && w.is_empty());
                let w = MVec::<T>::try_with_capacity(n).expect("try_with_capacity");
                assert!(w.capacity() >= n && w.is_empty());
            }
            // Pop, insert, remove, truncate, reserve, shrink, extend,
            // retain, resize, the injected-failure ops and clear: the same
            // in `aligned_vec_ops`.
            _ => what = vector::shared_op(op, inp, &mut v, &mut model, xr, max_len),
        }
        check(&v, &model, base, 0, what);
    }
}
