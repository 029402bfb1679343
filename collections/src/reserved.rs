//! [`ReservedVec<T>`]: a vector inside one address-space [`Reservation`],
//! so it never relocates.
//!
//! ```text
//!  as_ptr()                                                  as_ptr() + reserved bytes
//!   |-- len elements --|-- capacity - len --|-- max_capacity - capacity --|- page slack -|
//!   |   initialised    |  committed, spare  |  reserved, PROT_NONE:       |              |
//!   |                  |  (RSS once used)   |  address space only         |              |
//! ```
//!
//! Growth commits more pages of the same range (`mprotect`, about a
//! microsecond whatever the size) ahead of the pushes, an eighth of what is
//! committed at a time (at least 64 KiB, at most 64 MiB), so pushes make a
//! system call only every eighth of the size (every 64 MiB past 512 MiB).
//! Committing makes no page resident: each page becomes resident when it is
//! first written (one page fault, a few microseconds), so no push stalls on
//! faulting in a whole step, and `reserve` of N bytes adds no resident
//! memory, like std's. (Faulting each step in ahead with
//! `MADV_POPULATE_WRITE` measured slower in total as well as per push,
//! probably because the pages it zeroes have left the cache by the time
//! the pushes write them.) Nothing is
//! ever copied to grow and the base address never changes: `as_ptr()` and
//! references to elements stay valid for the life of the vector (as long as
//! the borrow checker lets you hold them; raw pointers stay valid across
//! `push`, `extend`, `reserve`, `truncate`, `drain`, `shrink_to_fit`).
//!
//! The price is a fixed maximum capacity chosen up front: the size of the
//! reservation. [`ReservedVec::new`] reserves [`DEFAULT_MAX_BYTES`] (1 GiB)
//! of address space at the first growth; [`ReservedVec::with_max_capacity`]
//! reserves exactly what you ask for.

use core::borrow::{Borrow, BorrowMut};
use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::iter::FusedIterator;
use core::marker::PhantomData;
use core::mem::{self, ManuallyDrop, MaybeUninit};
use core::ops::{Bound, Deref, DerefMut, Index, IndexMut, RangeBounds};
use core::ptr::{self, NonNull};
use core::slice::{self, SliceIndex};

use mallocv2::alloc::Layout;
use mallocv2::Reservation;

use crate::error::TryReserveError;

/// Address space [`ReservedVec::new`] (and [`AppendVec::new`]) reserve per
/// vector: 1 GiB, so the default maximum capacity is
/// `DEFAULT_MAX_BYTES / size_of::<T>()` elements.
///
/// The reservation costs address space only (no memory, no swap): a 64-bit
/// process has 128 TiB of it, enough for about 130,000 such vectors. Two
/// other limits matter sooner: `ulimit -v` (`RLIMIT_AS` counts reserved
/// ranges; when the OS refuses 1 GiB, the vector falls back to smaller
/// reservations, halving down to what the first growth needs, and its
/// maximum capacity shrinks accordingly) and `vm.max_map_count` (each
/// vector with memory committed uses two kernel map entries, so about
/// 32,000 live vectors by default). Use `ReservedVec` for a few large,
/// growing arrays; for many small ones, use [`crate::vec::Vec`].
///
/// [`AppendVec::new`]: crate::append::AppendVec::new
pub const DEFAULT_MAX_BYTES: usize = 1 << 30;

/// Largest step committed ahead of the pushes at once (64 MiB). A commit
/// costs one `mprotect` whatever its size and makes nothing resident; the
/// bound only limits how much committed (and, where the kernel charges
/// commits, accounted) memory sits unused ahead of the length.
pub(crate) const MAX_COMMIT_BYTES: usize = 64 << 20;

/// Smallest amount committed at a time (rounded up to whole pages).
pub(crate) const MIN_COMMIT_BYTES: usize = 64 << 10;

/// Default maximum capacity for `T`: [`DEFAULT_MAX_BYTES`] worth of
/// elements (at least one), `usize::MAX` for zero-sized types.
pub(crate) const fn default_max<T>() -> usize {
    let size = mem::size_of::<T>();
    if size == 0 {
        usize::MAX
    } else if size >= DEFAULT_MAX_BYTES {
        1
    } else {
        DEFAULT_MAX_BYTES / size
    }
}

/// The layout of `n` elements of `T`, or `CapacityOverflow` above
/// `isize::MAX` bytes.
pub(crate) fn array_layout<T>(n: usize) -> Result<Layout, TryReserveError> {
    Layout::array::<T>(n).map_err(|_| TryReserveError::CapacityOverflow)
}

/// Reserves room for `max` elements of `T` (non-zero-sized). With
/// `fallback`, a refused reservation is retried at half the size, down to
/// `need` elements. Returns the reservation and the maximum capacity it
/// holds (`<= max`).
pub(crate) fn reserve_for<T>(
    max: usize,
    need: usize,
    fallback: bool,
) -> Result<(Reservation, usize), TryReserveError> {
    let size = mem::size_of::<T>();
    let align = mem::align_of::<T>();
    debug_assert!(
        size > 0 && need <= max,
        "reserve_for: size {size}, need {need}, max {max}"
    );
    let mut bytes = array_layout::<T>(max)?.size();
    let need_bytes = array_layout::<T>(need)?.size().max(1);
    loop {
        match Reservation::with_align(bytes, align) {
            Ok(r) => {
                let cap = (r.len() / size).min(max);
                return Ok((r, cap));
            }
            Err(mallocv2::Error::CapacityOverflow) => {
                return Err(TryReserveError::CapacityOverflow)
            }
            Err(_) if fallback && bytes > need_bytes => {
                bytes = (bytes / 2).max(need_bytes);
            }
            Err(_) => {
                return Err(TryReserveError::AllocError {
                    // `bytes <= isize::MAX` (checked by `array_layout`) and
                    // `align` is an element alignment: a valid layout.
                    layout: Layout::from_size_align(bytes, align)
                        .map_err(|_| TryReserveError::CapacityOverflow)?,
                });
            }
        }
    }
}

/// Commits enough of `res` for `need` elements of `T` (non-zero-sized),
/// ahead: at least an eighth more than is committed (between
/// [`MIN_COMMIT_BYTES`] and [`MAX_COMMIT_BYTES`]), at most the whole
/// reservation; with `exact`, only what `need` takes. Nothing is faulted
/// in: the pages become resident as they are written, so a commit of any
/// size costs one system call and no resident memory. Returns the elements
/// the committed bytes hold, capped at `max`. Changes nothing on error
/// (the OS may refuse a commit it charges against its limit).
pub(crate) fn commit_for<T>(
    res: &mut Reservation,
    need: usize,
    max: usize,
    exact: bool,
) -> Result<usize, TryReserveError> {
    let size = mem::size_of::<T>();
    let need_bytes = array_layout::<T>(need)?.size();
    let before = res.committed();
    let target = if exact {
        need_bytes
    } else {
        // Commit ahead by an eighth of what is committed (at least
        // MIN_COMMIT_BYTES, at most MAX_COMMIT_BYTES): few system calls,
        // and at most that much committed memory sits unused.
        let step = (before / 8).clamp(MIN_COMMIT_BYTES, MAX_COMMIT_BYTES);
        need_bytes.max(before.saturating_add(step)).min(res.len())
    };
    debug_assert!(
        need_bytes <= target && target <= res.len(),
        "commit_for: need {need_bytes} bytes, target {target}, reserved {}",
        res.len()
    );
    match res.commit(target) {
        Ok(committed) => Ok((committed / size).min(max)),
        Err(_) => Err(TryReserveError::AllocError {
            layout: Layout::from_size_align(target, mem::align_of::<T>())
                .map_err(|_| TryReserveError::CapacityOverflow)?,
        }),
    }
}

/// Panics with a message that says what failed.
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn capacity_panic(what: &str, e: TryReserveError) -> ! {
    capacity_panic_in(what, e, "elements")
}

/// [`capacity_panic`] naming the unit of the capacity (e.g. "bytes").
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn capacity_panic_in(what: &str, e: TryReserveError, unit: &str) -> ! {
    match e {
        TryReserveError::Exhausted { max_capacity } => panic!(
            "{what}: reservation exhausted: the maximum capacity of {max_capacity} {unit} is reached"
        ),
        e => panic!("{what}: {e}"),
    }
}

/// Resolves a range against `len`, panicking like std on a bad range.
#[track_caller]
pub(crate) fn slice_range<R: RangeBounds<usize>>(range: R, len: usize) -> (usize, usize) {
    let start = match range.start_bound() {
        Bound::Included(&s) => s,
        Bound::Excluded(&s) => s
            .checked_add(1)
            .unwrap_or_else(|| panic!("attempted to index slice from after maximum usize")),
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(&e) => e
            .checked_add(1)
            .unwrap_or_else(|| panic!("attempted to index slice up to maximum usize")),
        Bound::Excluded(&e) => e,
        Bound::Unbounded => len,
    };
    if start > end {
        panic!("slice index starts at {start} but ends at {end}");
    }
    if end > len {
        panic!("range end index {end} out of range for slice of length {len}");
    }
    (start, end)
}

