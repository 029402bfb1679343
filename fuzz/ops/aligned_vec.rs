//! `aligned_vec_ops`: random programs on
//! `mallocv2_collections::aligned::AlignedVec<T, ALIGN>` against std's
//! `Vec`, for a few `ALIGN` values (a cache line, above the small-block
//! alignment, a page) and element types (`Tracked`, which counts live
//! instances, and `u8`, large enough to reach the Heap's page spans). After
//! every operation: the buffer is aligned to `ALIGN` (also the buffers of
//! split-off, cloned and collected vectors), contents equal the model,
//! `capacity >= len`, and (for `Tracked`) exactly `len` elements are alive.

use mallocv2_collections::aligned::AlignedVec;

use super::common::{leak_checked, overflow_refused};
use super::input::{must_panic, range, Elem, Input, Tracked};
use super::vector::{self, count, items, overflowing};

/// Runs one program: the first byte picks the element type and alignment.
pub fn run(data: &[u8]) {
    let mut inp = Input::new(data);
    leak_checked(|| match inp.u8() % 4 {
        0 => program::<Tracked, 64>(&mut inp, 2048),
        1 => program::<Tracked, 256>(&mut inp, 2048),
        2 => program::<u8, 64>(&mut inp, 300 << 10),
        _ => program::<u8, 4096>(&mut inp, 300 << 10),
    });
}

fn aligned<T, const ALIGN: usize>(v: &AlignedVec<T, ALIGN>, what: &str) {
    assert_eq!(
        v.as_ptr() as usize % ALIGN,
        0,
        "{what}: buffer {:p} (capacity {}) not aligned to {ALIGN}",
        v.as_ptr(),
        v.capacity()
    );
    assert_eq!(v.as_aligned_ptr(), v.as_ptr(), "{what}: as_aligned_ptr");
}

fn check<T: Elem, const ALIGN: usize>(
    v: &AlignedVec<T, ALIGN>,
    model: &[T::Model],
    base: isize,
    extra: usize,
    what: &str,
) {
    vector::check_len(v, model, what);
    aligned(v, what);
    vector::check_elems(v, model, base, extra, what);
}

fn program<T: Elem, const ALIGN: usize>(inp: &mut Input, max_len: usize) {
    let base = Tracked::live();
    let mut v: AlignedVec<T, ALIGN> = AlignedVec::new();
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
                    if inp.bool() {
                        v.push(T::make(x));
                    } else {
                        v.try_push(T::make(x)).expect("try_push");
                    }
                    model.push(x);
                }
            }
            5 => {
                what = "swap_remove";
                let i = inp.below(len + 1);
                vector::swap_remove(&mut v, &mut model, i, what);
            }
            8 => {
                what = "try_reserve overflow";
                let n = overflowing::<T>(inp, len);
                overflow_refused(v.try_reserve(n), n, what);
            }
            11 => {
                what = "drain";
                let (r, valid) = range(inp, len);
                if !valid {
                    must_panic(what, || drop(v.drain(r)));
                } else {
                    let expect: Vec<T::Model> = model.drain(r).collect();
                    let mut d = v.drain(r);
                    let front = inp.below(expect.len() + 1);
                    for (i, e) in (&mut d).take(front).enumerate() {
                        assert_eq!(e.model(), expect[i], "drain front");
                    }
                    if let Some(e) = d.next_back() {
                        assert_eq!(Some(&e.model()), expect.last(), "drain back");
                    }
                }
            }
            13 => {
                what = "dedup";
                vector::dedup(inp, &mut v, &mut model);
            }
            15 => {
                what = "split_off/append";
                let at = inp.below(len + 2);
                if at > len {
                    must_panic(what, || v.split_off(at));
                } else {
                    let mut tail = v.split_off(at);
                    let mtail = model.split_off(at);
                    aligned(&tail, "split_off tail");
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
                what = "append other alignment";
                let n = count(inp, room).min(room);
                let items = items::<T>(xr, n);
                let mut other: AlignedVec<T, 16> = items.iter().map(|&m| T::make(m)).collect();
                v.append(&mut other);
                model.extend_from_slice(&items);
                assert!(other.is_empty());
            }
            17 => {
                what = "extend_from_within";
                vector::extend_from_within(inp, &mut v, &mut model, room, what);
            }
            18 => {
                what = "clone/collect";
                let c = v.clone();
                aligned(&c, "clone");
                assert!(T::same(&c, &model) && c == v, "clone");
                check(&v, &model, base, c.len(), what);
                drop(c);
                let d: AlignedVec<T, ALIGN> = model.iter().map(|&m| T::make(m)).collect();
                aligned(&d, "collect");
                assert!(T::same(&d, &model), "collect");
            }
            19 => {
                what = "pad_to_lanes";
                let size = std::mem::size_of::<T>();
                let lane = size * (1 + inp.below(64));
                if len + lane / size <= max_len {
                    let added = v.pad_to_lanes(lane, T::make(x));
                    let per = lane / size;
                    let want = (per - len % per) % per;
                    assert_eq!(added, want, "{what}: added");
                    model.resize(len + want, x);
                    assert_eq!(v.len() % per, 0, "{what}: not whole lanes");
                }
            }
            20 => {
                what = "chunks";
                let (chunks, tail) = v.as_chunks::<4>();
                assert_eq!(chunks.len(), len / 4, "{what}");
                assert_eq!(tail.len(), len % 4, "{what}");
                if let Some(c) = chunks.first() {
                    assert_eq!(c.as_ptr() as usize % ALIGN, 0, "{what}: first lane");
                }
                if len > 0 {
                    let i = inp.below(len);
                    v[i] = T::make(x);
                    model[i] = x;
                }
            }
            21 => {
                what = "into_iter/into_vec";
                let w = std::mem::take(&mut v);
                if inp.bool() {
                    let mut it = w.into_iter();
                    let front = inp.below(len + 1);
                    for m in &model[..front] {
                        assert_eq!(it.next().map(|e| e.model()), Some(*m));
                    }
                    assert!(T::same(it.as_slice(), &model[front..]));
                    drop(it);
                    model.clear();
                } else {
                    let inner = w.into_vec();
                    assert_eq!(inner.as_ptr() as usize % ALIGN, 0, "{what}: into_vec");
                    assert!(T::same(&inner, &model));
                    v = inner.into_iter().collect();
                }
            }
            22 => {
                what = "with_capacity";
                let n = count(inp, room);
                let w: AlignedVec<T, ALIGN> = AlignedVec::with_capacity(n);
                assert!(w.capacity() >= n && w.is_empty(), "{what}");
                aligned(&w, what);
            }
            // Pop, insert, remove, truncate, reserve, shrink, extend,
            // retain, resize, the injected-failure ops and clear: the same
            // in `vec_ops`.
            _ => what = vector::shared_op(op, inp, &mut v, &mut model, xr, max_len),
        }
        check(&v, &model, base, 0, what);
    }
}
