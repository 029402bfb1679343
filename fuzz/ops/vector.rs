//! What the vector programs (`vec`, `aligned_vec`, `reserved_vec`) share:
//! one trait over the three vector types, the checks of the elements
//! against the model, and the operations whose steps are the same in each
//! program. Each operation reads the input exactly as the programs did
//! before it moved here, so the committed corpora keep their paths.

use std::ops::{Bound, DerefMut};

use mallocv2::Heap;
use mallocv2_collections::aligned::AlignedVec;
use mallocv2_collections::reserved::ReservedVec;
use mallocv2_collections::vec::Vec as MVec;
use mallocv2_collections::TryReserveError;

use super::common::alloc_error;
use super::input::{arm_fault, must_panic, panicky, range, retain_model, Elem, Input, Tracked};

/// The methods of `MVec`, `AlignedVec` and `ReservedVec` the shared
/// operations call (each forwards to the type's own method).
pub trait Vector<T: Elem>: DerefMut<Target = [T]> + Extend<T> {
    fn capacity(&self) -> usize;
    fn reserve(&mut self, n: usize);
    fn reserve_exact(&mut self, n: usize);
    fn try_reserve(&mut self, n: usize) -> Result<(), TryReserveError>;
    fn try_reserve_exact(&mut self, n: usize) -> Result<(), TryReserveError>;
    fn shrink_to_fit(&mut self);
    fn shrink_to(&mut self, n: usize);
    fn try_push(&mut self, x: T) -> Result<(), TryReserveError>;
    fn push_within_capacity(&mut self, x: T) -> Result<(), T>;
    fn pop(&mut self) -> Option<T>;
    fn insert(&mut self, i: usize, x: T);
    fn remove(&mut self, i: usize) -> T;
    fn swap_remove(&mut self, i: usize) -> T;
    fn truncate(&mut self, n: usize);
    fn clear(&mut self);
    fn retain(&mut self, f: impl FnMut(&T) -> bool);
    fn retain_mut(&mut self, f: impl FnMut(&mut T) -> bool);
    fn dedup(&mut self);
    fn dedup_by_key<K: PartialEq>(&mut self, key: impl FnMut(&mut T) -> K);
    fn dedup_by(&mut self, same: impl FnMut(&mut T, &mut T) -> bool);
    fn resize(&mut self, n: usize, x: T);
    fn resize_with(&mut self, n: usize, f: impl FnMut() -> T);
    fn extend_from_slice(&mut self, s: &[T]);
    fn extend_from_within(&mut self, r: (Bound<usize>, Bound<usize>));
}

macro_rules! vector {
    ($([$($params:tt)*] $ty:ty),* $(,)?) => {$(
        impl<$($params)*> Vector<T> for $ty {
            fn capacity(&self) -> usize {
                <$ty>::capacity(self)
            }
            fn reserve(&mut self, n: usize) {
                <$ty>::reserve(self, n)
            }
            fn reserve_exact(&mut self, n: usize) {
                <$ty>::reserve_exact(self, n)
            }
            fn try_reserve(&mut self, n: usize) -> Result<(), TryReserveError> {
                <$ty>::try_reserve(self, n)
            }
            fn try_reserve_exact(&mut self, n: usize) -> Result<(), TryReserveError> {
                <$ty>::try_reserve_exact(self, n)
            }
            fn shrink_to_fit(&mut self) {
                <$ty>::shrink_to_fit(self)
            }
            fn shrink_to(&mut self, n: usize) {
                <$ty>::shrink_to(self, n)
            }
            fn try_push(&mut self, x: T) -> Result<(), TryReserveError> {
                <$ty>::try_push(self, x)
            }
            fn push_within_capacity(&mut self, x: T) -> Result<(), T> {
                <$ty>::push_within_capacity(self, x)
            }
            fn pop(&mut self) -> Option<T> {
                <$ty>::pop(self)
            }
            fn insert(&mut self, i: usize, x: T) {
                <$ty>::insert(self, i, x)
            }
            fn remove(&mut self, i: usize) -> T {
                <$ty>::remove(self, i)
            }
            fn swap_remove(&mut self, i: usize) -> T {
                <$ty>::swap_remove(self, i)
            }
            fn truncate(&mut self, n: usize) {
                <$ty>::truncate(self, n)
            }
            fn clear(&mut self) {
                <$ty>::clear(self)
            }
            fn retain(&mut self, f: impl FnMut(&T) -> bool) {
                <$ty>::retain(self, f)
            }
            fn retain_mut(&mut self, f: impl FnMut(&mut T) -> bool) {
                <$ty>::retain_mut(self, f)
            }
            fn dedup(&mut self) {
                <$ty>::dedup(self)
            }
            fn dedup_by_key<K: PartialEq>(&mut self, key: impl FnMut(&mut T) -> K) {
                <$ty>::dedup_by_key(self, key)
            }
            fn dedup_by(&mut self, same: impl FnMut(&mut T, &mut T) -> bool) {
                <$ty>::dedup_by(self, same)
            }
            fn resize(&mut self, n: usize, x: T) {
                <$ty>::resize(self, n, x)
            }
            fn resize_with(&mut self, n: usize, f: impl FnMut() -> T) {
                <$ty>::resize_with(self, n, f)
            }
            fn extend_from_slice(&mut self, s: &[T]) {
                <$ty>::extend_from_slice(self, s)
            }
            fn extend_from_within(&mut self, r: (Bound<usize>, Bound<usize>)) {
                <$ty>::extend_from_within(self, r)
            }
        }
    )*};
}