/// A contiguous growable array that never moves: one address-space
/// [`Reservation`] per vector, committed as it grows.
///
/// # Guarantees
/// - **Never relocates.** Once the vector holds an element, `as_ptr()` never
///   changes, and a pointer to an element stays valid until that element is
///   removed (push, extend, reserve, truncate, drain, retain, shrink_to_fit
///   never move the other elements' storage; operations that shift elements,
///   such as `insert` and `remove`, move values within it, like std).
/// - **Never copies to grow.** Growth commits pages in place: an eighth of
///   the committed bytes at a time (64 KiB to 64 MiB), so pushes rarely make
///   a system call, and no push faults in more than the page it writes.
/// - **Returns memory.** [`shrink_to_fit`](Self::shrink_to_fit) decommits the
///   pages past the length (`MADV_DONTNEED`): RSS drops at once.
/// - **Bounded.** The maximum capacity is fixed when the address space is
///   reserved; past it, `try_push`/`try_reserve` return
///   [`TryReserveError::Exhausted`] (keeping every element) and `push` panics
///   with a message naming the maximum.
///
/// # Costs
/// [`new`](Self::new) makes no system call; the first growth reserves
/// [`DEFAULT_MAX_BYTES`] of address space (see there for what that costs).
/// `capacity()` is the number of elements in committed memory.
/// Zero-sized types need no reservation (maximum `usize::MAX`). Element
/// alignments above the page size are honoured by aligning the reservation.
///
/// # Example
/// ```
/// use mallocv2_collections::reserved::ReservedVec;
///
/// let mut v = ReservedVec::new();
/// v.push(1u64);
/// let first: *const u64 = &v[0];
/// v.extend(2..=100_000);
/// assert_eq!(&v[0] as *const u64, first); // never moved
/// assert_eq!(v.len(), 100_000);
/// assert_eq!(v.iter().sum::<u64>(), 100_000 * 100_001 / 2);
/// ```
///
/// `Send` and `Sync` exactly like `Vec<T>`:
/// ```compile_fail
/// use mallocv2_collections::reserved::ReservedVec;
/// fn send<T: Send>(_: T) {}
/// send(ReservedVec::<std::rc::Rc<u8>>::new());
/// ```
/// ```compile_fail
/// use mallocv2_collections::reserved::ReservedVec;
/// fn sync<T: Sync>(_: &T) {}
/// sync(&ReservedVec::<core::cell::Cell<u8>>::new());
/// ```
///
/// For appending from several threads through `&self`, see
/// [`AppendVec`](crate::append::AppendVec), which converts to and from
/// `ReservedVec` without copying.
pub struct ReservedVec<T> {
    /// Start of the elements: the reservation's base, or dangling (aligned)
    /// when there is no reservation (zero-sized `T`, or nothing reserved
    /// yet). Never changes once a reservation exists.
    ptr: NonNull<T>,
    /// Initialised elements are `[0, len)`. Invariant: `len <= cap`.
    len: usize,
    /// Elements that fit in committed memory, capped at `max`:
    /// `min(res.committed() / size_of::<T>(), max)`; `max` for zero-sized
    /// `T`; 0 without a reservation. Invariant: `cap <= max`.
    cap: usize,
    /// The maximum capacity. Invariant: with a reservation,
    /// `max * size_of::<T>() <= res.len()`; `max * size_of::<T>() <=
    /// isize::MAX` always.
    max: usize,
    /// The address space; `None` for zero-sized `T`, for a maximum of 0, and
    /// before the first growth of a vector made by `new`.
    res: Option<Reservation>,
    /// Owns `T`s (for drop check and variance).
    _marker: PhantomData<T>,
}

// SAFETY: a ReservedVec owns its elements and its reservation exclusively,
// like `Vec<T>`: sending it sends the `T`s.
unsafe impl<T: Send> Send for ReservedVec<T> {}
// SAFETY: `&ReservedVec<T>` hands out only `&T` (and addresses), like
// `&Vec<T>`.
unsafe impl<T: Sync> Sync for ReservedVec<T> {}

impl<T> ReservedVec<T> {
    const IS_ZST: bool = mem::size_of::<T>() == 0;

    /// An empty vector with the default maximum capacity
    /// ([`DEFAULT_MAX_BYTES`] of address space, `usize::MAX` for zero-sized
    /// types). Makes no system call: the address space is reserved at the
    /// first growth (smaller, down to what is needed, if the OS refuses
    /// 1 GiB).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::{ReservedVec, DEFAULT_MAX_BYTES};
    ///
    /// let v: ReservedVec<u32> = ReservedVec::new();
    /// assert_eq!(v.capacity(), 0);
    /// assert_eq!(v.max_capacity(), DEFAULT_MAX_BYTES / 4);
    /// ```
    #[inline]
    pub const fn new() -> Self {
        let max = default_max::<T>();
        ReservedVec {
            ptr: NonNull::dangling(),
            len: 0,
            cap: if Self::IS_ZST { max } else { 0 },
            max,
            res: None,
            _marker: PhantomData,
        }
    }

    /// An empty vector that can hold up to `max_capacity` elements, with
    /// the address space reserved now (`max_capacity * size_of::<T>()`
    /// bytes rounded up to whole pages; nothing committed).
    ///
    /// # Panics
    /// When the size overflows `isize::MAX` or the OS refuses the
    /// reservation; see [`try_with_max_capacity`](Self::try_with_max_capacity).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::{reserved::ReservedVec, TryReserveError};
    ///
    /// let mut v = ReservedVec::with_max_capacity(3);
    /// v.extend([1, 2, 3]);
    /// assert_eq!(v.try_push(4), Err(TryReserveError::Exhausted { max_capacity: 3 }));
    /// assert_eq!(v, [1, 2, 3]);
    /// ```
    #[track_caller]
    pub fn with_max_capacity(max_capacity: usize) -> Self {
        Self::try_with_max_capacity(max_capacity)
            .unwrap_or_else(|e| capacity_panic("ReservedVec::with_max_capacity", e))
    }

    /// Fallible [`with_max_capacity`](Self::with_max_capacity).
    ///
    /// # Errors
    /// [`TryReserveError::CapacityOverflow`] when `max_capacity` elements
    /// exceed `isize::MAX` bytes; [`TryReserveError::AllocError`] when the
    /// OS refuses the reservation.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::{reserved::ReservedVec, TryReserveError};
    ///
    /// let r = ReservedVec::<u64>::try_with_max_capacity(usize::MAX / 4);
    /// assert_eq!(r.unwrap_err(), TryReserveError::CapacityOverflow);
    /// ```
    pub fn try_with_max_capacity(max_capacity: usize) -> Result<Self, TryReserveError> {
        let mut v = Self::new();
        v.max = max_capacity;
        if Self::IS_ZST {
            v.cap = max_capacity;
        } else if max_capacity > 0 {
            let (res, max) = reserve_for::<T>(max_capacity, max_capacity, false)?;
            debug_assert!(max == max_capacity, "reserved {max} of {max_capacity}");
            v.ptr = res.as_ptr().cast();
            v.res = Some(res);
        }
        v.debug_check();
        Ok(v)
    }

    /// An empty vector with room for at least `capacity` elements committed,
    /// and a maximum capacity of the default or `capacity`, whichever is
    /// larger.
    ///
    /// # Panics
    /// When the reservation or the commit fails; see
    /// [`try_with_capacity`](Self::try_with_capacity).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let v: ReservedVec<u8> = ReservedVec::with_capacity(1000);
    /// assert!(v.capacity() >= 1000);
    /// ```
    #[track_caller]
    pub fn with_capacity(capacity: usize) -> Self {
        Self::try_with_capacity(capacity)
            .unwrap_or_else(|e| capacity_panic("ReservedVec::with_capacity", e))
    }

    /// Fallible [`with_capacity`](Self::with_capacity).
    ///
    /// # Errors
    /// [`TryReserveError::CapacityOverflow`] above `isize::MAX` bytes;
    /// [`TryReserveError::AllocError`] when the OS refuses.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let v = ReservedVec::<u16>::try_with_capacity(10)?;
    /// assert!(v.capacity() >= 10);
    /// # Ok::<(), mallocv2_collections::TryReserveError>(())
    /// ```
    pub fn try_with_capacity(capacity: usize) -> Result<Self, TryReserveError> {
        let mut v = Self::new();
        if capacity > v.max {
            array_layout::<T>(capacity)?;
            v.max = capacity;
        }
        v.try_reserve_exact(capacity)?;
        Ok(v)
    }

