//! [`AppendVec<T>`]: a contiguous vector that many threads append to through
//! `&self` while others read it, without locks on the read path.
//!
//! ```text
//!  base (never moves)
//!   |-- published --|-- claimed, being written --|-- committed, free --|-- reserved --|
//!   0           published                    claimed                committed        max
//!   readers see     writers own one slot each   claimed next           PROT_NONE
//! ```
//!
//! # The protocol
//! - **Claim**: a writer takes index `i = claimed` with a compare-and-swap,
//!   but only while `i < committed`, so a claimed slot is always writable and
//!   a claim can never fail afterwards. [`push_slice`](AppendVec::push_slice)
//!   claims a run `[i, i + n)` the same way (one compare-and-swap of
//!   `claimed` to `i + n`, only while `i + n <= committed`). When `claimed` reaches `committed`,
//!   the writer takes a mutex, commits more pages of the reservation
//!   (geometrically, like [`ReservedVec`]) and stores the new `committed`
//!   with `Release`, then retries. A failed commit (or a full reservation)
//!   returns an error before any slot is claimed: nothing is lost and no
//!   other writer is held up.
//! - **Write**: the writer moves its value into slot `i`, or its run into
//!   `[i, i + n)` with one bitwise copy (copies of `T: Copy` for
//!   `push_slice`, the elements moved out of a `Vec` for
//!   [`append`](AppendVec::append)); nothing in between can panic, so a
//!   claimed slot is always written.
//! - **Publish**: if `published == i` (`Acquire`), the writer stores `i + 1`
//!   (`Release`), or `i + n` for a run: the common case, one load and one
//!   store. Otherwise an earlier slot is still being written: the writer
//!   sets slot `i`'s bit (a run's bits: one `fetch_or` per word, slot `i`'s
//!   word last, so helpers publish a run whole) in
//!   a writer-only "written" bitmap (`Release`) and *helps*: any writer
//!   that finds the slot at `published` marked written advances `published`
//!   over the whole run of marked slots with one compare-and-swap
//!   (`AcqRel`). So once the slow earlier writer finishes, every slot
//!   written meanwhile is published at once, whichever thread gets the CPU
//!   first; no writer has to be scheduled just to publish its own slot. A
//!   writer returns only when its slot is published (spinning briefly, then
//!   yielding, then blocking on a condition variable, so a preempted writer
//!   gets the CPU instead of busy waiters).
//! - **Read**: one `Acquire` load of `published`; nothing else. Every slot
//!   below it was written before the store (or compare-and-swap) that made
//!   it visible: a fast-path store follows the writer's own slot write and
//!   its `Acquire` load of the previous value, and a helping
//!   compare-and-swap follows `Acquire` loads of the bits each writer set
//!   with `Release` after writing its slot; chained, every slot write
//!   happens-before any read that sees it published. The base pointer is a
//!   plain field that never changes, so readers need no lock and no
//!   per-element atomics; [`as_slice`](AppendVec::as_slice) is a real
//!   `&[T]`.
//!
//! Why not per-slot flags on the read path (as bucket-based peers do):
//! readers would have to scan them to find the contiguous prefix. Here the
//! flags exist only for writers, and are touched only when writers overlap.
//! In exchange for waiting, `push` returning `i` means `get(i)` is `Some`
//! from then on, in every thread that synchronises with the pusher.
//! The bitmap costs one bit of address space per element of the maximum
//! capacity, committed along with the elements.
//!
//! Zero-sized elements need no storage: a push is one compare-and-swap of
//! `published`.
//!
//! # Checked with loom
//! `collections/tests/loom_append.rs` runs this code (its private `sync` seam
//! swaps in loom's atomics, mutex and condition variable) under every
//! interleaving and every memory-model outcome up to a preemption bound:
//! a slot read not ordered after its write, a slot written before its
//! page's commit is visible, a run of `push_slice` seen in part (its bits
//! spanning two bitmap words), or a writer left blocked forever fails the
//! model. Weakening any of the orderings above to `Relaxed`, or dropping
//! either `SeqCst` fence of the wake-up handshake, is caught.

use core::fmt;
use core::marker::PhantomData;
use core::mem;
use core::ops::Index;
use core::ptr::{self, NonNull};
use core::slice;

use mallocv2::alloc::Layout;
use mallocv2::Reservation;

use crate::error::TryReserveError;
use crate::reserved::{self, capacity_panic, ReservedVec};
use sync::{
    fence, spin_loop, track_claimed, track_commit, track_read, track_write, yield_now, AtomicU64,
    AtomicUsize, Condvar, Model, Mutex, Ordering,
};

/// The synchronisation primitives the protocol uses: std's, or loom's
/// models of them when built with `RUSTFLAGS="--cfg loom"` (see
/// `collections/tests/loom_append.rs`), so the model checker runs this
/// very code.
#[cfg(not(loom))]
mod sync {
    pub(super) use core::hint::spin_loop;
    pub(super) use core::sync::atomic::{fence, AtomicU64, AtomicUsize, Ordering};
    pub(super) use std::sync::{Condvar, Mutex, MutexGuard};
    pub(super) use std::thread::yield_now;

    /// Busy-wait rounds before a writer waiting to publish yields.
    pub(super) const SPINS: u32 = 64;
    /// Yields before it blocks on the condition variable.
    pub(super) const YIELDS: u32 = 8;

    /// Reads an atomic through `&mut` (no other access can exist).
    #[inline]
    pub(super) fn get_mut(a: &mut AtomicUsize) -> usize {
        *a.get_mut()
    }

    /// Writes an atomic through `&mut`.
    #[inline]
    pub(super) fn set_mut(a: &mut AtomicUsize, v: usize) {
        *a.get_mut() = v;
    }