vector!(
    [T: Elem] MVec<T>,
    [T: Elem, const ALIGN: usize] AlignedVec<T, ALIGN>,
    [T: Elem] ReservedVec<T>,
);

// ---------------------------------------------------------------------------
// Checks.

/// `len` equals the model's and `capacity >= len`.
pub fn check_len<T: Elem>(v: &impl Vector<T>, model: &[T::Model], what: &str) {
    assert_eq!(v.len(), model.len(), "{what}: len");
    assert!(
        v.capacity() >= v.len(),
        "{what}: capacity {} < len {}",
        v.capacity(),
        v.len()
    );
}

/// The elements equal the model, and (for `Tracked`) exactly
/// `s.len() + extra` elements are alive beyond `base`.
pub fn check_elems<T: Elem>(s: &[T], model: &[T::Model], base: isize, extra: usize, what: &str) {
    if !T::same(s, model) {
        let first = (0..model.len())
            .find(|&i| s[i].model() != model[i])
            .unwrap_or(0);
        panic!(
            "{what}: contents differ from the model at {first} (len {})",
            model.len()
        );
    }
    if T::TRACKED {
        assert_eq!(
            Tracked::live() - base,
            (s.len() + extra) as isize,
            "{what}: live elements"
        );
    }
}

/// One growth of a buffer that was a page span (`cap` elements, `len`
/// live) copies at most the live bytes: never the uninitialised capacity.
/// (Small blocks go through the C library's `realloc`, whose moves the
/// Heap counts at the old size, so only spans are checked.)
pub fn copied_live_only<T>(before: &mallocv2::Stats, cap: usize, len: usize, what: &str) {
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

// ---------------------------------------------------------------------------
// Inputs.

/// A count of new elements: mostly small, sometimes up to `max`.
pub fn count(inp: &mut Input, max: usize) -> usize {
    match inp.u8() % 8 {
        0 if inp.u8() % 4 == 0 => inp.below(max + 1),
        0..=2 => inp.below(65),
        _ => inp.below(9),
    }
}

/// `n` model values derived from the input bits `xr`.
pub fn items<T: Elem>(xr: u32, n: usize) -> Vec<T::Model> {
    (0..n).map(|i| T::model_of(xr ^ (i as u32))).collect()
}

/// An index in `0..=len`, or now and then `usize::MAX`.
pub fn index_or_max(inp: &mut Input, len: usize) -> usize {
    if inp.u8() == 255 {
        usize::MAX
    } else {
        inp.below(len + 1)
    }
}

/// A request that cannot be met: `usize::MAX`, one that overflows
/// `len + n`, or more bytes than `isize::MAX`.
pub fn overflowing<T>(inp: &mut Input, len: usize) -> usize {
    match inp.u8() % 3 {
        0 => usize::MAX,
        1 => usize::MAX - len.saturating_sub(1),
        _ => (isize::MAX as usize) / std::mem::size_of::<T>().max(1),
    }
}

/// Which elements `retain` keeps: a hash of the value and the op's
/// parameter, so it removes runs and singles.
fn keep<T: Elem>(e: T::Model, m: u32) -> bool {
    (T::bits(e) ^ m).wrapping_mul(0x9e37_79b9) >> 28 < 11
}

// ---------------------------------------------------------------------------
// Operations. `room` is how many more elements the program allows.

/// The operations `vec_ops` and `aligned_vec_ops` number alike (of
/// `op % 27`): 2 pop, 3 insert, 4 remove, 6 truncate, 7 reserve, 9 shrink,
/// 10 extend, 12 retain, 14 resize, 23 a `try_*` growth and 24 a shrink
/// under an injected OS failure, 25 the growth of a full span, and 26
/// clear. Runs `op` (one of these) and returns its name. `xr` is the
/// step's input bits; `max_len` is the longest the program lets `v` grow.
pub fn shared_op<T: Elem>(
    op: u8,
    inp: &mut Input,
    v: &mut impl Vector<T>,
    model: &mut Vec<T::Model>,
    xr: u32,
    max_len: usize,
) -> &'static str {
    let x = T::model_of(xr);
    let len = model.len();
    let room = max_len - len;
    let what;
    match op {
        2 => {
            what = "pop";
            assert_eq!(v.pop().map(|e| e.model()), model.pop());
        }
        3 => {
            what = "insert";
            insert(inp, v, model, x, room, what);
        }
        4 => {
            what = "remove";
            let i = inp.below(len + 1);
            remove(v, model, i, what);
        }
        6 => {
            what = "truncate";
            let n = inp.below(len + 2);
            v.truncate(n);
            model.truncate(n);
        }
        7 => {
            what = "reserve";
            reserve(inp, v, room, what);
        }
        9 => {
            what = "shrink";
            shrink(inp, v, what);
        }
        10 => {
            what = "extend";
            extend(inp, v, model, xr, room);
        }
        12 => {
            what = "retain";
            retain(inp, v, model, what);
        }
        14 => {
            what = "resize";
            resize(inp, v, model, x, room);
        }
        23 => {
            what = "try_* under an injected OS failure";
            try_under_fault(inp, v, model, x, room, what);
        }
        24 => {
            what = "shrink under an injected OS failure";
            shrink_under_fault(inp, v);
        }
        25 => {
            what = "grow a full span";
            grow_full_span(inp, v, model, x, max_len, what);
        }
        _ => {
            what = "clear";
            if inp.u8() % 4 == 0 {
                v.clear();
                model.clear();
            }
        }
    }
    what
}

