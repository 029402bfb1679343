//! `aligned_vec_ops`: random programs on
//! `mallocv2_collections::aligned::AlignedVec<T, ALIGN>` against std's
//! `Vec`, for a few `ALIGN` values (a cache line, above the small-block
//! alignment, a page) and element types (`Tracked`, which counts live
//! instances, and `u8`, large enough to reach the Heap's page spans). After
//! every operation: the buffer is aligned to `ALIGN` (also the buffers of
//! split-off, cloned and collected vectors), contents equal the model,
//! `capacity >= len`, and (for `Tracked`) exactly `len` elements are alive.

use mallocv2::Heap;
use mallocv2_collections::aligned::AlignedVec;
use mallocv2_collections::TryReserveError;

use super::input::{arm_fault, must_panic, panicky, range, retain_model, Elem, Input, Tracked};

/// Runs one program: the first byte picks the element type and alignment.
pub fn run(data: &[u8]) {
    let mut inp = Input::new(data);
    let base = Tracked::live();
    match inp.u8() % 4 {
        0 => program::<Tracked, 64>(&mut inp, 2048),
        1 => program::<Tracked, 256>(&mut inp, 2048),
        2 => program::<u8, 64>(&mut inp, 300 << 10),
        _ => program::<u8, 4096>(&mut inp, 300 << 10),
    }
    assert_eq!(
        Tracked::live(),
        base,
        "Tracked values leaked or dropped twice"
    );
}