    /// Rebuilds a vector from its parts (used by
    /// [`AppendVec`](crate::append::AppendVec) to hand over its storage).
    ///
    /// # Safety
    /// `res` (if any) holds `max` elements of `T` at `ptr`, its committed
    /// part holds `cap = min(committed / size, max)` elements; the first
    /// `len <= cap` are initialised and owned by nobody else; `ptr` is
    /// dangling-aligned when `res` is `None`, and then `cap` is `max` for
    /// zero-sized `T` and 0 otherwise.
    pub(crate) unsafe fn from_parts(
        res: Option<Reservation>,
        ptr: NonNull<T>,
        len: usize,
        cap: usize,
        max: usize,
    ) -> Self {
        let v = ReservedVec {
            ptr,
            len,
            cap,
            max,
            res,
            _marker: PhantomData,
        };
        v.debug_check();
        v
    }

    /// Reserves the address space now if it is not reserved yet (for a
    /// vector made by `new` that never grew), so that `ptr` is final.
    pub(crate) fn ensure_reserved(&mut self) -> Result<(), TryReserveError> {
        if Self::IS_ZST || self.res.is_some() || self.max == 0 {
            return Ok(());
        }
        let (res, max) = reserve_for::<T>(self.max, self.len.max(1), true)?;
        self.ptr = res.as_ptr().cast();
        self.max = max;
        self.res = Some(res);
        self.debug_check();
        Ok(())
    }

    /// Takes the parts apart without dropping anything: `(reservation, ptr,
    /// len, cap, max)`.
    pub(crate) fn into_parts(self) -> (Option<Reservation>, NonNull<T>, usize, usize, usize) {
        let mut me = ManuallyDrop::new(self);
        (me.res.take(), me.ptr, me.len, me.cap, me.max)
    }

    /// Checks the invariants (debug builds only).
    #[inline]
    fn debug_check(&self) {
        debug_assert!(
            self.len <= self.cap && self.cap <= self.max,
            "ReservedVec: len {} cap {} max {}",
            self.len,
            self.cap,
            self.max
        );
        #[cfg(debug_assertions)]
        if let Some(res) = &self.res {
            let size = mem::size_of::<T>();
            debug_assert!(
                self.ptr.as_ptr().cast::<u8>() == res.as_ptr().as_ptr()
                    && self.cap == (res.committed() / size).min(self.max)
                    && self.max.saturating_mul(size) <= res.len(),
                "ReservedVec: ptr {:p} base {:p}, cap {} committed {} max {} reserved {}",
                self.ptr,
                res.as_ptr(),
                self.cap,
                res.committed(),
                self.max,
                res.len()
            );
        } else {
            debug_assert!(
                self.cap == if Self::IS_ZST { self.max } else { 0 },
                "ReservedVec without reservation: cap {} max {}",
                self.cap,
                self.max
            );
        }
    }

    /// Number of elements.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let v: ReservedVec<_> = [1, 2].into_iter().collect();
    /// assert_eq!(v.len(), 2);
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there are no elements.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// assert!(ReservedVec::<u8>::new().is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Elements that fit in committed memory: pushes up to this many make
    /// no system call. `usize::MAX`-like (the maximum) for zero-sized types.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::new();
    /// v.push(0u8);
    /// assert!(v.capacity() >= 64 * 1024); // commits at least 64 KiB
    /// ```
    #[inline]
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// The most elements this vector can ever hold (its reservation's
    /// size). For a vector made by [`new`](Self::new) this is the default
    /// until the first growth, which may lower it if the OS refused the
    /// full reservation; it never changes after that.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// assert_eq!(ReservedVec::<u32>::with_max_capacity(10).max_capacity(), 10);
    /// assert_eq!(ReservedVec::<()>::new().max_capacity(), usize::MAX);
    /// ```
    #[inline]
    pub fn max_capacity(&self) -> usize {
        self.max
    }

    /// Pointer to the first element. Never changes once the vector has
    /// reserved its address space (i.e. once it has held an element).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from([1u8]);
    /// let p = v.as_ptr();
    /// v.extend(std::iter::repeat(7).take(1 << 20));
    /// assert_eq!(v.as_ptr(), p);
    /// ```
    #[inline]
    pub fn as_ptr(&self) -> *const T {
        self.ptr.as_ptr()
    }

    /// Mutable pointer to the first element; see [`as_ptr`](Self::as_ptr).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from([1u8, 2]);
    /// // SAFETY: index 1 is in bounds.
    /// unsafe { *v.as_mut_ptr().add(1) = 5 };
    /// assert_eq!(v, [1, 5]);
    /// ```
    #[inline]
    pub fn as_mut_ptr(&mut self) -> *mut T {
        self.ptr.as_ptr()
    }