    /// Blocks on `cv` until notified or a millisecond passes: the timeout
    /// lets a waiter publish for a writer preempted between marking its
    /// slot and publishing it.
    #[inline]
    pub(super) fn wait<'a>(cv: &Condvar, g: MutexGuard<'a, ()>) -> MutexGuard<'a, ()> {
        match cv.wait_timeout(g, std::time::Duration::from_millis(1)) {
            Ok((g, _)) => g,
            Err(e) => e.into_inner().0,
        }
    }

    /// Records a write of slot `i` for the model checker (nothing here).
    #[inline(always)]
    pub(super) fn track_write(_m: &Model, _i: usize) {}

    /// Records reads of slots `[from, to)` (nothing here).
    #[inline(always)]
    pub(super) fn track_read(_m: &Model, _from: usize, _to: usize) {}

    /// Records that slots `[from, to)` were committed (nothing here).
    #[inline(always)]
    pub(super) fn track_commit(_m: &Model, _from: usize, _to: usize) {}

    /// Records that slot `i` is about to be written, which needs its page
    /// committed (nothing here).
    #[inline(always)]
    pub(super) fn track_claimed(_m: &Model, _i: usize) {}

    /// The model checker's extra state: none outside it.
    pub(super) struct Model;

    impl Model {
        #[inline(always)]
        pub(super) fn new(_max: usize) -> Self {
            Model
        }

        /// A bitmap to use instead of the reserved one (none here).
        #[inline(always)]
        pub(super) fn bitmap(&self) -> Option<core::ptr::NonNull<AtomicU64>> {
            None
        }
    }
}

/// loom's models; see the non-loom module for what each item is.
#[cfg(loom)]
mod sync {
    pub(super) use loom::hint::spin_loop;
    pub(super) use loom::sync::atomic::{fence, AtomicU64, AtomicUsize, Ordering};
    pub(super) use loom::sync::{Condvar, Mutex, MutexGuard};
    pub(super) use loom::thread::yield_now;

    // No spinning or yielding: each round would be a scheduling point for
    // the checker to explore, and they only delay the blocking wait.
    pub(super) const SPINS: u32 = 0;
    pub(super) const YIELDS: u32 = 0;

    pub(super) fn get_mut(a: &mut AtomicUsize) -> usize {
        a.with_mut(|v| *v)
    }

    pub(super) fn set_mut(a: &mut AtomicUsize, v: usize) {
        a.with_mut(|x| *x = v);
    }

    /// No timeout under the model: a lost wake-up shows up as a deadlock.
    pub(super) fn wait<'a>(cv: &Condvar, g: MutexGuard<'a, ()>) -> MutexGuard<'a, ()> {
        cv.wait(g).unwrap_or_else(|e| e.into_inner())
    }

    /// Models use small maxima; slots past this are not tracked.
    const TRACKED: usize = 1024;

    /// One loom cell per slot (loom reports a causality violation when a
    /// read of a slot is not ordered after its write), one per slot's page
    /// commit (written by the committing writer, read by the writer that
    /// claims the slot: the OS effect loom cannot see), and the "written"
    /// bitmap as loom atomics (loom cannot model atomics in raw memory).
    pub(super) struct Model {
        cells: Box<[loom::cell::UnsafeCell<()>]>,
        pages: Box<[loom::cell::UnsafeCell<()>]>,
        bits: Box<[AtomicU64]>,
    }

    impl Model {
        pub(super) fn new(max: usize) -> Self {
            let n = max.min(TRACKED);
            let cells = || (0..n).map(|_| loom::cell::UnsafeCell::new(())).collect();
            Model {
                cells: cells(),
                pages: cells(),
                bits: (0..n.div_ceil(64).max(1))
                    .map(|_| AtomicU64::new(0))
                    .collect(),
            }
        }

        pub(super) fn bitmap(&self) -> Option<core::ptr::NonNull<AtomicU64>> {
            core::ptr::NonNull::new(self.bits.as_ptr().cast_mut())
        }
    }

    pub(super) fn track_write(m: &Model, i: usize) {
        if let Some(c) = m.cells.get(i) {
            c.with_mut(|_| ());
        }
    }

    pub(super) fn track_read(m: &Model, from: usize, to: usize) {
        for c in m.cells.iter().take(to).skip(from) {
            c.with(|_| ());
        }
    }

    pub(super) fn track_commit(m: &Model, from: usize, to: usize) {
        for c in m.pages.iter().take(to).skip(from) {
            c.with_mut(|_| ());
        }
    }

    pub(super) fn track_claimed(m: &Model, i: usize) {
        if let Some(c) = m.pages.get(i) {
            c.with(|_| ());
        }
    }
}

/// Bytes of "written" bitmap for `n` elements (whole `u64` words).
const fn bitmap_bytes(n: usize) -> usize {
    n.div_ceil(64) * 8
}

/// The reservations, behind the commit lock.
struct Storage {
    /// The elements; `None` for zero-sized `T` or a maximum of 0.
    elems: Option<Reservation>,
    /// The writers' "slot written" bitmap, one bit per element of the
    /// maximum capacity; `None` exactly when `elems` is. Its committed part
    /// covers at least `committed` elements.
    done: Option<Reservation>,
}

/// Reserves the elements and the bitmap for up to `max` elements of `T`
/// (non-zero-sized); with `fallback`, halves `max` until the OS accepts.
fn reserve_storage<T>(
    max: usize,
    fallback: bool,
) -> Result<(Reservation, Reservation, usize), TryReserveError> {
    let mut want = max;
    loop {
        let r = reserved::reserve_for::<T>(want, want.min(1), false).and_then(|(elems, m)| {
            let bytes = bitmap_bytes(m);
            match Reservation::new(bytes) {
                Ok(done) => Ok((elems, done, m)),
                Err(_) => Err(TryReserveError::AllocError {
                    layout: Layout::from_size_align(bytes, 8)
                        .map_err(|_| TryReserveError::CapacityOverflow)?,
                }),
            }
        });
        match r {
            Err(TryReserveError::AllocError { .. }) if fallback && want > 1 => want /= 2,
            r => return r,
        }
    }
}

/// Keeps the writers' claim counter off the readers' cache line.
#[repr(align(128))]
struct CachePadded<T>(T);