/// `insert` at `0..=len + 1`: past the end it must panic; otherwise it
/// inserts if there is room.
fn insert<T: Elem>(
    inp: &mut Input,
    v: &mut impl Vector<T>,
    model: &mut Vec<T::Model>,
    x: T::Model,
    room: usize,
    what: &str,
) {
    let len = model.len();
    let i = inp.below(len + 2);
    if i > len {
        must_panic(what, || v.insert(i, T::make(x)));
    } else if room > 0 {
        v.insert(i, T::make(x));
        model.insert(i, x);
    }
}

/// `remove(i)`: past the end it must panic.
pub fn remove<T: Elem>(v: &mut impl Vector<T>, model: &mut Vec<T::Model>, i: usize, what: &str) {
    if i >= model.len() {
        must_panic(what, || v.remove(i));
    } else {
        assert_eq!(v.remove(i).model(), model.remove(i));
    }
}

/// `swap_remove(i)`: past the end it must panic.
pub fn swap_remove<T: Elem>(
    v: &mut impl Vector<T>,
    model: &mut Vec<T::Model>,
    i: usize,
    what: &str,
) {
    if i >= model.len() {
        must_panic(what, || v.swap_remove(i));
    } else {
        assert_eq!(v.swap_remove(i).model(), model.swap_remove(i));
    }
}