    /// The elements as a slice.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// assert_eq!(ReservedVec::from([1, 2]).as_slice(), &[1, 2]);
    /// ```
    #[inline]
    pub fn as_slice(&self) -> &[T] {
        // SAFETY: `[0, len)` is initialised and `ptr` is aligned and
        // non-null (dangling only when `len == 0` or `T` is zero-sized).
        unsafe { slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The elements as a mutable slice.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from([3, 1, 2]);
    /// v.as_mut_slice().sort();
    /// assert_eq!(v, [1, 2, 3]);
    /// ```
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: as in `as_slice`, and `&mut self` makes the access unique.
        unsafe { slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    /// The committed but unused part, `[len, capacity)`, for writing
    /// elements before [`set_len`](Self::set_len).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::<u8>::with_capacity(4);
    /// v.spare_capacity_mut()[0].write(9);
    /// // SAFETY: element 0 was just written.
    /// unsafe { v.set_len(1) };
    /// assert_eq!(v, [9]);
    /// ```
    #[inline]
    pub fn spare_capacity_mut(&mut self) -> &mut [MaybeUninit<T>] {
        // SAFETY: `[len, cap)` is committed (readable and writable) memory
        // inside the reservation, exclusively ours through `&mut self`;
        // `MaybeUninit` allows it to be uninitialised.
        unsafe {
            slice::from_raw_parts_mut(
                self.ptr.as_ptr().add(self.len).cast::<MaybeUninit<T>>(),
                self.cap - self.len,
            )
        }
    }

    /// Sets the length.
    ///
    /// # Safety
    /// `new_len <= capacity()`, and the elements `[old_len, new_len)` are
    /// initialised (when growing) or have been moved out / need no drop
    /// (when shrinking).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from([1, 2, 3]);
    /// // SAFETY: shrinking; `i32` needs no drop.
    /// unsafe { v.set_len(1) };
    /// assert_eq!(v, [1]);
    /// ```
    #[inline]
    pub unsafe fn set_len(&mut self, new_len: usize) {
        debug_assert!(
            new_len <= self.cap,
            "set_len({new_len}) beyond capacity {}",
            self.cap
        );
        self.len = new_len;
    }

    /// Makes sure `additional` more elements fit without a system call,
    /// committing ahead (an eighth of what is committed, 64 KiB to 64 MiB).
    /// Commits make no page resident: RSS grows as the elements are written.
    ///
    /// # Panics
    /// On any error of [`try_reserve`](Self::try_reserve); the message names
    /// the maximum capacity when that is what was reached.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::<u64>::new();
    /// v.reserve(1000);
    /// assert!(v.capacity() >= 1000);
    /// ```
    #[track_caller]
    pub fn reserve(&mut self, additional: usize) {
        if let Err(e) = self.try_reserve(additional) {
            capacity_panic("ReservedVec::reserve", e)
        }
    }

    /// Fallible [`reserve`](Self::reserve).
    ///
    /// # Errors
    /// [`TryReserveError::CapacityOverflow`] when `len + additional`
    /// overflows `usize` or its size in bytes exceeds `isize::MAX` (as std);
    /// [`TryReserveError::Exhausted`] when it is a valid size but exceeds
    /// [`max_capacity`](Self::max_capacity); [`TryReserveError::AllocError`]
    /// when the OS refuses to reserve or commit (the OS may refuse a commit
    /// beyond what it can back). The vector is unchanged on error.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::{reserved::ReservedVec, TryReserveError};
    ///
    /// let mut v = ReservedVec::<u8>::with_max_capacity(100);
    /// v.push(1);
    /// assert!(v.try_reserve(99).is_ok());
    /// assert_eq!(v.try_reserve(100), Err(TryReserveError::Exhausted { max_capacity: 100 }));
    /// assert_eq!(v.try_reserve(usize::MAX), Err(TryReserveError::CapacityOverflow));
    /// assert_eq!(v.try_reserve(isize::MAX as usize), Err(TryReserveError::CapacityOverflow));
    /// assert_eq!(v, [1]);
    /// ```
    #[inline]
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), TryReserveError> {
        if additional <= self.cap - self.len {
            return Ok(());
        }
        self.grow(additional, false)
    }

    /// Like [`reserve`](Self::reserve), but commits only what `additional`
    /// needs (rounded up to whole pages).
    ///
    /// # Panics
    /// As [`reserve`](Self::reserve).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::<u8>::new();
    /// v.reserve_exact(10);
    /// assert!(v.capacity() >= 10 && v.capacity() < 64 * 1024);
    /// ```
    #[track_caller]
    pub fn reserve_exact(&mut self, additional: usize) {
        if let Err(e) = self.try_reserve_exact(additional) {
            capacity_panic("ReservedVec::reserve_exact", e)
        }
    }

    /// Fallible [`reserve_exact`](Self::reserve_exact).
    ///
    /// # Errors
    /// As [`try_reserve`](Self::try_reserve).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::<u8>::new();
    /// v.try_reserve_exact(5000)?;
    /// assert!(v.capacity() >= 5000);
    /// # Ok::<(), mallocv2_collections::TryReserveError>(())
    /// ```
    pub fn try_reserve_exact(&mut self, additional: usize) -> Result<(), TryReserveError> {
        if additional <= self.cap - self.len {
            return Ok(());
        }
        self.grow(additional, true)
    }

    /// The slow path of reserve: reserves the address space if needed, then
    /// commits. Changes nothing on error.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, additional: usize, exact: bool) -> Result<(), TryReserveError> {
        let need = self
            .len
            .checked_add(additional)
            .ok_or(TryReserveError::CapacityOverflow)?;
        if need > self.max {
            // A size no vector can have is an overflow (as in std), whatever
            // the maximum; `Exhausted` is for sizes only this one refuses.
            if !Self::IS_ZST {
                array_layout::<T>(need)?;
            }
            return Err(TryReserveError::Exhausted {
                max_capacity: self.max,
            });
        }
        // Zero-sized types have `cap == max`, so they never get here.
        debug_assert!(!Self::IS_ZST, "ZST grow: need {need}, max {}", self.max);
        if self.res.is_none() {
            let (res, max) = reserve_for::<T>(self.max, need, true)?;
            self.ptr = res.as_ptr().cast();
            self.max = max;
            self.res = Some(res);
        }
        let res = self.res.as_mut().expect("reserved above");
        self.cap = commit_for::<T>(res, need, self.max, exact)?;
        self.debug_check();
        Ok(())
    }

    /// Decommits the pages past the length: the memory goes back to the OS
    /// at once (RSS drops). Nothing moves; the maximum capacity stays.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v: ReservedVec<u8> = std::iter::repeat(1).take(1 << 20).collect();
    /// v.truncate(10);
    /// v.shrink_to_fit();
    /// assert!(v.capacity() < 1 << 20);
    /// assert_eq!(v, [1; 10]);
    /// ```
    pub fn shrink_to_fit(&mut self) {
        self.shrink_to(0);
    }

    /// Decommits the pages past `max(len, min_capacity)` elements.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::<u8>::with_capacity(1 << 20);
    /// v.shrink_to(5000);
    /// assert!(v.capacity() >= 5000 && v.capacity() < 1 << 20);
    /// ```
    pub fn shrink_to(&mut self, min_capacity: usize) {
        let keep = self.len.max(min_capacity);
        if let Some(res) = &mut self.res {
            let bytes = keep.saturating_mul(mem::size_of::<T>());
            // A refused decommit leaves the pages committed: still correct.
            if res.decommit(bytes).is_ok() {
                self.cap = (res.committed() / mem::size_of::<T>()).min(self.max);
            }
        }
        self.debug_check();
    }

    /// Appends an element.
    ///
    /// # Panics
    /// When the vector is at its maximum capacity (the message names it), or
    /// when committing memory fails.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::new();
    /// v.push("a");
    /// assert_eq!(v, ["a"]);
    /// ```
    #[inline]
    #[track_caller]
    pub fn push(&mut self, value: T) {
        if self.len == self.cap {
            if let Err(e) = self.grow(1, false) {
                capacity_panic("ReservedVec::push", e)
            }
        }
        // SAFETY: `len < cap`: slot `len` is committed and unused.
        unsafe { self.ptr.as_ptr().add(self.len).write(value) };
        self.len += 1;
    }

    /// Appends an element, or returns an error (dropping `value`) and keeps
    /// the vector as it was.
    ///
    /// # Errors
    /// As [`try_reserve`](Self::try_reserve) with `additional == 1`.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::{reserved::ReservedVec, TryReserveError};
    ///
    /// let mut v = ReservedVec::with_max_capacity(1);
    /// assert_eq!(v.try_push(1), Ok(()));
    /// assert_eq!(v.try_push(2), Err(TryReserveError::Exhausted { max_capacity: 1 }));
    /// ```
    #[inline]
    pub fn try_push(&mut self, value: T) -> Result<(), TryReserveError> {
        if self.len == self.cap {
            self.grow(1, false)?;
        }
        // SAFETY: `len < cap`: slot `len` is committed and unused.
        unsafe { self.ptr.as_ptr().add(self.len).write(value) };
        self.len += 1;
        Ok(())
    }

    /// Appends an element if it fits in committed memory; gives it back
    /// otherwise. Never makes a system call.
    ///
    /// # Errors
    /// `Err(value)` when `len() == capacity()`.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::new();
    /// assert_eq!(v.push_within_capacity(1u8), Err(1));
    /// v.reserve(1);
    /// assert_eq!(v.push_within_capacity(1u8), Ok(()));
    /// ```
    #[inline]
    pub fn push_within_capacity(&mut self, value: T) -> Result<(), T> {
        if self.len == self.cap {
            return Err(value);
        }
        // SAFETY: `len < cap`: slot `len` is committed and unused.
        unsafe { self.ptr.as_ptr().add(self.len).write(value) };
        self.len += 1;
        Ok(())
    }

    /// Removes and returns the last element.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from([1, 2]);
    /// assert_eq!(v.pop(), Some(2));
    /// assert_eq!(v, [1]);
    /// ```
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        // SAFETY: slot `len` was initialised and is now outside the length,
        // so it is read exactly once.
        Some(unsafe { self.ptr.as_ptr().add(self.len).read() })
    }

    /// Inserts `element` at `index`, shifting the later elements right.
    ///
    /// # Panics
    /// When `index > len()`, or as [`push`](Self::push) when full.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from([1, 3]);
    /// v.insert(1, 2);
    /// assert_eq!(v, [1, 2, 3]);
    /// ```
    #[track_caller]
    pub fn insert(&mut self, index: usize, element: T) {
        if let Err(e) = self.try_insert(index, element) {
            capacity_panic("ReservedVec::insert", e)
        }
    }

    /// Fallible [`insert`](Self::insert) (drops `element` on error).
    ///
    /// # Errors
    /// As [`try_reserve`](Self::try_reserve) with `additional == 1`.
    ///
    /// # Panics
    /// When `index > len()`.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::with_max_capacity(2);
    /// v.try_insert(0, 'b')?;
    /// v.try_insert(0, 'a')?;
    /// assert!(v.try_insert(0, 'z').is_err());
    /// assert_eq!(v, ['a', 'b']);
    /// # Ok::<(), mallocv2_collections::TryReserveError>(())
    /// ```
    #[track_caller]
    pub fn try_insert(&mut self, index: usize, element: T) -> Result<(), TryReserveError> {
        let len = self.len;
        if index > len {
            panic!("insertion index (is {index}) should be <= len (is {len})");
        }
        self.try_reserve(1)?;
        // SAFETY: `len < cap` after the reserve; the shifted range
        // `[index, len)` and its destination `[index + 1, len + 1)` are in
        // committed memory; the hole at `index` is then filled.
        unsafe {
            let p = self.ptr.as_ptr().add(index);
            ptr::copy(p, p.add(1), len - index);
            p.write(element);
        }
        self.len = len + 1;
        Ok(())
    }

    /// Removes and returns the element at `index`, shifting the later
    /// elements left.
    ///
    /// # Panics
    /// When `index >= len()`.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from([1, 2, 3]);
    /// assert_eq!(v.remove(0), 1);
    /// assert_eq!(v, [2, 3]);
    /// ```
    #[track_caller]
    pub fn remove(&mut self, index: usize) -> T {
        let len = self.len;
        if index >= len {
            panic!("removal index (is {index}) should be < len (is {len})");
        }
        // SAFETY: `index < len`: the element is read once, then the tail
        // `[index + 1, len)` is shifted over it and the length reduced.
        unsafe {
            let p = self.ptr.as_ptr().add(index);
            let value = p.read();
            ptr::copy(p.add(1), p, len - index - 1);
            self.len = len - 1;
            value
        }
    }

    /// Removes and returns the element at `index`, replacing it with the
    /// last element (O(1), does not keep order).
    ///
    /// # Panics
    /// When `index >= len()`.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from([1, 2, 3]);
    /// assert_eq!(v.swap_remove(0), 1);
    /// assert_eq!(v, [3, 2]);
    /// ```
    #[track_caller]
    pub fn swap_remove(&mut self, index: usize) -> T {
        let len = self.len;
        if index >= len {
            panic!("swap_remove index (is {index}) should be < len (is {len})");
        }
        // SAFETY: `index < len`: the element is read once and the last one
        // (possibly itself, then a no-op copy) moved into its place.
        unsafe {
            let base = self.ptr.as_ptr();
            let value = base.add(index).read();
            ptr::copy(base.add(len - 1), base.add(index), 1);
            self.len = len - 1;
            value
        }
    }