/// A contiguous, never-moving, append-only vector with `push(&self)`.
///
/// One [`Reservation`] holds the elements; the base address never changes,
/// so `&T` returned by [`get`](Self::get) and slices from
/// [`as_slice`](Self::as_slice) stay valid while other threads push. See the
/// [module docs](self) for the protocol and its memory-ordering argument.
///
/// # Guarantees and costs
/// - `push` returns the element's index; it is visible (`get(i)` is `Some`)
///   when `push` returns. Pushes are published in index order.
/// - Reads (`len`, `get`, `as_slice`, `iter`) cost one `Acquire` load.
/// - Growth commits pages in place under a mutex (rare: the committed part
///   at least doubles each time); elements never move.
/// - Pushes cost one compare-and-swap to claim a slot, the move of `T`, and
///   one load and one store to publish it ([`push_slice`](Self::push_slice)
///   and [`append`](Self::append) pay that once per run); when pushes overlap, a writer
///   whose predecessor is still writing marks its slot in a writer-only
///   bitmap and returns once that predecessor (or anyone) publishes both.
/// - The maximum capacity is fixed at construction (the reservation);
///   `new` reserves [`DEFAULT_MAX_BYTES`](crate::reserved::DEFAULT_MAX_BYTES)
///   up front (falling back to smaller reservations if the OS refuses), plus
///   one bit per element for the writers' bitmap (1/8 of that again for
///   `u8` elements, less for larger ones). No memory is committed until the
///   first push.
/// - `Sync` needs `T: Send + Sync` (pushing through `&self` moves `T` into
///   the vector from any thread; `get` shares `&T`); `Send` needs `T: Send`.
///
/// # Example
/// ```
/// use mallocv2_collections::AppendVec;
///
/// let v = AppendVec::new();
/// std::thread::scope(|s| {
///     for t in 0..4 {
///         let v = &v;
///         s.spawn(move || {
///             for i in 0..1000 {
///                 let idx = v.push(t * 1000 + i);
///                 assert_eq!(v.get(idx), Some(&(t * 1000 + i)));
///             }
///         });
///     }
/// });
/// let mut all = v.into_vec();
/// all.sort();
/// assert_eq!(all, (0..4000).collect::<Vec<_>>());
/// ```
///
/// `AppendVec<T>` is not `Sync` unless `T: Sync` …
/// ```compile_fail
/// use mallocv2_collections::AppendVec;
/// fn sync<T: Sync>(_: &T) {}
/// sync(&AppendVec::<core::cell::Cell<u8>>::new());
/// ```
/// … nor unless `T: Send` (another thread could push a `T` through `&self`):
/// ```compile_fail
/// use mallocv2_collections::AppendVec;
/// fn sync<T: Sync>(_: &T) {}
/// sync(&AppendVec::<std::sync::MutexGuard<'static, u8>>::new());
/// ```
/// and not `Send` unless `T: Send`:
/// ```compile_fail
/// use mallocv2_collections::AppendVec;
/// fn send<T: Send>(_: T) {}
/// send(AppendVec::<std::rc::Rc<u8>>::new());
/// ```
/// With `T: Send + Sync` it is both:
/// ```
/// use mallocv2_collections::AppendVec;
/// fn both<T: Send + Sync>(_: &T) {}
/// both(&AppendVec::<std::sync::Arc<u8>>::new());
/// ```
pub struct AppendVec<T> {
    /// Base of the elements: the reservation's base, or dangling (aligned)
    /// for zero-sized `T` or a maximum of 0. Never changes.
    ptr: NonNull<T>,
    /// Maximum capacity; fixed. `max * size_of::<T>() <= reservation len`.
    max: usize,
    /// `[0, published)` is initialised and visible to readers. Stored
    /// (`Release`) only by the writer of index `published`, read with
    /// `Acquire`. Invariant: `published <= claimed`.
    published: AtomicUsize,
    /// Elements that fit in committed memory (capped at `max`), with their
    /// bitmap bits committed too; only grows, stored with `Release` under
    /// `res`'s lock after the pages are committed. Invariant:
    /// `claimed <= committed <= max`, and `committed` is at most what the
    /// element reservation holds (less after a failed bitmap commit).
    committed: AtomicUsize,
    /// `[0, claimed)` are owned by writers (published or being written).
    /// Unused for zero-sized `T`.
    claimed: CachePadded<AtomicUsize>,
    /// Base of the writers' "written" bitmap (`u64` words, bit `i % 64` of
    /// word `i / 64` for slot `i`), dangling when there is none. Never
    /// changes. Only writers read it, and only at indices `< committed`.
    done: NonNull<AtomicU64>,
    /// The reservations; the lock serialises commits (readers never take
    /// it).
    res: Mutex<Storage>,
    /// Writers blocked in `wait_for` (registered before they check).
    waiters: AtomicUsize,
    /// Lock and condition variable for blocked writers (never readers).
    wait_lock: Mutex<()>,
    /// Notified after a publish when `waiters > 0`.
    wake: Condvar,
    /// The model checker's state (zero-sized in normal builds).
    model: Model,
    /// Owns `T`s.
    _marker: PhantomData<T>,
}

// SAFETY: an AppendVec owns its elements (and reservation) like a `Vec<T>`;
// sending it sends the `T`s, hence `T: Send`.
unsafe impl<T: Send> Send for AppendVec<T> {}
// SAFETY: through `&AppendVec<T>`, any thread can push a `T` (moving it in
// from that thread: `T: Send`) and get `&T` (sharing it: `T: Sync`). All
// shared mutable state is atomic or behind the mutex, and slots are written
// only by the writer that claimed them, before publication.
unsafe impl<T: Send + Sync> Sync for AppendVec<T> {}

impl<T> AppendVec<T> {
    const IS_ZST: bool = mem::size_of::<T>() == 0;

    /// An empty vector with the default maximum capacity
    /// ([`DEFAULT_MAX_BYTES`](crate::reserved::DEFAULT_MAX_BYTES) of address
    /// space, reserved now; if the OS refuses, halved until it accepts, down
    /// to one page).
    ///
    /// # Panics
    /// When not even one page of address space can be reserved; see
    /// [`try_new`](Self::try_new).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::AppendVec;
    ///
    /// let v = AppendVec::<u64>::new();
    /// assert!(v.max_capacity() >= 512);
    /// ```
    #[track_caller]
    pub fn new() -> Self {
        Self::try_new().unwrap_or_else(|e| capacity_panic("AppendVec::new", e))
    }

    /// Fallible [`new`](Self::new).
    ///
    /// # Errors
    /// [`TryReserveError::AllocError`] when no reservation could be made.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::AppendVec;
    ///
    /// let v = AppendVec::<u8>::try_new()?;
    /// assert!(v.is_empty());
    /// # Ok::<(), mallocv2_collections::TryReserveError>(())
    /// ```
    pub fn try_new() -> Result<Self, TryReserveError> {
        Self::build(reserved::default_max::<T>(), true)
    }

