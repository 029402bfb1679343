//! Decodes fuzz input bytes into choices. Running out of bytes yields zeros,
//! so every input is a valid program.

/// A cursor over the input bytes.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// Wraps the input.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    /// Whether any byte is left.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte (0 when exhausted).
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// The next two bytes, little-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from(self.u8()) | (u16::from(self.u8()) << 8)
    }

    /// The next four bytes, little-endian.
    pub fn u32(&mut self) -> u32 {
        u32::from(self.u16()) | (u32::from(self.u16()) << 16)
    }

    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 256 {
            self.u8() as usize % n
        } else if n <= 65536 {
            self.u16() as usize % n
        } else {
            self.u32() as usize % n
        }
    }

    /// A boolean.
    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// A size spread over the interesting ranges: tiny, small, around the
    /// page size, around the large-block threshold, large.
    pub fn size(&mut self) -> usize {
        match self.u8() % 8 {
            0 => self.below(33),
            1 | 2 => self.below(1024),
            3 => 4096 - 64 + self.below(129),
            4 => self.below(64 << 10),
            5 => (256 << 10) - 4096 + self.below(8192),
            6 => (128 << 10) + self.below(1 << 20),
            _ => self.below(4 << 20),
        }
    }

    /// A power-of-two alignment, mostly small, sometimes above the page
    /// size (up to 2 MiB).
    pub fn align(&mut self) -> usize {
        match self.u8() % 16 {
            0..=9 => 1 << (self.u8() % 5),
            10..=13 => 1 << (self.u8() % 13),
            _ => 1 << (13 + self.u8() % 9),
        }
    }
}

/// The byte a cookie pattern holds at `offset`.
#[inline]
pub fn pattern(cookie: u8, offset: usize) -> u8 {
    cookie ^ (offset as u8) ^ ((offset >> 8) as u8).rotate_left(3)
}

/// Offsets a check visits in a block of `len` bytes: all of them for small
/// blocks, else every 61st byte plus the first and last 256.
pub fn probes(len: usize) -> impl Iterator<Item = usize> {
    let dense = len <= 16 << 10;
    let head = if dense { len } else { 256.min(len) };
    let tail_start = if dense { len } else { len.saturating_sub(256) };
    (0..head)
        .chain((head..tail_start).step_by(61))
        .chain(tail_start..len)
}

/// Writes the cookie pattern at the probe offsets of `[ptr, ptr + len)`.
///
/// # Safety
/// `ptr` points to `len` writable bytes.
pub unsafe fn fill(ptr: *mut u8, len: usize, cookie: u8) {
    for i in probes(len) {
        // SAFETY: `i < len` (the caller's block).
        unsafe { ptr.add(i).write(pattern(cookie, i)) };
    }
}

/// Checks the cookie pattern written by `fill(ptr, written, cookie)` at its
/// probe offsets below `upto`.
///
/// # Safety
/// `ptr` points to at least `min(written, upto)` readable bytes that `fill`
/// wrote.
pub unsafe fn check(ptr: *const u8, written: usize, upto: usize, cookie: u8, what: &str) {
    let len = written;
    for i in probes(written).take_while(|&i| i < upto) {
        // SAFETY: `i < len` (the caller's block).
        let b = unsafe { ptr.add(i).read() };
        assert_eq!(
            b,
            pattern(cookie, i),
            "{what}: byte {i} of {len} at {ptr:p} changed"
        );
    }
}

// ---------------------------------------------------------------------------
// Helpers for the collection programs.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};

thread_local! {
    /// `Tracked` values alive on this thread.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// Set while `panics` runs a closure expected to panic.
    static EXPECTING_PANIC: Cell<bool> = const { Cell::new(false) };
}

/// An element that owns heap memory and counts its live instances (per
/// thread), so a leak or a double drop in a collection shows up as a wrong
/// count (and, under AddressSanitizer, as a leak or a double free).
/// Compares, orders and hashes like the `u32` it holds.
#[derive(PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Tracked(Box<u32>);

impl Tracked {
    /// A new value (one more live instance).
    pub fn new(v: u32) -> Self {
        LIVE.with(|l| l.set(l.get() + 1));
        Tracked(Box::new(v))
    }

    /// The value held.
    pub fn get(&self) -> u32 {
        *self.0
    }

    /// `Tracked` values alive on this thread.
    pub fn live() -> isize {
        LIVE.with(Cell::get)
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        Tracked::new(self.get())
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        LIVE.with(|l| l.set(l.get() - 1));
    }
}

impl std::borrow::Borrow<u32> for Tracked {
    fn borrow(&self) -> &u32 {
        &self.0
    }
}

/// An element type for the vector programs, with the plain value its model
/// holds (`u8` models itself; `Tracked` is modelled by its `u32`).
pub trait Elem: Clone + Ord + std::hash::Hash + std::fmt::Debug {
    /// The model's element.
    type Model: Copy + Ord + std::hash::Hash + std::fmt::Debug;
    /// Whether live instances are counted (see [`Tracked::live`]).
    const TRACKED: bool;
    /// A model value from input bits.
    fn model_of(x: u32) -> Self::Model;
    /// The element for a model value.
    fn make(m: Self::Model) -> Self;
    /// The model value of an element.
    fn model(&self) -> Self::Model;
    /// Whether the elements equal the model, element by element.
    fn same(s: &[Self], m: &[Self::Model]) -> bool;
    /// The bits of a model value.
    fn bits(m: Self::Model) -> u32;
}