    /// Keeps the first `len` elements and drops the rest (no memory is
    /// returned; see [`shrink_to_fit`](Self::shrink_to_fit)).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from([1, 2, 3]);
    /// v.truncate(1);
    /// assert_eq!(v, [1]);
    /// ```
    pub fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        let tail = ptr::slice_from_raw_parts_mut(
            // SAFETY: `len < self.len`, so the offset is in bounds.
            unsafe { self.ptr.as_ptr().add(len) },
            self.len - len,
        );
        // The length goes first, so a panicking `Drop` cannot cause a
        // double drop.
        self.len = len;
        // SAFETY: the tail is initialised and now outside the length.
        unsafe { ptr::drop_in_place(tail) };
    }

    /// Drops every element (no memory is returned).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from([1, 2]);
    /// v.clear();
    /// assert!(v.is_empty());
    /// ```
    #[inline]
    pub fn clear(&mut self) {
        self.truncate(0);
    }

    /// Removes the elements in `range` and returns them as an iterator.
    /// The rest are shifted down when the iterator is dropped (also if it is
    /// not fully consumed).
    ///
    /// # Panics
    /// When the range is out of bounds or decreasing.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from([1, 2, 3, 4]);
    /// let d: Vec<_> = v.drain(1..3).collect();
    /// assert_eq!(d, [2, 3]);
    /// assert_eq!(v, [1, 4]);
    /// ```
    #[track_caller]
    pub fn drain<R: RangeBounds<usize>>(&mut self, range: R) -> Drain<'_, T> {
        let len = self.len;
        let (start, end) = slice_range(range, len);
        // Leak-safe: if the Drain is forgotten, the vector just loses the
        // drained elements and the tail.
        self.len = start;
        Drain {
            base: self.ptr,
            idx: start,
            end,
            tail_start: end,
            tail_len: len - end,
            vec: NonNull::from(self),
            _marker: PhantomData,
        }
    }

    /// Keeps only the elements for which `f` returns true, in order.
    ///
    /// If `f` or an element's `Drop` panics, the elements not yet visited
    /// are kept and nothing is dropped twice.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from([1, 2, 3, 4]);
    /// v.retain(|&x| x % 2 == 0);
    /// assert_eq!(v, [2, 4]);
    /// ```
    pub fn retain<F: FnMut(&T) -> bool>(&mut self, mut f: F) {
        self.retain_mut(|x| f(x));
    }

    /// Like [`retain`](Self::retain), with mutable access to each element.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from([1, 2, 3]);
    /// v.retain_mut(|x| { *x *= 10; *x != 20 });
    /// assert_eq!(v, [10, 30]);
    /// ```
    pub fn retain_mut<F: FnMut(&mut T) -> bool>(&mut self, mut f: F) {
        let original_len = self.len;
        if original_len == 0 {
            return;
        }
        // Until the guard restores it, the length is 0, so a panic cannot
        // expose the hole of deleted elements.
        self.len = 0;

        /// Closes the hole of deleted elements, also on unwind.
        struct BackshiftOnDrop<'a, T> {
            v: &'a mut ReservedVec<T>,
            processed: usize,
            deleted: usize,
            original_len: usize,
        }
        impl<T> Drop for BackshiftOnDrop<'_, T> {
            fn drop(&mut self) {
                if self.deleted > 0 {
                    // SAFETY: `[processed, original_len)` are unvisited,
                    // initialised elements; they move down over the
                    // `deleted` slots of dropped or moved-out elements, all
                    // within the initialised range.
                    unsafe {
                        let base = self.v.ptr.as_ptr();
                        ptr::copy(
                            base.add(self.processed),
                            base.add(self.processed - self.deleted),
                            self.original_len - self.processed,
                        );
                    }
                }
                self.v.len = self.original_len - self.deleted;
            }
        }

        let mut g = BackshiftOnDrop {
            v: self,
            processed: 0,
            deleted: 0,
            original_len,
        };
        while g.processed < original_len {
            // SAFETY: `processed < original_len`: an initialised element not
            // yet visited; nothing else refers to it.
            let cur = unsafe { &mut *g.v.ptr.as_ptr().add(g.processed) };
            if !f(cur) {
                // Count it first: if its drop panics, the guard treats it
                // as gone.
                g.processed += 1;
                g.deleted += 1;
                // SAFETY: dropped once; the guard never reads it again.
                unsafe { ptr::drop_in_place(cur) };
                continue;
            }
            if g.deleted > 0 {
                // SAFETY: the hole at `processed - deleted` held an element
                // that was dropped or moved; `cur` moves into it and its old
                // slot becomes part of the hole.
                unsafe {
                    let hole = g.v.ptr.as_ptr().add(g.processed - g.deleted);
                    ptr::copy_nonoverlapping(cur, hole, 1);
                }
            }
            g.processed += 1;
        }
        drop(g);
    }

    /// Removes and yields the elements in `range` for which `filter`
    /// returns true (std's `Vec::extract_if`). The rest keep their order.
    /// Elements not yet visited when the iterator is dropped are kept.
    ///
    /// If `filter` panics, nothing is lost or dropped twice: the element it
    /// was looking at and all unvisited ones stay in the vector.
    ///
    /// # Panics
    /// When the range is out of bounds or decreasing.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from([1, 2, 3, 4, 5, 6]);
    /// let evens: Vec<_> = v.extract_if(.., |x| *x % 2 == 0).collect();
    /// assert_eq!(evens, [2, 4, 6]);
    /// assert_eq!(v, [1, 3, 5]);
    /// ```
    #[track_caller]
    pub fn extract_if<F, R>(&mut self, range: R, filter: F) -> ExtractIf<'_, T, F>
    where
        F: FnMut(&mut T) -> bool,
        R: RangeBounds<usize>,
    {
        let old_len = self.len;
        let (start, end) = slice_range(range, old_len);
        // Leak-safe: if the iterator is forgotten, the vector is empty
        // rather than holding moved-out elements.
        self.len = 0;
        ExtractIf {
            vec: self,
            idx: start,
            end,
            del: 0,
            old_len,
            pred: filter,
        }
    }

    /// Removes consecutive repeated elements (by `==`).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from([1, 1, 2, 2, 2, 1]);
    /// v.dedup();
    /// assert_eq!(v, [1, 2, 1]);
    /// ```
    pub fn dedup(&mut self)
    where
        T: PartialEq,
    {
        self.dedup_by(|a, b| a == b);
    }

    /// Removes consecutive elements with the same key.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from([10, 11, 20, 21, 30]);
    /// v.dedup_by_key(|x| *x / 10);
    /// assert_eq!(v, [10, 20, 30]);
    /// ```
    pub fn dedup_by_key<K: PartialEq, F: FnMut(&mut T) -> K>(&mut self, mut key: F) {
        self.dedup_by(|a, b| key(a) == key(b));
    }

    /// Removes consecutive elements for which `same_bucket(current,
    /// previous_kept)` returns true.
    ///
    /// If `same_bucket` or a `Drop` panics, the remaining elements are kept
    /// and nothing is dropped twice.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from(["a", "A", "b"]);
    /// v.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    /// assert_eq!(v, ["a", "b"]);
    /// ```
    pub fn dedup_by<F: FnMut(&mut T, &mut T) -> bool>(&mut self, mut same_bucket: F) {
        let len = self.len;
        if len <= 1 {
            return;
        }

        /// Moves the unvisited elements down over the gap, also on unwind.
        struct FillGapOnDrop<'a, T> {
            read: usize,
            write: usize,
            v: &'a mut ReservedVec<T>,
        }
        impl<T> Drop for FillGapOnDrop<'_, T> {
            fn drop(&mut self) {
                let len = self.v.len;
                // SAFETY: `[read, len)` are unvisited initialised elements;
                // `[write, read)` is the gap (dropped elements); `write <=
                // read <= len`.
                unsafe {
                    let base = self.v.ptr.as_ptr();
                    ptr::copy(base.add(self.read), base.add(self.write), len - self.read);
                }
                self.v.len = len - (self.read - self.write);
            }
        }

        let mut gap = FillGapOnDrop {
            read: 1,
            write: 1,
            v: self,
        };
        let base = gap.v.ptr.as_ptr();
        while gap.read < len {
            // SAFETY: `write - 1 < read < len`: two distinct initialised
            // elements (the last kept one and the current one).
            let dup =
                unsafe { same_bucket(&mut *base.add(gap.read), &mut *base.add(gap.write - 1)) };
            if dup {
                gap.read += 1;
                // SAFETY: counted as gone first; dropped exactly once.
                unsafe { ptr::drop_in_place(base.add(gap.read - 1)) };
            } else {
                // SAFETY: slot `write` is in the gap (or is `read` itself,
                // then the copy is a no-op); `read` moves into it.
                unsafe { ptr::copy(base.add(gap.read), base.add(gap.write), 1) };
                gap.write += 1;
                gap.read += 1;
            }
        }
        gap.v.len = gap.write;
        mem::forget(gap);
    }

    /// Appends clones of the elements of `other`.
    ///
    /// # Panics
    /// As [`push`](Self::push) when the result would not fit.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from([1]);
    /// v.extend_from_slice(&[2, 3]);
    /// assert_eq!(v, [1, 2, 3]);
    /// ```
    #[track_caller]
    pub fn extend_from_slice(&mut self, other: &[T])
    where
        T: Clone,
    {
        if let Err(e) = self.try_extend_from_slice(other) {
            capacity_panic("ReservedVec::extend_from_slice", e)
        }
    }

    /// Fallible [`extend_from_slice`](Self::extend_from_slice): on error
    /// nothing was appended.
    ///
    /// # Errors
    /// As [`try_reserve`](Self::try_reserve) with `other.len()`.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::with_max_capacity(2);
    /// assert!(v.try_extend_from_slice(&[1, 2, 3]).is_err());
    /// assert!(v.is_empty());
    /// ```
    pub fn try_extend_from_slice(&mut self, other: &[T]) -> Result<(), TryReserveError>
    where
        T: Clone,
    {
        self.try_reserve(other.len())?;
        // The length lives in a local while cloning (so the compiler can
        // keep it in a register and turn `Copy` element loops into a copy)
        // and is written back even if a `clone` panics.
        struct SetLenOnDrop<'a> {
            len: &'a mut usize,
            local: usize,
        }
        impl Drop for SetLenOnDrop<'_> {
            fn drop(&mut self) {
                *self.len = self.local;
            }
        }
        let base = self.ptr.as_ptr();
        let mut guard = SetLenOnDrop {
            local: self.len,
            len: &mut self.len,
        };
        for x in other {
            // SAFETY: reserved above, so `guard.local < capacity`; the guard
            // counts only fully written clones, so a panicking `clone`
            // leaves a consistent vector.
            unsafe { base.add(guard.local).write(x.clone()) };
            guard.local += 1;
        }
        Ok(())
    }

    /// Appends clones of the elements in `src` (a range of this vector).
    ///
    /// # Panics
    /// When the range is out of bounds, or as [`push`](Self::push).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from([1, 2]);
    /// v.extend_from_within(..);
    /// assert_eq!(v, [1, 2, 1, 2]);
    /// ```
    #[track_caller]
    pub fn extend_from_within<R: RangeBounds<usize>>(&mut self, src: R)
    where
        T: Clone,
    {
        let (start, end) = slice_range(src, self.len);
        self.reserve(end - start);
        for i in start..end {
            // SAFETY: `i < end <= len` is initialised; the write goes to the
            // reserved slot `len`, which never aliases `i`; the length grows
            // one clone at a time.
            unsafe {
                let x = (*self.ptr.as_ptr().add(i)).clone();
                self.ptr.as_ptr().add(self.len).write(x);
            }
            self.len += 1;
        }
    }

    /// Resizes to `new_len`, cloning `value` to fill or dropping the tail.
    ///
    /// # Panics
    /// As [`push`](Self::push).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from([1]);
    /// v.resize(3, 0);
    /// assert_eq!(v, [1, 0, 0]);
    /// ```
    #[track_caller]
    pub fn resize(&mut self, new_len: usize, value: T)
    where
        T: Clone,
    {
        if new_len <= self.len {
            self.truncate(new_len);
            return;
        }
        self.reserve(new_len - self.len);
        while self.len + 1 < new_len {
            // SAFETY: reserved; one element at a time.
            unsafe { self.ptr.as_ptr().add(self.len).write(value.clone()) };
            self.len += 1;
        }
        // SAFETY: reserved; the last slot takes `value` itself.
        unsafe { self.ptr.as_ptr().add(self.len).write(value) };
        self.len += 1;
    }

    /// Resizes to `new_len`, calling `f` to fill or dropping the tail.
    ///
    /// # Panics
    /// As [`push`](Self::push).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut n = 0;
    /// let mut v = ReservedVec::new();
    /// v.resize_with(3, || { n += 1; n });
    /// assert_eq!(v, [1, 2, 3]);
    /// ```
    #[track_caller]
    pub fn resize_with<F: FnMut() -> T>(&mut self, new_len: usize, mut f: F) {
        if new_len <= self.len {
            self.truncate(new_len);
            return;
        }
        self.reserve(new_len - self.len);
        while self.len < new_len {
            // SAFETY: reserved; one element at a time.
            unsafe { self.ptr.as_ptr().add(self.len).write(f()) };
            self.len += 1;
        }
    }

    /// Moves all elements of `other` to the end of `self`, leaving `other`
    /// empty.
    ///
    /// # Panics
    /// As [`push`](Self::push); then `other` is unchanged.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut a = ReservedVec::from([1]);
    /// let mut b = ReservedVec::from([2, 3]);
    /// a.append(&mut b);
    /// assert_eq!((a.len(), b.len()), (3, 0));
    /// ```
    #[track_caller]
    pub fn append(&mut self, other: &mut Self) {
        let n = other.len;
        self.reserve(n);
        // SAFETY: reserved; the two vectors are distinct (two `&mut`), so
        // the ranges do not overlap; `other` gives up its elements.
        unsafe {
            ptr::copy_nonoverlapping(other.ptr.as_ptr(), self.ptr.as_ptr().add(self.len), n);
        }
        other.len = 0;
        self.len += n;
    }

    /// Splits off `[at, len)` into a new vector with the same maximum
    /// capacity (the moved elements are copied to its own reservation).
    ///
    /// # Panics
    /// When `at > len()`, or when the new vector cannot reserve.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from([1, 2, 3]);
    /// let t = v.split_off(1);
    /// assert_eq!((v, t), (ReservedVec::from([1]), ReservedVec::from([2, 3])));
    /// ```
    #[track_caller]
    pub fn split_off(&mut self, at: usize) -> Self {
        let len = self.len;
        if at > len {
            panic!("`at` split index (is {at}) should be <= len (is {len})");
        }
        let mut other = Self::new();
        other.max = self.max;
        if Self::IS_ZST {
            other.cap = other.max;
        }
        other.reserve_exact(len - at);
        // SAFETY: `[at, len)` is initialised and moves (bitwise) into the
        // other vector's reserved space; our length drops to `at` first.
        unsafe {
            self.len = at;
            ptr::copy_nonoverlapping(self.ptr.as_ptr().add(at), other.ptr.as_ptr(), len - at);
            other.len = len - at;
        }
        other
    }

    /// A vector with the same maximum capacity and no elements, for clones.
    fn empty_like(&self) -> Self {
        let mut v = Self::new();
        v.max = self.max;
        if Self::IS_ZST {
            v.cap = v.max;
        }
        v
    }
}