    /// An empty vector for up to `max_capacity` elements, reserving exactly
    /// that (rounded up to whole pages) now.
    ///
    /// # Panics
    /// When the reservation fails; see
    /// [`try_with_max_capacity`](Self::try_with_max_capacity).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::{AppendVec, TryReserveError};
    ///
    /// let v = AppendVec::with_max_capacity(2);
    /// v.push('a');
    /// v.push('b');
    /// assert_eq!(v.try_push('c'), Err(TryReserveError::Exhausted { max_capacity: 2 }));
    /// ```
    #[track_caller]
    pub fn with_max_capacity(max_capacity: usize) -> Self {
        Self::try_with_max_capacity(max_capacity)
            .unwrap_or_else(|e| capacity_panic("AppendVec::with_max_capacity", e))
    }

    /// Fallible [`with_max_capacity`](Self::with_max_capacity).
    ///
    /// # Errors
    /// [`TryReserveError::CapacityOverflow`] above `isize::MAX` bytes;
    /// [`TryReserveError::AllocError`] when the OS refuses.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::{AppendVec, TryReserveError};
    ///
    /// let r = AppendVec::<u32>::try_with_max_capacity(usize::MAX);
    /// assert_eq!(r.err(), Some(TryReserveError::CapacityOverflow));
    /// ```
    pub fn try_with_max_capacity(max_capacity: usize) -> Result<Self, TryReserveError> {
        Self::build(max_capacity, false)
    }

    fn build(max: usize, fallback: bool) -> Result<Self, TryReserveError> {
        let (storage, max) = if Self::IS_ZST || max == 0 {
            (
                Storage {
                    elems: None,
                    done: None,
                },
                max,
            )
        } else {
            let (elems, done, max) = reserve_storage::<T>(max, fallback)?;
            (
                Storage {
                    elems: Some(elems),
                    done: Some(done),
                },
                max,
            )
        };
        Ok(Self::from_storage(storage, max, 0, 0))
    }

    /// Assembles a vector over `storage` whose first `len` elements are
    /// initialised and `committed` fit in committed memory.
    fn from_storage(storage: Storage, max: usize, len: usize, committed: usize) -> Self {
        let ptr = storage
            .elems
            .as_ref()
            .map_or(NonNull::dangling(), |r| r.as_ptr().cast());
        let model = Model::new(max);
        let done = model.bitmap().unwrap_or_else(|| {
            storage
                .done
                .as_ref()
                .map_or(NonNull::dangling(), |r| r.as_ptr().cast())
        });
        AppendVec {
            ptr,
            max,
            published: AtomicUsize::new(len),
            committed: AtomicUsize::new(if Self::IS_ZST { max } else { committed }),
            claimed: CachePadded(AtomicUsize::new(len)),
            done,
            res: Mutex::new(storage),
            waiters: AtomicUsize::new(0),
            wait_lock: Mutex::new(()),
            wake: Condvar::new(),
            model,
            _marker: PhantomData,
        }
    }

    /// Appends `value` and returns its index. The element is visible to
    /// [`get`](Self::get) when this returns.
    ///
    /// # Panics
    /// When the vector is at its maximum capacity (the message names it) or
    /// committing memory fails; see [`try_push`](Self::try_push).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::AppendVec;
    ///
    /// let v = AppendVec::new();
    /// assert_eq!(v.push("x"), 0);
    /// assert_eq!(v.push("y"), 1);
    /// ```
    #[inline]
    #[track_caller]
    pub fn push(&self, value: T) -> usize {
        match self.try_push(value) {
            Ok(i) => i,
            Err(e) => capacity_panic("AppendVec::push", e),
        }
    }

    /// Appends `value` and returns its index, or returns an error (dropping
    /// `value`); the vector is unchanged then and other writers are not held
    /// up.
    ///
    /// # Errors
    /// [`TryReserveError::Exhausted`] at the maximum capacity;
    /// [`TryReserveError::AllocError`] when committing memory fails.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::{AppendVec, TryReserveError};
    ///
    /// let v = AppendVec::with_max_capacity(1);
    /// assert_eq!(v.try_push(5), Ok(0));
    /// assert_eq!(v.try_push(6), Err(TryReserveError::Exhausted { max_capacity: 1 }));
    /// assert_eq!(v.as_slice(), &[5]);
    /// ```
    #[inline]
    pub fn try_push(&self, value: T) -> Result<usize, TryReserveError> {
        if Self::IS_ZST {
            // No storage and nothing to write: claiming is publishing.
            let max = self.max;
            let i = self
                .published
                .fetch_update(Ordering::Release, Ordering::Relaxed, |p| {
                    (p < max).then_some(p + 1)
                })
                .map_err(|_| TryReserveError::Exhausted { max_capacity: max })?;
            // The value now lives in slot `i` (a zero-sized slot): it is
            // dropped with the vector.
            mem::forget(value);
            return Ok(i);
        }
        let i = self.claim(1)?;
        track_claimed(&self.model, i);
        // SAFETY: `claim` handed out slot `i` to this call only, and
        // `i < committed`: the slot is committed memory inside the
        // reservation, uninitialised, and no reader looks at it before it
        // is published below.
        unsafe { self.ptr.as_ptr().add(i).write(value) };
        track_write(&self.model, i);
        self.publish(i, 1);
        Ok(i)
    }

    /// Appends copies of `values` at consecutive indices with one claim and
    /// returns the index of the first (for an empty slice: [`len`](Self::len),
    /// and nothing changes). The whole run becomes visible to readers at
    /// once, when this returns at the latest: a reader sees all of it or
    /// none of it.
    ///
    /// One claim, one copy and one publish for the run, where a loop of
    /// [`push`](Self::push) synchronises once per element; runs of other
    /// writers never interleave with it.
    ///
    /// # Panics
    /// When the run does not fit in the maximum capacity (the message names
    /// it) or committing memory fails; see
    /// [`try_push_slice`](Self::try_push_slice).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::AppendVec;
    ///
    /// let v = AppendVec::new();
    /// std::thread::scope(|s| {
    ///     for t in 0..2u64 {
    ///         let v = &v;
    ///         s.spawn(move || {
    ///             let run = [t; 1024];
    ///             for _ in 0..10 {
    ///                 let first = v.push_slice(&run);
    ///                 assert_eq!(&v.as_slice()[first..first + 1024], &run);
    ///             }
    ///         });
    ///     }
    /// });
    /// assert_eq!(v.len(), 20 * 1024);
    /// ```
    #[inline]
    #[track_caller]
    pub fn push_slice(&self, values: &[T]) -> usize
    where
        T: Copy,
    {
        match self.try_push_slice(values) {
            Ok(i) => i,
            Err(e) => capacity_panic("AppendVec::push_slice", e),
        }
    }