impl Elem for u8 {
    type Model = u8;
    const TRACKED: bool = false;
    fn model_of(x: u32) -> u8 {
        x as u8
    }
    fn make(m: u8) -> u8 {
        m
    }
    fn model(&self) -> u8 {
        *self
    }
    fn same(s: &[u8], m: &[u8]) -> bool {
        s == m
    }
    fn bits(m: u8) -> u32 {
        u32::from(m)
    }
}

impl Elem for Tracked {
    type Model = u32;
    const TRACKED: bool = true;
    fn model_of(x: u32) -> u32 {
        x % 64
    }
    fn make(m: u32) -> Tracked {
        Tracked::new(m)
    }
    fn model(&self) -> u32 {
        self.get()
    }
    fn same(s: &[Tracked], m: &[u32]) -> bool {
        s.len() == m.len() && s.iter().zip(m).all(|(a, b)| a.get() == *b)
    }
    fn bits(m: u32) -> u32 {
        m
    }
}

/// Runs `f`, which the model says must panic (an index out of range, say),
/// and returns whether it did. The panic message is not printed, and the
/// fuzzer's abort-on-panic hook is skipped for it: any other panic still
/// reaches the previous hook.
pub fn panics<R>(f: impl FnOnce() -> R) -> bool {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let prev = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !EXPECTING_PANIC.with(Cell::get) {
                prev(info);
            }
        }));
    });
    EXPECTING_PANIC.with(|e| e.set(true));
    let r = panic::catch_unwind(AssertUnwindSafe(f));
    EXPECTING_PANIC.with(|e| e.set(false));
    r.is_err()
}

/// Asserts that `f` panics, as the std model would for the same call.
pub fn must_panic<R>(what: &str, f: impl FnOnce() -> R) {
    assert!(panics(f), "{what}: expected a panic like std's");
}

/// A range over `0..=len` (sometimes past it, or reversed), as bounds, for
/// `drain`-like calls; `valid` says whether std would accept it.
pub fn range(
    inp: &mut Input,
    len: usize,
) -> ((std::ops::Bound<usize>, std::ops::Bound<usize>), bool) {
    use std::ops::Bound::{self, Excluded, Included, Unbounded};
    let slack = if inp.u8() % 16 == 0 { 3 } else { 0 };
    let a = inp.below(len + 1 + slack);
    let b = inp.below(len + 1 + slack);
    let (lo, hi) = if inp.u8() % 16 == 0 {
        (b, a)
    } else {
        (a.min(b), a.max(b))
    };
    let start: Bound<usize> = match inp.u8() % 3 {
        _ if inp.u8() == 255 => Excluded(usize::MAX),
        0 => Unbounded,
        1 => Included(lo),
        _ => Excluded(lo),
    };
    let end: Bound<usize> = match inp.u8() % 3 {
        _ if inp.u8() == 255 => Included(usize::MAX),
        0 => Unbounded,
        1 => Included(hi),
        _ => Excluded(hi),
    };
    let s = match start {
        Unbounded => Some(0),
        Included(x) => Some(x),
        Excluded(x) => x.checked_add(1),
    };
    let e = match end {
        Unbounded => Some(len),
        Included(x) => x.checked_add(1),
        Excluded(x) => Some(x),
    };
    let valid = matches!((s, e), (Some(s), Some(e)) if s <= e && e <= len);
    ((start, end), valid)
}

/// Applies std's `Vec::retain` to the model when the predicate panics at
/// its call number `panic_at` (elements are visited in order; those before
/// it that `keep` rejects are gone, it and the rest stay), or never
/// (`None`).
pub fn retain_model<M: Copy>(
    model: &mut Vec<M>,
    keep: impl Fn(M) -> bool,
    panic_at: Option<usize>,
) {
    let stop = panic_at.unwrap_or(usize::MAX);
    let mut i = 0;
    model.retain(|&e| {
        let r = i >= stop || keep(e);
        i += 1;
        r
    });
}

/// A retain predicate that panics at call number `panic_at`.
pub fn panicky<E>(
    calls: &mut usize,
    panic_at: Option<usize>,
    keep: impl Fn(&E) -> bool,
    e: &E,
) -> bool {
    let c = *calls;
    *calls += 1;
    if Some(c) == panic_at {
        panic!("retain predicate panics at call {c}");
    }
    keep(e)
}

/// After a predicate panicked at call `panic_at` (in order), checks that
/// `after` is `before` minus some of the elements the predicate rejected
/// before the panic: nothing else may be lost, reordered or duplicated.
/// The elements must be distinct (map entries), so the match is exact.
pub fn check_retained<M: Copy + PartialEq + std::fmt::Debug>(
    before: &[M],
    after: &[M],
    keep: impl Fn(M) -> bool,
    panic_at: usize,
    what: &str,
) {
    let mut j = 0;
    for (i, &e) in before.iter().enumerate() {
        if j < after.len() && after[j] == e {
            j += 1;
        } else {
            assert!(
                i < panic_at && !keep(e),
                "{what}: element {i} ({e:?}) lost after a panicking predicate"
            );
        }
    }
    assert_eq!(
        j,
        after.len(),
        "{what}: elements appeared after a panicking predicate"
    );
}

/// Arms one injected OS failure on this thread (a kind, at its 1st to 3rd
/// call) for the next operation; `mallocv2::fault::clear` disarms it.
pub fn arm_fault(inp: &mut Input) {
    use mallocv2::fault::{self, OsOp};
    let op = match inp.u8() % 5 {
        0 => OsOp::Reserve,
        1 => OsOp::Commit,
        2 => OsOp::Decommit,
        3 => OsOp::Extend,
        _ => OsOp::Move,
    };
    fault::fail_nth(op, 1 + u32::from(inp.u8() % 3));
}