impl<T> Drop for ReservedVec<T> {
    fn drop(&mut self) {
        // SAFETY: `[0, len)` is initialised and dropped once; the
        // reservation is unmapped afterwards by its own `Drop`.
        unsafe {
            ptr::drop_in_place(ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), self.len));
        }
    }
}

impl<T> Default for ReservedVec<T> {
    /// [`ReservedVec::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Deref for ReservedVec<T> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T> DerefMut for ReservedVec<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
}

impl<T, I: SliceIndex<[T]>> Index<I> for ReservedVec<T> {
    type Output = I::Output;
    #[inline]
    fn index(&self, index: I) -> &I::Output {
        Index::index(self.as_slice(), index)
    }
}

impl<T, I: SliceIndex<[T]>> IndexMut<I> for ReservedVec<T> {
    #[inline]
    fn index_mut(&mut self, index: I) -> &mut I::Output {
        IndexMut::index_mut(self.as_mut_slice(), index)
    }
}

impl<T: Clone> Clone for ReservedVec<T> {
    /// A new vector (its own reservation, same maximum capacity) with
    /// clones of the elements. If a `clone` panics, the clones made so far
    /// are dropped.
    fn clone(&self) -> Self {
        let mut v = self.empty_like();
        v.extend_from_slice(self);
        v
    }

    fn clone_from(&mut self, source: &Self) {
        self.truncate(source.len);
        let (init, tail) = source.split_at(self.len);
        self.as_mut_slice().clone_from_slice(init);
        self.extend_from_slice(tail);
    }
}

impl<T: fmt::Debug> fmt::Debug for ReservedVec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_slice(), f)
    }
}

impl<T: Hash> Hash for ReservedVec<T> {
    /// Hashes like `[T]` (and `Vec<T>`), so `Borrow<[T]>` is consistent.
    fn hash<H: Hasher>(&self, state: &mut H) {
        Hash::hash(self.as_slice(), state)
    }
}