    /// Like [`push_slice`](Self::push_slice), returning an error instead of
    /// panicking; on error no element of `values` was appended (the run is
    /// refused whole, never split) and other writers are not held up.
    ///
    /// # Errors
    /// [`TryReserveError::Exhausted`] when the run does not fit in what is
    /// left of the maximum capacity;
    /// [`TryReserveError::AllocError`] when committing memory fails.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::{AppendVec, TryReserveError};
    ///
    /// let v = AppendVec::with_max_capacity(4);
    /// assert_eq!(v.try_push_slice(&[1, 2, 3]), Ok(0));
    /// assert_eq!(
    ///     v.try_push_slice(&[4, 5]),
    ///     Err(TryReserveError::Exhausted { max_capacity: 4 })
    /// );
    /// assert_eq!(v.try_push_slice(&[4]), Ok(3));
    /// assert_eq!(v.as_slice(), &[1, 2, 3, 4]);
    /// ```
    pub fn try_push_slice(&self, values: &[T]) -> Result<usize, TryReserveError>
    where
        T: Copy,
    {
        // SAFETY: `values` is `values.len()` readable elements; copies of
        // `T: Copy` need no ownership, so the source stays as it is.
        unsafe { self.push_run(values.as_ptr(), values.len()) }
    }

    /// Moves all elements of `other` to the end of this vector as one run
    /// (as [`push_slice`](Self::push_slice) does, for any `T`), leaving
    /// `other` empty (its capacity kept), and returns the index of the
    /// first (for an empty `other`: [`len`](Self::len)). The run becomes
    /// visible to readers whole.
    ///
    /// # Panics
    /// When the run does not fit in the maximum capacity (the message names
    /// it) or committing memory fails; see [`try_append`](Self::try_append).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::AppendVec;
    ///
    /// let v = AppendVec::new();
    /// v.push(String::from("a"));
    /// let mut batch = vec![String::from("b"), String::from("c")];
    /// assert_eq!(v.append(&mut batch), 1);
    /// assert!(batch.is_empty());
    /// assert_eq!(v.as_slice(), ["a", "b", "c"]);
    /// ```
    #[inline]
    #[track_caller]
    pub fn append(&self, other: &mut std::vec::Vec<T>) -> usize {
        match self.try_append(other) {
            Ok(i) => i,
            Err(e) => capacity_panic("AppendVec::append", e),
        }
    }

    /// Like [`append`](Self::append), returning an error instead of
    /// panicking; on error `other` keeps every element and this vector is
    /// unchanged.
    ///
    /// # Errors
    /// As [`try_push_slice`](Self::try_push_slice).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::{AppendVec, TryReserveError};
    ///
    /// let v = AppendVec::with_max_capacity(2);
    /// let mut batch = vec![Box::new(1), Box::new(2), Box::new(3)];
    /// assert_eq!(v.try_append(&mut batch), Err(TryReserveError::Exhausted { max_capacity: 2 }));
    /// assert_eq!(batch.len(), 3);
    /// batch.pop();
    /// assert_eq!(v.try_append(&mut batch), Ok(0));
    /// assert_eq!(v.len(), 2);
    /// ```
    pub fn try_append(&self, other: &mut std::vec::Vec<T>) -> Result<usize, TryReserveError> {
        // SAFETY: `other` holds `len` initialised elements; on success they
        // were moved (bitwise) into this vector, and setting `other`'s
        // length to 0 makes it forget them, so each is dropped once, by
        // this vector. On error nothing was read out.
        unsafe {
            let i = self.push_run(other.as_ptr(), other.len())?;
            other.set_len(0);
            Ok(i)
        }
    }

    /// Appends a bitwise copy of the `n` elements at `src` as one run with
    /// one claim and returns the index of the first (`len()` for `n == 0`).
    /// Reads nothing from `src` on error.
    ///
    /// # Safety
    /// `src` is valid for reading `n` initialised elements. On success the
    /// vector owns the copies: the caller must not drop the originals
    /// unless `T: Copy`.
    unsafe fn push_run(&self, src: *const T, n: usize) -> Result<usize, TryReserveError> {
        if n == 0 {
            return Ok(self.len());
        }
        if Self::IS_ZST {
            // As in `try_push`: claiming is publishing, and the values
            // (zero-sized, nothing to copy) are the vector's from then on.
            let max = self.max;
            return self
                .published
                .fetch_update(Ordering::Release, Ordering::Relaxed, |p| {
                    // (`p + n` only when it fits: no overflow)
                    if n <= max - p {
                        Some(p + n)
                    } else {
                        None
                    }
                })
                .map_err(|_| TryReserveError::Exhausted { max_capacity: max });
        }
        let i = self.claim(n)?;
        for k in i..i + n {
            track_claimed(&self.model, k);
        }
        // SAFETY: `claim` handed out slots `[i, i + n)` to this call only,
        // all below `committed`: committed, uninitialised memory inside the
        // reservation that no reader looks at before the publish below.
        // `src` cannot overlap them: it is caller memory, or published
        // slots of this vector (all below `published <= i`). A bitwise copy
        // cannot panic, so every claimed slot gets written.
        unsafe { ptr::copy_nonoverlapping(src, self.ptr.as_ptr().add(i), n) };
        for k in i..i + n {
            track_write(&self.model, k);
        }
        self.publish(i, n);
        Ok(i)
    }

    /// Claims the next `n >= 1` indices (consecutive), committing more
    /// memory first if needed; returns the first. Claims nothing on error.
    #[inline]
    fn claim(&self, n: usize) -> Result<usize, TryReserveError> {
        debug_assert!(n >= 1, "claim of {n} slots");
        let mut c = self.claimed.0.load(Ordering::Relaxed);
        loop {
            // `c <= max`, so an overflow here means "more than fits".
            let end = c.checked_add(n).ok_or(TryReserveError::CapacityOverflow)?;
            // Acquire pairs with the Release store in `commit_more`: the
            // pages below `committed` are writable for this thread.
            if end <= self.committed.load(Ordering::Acquire) {
                match self.claimed.0.compare_exchange_weak(
                    c,
                    end,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return Ok(c),
                    Err(now) => {
                        c = now;
                        continue;
                    }
                }
            }
            self.commit_more(end - 1)?;
            c = self.claimed.0.load(Ordering::Relaxed);
        }
    }