/// `push_within_capacity`: it pushes exactly when the vector is not full.
pub fn push_within_capacity<T: Elem>(
    v: &mut impl Vector<T>,
    model: &mut Vec<T::Model>,
    x: T::Model,
    what: &str,
) {
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

/// One of the four reserve forms; the capacity never shrinks and a page
/// span's growth copies only the live elements.
fn reserve<T: Elem>(inp: &mut Input, v: &mut impl Vector<T>, room: usize, what: &str) {
    let len = v.len();
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

/// `shrink_to_fit`, or `shrink_to(n)`, which keeps at least `n` (or the
/// length) unless there was less. Returns the capacity before.
pub fn shrink<T: Elem>(inp: &mut Input, v: &mut impl Vector<T>, what: &str) -> usize {
    let len = v.len();
    let cap = v.capacity();
    if inp.bool() {
        v.shrink_to_fit();
    } else {
        let n = inp.below(len + 64);
        v.shrink_to(n);
        assert!(v.capacity() >= len.max(n).min(cap), "{what}: below {n}");
    }
    cap
}

/// Extends from an exact-size iterator, a slice, or an iterator whose size
/// hint is a lower bound only.
fn extend<T: Elem>(
    inp: &mut Input,
    v: &mut impl Vector<T>,
    model: &mut Vec<T::Model>,
    xr: u32,
    room: usize,
) {
    let n = count(inp, room).min(room);
    let items = items::<T>(xr, n);
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

/// `extend_from_within` a range: an invalid one must panic; a valid one
/// is copied if there is room.
pub fn extend_from_within<T: Elem>(
    inp: &mut Input,
    v: &mut impl Vector<T>,
    model: &mut Vec<T::Model>,
    room: usize,
    what: &str,
) {
    let (r, valid) = range(inp, model.len());
    if !valid {
        must_panic(what, || v.extend_from_within(r));
    } else if model[r].len() <= room {
        v.extend_from_within(r);
        model.extend_from_within(r);
    }
}

/// `retain` or `retain_mut`, sometimes with a predicate that panics part
/// way (then std's rule: the rejected elements before it are gone).
pub fn retain<T: Elem>(
    inp: &mut Input,
    v: &mut impl Vector<T>,
    model: &mut Vec<T::Model>,
    what: &str,
) {
    let len = model.len();
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

/// `dedup`, `dedup_by_key` or `dedup_by`, all by the model value.
pub fn dedup<T: Elem>(inp: &mut Input, v: &mut impl Vector<T>, model: &mut Vec<T::Model>) {
    match inp.u8() % 3 {
        0 => v.dedup(),
        1 => v.dedup_by_key(|e| e.model()),
        _ => v.dedup_by(|a, b| a.model() == b.model()),
    }
    model.dedup();
}

/// `resize` or `resize_with`, shorter or longer (within the room).
fn resize<T: Elem>(
    inp: &mut Input,
    v: &mut impl Vector<T>,
    model: &mut Vec<T::Model>,
    x: T::Model,
    room: usize,
) {
    let len = model.len();
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

/// A `try_*` growth under one injected OS failure: `Ok` with the room, or
/// `AllocError` with nothing changed.
fn try_under_fault<T: Elem>(
    inp: &mut Input,
    v: &mut impl Vector<T>,
    model: &mut Vec<T::Model>,
    x: T::Model,
    room: usize,
    what: &str,
) {
    let len = model.len();
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
            alloc_error(e, what);
            assert_eq!(v.capacity(), cap, "{what}: a failed call changed capacity");
        }
    }
}

/// `shrink_to_fit` or `shrink_to` under one injected OS failure (checked
/// by the program's check afterwards).
pub fn shrink_under_fault<T: Elem>(inp: &mut Input, v: &mut impl Vector<T>) {
    let len = v.len();
    arm_fault(inp);
    if inp.bool() {
        v.shrink_to_fit();
    } else {
        v.shrink_to(inp.below(len + 64));
    }
    mallocv2::fault::clear();
}

/// Makes the buffer a page span, fills it to capacity, and pushes once
/// more: that growth may copy only the live bytes.
fn grow_full_span<T: Elem>(
    inp: &mut Input,
    v: &mut impl Vector<T>,
    model: &mut Vec<T::Model>,
    x: T::Model,
    max_len: usize,
    what: &str,
) {
    let len = model.len();
    let span = mallocv2::LARGE_THRESHOLD / std::mem::size_of::<T>().max(1);
    let want = span + inp.below(8192);
    if want + 8192 < max_len {
        v.reserve_exact(want.saturating_sub(len));
        let cap = v.capacity();
        if cap < max_len {
            v.resize(cap, T::make(x));
            model.resize(cap, x);
            let stats = Heap::thread_stats();
            // Refuse growth in place (and sometimes the copy-free move
            // too), so the later steps of the growth protocol run.
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
                Err(e) => alloc_error(e, what),
            }
        }
    }
}