macro_rules! impl_eq {
    ([$($vars:tt)*] $lhs:ty, $rhs:ty) => {
        impl<$($vars)*> PartialEq<$rhs> for $lhs
        where
            T: PartialEq<U>,
        {
            #[inline]
            fn eq(&self, other: &$rhs) -> bool {
                self[..] == other[..]
            }
        }
    };
}

impl_eq! { [T, U] ReservedVec<T>, ReservedVec<U> }
impl_eq! { [T, U] ReservedVec<T>, [U] }
impl_eq! { ['a, T, U] ReservedVec<T>, &'a [U] }
impl_eq! { ['a, T, U] ReservedVec<T>, &'a mut [U] }
impl_eq! { [T, U] ReservedVec<T>, std::vec::Vec<U> }
impl_eq! { [T, U, const N: usize] ReservedVec<T>, [U; N] }
impl_eq! { ['a, T, U, const N: usize] ReservedVec<T>, &'a [U; N] }
impl_eq! { [T, U] [T], ReservedVec<U> }
impl_eq! { ['a, T, U] &'a [T], ReservedVec<U> }
impl_eq! { [T, U] std::vec::Vec<T>, ReservedVec<U> }

impl<T: Eq> Eq for ReservedVec<T> {}

impl<T: PartialOrd> PartialOrd for ReservedVec<T> {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        PartialOrd::partial_cmp(self.as_slice(), other.as_slice())
    }
}

impl<T: Ord> Ord for ReservedVec<T> {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        Ord::cmp(self.as_slice(), other.as_slice())
    }
}

impl<T> AsRef<[T]> for ReservedVec<T> {
    fn as_ref(&self) -> &[T] {
        self
    }
}

impl<T> AsMut<[T]> for ReservedVec<T> {
    fn as_mut(&mut self) -> &mut [T] {
        self
    }
}

impl<T> AsRef<ReservedVec<T>> for ReservedVec<T> {
    fn as_ref(&self) -> &ReservedVec<T> {
        self
    }
}

impl<T> AsMut<ReservedVec<T>> for ReservedVec<T> {
    fn as_mut(&mut self) -> &mut ReservedVec<T> {
        self
    }
}

impl<T> Borrow<[T]> for ReservedVec<T> {
    fn borrow(&self) -> &[T] {
        self
    }
}

impl<T> BorrowMut<[T]> for ReservedVec<T> {
    fn borrow_mut(&mut self) -> &mut [T] {
        self
    }
}

impl<T> Extend<T> for ReservedVec<T> {
    /// Appends every item. The iterator's lower `size_hint` (capped at the
    /// room left) is committed up front; a lying hint only costs extra
    /// commits.
    ///
    /// # Panics
    /// As [`push`](ReservedVec::push) when the items do not fit.
    #[track_caller]
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        let (lower, _) = iter.size_hint();
        let room = self.max - self.len;
        // Best effort: a refused commit surfaces in `push` below.
        let _ = self.try_reserve(lower.min(room));
        for x in iter {
            self.push(x);
        }
    }
}

impl<'a, T: Copy + 'a> Extend<&'a T> for ReservedVec<T> {
    /// Appends copies of every item.
    #[track_caller]
    fn extend<I: IntoIterator<Item = &'a T>>(&mut self, iter: I) {
        self.extend(iter.into_iter().copied());
    }
}

impl<T> FromIterator<T> for ReservedVec<T> {
    /// Collects into a vector with the default maximum capacity.
    ///
    /// # Panics
    /// When the items exceed the default maximum capacity.
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut v = Self::new();
        v.extend(iter);
        v
    }
}

impl<T: Clone> From<&[T]> for ReservedVec<T> {
    /// Clones the elements into a new vector (default maximum, or the
    /// slice's length if larger).
    #[track_caller]
    fn from(s: &[T]) -> Self {
        let mut v = Self::with_capacity(s.len());
        v.extend_from_slice(s);
        v
    }
}

impl<T: Clone> From<&mut [T]> for ReservedVec<T> {
    #[track_caller]
    fn from(s: &mut [T]) -> Self {
        Self::from(&*s)
    }
}

impl<T, const N: usize> From<[T; N]> for ReservedVec<T> {
    #[track_caller]
    fn from(a: [T; N]) -> Self {
        let mut v = Self::with_capacity(N);
        v.extend(a);
        v
    }
}

impl<T> From<std::vec::Vec<T>> for ReservedVec<T> {
    /// Moves the elements into a new reservation (one copy).
    #[track_caller]
    fn from(s: std::vec::Vec<T>) -> Self {
        let mut v = Self::with_capacity(s.len());
        v.extend(s);
        v
    }
}

impl<T> From<ReservedVec<T>> for std::vec::Vec<T> {
    /// Moves the elements into a std `Vec` (one copy).
    fn from(v: ReservedVec<T>) -> Self {
        v.into_iter().collect()
    }
}

impl std::io::Write for ReservedVec<u8> {
    /// Appends as many bytes as fit below the maximum capacity.
    ///
    /// # Errors
    /// [`std::io::ErrorKind::StorageFull`] when the vector is at its maximum
    /// (so `write_all` reports it), [`std::io::ErrorKind::OutOfMemory`] when
    /// the OS refuses to commit.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.max - self.len);
        if n == 0 && !buf.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                TryReserveError::Exhausted {
                    max_capacity: self.max,
                },
            ));
        }
        self.try_extend_from_slice(&buf[..n])
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::OutOfMemory, e))?;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<T> IntoIterator for ReservedVec<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(mut self) -> IntoIter<T> {
        let end = self.len;
        // The iterator owns `[head, end)`; the vector itself drops nothing.
        self.len = 0;
        IntoIter {
            vec: self,
            head: 0,
            end,
        }
    }
}

impl<'a, T> IntoIterator for &'a ReservedVec<T> {
    type Item = &'a T;
    type IntoIter = slice::Iter<'a, T>;
    fn into_iter(self) -> slice::Iter<'a, T> {
        self.iter()
    }
}

impl<'a, T> IntoIterator for &'a mut ReservedVec<T> {
    type Item = &'a mut T;
    type IntoIter = slice::IterMut<'a, T>;
    fn into_iter(self) -> slice::IterMut<'a, T> {
        self.iter_mut()
    }
}

/// The owning iterator of a [`ReservedVec`] (and of an
/// [`AppendVec`](crate::append::AppendVec)). The reservation is released
/// when it is dropped.
///
/// # Example
/// ```
/// use mallocv2_collections::reserved::ReservedVec;
///
/// let mut it = ReservedVec::from([1, 2, 3]).into_iter();
/// assert_eq!(it.next(), Some(1));
/// assert_eq!(it.next_back(), Some(3));
/// assert_eq!(it.as_slice(), &[2]);
/// ```
pub struct IntoIter<T> {
    /// Holds the storage; its `len` is 0 so it drops no element itself.
    vec: ReservedVec<T>,
    /// Elements `[head, end)` are initialised and not yet yielded.
    head: usize,
    /// See `head`. Invariant: `head <= end <= vec.cap`.
    end: usize,
}

impl<T> IntoIter<T> {
    /// The elements not yet yielded.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let it = ReservedVec::from(['a', 'b']).into_iter();
    /// assert_eq!(it.as_slice(), &['a', 'b']);
    /// ```
    pub fn as_slice(&self) -> &[T] {
        // SAFETY: `[head, end)` is initialised and owned by the iterator.
        unsafe { slice::from_raw_parts(self.vec.ptr.as_ptr().add(self.head), self.end - self.head) }
    }

    /// The elements not yet yielded, mutably.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut it = ReservedVec::from([1, 2]).into_iter();
    /// it.as_mut_slice()[0] = 5;
    /// assert_eq!(it.next(), Some(5));
    /// ```
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: as in `as_slice`, made unique by `&mut self`.
        unsafe {
            slice::from_raw_parts_mut(self.vec.ptr.as_ptr().add(self.head), self.end - self.head)
        }
    }
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    #[inline]
    fn next(&mut self) -> Option<T> {
        if self.head == self.end {
            return None;
        }
        self.head += 1;
        // SAFETY: slot `head - 1` was initialised and not yet yielded; it is
        // now outside `[head, end)`, so it is read exactly once.
        Some(unsafe { self.vec.ptr.as_ptr().add(self.head - 1).read() })
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end - self.head;
        (n, Some(n))
    }
}

impl<T> DoubleEndedIterator for IntoIter<T> {
    #[inline]
    fn next_back(&mut self) -> Option<T> {
        if self.head == self.end {
            return None;
        }
        self.end -= 1;
        // SAFETY: slot `end` was initialised and not yet yielded; it is now
        // outside `[head, end)`.
        Some(unsafe { self.vec.ptr.as_ptr().add(self.end).read() })
    }
}

impl<T> ExactSizeIterator for IntoIter<T> {}
impl<T> FusedIterator for IntoIter<T> {}

impl<T: fmt::Debug> fmt::Debug for IntoIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IntoIter").field(&self.as_slice()).finish()
    }
}