    /// Commits memory so that index `at` fits. Changes nothing on error.
    #[cold]
    #[inline(never)]
    fn commit_more(&self, at: usize) -> Result<(), TryReserveError> {
        if at >= self.max {
            return Err(TryReserveError::Exhausted {
                max_capacity: self.max,
            });
        }
        // A poisoned lock is harmless: nothing panics while it is held
        // with the reservation in an inconsistent state.
        let mut guard = self.res.lock().unwrap_or_else(|e| e.into_inner());
        let committed = self.committed.load(Ordering::Relaxed);
        if at < committed {
            return Ok(()); // another writer committed meanwhile
        }
        let storage = &mut *guard;
        let (Some(elems), Some(done)) = (storage.elems.as_mut(), storage.done.as_mut()) else {
            return Err(TryReserveError::Exhausted {
                max_capacity: self.max,
            });
        };
        let cap = reserved::commit_for::<T>(elems, at + 1, self.max, false)?;
        // The bitmap covers every committed slot before `committed` says
        // so. (If this fails, the extra element pages just stay unused.)
        let bits = bitmap_bytes(cap);
        done.commit(bits).map_err(|_| TryReserveError::AllocError {
            layout: Layout::from_size_align(bits, 8).unwrap_or(Layout::new::<u64>()),
        })?;
        debug_assert!(
            cap > at && cap >= committed,
            "AppendVec commit: at {at}, cap {cap}, was {committed}"
        );
        track_commit(&self.model, committed, cap);
        self.committed.store(cap, Ordering::Release);
        Ok(())
    }

    /// Publishes slots `[i, i + n)` (written, `n >= 1`) and returns once
    /// they are published.
    #[inline]
    fn publish(&self, i: usize, n: usize) {
        if self.published.load(Ordering::Acquire) == i {
            // Every earlier slot is published, and nobody else can move
            // `published` from `i` (slot `i`'s bit is not set): a plain
            // Release store publishes our writes, the whole run at once.
            self.published.store(i + n, Ordering::Release);
            self.after_advance();
        } else {
            self.publish_slow(i, n);
        }
    }

    /// Wakes blocked writers after `published` moved.
    #[inline]
    fn after_advance(&self) {
        // Pairs with the fence in `wait_for` (a store-load handshake): either
        // the waiter sees the new `published`, or we see its registration
        // and wake it.
        fence(Ordering::SeqCst);
        if self.waiters.load(Ordering::Relaxed) > 0 {
            self.wake_waiters();
        }
    }

    /// Slot `i`'s bitmap word and bit.
    ///
    /// # Safety
    /// `i < committed` (so the word is in committed bitmap memory), and `T`
    /// is not zero-sized.
    #[inline]
    unsafe fn done_bit(&self, i: usize) -> (&AtomicU64, u64) {
        debug_assert!(
            !Self::IS_ZST && i < self.committed.load(Ordering::Relaxed),
            "done_bit({i}) with committed {}",
            self.committed.load(Ordering::Relaxed)
        );
        // SAFETY: the bitmap's committed part covers every index below
        // `committed` (the caller's promise), zero-initialised by the OS and
        // only accessed atomically.
        (unsafe { &*self.done.as_ptr().add(i / 64) }, 1 << (i % 64))
    }

    /// Whether slot `i` is marked written (`Acquire`: its write
    /// happens-before our later Release of `published`).
    ///
    /// # Safety
    /// As [`done_bit`](Self::done_bit).
    #[inline]
    unsafe fn is_done(&self, i: usize) -> bool {
        // SAFETY: forwarded from the caller.
        let (word, bit) = unsafe { self.done_bit(i) };
        word.load(Ordering::Acquire) & bit != 0
    }

    /// First index from `p` on that is not marked written (`p` itself when
    /// slot `p` is still being written), reading a whole bitmap word at a
    /// time.
    fn scan_done(&self, p: usize) -> usize {
        // Bits at or past `committed` may not be committed memory: stop
        // there.
        let limit = self.committed.load(Ordering::Acquire);
        let mut q = p;
        while q < limit {
            // SAFETY: `q < limit <= committed`; `T` is not zero-sized (no
            // zero-sized push gets here).
            let (word, _) = unsafe { self.done_bit(q) };
            let shift = q % 64;
            // Acquire: the writes of the slots whose bits we see
            // happen-before our later Release of `published`. The shift
            // brings in zeros, so the run ends inside this word.
            let run = (word.load(Ordering::Acquire) >> shift).trailing_ones() as usize;
            q += run;
            if shift + run < 64 {
                break;
            }
        }
        q.min(limit)
    }

    /// Marks slots `[i, i + n)` written (`n >= 1`): one `Release`
    /// `fetch_or` per bitmap word, from the last word down to the first, so
    /// slot `i`'s bit is set last. A helper scans upwards from `published`
    /// and stops at the first clear bit, so it cannot pass `i` before it
    /// sees slot `i`'s bit, and that `Acquire` load of the word makes every
    /// earlier `fetch_or` of ours visible to its later loads of the
    /// run's other words: a run is published whole or not at all.
    fn mark_done(&self, i: usize, n: usize) {
        let mut hi = i + n;
        while hi > i {
            // The bits `[lo, hi)` of one word.
            let lo = ((hi - 1) & !63).max(i);
            let width = hi - lo;
            let mask = if width == 64 {
                u64::MAX
            } else {
                ((1u64 << width) - 1) << (lo % 64)
            };
            // SAFETY: `lo < i + n <= claimed <= committed`; not
            // zero-sized.
            let (word, _) = unsafe { self.done_bit(lo) };
            // Release: whoever sees the bits (with Acquire) sees our slot
            // writes.
            word.fetch_or(mask, Ordering::Release);
            hi = lo;
        }
    }