/// A count of new elements: mostly small, sometimes up to `max`.
fn count(inp: &mut Input, max: usize) -> usize {
    match inp.u8() % 8 {
        0 if inp.u8() % 4 == 0 => inp.below(max + 1),
        0..=2 => inp.below(65),
        _ => inp.below(9),
    }
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
    assert_eq!(v.len(), model.len(), "{what}: len");
    assert!(
        v.capacity() >= v.len(),
        "{what}: capacity {} < len {}",
        v.capacity(),
        v.len()
    );
    aligned(v, what);
    if !T::same(v.as_slice(), model) {
        let first = (0..model.len())
            .find(|&i| v[i].model() != model[i])
            .unwrap_or(0);
        panic!("{what}: contents differ from the model at {first}");
    }
    if T::TRACKED {
        assert_eq!(
            Tracked::live() - base,
            (v.len() + extra) as isize,
            "{what}: live elements"
        );
    }
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
        match inp.u8() % 27 {
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
            2 => {
                what = "pop";
                assert_eq!(v.pop().map(|e| e.model()), model.pop());
            }
            3 => {
                what = "insert";
                let i = inp.below(len + 2);
                if i > len {
                    must_panic(what, || v.insert(i, T::make(x)));
                } else if room > 0 {
                    v.insert(i, T::make(x));
                    model.insert(i, x);
                }
            }
            4 => {
                what = "remove";
                let i = inp.below(len + 1);
                if i >= len {
                    must_panic(what, || v.remove(i));
                } else {
                    assert_eq!(v.remove(i).model(), model.remove(i));
                }
            }
            5 => {
                what = "swap_remove";
                let i = inp.below(len + 1);
                if i >= len {
                    must_panic(what, || v.swap_remove(i));
                } else {
                    assert_eq!(v.swap_remove(i).model(), model.swap_remove(i));
                }
            }
            6 => {
                what = "truncate";
                let n = inp.below(len + 2);
                v.truncate(n);
                model.truncate(n);
            }
            7 => {
                what = "reserve";
                let n = count(inp, room);
                let cap = v.capacity();
                let stats = Heap::thread_stats();
                match inp.u8() % 4 {
                    0 => v.reserve(n),
                    1 => v.reserve_exact(n),
                    2 => v.try_reserve(n).expect("try_reserve"),
                    _ => v.try_reserve_exact(n).expect("try_reserve_exact"),
                }
                assert!(v.capacity() >= len + n, "{what}: capacity");
                assert!(v.capacity() >= cap, "{what}: capacity shrank");
                copied_live_only::<T>(&stats, cap, len, what);
            }
            8 => {
                what = "try_reserve overflow";
                let n = match inp.u8() % 3 {
                    0 => usize::MAX,
                    1 => usize::MAX - len.saturating_sub(1),
                    _ => (isize::MAX as usize) / std::mem::size_of::<T>().max(1),
                };
                let r = v.try_reserve(n);
                assert!(
                    matches!(
                        r,
                        Err(TryReserveError::CapacityOverflow | TryReserveError::AllocError { .. })
                    ),
                    "{what}: {n} gave {r:?}"
                );
            }
            9 => {
                what = "shrink";
                let cap = v.capacity();
                if inp.bool() {
                    v.shrink_to_fit();
                } else {
                    let n = inp.below(len + 64);
                    v.shrink_to(n);
                    assert!(v.capacity() >= len.max(n).min(cap), "{what}: below {n}");
                }
            }
            10 => {
                what = "extend";
                let n = count(inp, room).min(room);
                let items: Vec<T::Model> = (0..n).map(|i| T::model_of(xr ^ i as u32)).collect();
                match inp.u8() % 3 {
                    0 => v.extend(items.iter().map(|&m| T::make(m))),
                    1 => {
                        let s: Vec<T> = items.iter().map(|&m| T::make(m)).collect();
                        v.extend_from_slice(&s);
                    }
                    _ => v.extend(items.iter().filter(|_| true).map(|&m| T::make(m))),
                }
                model.extend_from_slice(&items);
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
            12 => {
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
                retain_model(&mut model, |e| keep::<T>(e, m), at);
            }
            13 => {
                what = "dedup";
                match inp.u8() % 3 {
                    0 => v.dedup(),
                    1 => v.dedup_by_key(|e| e.model()),
                    _ => v.dedup_by(|a, b| a.model() == b.model()),
                }
                model.dedup();
            }
            14 => {
                what = "resize";
                let n = if inp.bool() {
                    inp.below(len + 2)
                } else {
                    len + count(inp, room).min(room)
                };
                if inp.bool() {
                    v.resize(n, T::make(x));
                } else {
                    v.resize_with(n, || T::make(x));
                }
                model.resize(n, x);
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
                let items: Vec<T::Model> = (0..n).map(|i| T::model_of(xr ^ i as u32)).collect();
                let mut other: AlignedVec<T, 16> = items.iter().map(|&m| T::make(m)).collect();
                v.append(&mut other);
                model.extend_from_slice(&items);
                assert!(other.is_empty());
            }
            17 => {
                what = "extend_from_within";
                let (r, valid) = range(inp, len);
                if !valid {
                    must_panic(what, || v.extend_from_within(r));
                } else if model[r].len() <= room {
                    v.extend_from_within(r);
                    model.extend_from_within(r);
                }
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
            23 => {
                what = "try_* under an injected OS failure";
                let n = count(inp, room);
                let cap = v.capacity();
                let kind = inp.u8() % 3;
                let stats = Heap::thread_stats();
                arm_fault(inp);
                let r = match kind {
                    0 => v.try_reserve(n),
                    1 => v.try_reserve_exact(n),
                    _ if room > 0 => v.try_push(T::make(x)),
                    _ => Ok(()),
                };
                mallocv2::fault::clear();
                copied_live_only::<T>(&stats, cap, len, what);
                match r {
                    Ok(()) if kind == 2 && room > 0 => model.push(x),
                    // Nothing was asked for (no room to push in the model).
                    Ok(()) if kind == 2 => {}
                    Ok(()) => assert!(v.capacity() >= len + n, "{what}: capacity"),
                    Err(e) => {
                        assert!(
                            matches!(e, TryReserveError::AllocError { .. }),
                            "{what}: {e:?}"
                        );
                        assert_eq!(v.capacity(), cap, "{what}: a failed call changed capacity");
                    }
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
            25 => {
                what = "grow a full span";
                // Make the buffer a page span, fill it to capacity, and push
                // once more: that growth may copy only the live bytes.
                let span = mallocv2::LARGE_THRESHOLD / std::mem::size_of::<T>().max(1);
                let want = span + inp.below(8192);
                if want + 8192 < max_len {
                    v.reserve_exact(want.saturating_sub(len));
                    let cap = v.capacity();
                    if cap < max_len {
                        v.resize(cap, T::make(x));
                        model.resize(cap, x);
                        let stats = Heap::thread_stats();
                        // Refuse growth in place (and sometimes the
                        // copy-free move too), so the later steps of the
                        // growth protocol run.
                        let faults = inp.u8() % 4;
                        if faults >= 1 {
                            mallocv2::fault::fail_nth(mallocv2::fault::OsOp::Commit, 1);
                            mallocv2::fault::fail_nth(mallocv2::fault::OsOp::Extend, 1);
                        }
                        if faults >= 2 {
                            mallocv2::fault::fail_nth(mallocv2::fault::OsOp::Move, 1);
                        }
                        let r = v.try_push(T::make(x));
                        mallocv2::fault::clear();
                        copied_live_only::<T>(&stats, cap, cap, what);
                        match r {
                            Ok(()) => model.push(x),
                            Err(e) => assert!(
                                matches!(e, TryReserveError::AllocError { .. }),
                                "{what}: {e:?}"
                            ),
                        }
                    }
                }
            }
            22 => {
                what = "with_capacity";
                let n = count(inp, room);
                let w: AlignedVec<T, ALIGN> = AlignedVec::with_capacity(n);
                assert!(w.capacity() >= n && w.is_empty(), "{what}");
                aligned(&w, what);
            }
            _ => {
                what = "clear";
                if inp.u8() % 4 == 0 {
                    v.clear();
                    model.clear();
                }
            }
        }
        check(&v, &model, base, 0, what);
    }
}

/// One growth of a buffer that was a page span (`cap` elements, `len`
/// live) copies at most the live bytes: never the uninitialised capacity.
/// (Small blocks go through the C library's `realloc`, whose moves the
/// Heap counts at the old size, so only spans are checked.)
fn copied_live_only<T>(before: &mallocv2::Stats, cap: usize, len: usize, what: &str) {
    let size = std::mem::size_of::<T>();
    if cap * size >= mallocv2::LARGE_THRESHOLD {
        let d = Heap::thread_stats().since(before);
        assert!(
            d.bytes_copied <= (len * size) as u64,
            "{what}: {} bytes copied, {} live (capacity {} bytes)",
            d.bytes_copied,
            len * size,
            cap * size
        );
    }
}

/// Which elements `retain` keeps: a hash of the value and the op's
/// parameter, so it removes runs and singles.
fn keep<T: Elem>(e: T::Model, m: u32) -> bool {
    (T::bits(e) ^ m).wrapping_mul(0x9e37_79b9) >> 28 < 11
}