impl<T> Drop for IntoIter<T> {
    fn drop(&mut self) {
        let rest: *mut [T] = self.as_mut_slice();
        self.head = self.end;
        // SAFETY: the elements not yet yielded are dropped once; the
        // iterator no longer counts them.
        unsafe { ptr::drop_in_place(rest) };
    }
}

/// The iterator of [`ReservedVec::extract_if`].
///
/// # Example
/// ```
/// use mallocv2_collections::reserved::ReservedVec;
///
/// let mut v = ReservedVec::from([1, 20, 3, 40]);
/// let mut it = v.extract_if(.., |x| *x > 10);
/// assert_eq!(it.next(), Some(20));
/// drop(it); // 40 was not visited: it stays
/// assert_eq!(v, [1, 3, 40]);
/// ```
pub struct ExtractIf<'a, T, F> {
    /// The vector; its `len` is 0 until the iterator is dropped.
    vec: &'a mut ReservedVec<T>,
    /// Next index to look at.
    idx: usize,
    /// End of the range to look at. Invariant: `idx <= end <= old_len`.
    end: usize,
    /// Elements extracted so far; the kept ones before `idx` sit `del`
    /// slots lower. Invariant: `del <= idx`.
    del: usize,
    /// The length before `extract_if`.
    old_len: usize,
    /// The filter.
    pred: F,
}

impl<T, F: FnMut(&mut T) -> bool> Iterator for ExtractIf<'_, T, F> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        while self.idx < self.end {
            let i = self.idx;
            // SAFETY: `i < end <= old_len`: slot `i` is initialised and not
            // yet visited; the vector is borrowed mutably by us.
            let cur = unsafe { &mut *self.vec.ptr.as_ptr().add(i) };
            let take = (self.pred)(cur);
            // Only after the filter returned: if it panics, slot `i` counts
            // as unvisited and is kept.
            self.idx += 1;
            if take {
                self.del += 1;
                // SAFETY: read once; the slot now belongs to the hole.
                return Some(unsafe { ptr::read(cur) });
            } else if self.del > 0 {
                // SAFETY: slot `i - del` is in the hole (moved out or
                // extracted), distinct from `i`.
                unsafe {
                    ptr::copy_nonoverlapping(cur, self.vec.ptr.as_ptr().add(i - self.del), 1)
                };
            }
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.end - self.idx))
    }
}

impl<T, F> Drop for ExtractIf<'_, T, F> {
    fn drop(&mut self) {
        if self.del > 0 && self.idx < self.old_len {
            // SAFETY: `[idx, old_len)` are initialised unvisited elements;
            // they move down over the `del`-slot hole, within the vector.
            unsafe {
                let base = self.vec.ptr.as_ptr();
                ptr::copy(
                    base.add(self.idx),
                    base.add(self.idx - self.del),
                    self.old_len - self.idx,
                );
            }
        }
        self.vec.len = self.old_len - self.del;
    }
}

impl<T: fmt::Debug, F> fmt::Debug for ExtractIf<'_, T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: `[idx, old_len)` are initialised, unvisited elements.
        let rest = unsafe {
            slice::from_raw_parts(self.vec.ptr.as_ptr().add(self.idx), self.old_len - self.idx)
        };
        f.debug_tuple("ExtractIf").field(&rest).finish()
    }
}

/// The draining iterator of [`ReservedVec::drain`].
///
/// # Example
/// ```
/// use mallocv2_collections::reserved::ReservedVec;
///
/// let mut v = ReservedVec::from([1, 2, 3]);
/// let mut d = v.drain(..2);
/// assert_eq!(d.next_back(), Some(2));
/// drop(d); // drops 1, shifts 3 down
/// assert_eq!(v, [3]);
/// ```
pub struct Drain<'a, T> {
    /// The vector's base (never moves).
    base: NonNull<T>,
    /// Elements `[idx, end)` are still to be yielded.
    idx: usize,
    /// See `idx`. Invariant: `idx <= end <= tail_start`.
    end: usize,
    /// Where the kept tail starts.
    tail_start: usize,
    /// Length of the kept tail.
    tail_len: usize,
    /// The vector (its length is the drain's start until the drop).
    vec: NonNull<ReservedVec<T>>,
    /// Borrows the vector mutably for `'a`.
    _marker: PhantomData<&'a mut ReservedVec<T>>,
}

// SAFETY: a Drain is a `&mut ReservedVec<T>` plus indices; it hands out `T`
// by value (so `Send` needs `T: Send`) and `&[T]` (so `Sync` needs
// `T: Sync`), like std's `vec::Drain`.
unsafe impl<T: Send> Send for Drain<'_, T> {}
// SAFETY: see above.
unsafe impl<T: Sync> Sync for Drain<'_, T> {}

impl<T> Drain<'_, T> {
    /// The elements not yet yielded.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved::ReservedVec;
    ///
    /// let mut v = ReservedVec::from([1, 2, 3]);
    /// let mut d = v.drain(..);
    /// d.next();
    /// assert_eq!(d.as_slice(), &[2, 3]);
    /// ```
    pub fn as_slice(&self) -> &[T] {
        // SAFETY: `[idx, end)` is initialised and owned by the drain.
        unsafe { slice::from_raw_parts(self.base.as_ptr().add(self.idx), self.end - self.idx) }
    }
}

impl<T> Iterator for Drain<'_, T> {
    type Item = T;
    #[inline]
    fn next(&mut self) -> Option<T> {
        if self.idx == self.end {
            return None;
        }
        self.idx += 1;
        // SAFETY: slot `idx - 1` is initialised and now outside `[idx, end)`.
        Some(unsafe { self.base.as_ptr().add(self.idx - 1).read() })
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end - self.idx;
        (n, Some(n))
    }
}

impl<T> DoubleEndedIterator for Drain<'_, T> {
    #[inline]
    fn next_back(&mut self) -> Option<T> {
        if self.idx == self.end {
            return None;
        }
        self.end -= 1;
        // SAFETY: slot `end` is initialised and now outside `[idx, end)`.
        Some(unsafe { self.base.as_ptr().add(self.end).read() })
    }
}

impl<T> ExactSizeIterator for Drain<'_, T> {}
impl<T> FusedIterator for Drain<'_, T> {}

impl<T: fmt::Debug> fmt::Debug for Drain<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Drain").field(&self.as_slice()).finish()
    }
}

impl<T> Drop for Drain<'_, T> {
    fn drop(&mut self) {
        /// Moves the tail back, also when dropping an element panics.
        struct MoveTail<'r, 'a, T>(&'r mut Drain<'a, T>);
        impl<T> Drop for MoveTail<'_, '_, T> {
            fn drop(&mut self) {
                let d = &mut *self.0;
                // SAFETY: the Drain borrows the vector mutably, so the
                // pointer is valid and unique; the tail `[tail_start,
                // tail_start + tail_len)` is initialised and moves down to
                // the vector's length (the drain start), inside committed
                // memory.
                unsafe {
                    let vec = d.vec.as_mut();
                    let start = vec.len;
                    if d.tail_len > 0 && d.tail_start != start {
                        let base = d.base.as_ptr();
                        ptr::copy(base.add(d.tail_start), base.add(start), d.tail_len);
                    }
                    vec.len = start + d.tail_len;
                }
            }
        }
        let guard = MoveTail(self);
        let rest: *mut [T] = ptr::slice_from_raw_parts_mut(
            // SAFETY: `idx <= end`, inside the drained range.
            unsafe { guard.0.base.as_ptr().add(guard.0.idx) },
            guard.0.end - guard.0.idx,
        );
        guard.0.idx = guard.0.end;
        // SAFETY: the elements not yet yielded are dropped once.
        unsafe { ptr::drop_in_place(rest) };
        drop(guard);
    }
}

#[cfg(feature = "serde")]
mod serde_impls {
    use core::fmt;
    use core::marker::PhantomData;

    use serde::de::{Deserialize, Deserializer, Error, SeqAccess, Visitor};
    use serde::ser::{Serialize, Serializer};

    use super::ReservedVec;

    impl<T: Serialize> Serialize for ReservedVec<T> {
        /// Serializes as a sequence, like `Vec<T>`.
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.iter())
        }
    }

    impl<'de, T: Deserialize<'de>> Deserialize<'de> for ReservedVec<T> {
        /// Deserializes a sequence into a vector with the default maximum
        /// capacity; a longer sequence is an error.
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V<T>(PhantomData<T>);
            impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
                type Value = ReservedVec<T>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a sequence")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                    let mut v = ReservedVec::new();
                    // The hint is untrusted: cap it.
                    let hint = seq.size_hint().unwrap_or(0).min(1 << 16);
                    v.try_reserve(hint.min(v.max_capacity()))
                        .map_err(A::Error::custom)?;
                    while let Some(x) = seq.next_element()? {
                        v.try_push(x).map_err(A::Error::custom)?;
                    }
                    Ok(v)
                }
            }
            d.deserialize_seq(V(PhantomData))
        }
    }
}