    /// Publishing when an earlier slot is still being written: mark slots
    /// `[i, i + n)` written, then help advance `published` until it passes
    /// them.
    #[cold]
    #[inline(never)]
    // Under loom both bounds are 0 (see `sync`).
    #[cfg_attr(loom, allow(clippy::absurd_extreme_comparisons))]
    fn publish_slow(&self, i: usize, n: usize) {
        self.mark_done(i, n);
        let mut tries = 0u32;
        loop {
            let p = self.published.load(Ordering::Acquire);
            if p >= i + n {
                return;
            }
            let q = self.scan_done(p);
            if q > p {
                // Slots `[p, q)` are written: publish them all. AcqRel: the
                // Acquire loads of their bits come first, and our Release
                // carries those writes to readers.
                if self
                    .published
                    .compare_exchange(p, q, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    self.after_advance();
                }
                continue;
            }
            // Slot `p` is still being written by its writer: wait for it.
            if tries < sync::SPINS {
                spin_loop();
            } else if tries < sync::SPINS + sync::YIELDS {
                yield_now();
            } else {
                self.wait_for(p);
            }
            tries = tries.saturating_add(1);
        }
    }

    /// Blocks until `published` moves past `p` or slot `p` is marked
    /// written, so a preempted writer gets the CPU instead of spinners.
    #[cold]
    #[inline(never)]
    fn wait_for(&self, p: usize) {
        self.waiters.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let mut guard = self.wait_lock.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: `p <= i < committed` for the caller's slot `i`.
        while self.published.load(Ordering::Acquire) == p && !unsafe { self.is_done(p) } {
            // Slot `p`'s writer wakes us when it publishes; if it is
            // preempted between marking its slot and publishing, the timeout
            // lets us see the mark and publish for it.
            guard = sync::wait(&self.wake, guard);
        }
        drop(guard);
        self.waiters.fetch_sub(1, Ordering::Relaxed);
    }

    #[cold]
    #[inline(never)]
    fn wake_waiters(&self) {
        // Taking the lock orders the notification after a waiter's check.
        let _guard = self.wait_lock.lock().unwrap_or_else(|e| e.into_inner());
        self.wake.notify_all();
    }

    /// Number of published elements.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::AppendVec;
    ///
    /// let v = AppendVec::new();
    /// v.push(1);
    /// assert_eq!(v.len(), 1);
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.published.load(Ordering::Acquire)
    }

    /// True when no element is published.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::AppendVec;
    ///
    /// assert!(AppendVec::<u8>::new().is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Elements that fit in committed memory (pushes below it make no
    /// system call).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::AppendVec;
    ///
    /// let v = AppendVec::new();
    /// v.push(0u8);
    /// assert!(v.capacity() >= 1);
    /// ```
    #[inline]
    pub fn capacity(&self) -> usize {
        self.committed.load(Ordering::Relaxed)
    }

    /// The most elements this vector can hold.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::AppendVec;
    ///
    /// assert_eq!(AppendVec::<u8>::with_max_capacity(7).max_capacity(), 7);
    /// ```
    #[inline]
    pub fn max_capacity(&self) -> usize {
        self.max
    }

    /// The published element at `index`, if any.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::AppendVec;
    ///
    /// let v = AppendVec::new();
    /// let i = v.push(10);
    /// assert_eq!(v.get(i), Some(&10));
    /// assert_eq!(v.get(i + 1), None);
    /// ```
    #[inline]
    pub fn get(&self, index: usize) -> Option<&T> {
        if index < self.len() {
            track_read(&self.model, index, index + 1);
            // SAFETY: `index < published` (Acquire): the slot is initialised
            // and its write happens-before this read; published slots are
            // never written again while `&self` exists.
            Some(unsafe { &*self.ptr.as_ptr().add(index) })
        } else {
            None
        }
    }

    /// The element at `index`, mutably (needs `&mut self`).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::AppendVec;
    ///
    /// let mut v = AppendVec::new();
    /// v.push(1);
    /// *v.get_mut(0).unwrap() = 2;
    /// assert_eq!(v[0], 2);
    /// ```
    #[inline]
    pub fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.as_mut_slice().get_mut(index)
    }

    /// The published prefix as a slice: contiguous, and still valid while
    /// other threads push (it does not grow; call again to see more).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::AppendVec;
    ///
    /// let v = AppendVec::new();
    /// v.push(1);
    /// let s = v.as_slice();
    /// v.push(2);
    /// assert_eq!(s, &[1]);
    /// assert_eq!(v.as_slice(), &[1, 2]);
    /// ```
    #[inline]
    pub fn as_slice(&self) -> &[T] {
        let len = self.len();
        track_read(&self.model, 0, len);
        // SAFETY: `[0, published)` is initialised, its writes happen-before
        // the Acquire load above, it is never written or moved while `&self`
        // exists, and `ptr` is aligned and non-null.
        unsafe { slice::from_raw_parts(self.ptr.as_ptr(), len) }
    }

    /// The elements as a mutable slice (needs `&mut self`).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::AppendVec;
    ///
    /// let mut v = AppendVec::new();
    /// v.push(2);
    /// v.push(1);
    /// v.as_mut_slice().sort();
    /// assert_eq!(v.as_slice(), &[1, 2]);
    /// ```
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        let len = sync::get_mut(&mut self.published);
        // SAFETY: as in `as_slice`; `&mut self` excludes every other access.
        unsafe { slice::from_raw_parts_mut(self.ptr.as_ptr(), len) }
    }

    /// Iterates over the elements published when it is called.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::AppendVec;
    ///
    /// let v: AppendVec<_> = (1..=3).collect();
    /// assert_eq!(v.iter().sum::<i32>(), 6);
    /// ```
    #[inline]
    pub fn iter(&self) -> slice::Iter<'_, T> {
        self.as_slice().iter()
    }

    /// Converts into a [`ReservedVec`] without copying: same reservation,
    /// same addresses, same maximum capacity.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::AppendVec;
    ///
    /// let v = AppendVec::new();
    /// v.push(1);
    /// let p = v.as_slice().as_ptr();
    /// let mut r = v.into_reserved();
    /// r.push(2);
    /// assert_eq!(r.as_ptr(), p);
    /// assert_eq!(r, [1, 2]);
    /// ```
    pub fn into_reserved(mut self) -> ReservedVec<T> {
        let len = sync::get_mut(&mut self.published);
        let committed = sync::get_mut(&mut self.committed);
        let claimed = sync::get_mut(&mut self.claimed.0);
        debug_assert!(
            (len == claimed || Self::IS_ZST) && len <= committed && committed <= self.max,
            "AppendVec: published {len}, claimed {claimed}, committed {committed}, max {}",
            self.max
        );
        // Uncontended (`self` is owned); a poisoned lock changes nothing.
        let mut storage = self.res.lock().unwrap_or_else(|e| e.into_inner());
        let res = storage.elems.take();
        // The capacity comes from the reservation itself: `committed` can be
        // below it when a commit of element pages succeeded but the
        // bitmap's failed (`commit_more` then reports the error and leaves
        // `committed` as it was).
        let cap = match &res {
            Some(r) => (r.committed() / mem::size_of::<T>()).min(self.max),
            None => committed,
        };
        debug_assert!(
            cap >= committed,
            "AppendVec: cap {cap} < committed {committed}"
        );
        // The bitmap is no longer needed.
        drop(storage.done.take());
        drop(storage);
        let (ptr, max) = (self.ptr, self.max);
        // The elements and the reservation now belong to the new vector:
        // the empty shell drops nothing.
        sync::set_mut(&mut self.published, 0);
        sync::set_mut(&mut self.claimed.0, 0);
        drop(self);
        // SAFETY: the parts describe this vector's storage: `res` holds
        // `max` elements at `ptr`, `cap` of them committed, the first `len`
        // initialised, and nothing else owns them any more.
        unsafe { ReservedVec::from_parts(res, ptr, len, cap, max) }
    }

    /// Moves the elements into a std `Vec` (one copy); see
    /// [`into_reserved`](Self::into_reserved) for a copy-free conversion.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::AppendVec;
    ///
    /// let v = AppendVec::new();
    /// v.push('a');
    /// assert_eq!(v.into_vec(), vec!['a']);
    /// ```
    pub fn into_vec(self) -> std::vec::Vec<T> {
        self.into_reserved().into()
    }
}

impl<T> Drop for AppendVec<T> {
    fn drop(&mut self) {
        let (published, claimed) = (
            sync::get_mut(&mut self.published),
            sync::get_mut(&mut self.claimed.0),
        );
        debug_assert!(
            Self::IS_ZST || published == claimed,
            "AppendVec dropped with published {published} != claimed {claimed}"
        );
        let s: *mut [T] = self.as_mut_slice();
        // SAFETY: exactly the published elements are initialised; each is
        // dropped once. The reservation is released by its own `Drop`.
        unsafe { ptr::drop_in_place(s) };
    }
}

impl<T> Default for AppendVec<T> {
    /// [`AppendVec::new`].
    #[track_caller]
    fn default() -> Self {
        Self::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for AppendVec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_slice(), f)
    }
}

impl<T: Clone> Clone for AppendVec<T> {
    /// A new vector (same maximum capacity) with clones of the published
    /// elements.
    #[track_caller]
    fn clone(&self) -> Self {
        let v = Self::with_max_capacity(self.max);
        for x in self.iter() {
            v.push(x.clone());
        }
        v
    }
}

impl<T: PartialEq<U>, U> PartialEq<AppendVec<U>> for AppendVec<T> {
    fn eq(&self, other: &AppendVec<U>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: Eq> Eq for AppendVec<T> {}

impl<T> Index<usize> for AppendVec<T> {
    type Output = T;
    /// # Panics
    /// When `index >= len()`.
    #[track_caller]
    fn index(&self, index: usize) -> &T {
        match self.get(index) {
            Some(x) => x,
            None => panic!(
                "index out of bounds: the len is {} but the index is {index}",
                self.len()
            ),
        }
    }
}

impl<T> FromIterator<T> for AppendVec<T> {
    /// Collects into a vector with the default maximum capacity.
    ///
    /// # Panics
    /// When the items exceed it.
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let v = Self::new();
        for x in iter {
            v.push(x);
        }
        v
    }
}

impl<T> Extend<T> for AppendVec<T> {
    #[track_caller]
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for x in iter {
            self.push(x);
        }
    }
}

impl<T> From<ReservedVec<T>> for AppendVec<T> {
    /// Takes over the vector's reservation without copying (reserving it
    /// first if the vector never grew).
    ///
    /// # Panics
    /// When that first reservation fails.
    #[track_caller]
    fn from(mut v: ReservedVec<T>) -> Self {
        if let Err(e) = v.ensure_reserved() {
            capacity_panic("AppendVec::from", e)
        }
        // The bitmap: reserved for the maximum, committed for the capacity.
        // Bits below `len` are never looked at (`published` starts there).
        let done = if v.max_capacity() > 0 && !Self::IS_ZST {
            let bitmap = Reservation::new(bitmap_bytes(v.max_capacity())).and_then(|mut r| {
                r.commit(bitmap_bytes(v.capacity()))?;
                Ok(r)
            });
            match bitmap {
                Ok(r) => Some(r),
                Err(_) => capacity_panic(
                    "AppendVec::from",
                    TryReserveError::AllocError {
                        layout: Layout::array::<u64>(v.max_capacity().div_ceil(64))
                            .unwrap_or(Layout::new::<u64>()),
                    },
                ),
            }
        } else {
            None
        };
        let (elems, ptr, len, cap, max) = v.into_parts();
        let me = Self::from_storage(Storage { elems, done }, max, len, cap);
        debug_assert!(
            me.ptr == ptr,
            "AppendVec::from: base {:p} != {ptr:p}",
            me.ptr
        );
        me
    }
}

impl<T> From<AppendVec<T>> for ReservedVec<T> {
    /// [`AppendVec::into_reserved`].
    fn from(v: AppendVec<T>) -> Self {
        v.into_reserved()
    }
}

impl<T> IntoIterator for AppendVec<T> {
    type Item = T;
    type IntoIter = reserved::IntoIter<T>;
    fn into_iter(self) -> reserved::IntoIter<T> {
        self.into_reserved().into_iter()
    }
}

impl<'a, T> IntoIterator for &'a AppendVec<T> {
    type Item = &'a T;
    type IntoIter = slice::Iter<'a, T>;
    fn into_iter(self) -> slice::Iter<'a, T> {
        self.iter()
    }
}

#[cfg(feature = "serde")]
mod serde_impls {
    use serde::de::{Deserialize, Deserializer};
    use serde::ser::{Serialize, Serializer};

    use super::AppendVec;
    use crate::reserved::ReservedVec;

    impl<T: Serialize> Serialize for AppendVec<T> {
        /// Serializes the published prefix as a sequence.
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.iter())
        }
    }

    impl<'de, T: Deserialize<'de>> Deserialize<'de> for AppendVec<T> {
        /// Deserializes a sequence (default maximum capacity).
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            ReservedVec::deserialize(d).map(AppendVec::from)
        }
    }
}
