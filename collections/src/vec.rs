//! [`Vec<T, A = Heap>`](Vec): the std `Vec` API over an allocator that grows
//! blocks in place.
//!
//! # Growth
//!
//! Every growth follows the protocol of
//! [`ResizeInPlace::grow_live`]: (1) grow the block where it is, (2) move it
//! without copying (page remap, for blocks of at least
//! [`LARGE_THRESHOLD`](mallocv2::LARGE_THRESHOLD) bytes under [`Heap`]),
//! (3) allocate, copy only the `len` initialised elements, free. Uninitialised
//! capacity is never copied. The usable size the allocator reports becomes
//! capacity (size feedback), so [`capacity`](Vec::capacity) may exceed what
//! was asked for. Capacity at least doubles on `push` (amortized O(1)), and
//! starts at 8 bytes' worth for `u8`, 4 elements up to 1 KiB, else 1, like std.
//!
//! With [`Heap`], a `Vec<u64>` grown to 64 MiB copies about
//! [`LARGE_THRESHOLD`](mallocv2::LARGE_THRESHOLD) bytes in total: only the
//! small-block phase copies.
//!
//! ```
//! use mallocv2::Heap;
//! use mallocv2_collections::Vec;
//!
//! let before = Heap::thread_stats();
//! let mut v: Vec<u64> = Vec::new();
//! for i in 0..(8u64 << 20) / 8 {
//!     v.push(i);
//! }
//! let copied = Heap::thread_stats().since(&before).bytes_copied;
//! assert!(copied <= 2 * mallocv2::LARGE_THRESHOLD as u64, "{copied} bytes copied");
//! ```
//!
//! # Covered API
//!
//! Inherent: `new`, `new_in`, `with_capacity(_in)`, `try_with_capacity(_in)`,
//! `allocator`, `len`, `is_empty`, `capacity`, `reserve`, `reserve_exact`,
//! `try_reserve`, `try_reserve_exact`, `shrink_to_fit`, `shrink_to`, `push`,
//! `try_push`, `push_within_capacity`, `pop`, `insert`, `remove`,
//! `swap_remove`, `truncate`, `clear`, `extend_from_slice`,
//! `extend_from_within`, `append`, `split_off`, `drain`, `retain`,
//! `retain_mut`, `dedup`, `dedup_by_key`, `dedup_by`, `resize`,
//! `resize_with`, `as_slice`, `as_mut_slice`, `as_ptr`, `as_mut_ptr`,
//! `set_len`, `spare_capacity_mut`, `leak`, `from_std`, `from_std_in`,
//! `into_std`; everything on slices through `Deref<Target = [T]>` (`iter`,
//! `iter_mut`, `sort`, `binary_search`, `first`, `last`, …).
//!
//! Traits: `Deref`/`DerefMut`, `IntoIterator` (owned [`IntoIter`], `&`,
//! `&mut`), `FromIterator`, `Extend<T>`, `Extend<&T>`, `Clone`, `Debug`,
//! `Default`, `Hash` (as the slice), `PartialEq`/`Eq` (with `Vec`s of any
//! allocator, slices, arrays and `std::vec::Vec`), `PartialOrd`/`Ord`,
//! `Index`/`IndexMut` (positions and ranges), `AsRef`/`AsMut`,
//! `Borrow`/`BorrowMut`, `From<&[T]>`, `From<&mut [T]>`, `From<[T; N]>`,
//! `From<&[T; N]>`, `From<&str>` (bytes), `From<std::vec::Vec<T>>` and back,
//! `io::Write` for `Vec<u8, A>`, `Send`/`Sync` like std, and with the `serde`
//! feature `Serialize`/`Deserialize`.
//!
//! Not covered: `into_boxed_slice`, `from_raw_parts`, `splice`,
//! `extract_if`, `keep_rest` on `Drain`.
//!
//! One difference stable Rust cannot remove: std's `Vec` tells the drop
//! checker that dropping it only drops its elements (`#[may_dangle]`, an
//! unstable attribute), so a `std::vec::Vec<&T>` may outlive the `T`s it
//! points to as long as it is not used afterwards. This `Vec` cannot, so
//! such code must declare the borrowed values before the vector.
//!
//! # Conversions with `std::vec::Vec`
//!
//! `From` in both directions (and [`Vec::from_std`] / [`Vec::into_std`])
//! **always copy** the elements (a bitwise move into a new buffer): std's
//! buffer belongs to the global allocator, which may or may not be `Heap`,
//! and this crate cannot know.

use core::borrow::{Borrow, BorrowMut};
use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::iter::FusedIterator;
use core::marker::PhantomData;
use core::mem::{self, ManuallyDrop, MaybeUninit};
use core::ops::{Bound, Deref, DerefMut, Index, IndexMut, Range, RangeBounds};
use core::ptr;
use core::slice::{self, SliceIndex};

use mallocv2::{Heap, ResizeInPlace};

use crate::raw::{unwrap_reserve, Fallibility, RawBuf};
use crate::TryReserveError;

/// A contiguous growable array, like [`std::vec::Vec`], whose buffer grows
/// in place when the allocator can (see the [module docs](self)).
///
/// ```
/// use mallocv2_collections::Vec;
///
/// let mut v = Vec::new();
/// v.push(1);
/// v.extend([2, 3]);
/// assert_eq!(v, [1, 2, 3]);
/// assert_eq!(v.iter().sum::<i32>(), 6);
/// ```
///
/// `Send` and `Sync` follow the elements, as for std's `Vec`:
///
/// ```compile_fail
/// fn assert_send<T: Send>(_: T) {}
/// assert_send(mallocv2_collections::Vec::from([std::rc::Rc::new(1)]));
/// ```
pub struct Vec<T, A: ResizeInPlace = Heap> {
    /// The buffer. Its alignment is `align_of::<T>()` or more (an
    /// [`AlignedVec`](crate::aligned::AlignedVec) keeps a larger one).
    buf: RawBuf<A>,
    /// Initialised elements at the front of `buf`. Invariant:
    /// `len <= capacity()`.
    len: usize,
    /// Owns `T`s (for drop check and variance).
    _marker: PhantomData<T>,
}

// SAFETY: a `Vec` owns its elements and its buffer; sending it sends the
// elements and the allocator, like std's `Vec`.
unsafe impl<T: Send, A: ResizeInPlace + Send> Send for Vec<T, A> {}
// SAFETY: `&Vec` gives only `&T` and `&A`.
unsafe impl<T: Sync, A: ResizeInPlace + Sync> Sync for Vec<T, A> {}

/// `true` for zero-sized `T`, which never allocate.
#[inline(always)]
const fn is_zst<T>() -> bool {
    mem::size_of::<T>() == 0
}

/// Resolves a range against a length, panicking like slice indexing.
#[track_caller]
pub(crate) fn slice_range<R: RangeBounds<usize>>(range: R, len: usize) -> Range<usize> {
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
    assert!(
        start <= end,
        "slice index starts at {start} but ends at {end}"
    );
    assert!(
        end <= len,
        "range end index {end} out of range for slice of length {len}"
    );
    start..end
}

impl<T> Vec<T> {
    /// An empty vector; allocates nothing.
    ///
    /// ```
    /// let v: mallocv2_collections::Vec<u8> = mallocv2_collections::Vec::new();
    /// assert!(v.is_empty());
    /// ```
    #[inline]
    pub const fn new() -> Self {
        Self::new_in(Heap::new())
    }

    /// An empty vector with room for at least `capacity` elements.
    ///
    /// ```
    /// let v: mallocv2_collections::Vec<u32> = mallocv2_collections::Vec::with_capacity(10);
    /// assert!(v.capacity() >= 10);
    /// ```
    ///
    /// # Panics
    /// When the capacity exceeds `isize::MAX` bytes; allocation failure
    /// calls [`handle_alloc_error`](std::alloc::handle_alloc_error).
    #[inline]
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_capacity_in(capacity, Heap)
    }

    /// Like [`with_capacity`](Self::with_capacity), returning an error
    /// instead of failing.
    ///
    /// ```
    /// use mallocv2_collections::{Vec, TryReserveError};
    /// assert!(Vec::<u8>::try_with_capacity(100).is_ok());
    /// assert_eq!(Vec::<u64>::try_with_capacity(usize::MAX).unwrap_err(), TryReserveError::CapacityOverflow);
    /// ```
    ///
    /// # Errors
    /// [`TryReserveError::CapacityOverflow`] past `isize::MAX` bytes,
    /// [`TryReserveError::AllocError`] when the allocator refuses.
    #[inline]
    pub fn try_with_capacity(capacity: usize) -> Result<Self, TryReserveError> {
        Self::try_with_capacity_in(capacity, Heap)
    }

    /// Moves the elements of a `std::vec::Vec` into a new `Heap` buffer.
    /// Always copies (see the [module docs](self#conversions-with-stdvecvec)).
    ///
    /// ```
    /// let v = mallocv2_collections::Vec::from_std(vec![1, 2]);
    /// assert_eq!(v, [1, 2]);
    /// ```
    ///
    /// # Panics
    /// As [`with_capacity`](Self::with_capacity).
    pub fn from_std(v: std::vec::Vec<T>) -> Self {
        Self::from_std_in(v, Heap)
    }
}

impl<T, A: ResizeInPlace> Vec<T, A> {
    /// An empty vector using `alloc`; allocates nothing.
    ///
    /// ```
    /// use mallocv2_collections::Vec;
    /// let v: Vec<u8, mallocv2::alloc::Global> = Vec::new_in(mallocv2::alloc::Global);
    /// assert_eq!(v.capacity(), 0);
    /// ```
    #[inline]
    pub const fn new_in(alloc: A) -> Self {
        Self::new_aligned_in(alloc, mem::align_of::<T>())
    }

    /// An empty vector whose buffer will be aligned to `align` (a power of
    /// two, at least `align_of::<T>()`).
    #[inline]
    pub(crate) const fn new_aligned_in(alloc: A, align: usize) -> Self {
        Vec {
            buf: RawBuf::new_in(alloc, align),
            len: 0,
            _marker: PhantomData,
        }
    }

    /// A vector using `alloc` with room for at least `capacity` elements.
    ///
    /// ```
    /// use mallocv2_collections::Vec;
    /// let v: Vec<u8> = Vec::with_capacity_in(100, mallocv2::Heap);
    /// assert!(v.capacity() >= 100);
    /// ```
    ///
    /// # Panics
    /// As [`Vec::with_capacity`].
    #[inline]
    pub fn with_capacity_in(capacity: usize, alloc: A) -> Self {
        unwrap_reserve(Self::with_capacity_aligned_in(
            capacity,
            mem::align_of::<T>(),
            alloc,
            Fallibility::Infallible,
        ))
    }

    /// Like [`with_capacity_in`](Self::with_capacity_in), returning an
    /// error instead of failing.
    ///
    /// ```
    /// use mallocv2_collections::Vec;
    /// assert!(Vec::<u8, _>::try_with_capacity_in(16, mallocv2::Heap).is_ok());
    /// ```
    ///
    /// # Errors
    /// As [`Vec::try_with_capacity`].
    #[inline]
    pub fn try_with_capacity_in(capacity: usize, alloc: A) -> Result<Self, TryReserveError> {
        Self::with_capacity_aligned_in(capacity, mem::align_of::<T>(), alloc, Fallibility::Fallible)
    }

    /// A vector with room for `capacity` elements, its buffer aligned to
    /// `align`.
    pub(crate) fn with_capacity_aligned_in(
        capacity: usize,
        align: usize,
        alloc: A,
        fallibility: Fallibility,
    ) -> Result<Self, TryReserveError> {
        let mut v = Self::new_aligned_in(alloc, align);
        if capacity != 0 {
            v.grow(capacity, false, fallibility)?;
        }
        Ok(v)
    }

    /// Moves the elements of a `std::vec::Vec` into a new buffer of
    /// `alloc`. Always copies.
    ///
    /// ```
    /// use mallocv2_collections::Vec;
    /// let v = Vec::from_std_in(vec!["a".to_string()], mallocv2::Heap);
    /// assert_eq!(v[0], "a");
    /// ```
    ///
    /// # Panics
    /// As [`Vec::with_capacity`].
    pub fn from_std_in(mut v: std::vec::Vec<T>, alloc: A) -> Self {
        let n = v.len();
        let mut out = Self::with_capacity_in(n, alloc);
        // SAFETY: `out` has room for `n` elements; the source elements are
        // moved bitwise and `v` forgets them (len 0) before it frees its
        // buffer, so each element ends up owned once.
        unsafe {
            ptr::copy_nonoverlapping(v.as_ptr(), out.as_mut_ptr(), n);
            v.set_len(0);
            out.len = n;
        }
        out
    }

    /// Moves the elements into a new `std::vec::Vec` (global allocator).
    /// Always copies.
    ///
    /// ```
    /// let v = mallocv2_collections::Vec::from([1, 2, 3]);
    /// let s: std::vec::Vec<i32> = v.into_std();
    /// assert_eq!(s, [1, 2, 3]);
    /// ```
    ///
    /// # Panics
    /// When the global allocator fails.
    pub fn into_std(mut self) -> std::vec::Vec<T> {
        let n = self.len;
        let mut out = std::vec::Vec::with_capacity(n);
        // SAFETY: `out` has room for `n`; the elements move bitwise and
        // `self` forgets them before freeing its buffer.
        unsafe {
            ptr::copy_nonoverlapping(self.as_ptr(), out.as_mut_ptr(), n);
            self.len = 0;
            out.set_len(n);
        }
        out
    }

    /// The allocator.
    #[inline]
    pub fn allocator(&self) -> &A {
        self.buf.allocator()
    }

    /// The number of elements.
    ///
    /// ```
    /// assert_eq!(mallocv2_collections::Vec::from([1, 2]).len(), 2);
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no elements.
    ///
    /// ```
    /// assert!(mallocv2_collections::Vec::<u8>::new().is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Elements the buffer holds without growing: the allocator's usable
    /// size divided by the element size (`usize::MAX` for zero-sized `T`).
    ///
    /// ```
    /// let v: mallocv2_collections::Vec<u16> = mallocv2_collections::Vec::with_capacity(5);
    /// assert!(v.capacity() >= 5);
    /// ```
    #[inline]
    pub fn capacity(&self) -> usize {
        if is_zst::<T>() {
            usize::MAX
        } else {
            self.buf.cap_bytes() / mem::size_of::<T>()
        }
    }

    /// The growth path: room for `additional` more elements.
    #[inline]
    fn grow(
        &mut self,
        additional: usize,
        amortized: bool,
        fallibility: Fallibility,
    ) -> Result<(), TryReserveError> {
        if is_zst::<T>() {
            return match self.len.checked_add(additional) {
                Some(_) => Ok(()),
                None => Err(fallibility.fail(TryReserveError::CapacityOverflow)),
            };
        }
        let r = self.buf.grow(
            self.len,
            additional,
            mem::size_of::<T>(),
            amortized,
            fallibility,
        );
        self.check_invariants();
        r
    }

    /// Debug check of the field invariants.
    #[inline]
    fn check_invariants(&self) {
        debug_assert!(
            self.len <= self.capacity(),
            "len {} > capacity {}",
            self.len,
            self.capacity()
        );
        debug_assert!(
            self.buf.ptr().as_ptr() as usize % self.buf.align() == 0,
            "buffer {:p} not aligned to {}",
            self.buf.ptr(),
            self.buf.align()
        );
    }

    /// Grows by one element (amortized), for `push`.
    #[cold]
    #[inline(never)]
    fn grow_one(&mut self) {
        unwrap_reserve(self.grow(1, true, Fallibility::Infallible));
    }

    /// Makes room for at least `additional` more elements, growing the
    /// capacity geometrically.
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::from([1]);
    /// v.reserve(10);
    /// assert!(v.capacity() >= 11);
    /// ```
    ///
    /// # Panics
    /// When the capacity would exceed `isize::MAX` bytes; allocation failure
    /// calls [`handle_alloc_error`](std::alloc::handle_alloc_error).
    #[inline]
    pub fn reserve(&mut self, additional: usize) {
        if additional > self.capacity().wrapping_sub(self.len) {
            unwrap_reserve(self.grow(additional, true, Fallibility::Infallible));
        }
    }

    /// Makes room for at least `additional` more elements without
    /// over-allocating (the allocator's usable size may still add some).
    ///
    /// ```
    /// let mut v: mallocv2_collections::Vec<u64> = mallocv2_collections::Vec::new();
    /// v.reserve_exact(3);
    /// assert!(v.capacity() >= 3);
    /// ```
    ///
    /// # Panics
    /// As [`reserve`](Self::reserve).
    #[inline]
    pub fn reserve_exact(&mut self, additional: usize) {
        if additional > self.capacity().wrapping_sub(self.len) {
            unwrap_reserve(self.grow(additional, false, Fallibility::Infallible));
        }
    }

    /// Like [`reserve`](Self::reserve), returning an error instead of
    /// failing. On error the vector is unchanged.
    ///
    /// ```
    /// use mallocv2_collections::{Vec, TryReserveError};
    /// let mut v = Vec::from([1u32]);
    /// assert!(v.try_reserve(100).is_ok());
    /// assert_eq!(v.try_reserve(usize::MAX), Err(TryReserveError::CapacityOverflow));
    /// assert_eq!(v, [1]);
    /// ```
    ///
    /// # Errors
    /// [`TryReserveError::CapacityOverflow`] when `len + additional`
    /// overflows or exceeds `isize::MAX` bytes,
    /// [`TryReserveError::AllocError`] when the allocator refuses.
    #[inline]
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), TryReserveError> {
        if additional > self.capacity().wrapping_sub(self.len) {
            self.grow(additional, true, Fallibility::Fallible)
        } else {
            Ok(())
        }
    }

    /// Like [`reserve_exact`](Self::reserve_exact), returning an error
    /// instead of failing. On error the vector is unchanged.
    ///
    /// ```
    /// let mut v: mallocv2_collections::Vec<u8> = mallocv2_collections::Vec::new();
    /// v.try_reserve_exact(7).unwrap();
    /// assert!(v.capacity() >= 7);
    /// ```
    ///
    /// # Errors
    /// As [`try_reserve`](Self::try_reserve).
    #[inline]
    pub fn try_reserve_exact(&mut self, additional: usize) -> Result<(), TryReserveError> {
        if additional > self.capacity().wrapping_sub(self.len) {
            self.grow(additional, false, Fallibility::Fallible)
        } else {
            Ok(())
        }
    }

    /// Shrinks the buffer to about `len` elements: in place when the
    /// allocator can (large blocks give pages back), else by moving the
    /// live elements to a smaller block. The capacity may stay above `len`
    /// (the allocator's usable size), and stays as it is if the smaller
    /// block cannot be allocated.
    ///
    /// ```
    /// let mut v: mallocv2_collections::Vec<u8> = mallocv2_collections::Vec::with_capacity(1 << 20);
    /// v.push(1);
    /// v.shrink_to_fit();
    /// assert!(v.capacity() < 1 << 20);
    /// ```
    pub fn shrink_to_fit(&mut self) {
        self.shrink_to(0);
    }

    /// Shrinks the buffer to at least `max(len, min_capacity)` elements
    /// (see [`shrink_to_fit`](Self::shrink_to_fit)).
    ///
    /// ```
    /// let mut v: mallocv2_collections::Vec<u8> = mallocv2_collections::Vec::with_capacity(1 << 20);
    /// v.shrink_to(1000);
    /// assert!(v.capacity() >= 1000 && v.capacity() < 1 << 20);
    /// ```
    pub fn shrink_to(&mut self, min_capacity: usize) {
        if is_zst::<T>() {
            return;
        }
        let target = self.len.max(min_capacity);
        if self.capacity() > target {
            let size = mem::size_of::<T>();
            self.buf.shrink(self.len * size, target * size);
            self.check_invariants();
        }
    }

    /// Appends an element, growing the buffer (amortized O(1)).
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::new();
    /// v.push(3);
    /// assert_eq!(v, [3]);
    /// ```
    ///
    /// # Panics
    /// As [`reserve`](Self::reserve).
    #[inline]
    pub fn push(&mut self, value: T) {
        if self.len == self.capacity() {
            self.grow_one();
        }
        // SAFETY: `len < capacity`, so the slot is inside the buffer and
        // uninitialised.
        unsafe { self.as_mut_ptr().add(self.len).write(value) };
        self.len += 1;
    }

    /// Appends an element, or returns an error (dropping `value`) and
    /// leaves the vector unchanged. To keep the value on failure, call
    /// [`try_reserve(1)`](Self::try_reserve) and then
    /// [`push_within_capacity`](Self::push_within_capacity).
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::new();
    /// v.try_push(1).unwrap();
    /// assert_eq!(v, [1]);
    /// ```
    ///
    /// # Errors
    /// As [`try_reserve`](Self::try_reserve).
    #[inline]
    pub fn try_push(&mut self, value: T) -> Result<(), TryReserveError> {
        if self.len == self.capacity() {
            self.grow(1, true, Fallibility::Fallible)?;
        }
        // SAFETY: as in `push`.
        unsafe { self.as_mut_ptr().add(self.len).write(value) };
        self.len += 1;
        Ok(())
    }

    /// Appends an element if there is spare capacity, else hands it back.
    /// Never allocates.
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::new();
    /// assert_eq!(v.push_within_capacity(1), Err(1));
    /// v.reserve(1);
    /// assert_eq!(v.push_within_capacity(1), Ok(()));
    /// ```
    ///
    /// # Errors
    /// `Err(value)` when the buffer is full.
    #[inline]
    pub fn push_within_capacity(&mut self, value: T) -> Result<(), T> {
        if self.len == self.capacity() {
            return Err(value);
        }
        // SAFETY: as in `push`.
        unsafe { self.as_mut_ptr().add(self.len).write(value) };
        self.len += 1;
        Ok(())
    }

    /// Removes and returns the last element.
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::from([1, 2]);
    /// assert_eq!(v.pop(), Some(2));
    /// ```
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        // SAFETY: the slot at the old `len - 1` was initialised and is now
        // outside `len`, so it is read exactly once.
        Some(unsafe { self.as_ptr().add(self.len).read() })
    }

    /// Inserts `element` at `index`, shifting the rest right.
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::from([1, 3]);
    /// v.insert(1, 2);
    /// assert_eq!(v, [1, 2, 3]);
    /// ```
    ///
    /// # Panics
    /// When `index > len`, and as [`reserve`](Self::reserve).
    #[track_caller]
    pub fn insert(&mut self, index: usize, element: T) {
        let len = self.len;
        if index > len {
            insert_failed(index, len);
        }
        if len == self.capacity() {
            self.grow_one();
        }
        // SAFETY: `index <= len < capacity`, checked just above.
        unsafe { self.insert_within_capacity(index, element) }
    }

    /// Inserts `element` at `index` like [`insert`](Self::insert), or
    /// returns an error (dropping `element`) and leaves the vector
    /// unchanged.
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::from([1, 3]);
    /// v.try_insert(1, 2).unwrap();
    /// assert_eq!(v, [1, 2, 3]);
    /// ```
    ///
    /// # Errors
    /// As [`try_reserve`](Self::try_reserve).
    ///
    /// # Panics
    /// When `index > len()`.
    pub fn try_insert(&mut self, index: usize, element: T) -> Result<(), TryReserveError> {
        let len = self.len;
        if index > len {
            insert_failed(index, len);
        }
        self.try_reserve(1)?;
        // SAFETY: `index <= len`, and the reserve made `len < capacity`.
        unsafe { self.insert_within_capacity(index, element) };
        Ok(())
    }

    /// Shifts `[index, len)` right by one and writes `element` at `index`.
    ///
    /// # Safety
    /// `index <= len < capacity`.
    #[inline]
    unsafe fn insert_within_capacity(&mut self, index: usize, element: T) {
        let len = self.len;
        debug_assert!(
            index <= len && len < self.capacity(),
            "insert at {index}: len {len}, capacity {}",
            self.capacity()
        );
        // SAFETY: `index <= len < capacity` (caller); the shifted range
        // stays inside the buffer, and the gap at `index` is filled right
        // away.
        unsafe {
            let p = self.as_mut_ptr().add(index);
            if index < len {
                ptr::copy(p, p.add(1), len - index);
            }
            p.write(element);
        }
        self.len = len + 1;
    }

    /// Removes and returns the element at `index`, shifting the rest left.
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::from([1, 2, 3]);
    /// assert_eq!(v.remove(0), 1);
    /// assert_eq!(v, [2, 3]);
    /// ```
    ///
    /// # Panics
    /// When `index >= len`.
    #[track_caller]
    pub fn remove(&mut self, index: usize) -> T {
        let len = self.len;
        if index >= len {
            remove_failed(index, len);
        }
        // SAFETY: `index < len`: the element is read once, then the tail
        // closes the gap and `len` drops by one.
        unsafe {
            let p = self.as_mut_ptr().add(index);
            let v = p.read();
            ptr::copy(p.add(1), p, len - index - 1);
            self.len = len - 1;
            v
        }
    }

    /// Removes and returns the element at `index`, replacing it with the
    /// last one (O(1), does not keep order).
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::from([1, 2, 3]);
    /// assert_eq!(v.swap_remove(0), 1);
    /// assert_eq!(v, [3, 2]);
    /// ```
    ///
    /// # Panics
    /// When `index >= len`.
    #[track_caller]
    pub fn swap_remove(&mut self, index: usize) -> T {
        let len = self.len;
        if index >= len {
            panic!("swap_remove index (is {index}) should be < len (is {len})");
        }
        // SAFETY: `index < len`: the element is read once and the last one
        // moved into its slot (a no-op copy when they are the same).
        unsafe {
            let base = self.as_mut_ptr();
            let v = base.add(index).read();
            ptr::copy(base.add(len - 1), base.add(index), 1);
            self.len = len - 1;
            v
        }
    }

    /// Keeps the first `len` elements, dropping the rest. Does nothing when
    /// `len >= self.len()`. The capacity is unchanged.
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::from([1, 2, 3]);
    /// v.truncate(1);
    /// assert_eq!(v, [1]);
    /// ```
    pub fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        let tail = self.len - len;
        // Shorten first: if a drop panics, the rest are still dropped (by
        // the slice drop glue) and never again.
        self.len = len;
        // SAFETY: the `tail` elements after `len` were initialised and are
        // now outside the vector.
        unsafe {
            ptr::drop_in_place(ptr::slice_from_raw_parts_mut(
                self.as_mut_ptr().add(len),
                tail,
            ))
        };
    }

    /// Drops every element. The capacity is unchanged.
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::from([1, 2]);
    /// v.clear();
    /// assert!(v.is_empty());
    /// ```
    #[inline]
    pub fn clear(&mut self) {
        self.truncate(0);
    }

    /// The elements as a slice.
    ///
    /// ```
    /// let v = mallocv2_collections::Vec::from([1, 2]);
    /// assert_eq!(v.as_slice(), &[1, 2]);
    /// ```
    #[inline]
    pub fn as_slice(&self) -> &[T] {
        // SAFETY: `len` elements are initialised at an aligned non-null
        // pointer (dangling is fine for len 0 and ZSTs).
        unsafe { slice::from_raw_parts(self.as_ptr(), self.len) }
    }

    /// The elements as a mutable slice.
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::from([1, 2]);
    /// v.as_mut_slice()[0] = 5;
    /// assert_eq!(v, [5, 2]);
    /// ```
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: as in `as_slice`, and `&mut self` is exclusive.
        unsafe { slice::from_raw_parts_mut(self.as_mut_ptr(), self.len) }
    }

    /// A pointer to the buffer (dangling but aligned when nothing is
    /// allocated). Valid until the vector reallocates.
    ///
    /// ```
    /// let v = mallocv2_collections::Vec::from([7u8]);
    /// assert_eq!(unsafe { *v.as_ptr() }, 7);
    /// ```
    #[inline]
    pub fn as_ptr(&self) -> *const T {
        self.buf.ptr().as_ptr().cast()
    }

    /// A mutable pointer to the buffer.
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::from([7u8]);
    /// unsafe { *v.as_mut_ptr() = 8 };
    /// assert_eq!(v, [8]);
    /// ```
    #[inline]
    pub fn as_mut_ptr(&mut self) -> *mut T {
        self.buf.ptr().as_ptr().cast()
    }

    /// Sets the length without dropping or initialising anything.
    ///
    /// ```
    /// let mut v: mallocv2_collections::Vec<u8> = mallocv2_collections::Vec::with_capacity(4);
    /// v.spare_capacity_mut()[0].write(9);
    /// unsafe { v.set_len(1) };
    /// assert_eq!(v, [9]);
    /// ```
    ///
    /// # Safety
    /// `new_len <= capacity()`, and the first `new_len` elements are
    /// initialised.
    #[inline]
    pub unsafe fn set_len(&mut self, new_len: usize) {
        debug_assert!(
            new_len <= self.capacity(),
            "set_len({new_len}) past capacity {}",
            self.capacity()
        );
        self.len = new_len;
    }

    /// The spare capacity, to be initialised before
    /// [`set_len`](Self::set_len).
    ///
    /// ```
    /// let mut v: mallocv2_collections::Vec<u8> = mallocv2_collections::Vec::with_capacity(2);
    /// assert!(v.spare_capacity_mut().len() >= 2);
    /// ```
    #[inline]
    pub fn spare_capacity_mut(&mut self) -> &mut [MaybeUninit<T>] {
        let spare = self.capacity() - self.len;
        // SAFETY: the `spare` slots after `len` are inside the buffer;
        // `MaybeUninit` needs no initialisation.
        unsafe {
            slice::from_raw_parts_mut(
                self.as_mut_ptr().add(self.len).cast::<MaybeUninit<T>>(),
                spare,
            )
        }
    }

    /// Gives up the buffer and returns the elements as a slice that lives
    /// as long as the allocator (the memory is never freed).
    ///
    /// ```
    /// let v = mallocv2_collections::Vec::from([1, 2]);
    /// let s: &'static mut [i32] = v.leak();
    /// assert_eq!(s, &[1, 2]);
    /// ```
    pub fn leak<'a>(self) -> &'a mut [T]
    where
        A: 'a,
    {
        let mut me = ManuallyDrop::new(self);
        // SAFETY: the buffer is never freed (the vector is forgotten), so
        // its `len` initialised elements stay valid for `'a`.
        unsafe { slice::from_raw_parts_mut(me.as_mut_ptr(), me.len) }
    }

    /// Moves every element of `other` to the end of `self`, leaving
    /// `other` empty.
    ///
    /// ```
    /// let mut a = mallocv2_collections::Vec::from([1]);
    /// let mut b = mallocv2_collections::Vec::from([2, 3]);
    /// a.append(&mut b);
    /// assert_eq!((a.len(), b.len()), (3, 0));
    /// ```
    ///
    /// # Panics
    /// As [`reserve`](Self::reserve).
    pub fn append<B: ResizeInPlace>(&mut self, other: &mut Vec<T, B>) {
        let n = other.len;
        self.reserve(n);
        // SAFETY: room for `n` more; the elements move bitwise and `other`
        // forgets them.
        unsafe {
            ptr::copy_nonoverlapping(other.as_ptr(), self.as_mut_ptr().add(self.len), n);
            other.len = 0;
        }
        self.len += n;
    }

    /// Splits off the elements from `at` into a new vector (same allocator
    /// and alignment).
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::from([1, 2, 3]);
    /// let t = v.split_off(1);
    /// assert_eq!((v.as_slice(), t.as_slice()), (&[1][..], &[2, 3][..]));
    /// ```
    ///
    /// # Panics
    /// When `at > len`, and as [`reserve`](Self::reserve).
    #[track_caller]
    pub fn split_off(&mut self, at: usize) -> Self
    where
        A: Clone,
    {
        if at > self.len {
            panic!(
                "`at` split index (is {at}) should be <= len (is {})",
                self.len
            );
        }
        let n = self.len - at;
        let mut other = unwrap_reserve(Self::with_capacity_aligned_in(
            n,
            self.buf.align(),
            self.allocator().clone(),
            Fallibility::Infallible,
        ));
        // SAFETY: `other` has room for `n`; the tail moves bitwise and
        // `self` forgets it.
        unsafe {
            ptr::copy_nonoverlapping(self.as_ptr().add(at), other.as_mut_ptr(), n);
            self.len = at;
            other.len = n;
        }
        other
    }

    /// Removes `range` and returns its elements as an iterator. Elements
    /// not taken are dropped when the iterator is; the tail then closes the
    /// gap.
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::from([1, 2, 3, 4]);
    /// let d: Vec<i32> = v.drain(1..3).collect();
    /// assert_eq!(d, [2, 3]);
    /// assert_eq!(v, [1, 4]);
    /// ```
    ///
    /// # Panics
    /// When the range is out of bounds or decreasing.
    #[track_caller]
    pub fn drain<R: RangeBounds<usize>>(&mut self, range: R) -> Drain<'_, T, A> {
        let len = self.len;
        let Range { start, end } = slice_range(range, len);
        // Until the drain is dropped the vector ends at `start`, so leaking
        // the drain leaks the tail instead of exposing moved-out slots.
        self.len = start;
        Drain {
            idx: start,
            end,
            tail_start: end,
            tail_len: len - end,
            vec: self,
        }
    }

    /// Keeps only the elements for which `f` returns `true`, in order.
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::from([1, 2, 3, 4]);
    /// v.retain(|&x| x % 2 == 0);
    /// assert_eq!(v, [2, 4]);
    /// ```
    pub fn retain<F: FnMut(&T) -> bool>(&mut self, mut f: F) {
        self.retain_mut(|x| f(x));
    }

    /// Like [`retain`](Self::retain), with mutable access.
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::from([1, 2, 3]);
    /// v.retain_mut(|x| { *x += 1; *x != 3 });
    /// assert_eq!(v, [2, 4]);
    /// ```
    pub fn retain_mut<F: FnMut(&mut T) -> bool>(&mut self, mut f: F) {
        let original_len = self.len;
        if original_len == 0 {
            return;
        }
        // While this runs the vector claims no elements, so a panic in `f`
        // or a drop cannot expose a dropped slot; the guard restores it.
        self.len = 0;
        /// Closes the gaps and sets the length, also on unwinding.
        struct Backshift<'a, T, A: ResizeInPlace> {
            v: &'a mut Vec<T, A>,
            processed: usize,
            deleted: usize,
            original_len: usize,
        }
        impl<T, A: ResizeInPlace> Drop for Backshift<'_, T, A> {
            fn drop(&mut self) {
                if self.deleted > 0 {
                    // SAFETY: slots `processed..original_len` are unchecked
                    // live elements; they move down over the `deleted`
                    // dropped or moved-out slots before them.
                    unsafe {
                        let p = self.v.as_mut_ptr();
                        ptr::copy(
                            p.add(self.processed),
                            p.add(self.processed - self.deleted),
                            self.original_len - self.processed,
                        );
                    }
                }
                self.v.len = self.original_len - self.deleted;
            }
        }
        let mut g = Backshift {
            v: self,
            processed: 0,
            deleted: 0,
            original_len,
        };
        while g.processed != original_len {
            // SAFETY: `processed < original_len`: a live element that the
            // vector does not claim (len is 0), borrowed for the call.
            let cur = unsafe { &mut *g.v.as_mut_ptr().add(g.processed) };
            if !f(cur) {
                // Counted before the drop, so a panicking drop is not
                // dropped again by the guard.
                g.processed += 1;
                g.deleted += 1;
                // SAFETY: the element is dropped once and then treated as
                // a hole.
                unsafe { ptr::drop_in_place(cur) };
            } else {
                if g.deleted > 0 {
                    // SAFETY: the hole `processed - deleted` is before
                    // `processed`, inside the buffer, and distinct from it.
                    unsafe {
                        let p = g.v.as_mut_ptr();
                        ptr::copy_nonoverlapping(
                            p.add(g.processed),
                            p.add(g.processed - g.deleted),
                            1,
                        );
                    }
                }
                g.processed += 1;
            }
        }
    }

    /// Removes consecutive duplicates, keeping the first of each run.
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::from([1, 1, 2, 1]);
    /// v.dedup();
    /// assert_eq!(v, [1, 2, 1]);
    /// ```
    pub fn dedup(&mut self)
    where
        T: PartialEq,
    {
        self.dedup_by(|a, b| a == b);
    }

    /// Removes consecutive elements with equal keys.
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::from([10, 11, 20, 21]);
    /// v.dedup_by_key(|x| *x / 10);
    /// assert_eq!(v, [10, 20]);
    /// ```
    pub fn dedup_by_key<K: PartialEq, F: FnMut(&mut T) -> K>(&mut self, mut key: F) {
        self.dedup_by(|a, b| key(a) == key(b));
    }

    /// Removes consecutive elements for which `same_bucket(current,
    /// previous_kept)` returns `true`.
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::from(["a", "A", "b"]);
    /// v.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    /// assert_eq!(v, ["a", "b"]);
    /// ```
    pub fn dedup_by<F: FnMut(&mut T, &mut T) -> bool>(&mut self, mut same_bucket: F) {
        let len = self.len;
        if len <= 1 {
            return;
        }
        /// Closes the gap between `write` and `read` and sets the length,
        /// also on unwinding.
        struct FillGap<'a, T, A: ResizeInPlace> {
            read: usize,
            write: usize,
            len: usize,
            v: &'a mut Vec<T, A>,
        }
        impl<T, A: ResizeInPlace> Drop for FillGap<'_, T, A> {
            fn drop(&mut self) {
                // SAFETY: `read..len` are live unchecked elements; slots
                // `write..read` are holes; moving the tail down keeps every
                // live element once.
                unsafe {
                    let p = self.v.as_mut_ptr();
                    ptr::copy(p.add(self.read), p.add(self.write), self.len - self.read);
                }
                self.v.len = self.write + (self.len - self.read);
            }
        }
        // The vector claims nothing while holes exist.
        self.len = 0;
        let mut g = FillGap {
            read: 1,
            write: 1,
            len,
            v: self,
        };
        while g.read < len {
            let p = g.v.as_mut_ptr();
            // SAFETY: `write - 1 < read < len`: two distinct live elements.
            let dup = unsafe { same_bucket(&mut *p.add(g.read), &mut *p.add(g.write - 1)) };
            if dup {
                g.read += 1;
                // SAFETY: the element at the old `read` is dropped once and
                // is now a hole (counted before the drop, in case it panics).
                unsafe { ptr::drop_in_place(p.add(g.read - 1)) };
            } else {
                // SAFETY: `write <= read`, both inside the buffer; the slot
                // at `write` is a hole (or the same element).
                unsafe { ptr::copy(p.add(g.read), p.add(g.write), 1) };
                g.write += 1;
                g.read += 1;
            }
        }
        g.v.len = g.write;
        mem::forget(g);
    }

    /// Resizes to `new_len`, filling new slots with the values `f` returns.
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::new();
    /// let mut n = 0;
    /// v.resize_with(3, || { n += 1; n });
    /// assert_eq!(v, [1, 2, 3]);
    /// ```
    ///
    /// # Panics
    /// As [`reserve`](Self::reserve).
    pub fn resize_with<F: FnMut() -> T>(&mut self, new_len: usize, mut f: F) {
        if new_len <= self.len {
            self.truncate(new_len);
            return;
        }
        self.reserve(new_len - self.len);
        while self.len < new_len {
            let v = f();
            // SAFETY: reserved above; `len` is bumped after each write, so
            // a panic in `f` leaves only initialised elements claimed.
            unsafe { self.as_mut_ptr().add(self.len).write(v) };
            self.len += 1;
        }
    }

    /// Appends clones of the elements in `src` (a range of `self`).
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::from([1, 2]);
    /// v.extend_from_within(..);
    /// assert_eq!(v, [1, 2, 1, 2]);
    /// ```
    ///
    /// # Panics
    /// When the range is out of bounds, and as [`reserve`](Self::reserve).
    #[track_caller]
    pub fn extend_from_within<R: RangeBounds<usize>>(&mut self, src: R)
    where
        T: Clone,
    {
        let Range { start, end } = slice_range(src, self.len);
        self.reserve(end - start);
        for i in start..end {
            // SAFETY: `i < end <= len` is live; no reallocation happens in
            // this loop (room was reserved), so the pointer stays valid; the
            // clone goes into the reserved slot at `len`, and `len` is
            // bumped after each write (panic safe).
            unsafe {
                let v = (*self.as_ptr().add(i)).clone();
                self.as_mut_ptr().add(self.len).write(v);
            }
            self.len += 1;
        }
    }

    /// Appends clones of `other`'s elements.
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::from([1]);
    /// v.extend_from_slice(&[2, 3]);
    /// assert_eq!(v, [1, 2, 3]);
    /// ```
    ///
    /// # Panics
    /// As [`reserve`](Self::reserve).
    pub fn extend_from_slice(&mut self, other: &[T])
    where
        T: Clone,
    {
        self.reserve(other.len());
        self.extend_from_slice_within_capacity(other);
    }

    /// Clones and appends every element of `other` like
    /// [`extend_from_slice`](Self::extend_from_slice), or returns an error
    /// and leaves the vector unchanged.
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::from([1]);
    /// v.try_extend_from_slice(&[2, 3]).unwrap();
    /// assert_eq!(v, [1, 2, 3]);
    /// ```
    ///
    /// # Errors
    /// As [`try_reserve`](Self::try_reserve).
    pub fn try_extend_from_slice(&mut self, other: &[T]) -> Result<(), TryReserveError>
    where
        T: Clone,
    {
        self.try_reserve(other.len())?;
        self.extend_from_slice_within_capacity(other);
        Ok(())
    }

    /// Appends clones of `other`; room for all of them is reserved.
    #[inline]
    fn extend_from_slice_within_capacity(&mut self, other: &[T])
    where
        T: Clone,
    {
        assert!(
            self.capacity() - self.len >= other.len(),
            "extend_from_slice_within_capacity: {} spare, {} needed",
            self.capacity() - self.len,
            other.len()
        );
        let dst = self.as_mut_ptr();
        // A local length written back on drop (also on unwinding): the loop
        // then compiles to a `memcpy` for `Copy` types.
        let mut len = SetLenOnDrop::new(&mut self.len);
        for x in other {
            // SAFETY: room for `other.len()` was reserved; slot `len` is
            // inside it and uninitialised; the length counts each write.
            unsafe { dst.add(len.local).write(x.clone()) };
            len.local += 1;
        }
    }

    /// Resizes to `new_len`, filling new slots with clones of `value`.
    ///
    /// ```
    /// let mut v = mallocv2_collections::Vec::from([1]);
    /// v.resize(3, 0);
    /// assert_eq!(v, [1, 0, 0]);
    /// v.resize(1, 0);
    /// assert_eq!(v, [1]);
    /// ```
    ///
    /// # Panics
    /// As [`reserve`](Self::reserve).
    pub fn resize(&mut self, new_len: usize, value: T)
    where
        T: Clone,
    {
        if new_len <= self.len {
            self.truncate(new_len);
            return;
        }
        let n = new_len - self.len;
        self.reserve(n);
        let dst = self.as_mut_ptr();
        let mut len = SetLenOnDrop::new(&mut self.len);
        for _ in 1..n {
            // SAFETY: room for `n` was reserved; the length counts each
            // write (also if a clone panics).
            unsafe { dst.add(len.local).write(value.clone()) };
            len.local += 1;
        }
        // SAFETY: the last reserved slot takes `value` itself.
        unsafe { dst.add(len.local).write(value) };
        len.local += 1;
    }

    /// The block's alignment (for `AlignedVec`).
    #[inline]
    pub(crate) fn buffer_align(&self) -> usize {
        self.buf.align()
    }
}

/// Writes a length back when dropped, so that a loop filling slots can keep
/// the length in a register and still leave the vector consistent if a
/// `clone` panics.
struct SetLenOnDrop<'a> {
    /// The vector's length field.
    len: &'a mut usize,
    /// The length so far.
    local: usize,
}

impl<'a> SetLenOnDrop<'a> {
    #[inline]
    fn new(len: &'a mut usize) -> Self {
        let local = *len;
        SetLenOnDrop { len, local }
    }
}

impl Drop for SetLenOnDrop<'_> {
    #[inline]
    fn drop(&mut self) {
        *self.len = self.local;
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn insert_failed(index: usize, len: usize) -> ! {
    panic!("insertion index (is {index}) should be <= len (is {len})");
}

#[cold]
#[inline(never)]
#[track_caller]
fn remove_failed(index: usize, len: usize) -> ! {
    panic!("removal index (is {index}) should be < len (is {len})");
}

impl<T, A: ResizeInPlace> Drop for Vec<T, A> {
    fn drop(&mut self) {
        // SAFETY: the `len` elements are initialised and dropped once; the
        // buffer is freed by `RawBuf`'s drop afterwards (even if one of
        // these drops panics).
        unsafe {
            ptr::drop_in_place(ptr::slice_from_raw_parts_mut(self.as_mut_ptr(), self.len));
        }
    }
}

impl<T, A: ResizeInPlace> Deref for Vec<T, A> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T, A: ResizeInPlace> DerefMut for Vec<T, A> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
}

impl<T: Clone, A: ResizeInPlace + Clone> Clone for Vec<T, A> {
    fn clone(&self) -> Self {
        let mut v = unwrap_reserve(Self::with_capacity_aligned_in(
            self.len,
            self.buf.align(),
            self.allocator().clone(),
            Fallibility::Infallible,
        ));
        v.extend_from_slice(self);
        v
    }

    fn clone_from(&mut self, source: &Self) {
        self.truncate(source.len);
        let (init, tail) = source.split_at(self.len);
        self.clone_from_slice(init);
        self.extend_from_slice(tail);
    }
}

impl<T: fmt::Debug, A: ResizeInPlace> fmt::Debug for Vec<T, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T, A: ResizeInPlace + Default> Default for Vec<T, A> {
    fn default() -> Self {
        Self::new_in(A::default())
    }
}

impl<T: Hash, A: ResizeInPlace> Hash for Vec<T, A> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        Hash::hash(&**self, state);
    }
}

impl<T, I: SliceIndex<[T]>, A: ResizeInPlace> Index<I> for Vec<T, A> {
    type Output = I::Output;
    #[inline]
    fn index(&self, index: I) -> &I::Output {
        Index::index(&**self, index)
    }
}

impl<T, I: SliceIndex<[T]>, A: ResizeInPlace> IndexMut<I> for Vec<T, A> {
    #[inline]
    fn index_mut(&mut self, index: I) -> &mut I::Output {
        IndexMut::index_mut(&mut **self, index)
    }
}

macro_rules! impl_eq {
    ([$($vars:tt)*] $lhs:ty, $rhs:ty) => {
        impl<T, U, $($vars)*> PartialEq<$rhs> for $lhs
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

impl_eq! { [A: ResizeInPlace, B: ResizeInPlace] Vec<T, A>, Vec<U, B> }
impl_eq! { [A: ResizeInPlace] Vec<T, A>, [U] }
impl_eq! { [A: ResizeInPlace] Vec<T, A>, &[U] }
impl_eq! { [A: ResizeInPlace] Vec<T, A>, &mut [U] }
impl_eq! { [A: ResizeInPlace] Vec<T, A>, std::vec::Vec<U> }
impl_eq! { [A: ResizeInPlace] [T], Vec<U, A> }
impl_eq! { [A: ResizeInPlace] &[T], Vec<U, A> }
impl_eq! { [A: ResizeInPlace] &mut [T], Vec<U, A> }
impl_eq! { [A: ResizeInPlace] std::vec::Vec<T>, Vec<U, A> }
impl_eq! { [A: ResizeInPlace, const N: usize] Vec<T, A>, [U; N] }
impl_eq! { [A: ResizeInPlace, const N: usize] Vec<T, A>, &[U; N] }
impl_eq! { [A: ResizeInPlace, const N: usize] [T; N], Vec<U, A> }

impl<T: Eq, A: ResizeInPlace> Eq for Vec<T, A> {}

impl<T: PartialOrd, A: ResizeInPlace, B: ResizeInPlace> PartialOrd<Vec<T, B>> for Vec<T, A> {
    #[inline]
    fn partial_cmp(&self, other: &Vec<T, B>) -> Option<Ordering> {
        PartialOrd::partial_cmp(&**self, &**other)
    }
}

impl<T: Ord, A: ResizeInPlace> Ord for Vec<T, A> {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        Ord::cmp(&**self, &**other)
    }
}

impl<T, A: ResizeInPlace> AsRef<[T]> for Vec<T, A> {
    fn as_ref(&self) -> &[T] {
        self
    }
}

impl<T, A: ResizeInPlace> AsMut<[T]> for Vec<T, A> {
    fn as_mut(&mut self) -> &mut [T] {
        self
    }
}

impl<T, A: ResizeInPlace> AsRef<Vec<T, A>> for Vec<T, A> {
    fn as_ref(&self) -> &Vec<T, A> {
        self
    }
}

impl<T, A: ResizeInPlace> AsMut<Vec<T, A>> for Vec<T, A> {
    fn as_mut(&mut self) -> &mut Vec<T, A> {
        self
    }
}

impl<T, A: ResizeInPlace> Borrow<[T]> for Vec<T, A> {
    fn borrow(&self) -> &[T] {
        self
    }
}

impl<T, A: ResizeInPlace> BorrowMut<[T]> for Vec<T, A> {
    fn borrow_mut(&mut self) -> &mut [T] {
        self
    }
}

impl<T: Clone> From<&[T]> for Vec<T> {
    fn from(s: &[T]) -> Self {
        let mut v = Vec::with_capacity(s.len());
        v.extend_from_slice(s);
        v
    }
}

impl<T: Clone> From<&mut [T]> for Vec<T> {
    fn from(s: &mut [T]) -> Self {
        Vec::from(&*s)
    }
}

impl<T: Clone, const N: usize> From<&[T; N]> for Vec<T> {
    fn from(s: &[T; N]) -> Self {
        Vec::from(&s[..])
    }
}

impl<T, const N: usize> From<[T; N]> for Vec<T> {
    fn from(a: [T; N]) -> Self {
        let mut v = Vec::with_capacity(N);
        let a = ManuallyDrop::new(a);
        // SAFETY: room for `N`; the array's elements move bitwise and the
        // array is forgotten.
        unsafe {
            ptr::copy_nonoverlapping(a.as_ptr(), v.as_mut_ptr(), N);
            v.len = N;
        }
        v
    }
}

impl From<&str> for Vec<u8> {
    fn from(s: &str) -> Self {
        Vec::from(s.as_bytes())
    }
}

impl<T> From<std::vec::Vec<T>> for Vec<T> {
    /// Copies (see [`Vec::from_std`]).
    fn from(v: std::vec::Vec<T>) -> Self {
        Vec::from_std(v)
    }
}

impl<T, A: ResizeInPlace> From<Vec<T, A>> for std::vec::Vec<T> {
    /// Copies (see [`Vec::into_std`]).
    fn from(v: Vec<T, A>) -> Self {
        v.into_std()
    }
}

/// For every allocator with a [`Default`] (as `Default` for `Vec<T, A>`).
/// The `From` conversions stay on [`Heap`] only, so that `Vec::from(…)`
/// needs no type annotation.
///
/// ```
/// use mallocv2_collections::Vec;
/// let v: Vec<u32, mallocv2::alloc::Global> = (1..=3).collect();
/// assert_eq!(v, [1, 2, 3]);
/// ```
impl<T, A: ResizeInPlace + Default> FromIterator<T> for Vec<T, A> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut v = Vec::new_in(A::default());
        v.extend(iter);
        v
    }
}

impl<T, A: ResizeInPlace> Extend<T> for Vec<T, A> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        let mut iter = iter.into_iter();
        // The hint only sizes the reservation: a lying one costs memory or
        // an extra growth, never safety.
        self.reserve(iter.size_hint().0);
        while let Some(x) = iter.next() {
            if self.len == self.capacity() {
                self.reserve(iter.size_hint().0.saturating_add(1));
            }
            // SAFETY: `len < capacity` (checked just above).
            unsafe { self.as_mut_ptr().add(self.len).write(x) };
            self.len += 1;
        }
    }
}

impl<'a, T: Copy + 'a, A: ResizeInPlace> Extend<&'a T> for Vec<T, A> {
    fn extend<I: IntoIterator<Item = &'a T>>(&mut self, iter: I) {
        self.extend(iter.into_iter().copied());
    }
}

impl<A: ResizeInPlace> std::io::Write for Vec<u8, A> {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.try_reserve(buf.len()).map_err(std::io::Error::other)?;
        self.extend_from_slice(buf);
        Ok(buf.len())
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.write(buf).map(drop)
    }

    #[inline]
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<T, A: ResizeInPlace> IntoIterator for Vec<T, A> {
    type Item = T;
    type IntoIter = IntoIter<T, A>;

    fn into_iter(self) -> IntoIter<T, A> {
        let me = ManuallyDrop::new(self);
        // SAFETY: `me` is forgotten, so the buffer is moved out once and
        // its `len` elements now belong to the iterator.
        let buf = unsafe { ptr::read(&me.buf) };
        IntoIter {
            buf,
            start: 0,
            end: me.len,
            _marker: PhantomData,
        }
    }
}

impl<'a, T, A: ResizeInPlace> IntoIterator for &'a Vec<T, A> {
    type Item = &'a T;
    type IntoIter = slice::Iter<'a, T>;
    fn into_iter(self) -> slice::Iter<'a, T> {
        self.iter()
    }
}

impl<'a, T, A: ResizeInPlace> IntoIterator for &'a mut Vec<T, A> {
    type Item = &'a mut T;
    type IntoIter = slice::IterMut<'a, T>;
    fn into_iter(self) -> slice::IterMut<'a, T> {
        self.iter_mut()
    }
}

/// The owning iterator of a [`Vec`] (from `into_iter`).
///
/// ```
/// let v = mallocv2_collections::Vec::from([1, 2, 3]);
/// let mut it = v.into_iter();
/// assert_eq!(it.next_back(), Some(3));
/// assert_eq!(it.len(), 2);
/// assert_eq!(it.as_slice(), &[1, 2]);
/// ```
pub struct IntoIter<T, A: ResizeInPlace = Heap> {
    /// The vector's buffer, freed on drop.
    buf: RawBuf<A>,
    /// Elements `start..end` are still owned by the iterator. Invariant:
    /// `start <= end <=` the vector's old length.
    start: usize,
    /// See `start`.
    end: usize,
    /// Owns `T`s.
    _marker: PhantomData<T>,
}

// SAFETY: as for `Vec`.
unsafe impl<T: Send, A: ResizeInPlace + Send> Send for IntoIter<T, A> {}
// SAFETY: as for `Vec`.
unsafe impl<T: Sync, A: ResizeInPlace + Sync> Sync for IntoIter<T, A> {}

impl<T, A: ResizeInPlace> IntoIter<T, A> {
    /// The remaining elements.
    pub fn as_slice(&self) -> &[T] {
        // SAFETY: `start..end` are live elements of the buffer.
        unsafe {
            slice::from_raw_parts(
                self.buf.ptr().as_ptr().cast::<T>().add(self.start),
                self.end - self.start,
            )
        }
    }

    /// The remaining elements, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: as in `as_slice`, and `&mut self` is exclusive.
        unsafe {
            slice::from_raw_parts_mut(
                self.buf.ptr().as_ptr().cast::<T>().add(self.start),
                self.end - self.start,
            )
        }
    }

    /// The allocator.
    pub fn allocator(&self) -> &A {
        self.buf.allocator()
    }
}

impl<T, A: ResizeInPlace> Iterator for IntoIter<T, A> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        if self.start == self.end {
            return None;
        }
        self.start += 1;
        // SAFETY: slot `start - 1` is live and now outside `start..end`, so
        // it is read once.
        Some(unsafe {
            self.buf
                .ptr()
                .as_ptr()
                .cast::<T>()
                .add(self.start - 1)
                .read()
        })
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end - self.start;
        (n, Some(n))
    }

    #[inline]
    fn count(self) -> usize {
        self.len()
    }
}

impl<T, A: ResizeInPlace> DoubleEndedIterator for IntoIter<T, A> {
    #[inline]
    fn next_back(&mut self) -> Option<T> {
        if self.start == self.end {
            return None;
        }
        self.end -= 1;
        // SAFETY: slot `end` is live and now outside `start..end`.
        Some(unsafe { self.buf.ptr().as_ptr().cast::<T>().add(self.end).read() })
    }
}

impl<T, A: ResizeInPlace> ExactSizeIterator for IntoIter<T, A> {}
impl<T, A: ResizeInPlace> FusedIterator for IntoIter<T, A> {}

impl<T: fmt::Debug, A: ResizeInPlace> fmt::Debug for IntoIter<T, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IntoIter").field(&self.as_slice()).finish()
    }
}

impl<T: Clone, A: ResizeInPlace + Clone> Clone for IntoIter<T, A> {
    fn clone(&self) -> Self {
        let mut v = unwrap_reserve(Vec::with_capacity_aligned_in(
            self.end - self.start,
            self.buf.align(),
            self.allocator().clone(),
            Fallibility::Infallible,
        ));
        v.extend_from_slice(self.as_slice());
        v.into_iter()
    }
}

impl<T, A: ResizeInPlace> Drop for IntoIter<T, A> {
    fn drop(&mut self) {
        let rest: *mut [T] = self.as_mut_slice();
        self.start = self.end;
        // SAFETY: the remaining elements are dropped once (the range was
        // emptied first); the buffer is freed by `RawBuf`'s drop.
        unsafe { ptr::drop_in_place(rest) };
    }
}

/// The iterator of [`Vec::drain`].
///
/// ```
/// let mut v = mallocv2_collections::Vec::from([1, 2, 3]);
/// let mut d = v.drain(..);
/// assert_eq!(d.next_back(), Some(3));
/// assert_eq!(d.as_slice(), &[1, 2]);
/// drop(d);
/// assert!(v.is_empty());
/// ```
pub struct Drain<'a, T, A: ResizeInPlace = Heap> {
    /// The vector; its `len` is the drained range's start until drop.
    vec: &'a mut Vec<T, A>,
    /// Elements `idx..end` are not yet yielded.
    idx: usize,
    /// See `idx`.
    end: usize,
    /// Where the kept tail starts.
    tail_start: usize,
    /// How many elements the kept tail has.
    tail_len: usize,
}

impl<T, A: ResizeInPlace> Drain<'_, T, A> {
    /// The elements not yet yielded.
    pub fn as_slice(&self) -> &[T] {
        // SAFETY: `idx..end` are live elements not yet yielded.
        unsafe { slice::from_raw_parts(self.vec.as_ptr().add(self.idx), self.end - self.idx) }
    }
}

impl<T, A: ResizeInPlace> Iterator for Drain<'_, T, A> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        if self.idx == self.end {
            return None;
        }
        self.idx += 1;
        // SAFETY: slot `idx - 1` is live and yielded once.
        Some(unsafe { self.vec.as_ptr().add(self.idx - 1).read() })
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end - self.idx;
        (n, Some(n))
    }
}

impl<T, A: ResizeInPlace> DoubleEndedIterator for Drain<'_, T, A> {
    #[inline]
    fn next_back(&mut self) -> Option<T> {
        if self.idx == self.end {
            return None;
        }
        self.end -= 1;
        // SAFETY: slot `end` is live and yielded once.
        Some(unsafe { self.vec.as_ptr().add(self.end).read() })
    }
}

impl<T, A: ResizeInPlace> ExactSizeIterator for Drain<'_, T, A> {}
impl<T, A: ResizeInPlace> FusedIterator for Drain<'_, T, A> {}

impl<T: fmt::Debug, A: ResizeInPlace> fmt::Debug for Drain<'_, T, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Drain").field(&self.as_slice()).finish()
    }
}

impl<T, A: ResizeInPlace> Drop for Drain<'_, T, A> {
    fn drop(&mut self) {
        /// Moves the tail back, also when dropping an element panics.
        struct MoveTail<'r, 'a, T, A: ResizeInPlace>(&'r mut Drain<'a, T, A>);
        impl<T, A: ResizeInPlace> Drop for MoveTail<'_, '_, T, A> {
            fn drop(&mut self) {
                let d = &mut *self.0;
                let start = d.vec.len;
                if d.tail_len > 0 && d.tail_start != start {
                    // SAFETY: the tail `tail_start..tail_start + tail_len`
                    // is live; it moves down to `start` over drained slots.
                    unsafe {
                        let p = d.vec.as_mut_ptr();
                        ptr::copy(p.add(d.tail_start), p.add(start), d.tail_len);
                    }
                }
                d.vec.len = start + d.tail_len;
            }
        }
        let g = MoveTail(self);
        let (idx, end) = (g.0.idx, g.0.end);
        g.0.idx = end;
        // SAFETY: `idx..end` are live, not yielded, and dropped once (the
        // range was emptied first).
        unsafe {
            ptr::drop_in_place(ptr::slice_from_raw_parts_mut(
                g.0.vec.as_mut_ptr().add(idx),
                end - idx,
            ));
        }
    }
}

#[cfg(feature = "serde")]
pub(crate) mod serde_impls {
    use super::*;
    use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};
    use serde::ser::{Serialize, Serializer};

    impl<T: Serialize, A: ResizeInPlace> Serialize for Vec<T, A> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.iter())
        }
    }

    /// Reads a sequence into the (empty) `Vec` it holds.
    struct VecVisitor<T, A: ResizeInPlace>(Vec<T, A>);

    impl<'de, T: Deserialize<'de>, A: ResizeInPlace> Visitor<'de> for VecVisitor<T, A> {
        type Value = Vec<T, A>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a sequence")
        }

        fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
            let mut v = self.0;
            // Trust the hint only up to 1 MiB: it comes from the input.
            let cap = (1usize << 20) / mem::size_of::<T>().max(1);
            v.try_reserve(seq.size_hint().unwrap_or(0).min(cap))
                .map_err(serde::de::Error::custom)?;
            while let Some(x) = seq.next_element()? {
                v.try_push(x).map_err(serde::de::Error::custom)?;
            }
            Ok(v)
        }
    }

    impl<'de, T: Deserialize<'de>, A: ResizeInPlace + Default> Deserialize<'de> for Vec<T, A> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            deserialize_into(d, Vec::new_in(A::default()))
        }
    }

    /// Deserialises a sequence into `v` (empty), keeping its buffer
    /// alignment: shared with `AlignedVec`.
    pub(crate) fn deserialize_into<
        'de,
        D: Deserializer<'de>,
        T: Deserialize<'de>,
        A: ResizeInPlace,
    >(
        d: D,
        v: Vec<T, A>,
    ) -> Result<Vec<T, A>, D::Error> {
        d.deserialize_seq(VecVisitor(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_ops() {
        let mut v: Vec<u32> = Vec::new();
        for i in 0..100 {
            v.push(i);
        }
        assert_eq!(v.len(), 100);
        v.retain(|x| x % 3 == 0);
        assert_eq!(v.len(), 34);
        v.dedup_by_key(|x| *x / 10);
        assert_eq!(&v[..3], &[0, 12, 21]);
        let d: std::vec::Vec<u32> = v.drain(1..).collect();
        assert_eq!(v, [0]);
        assert!(!d.is_empty());
        v.shrink_to_fit();
        assert!(v.capacity() >= 1);
    }

    #[test]
    fn zst() {
        let mut v: Vec<()> = Vec::new();
        assert_eq!(v.capacity(), usize::MAX);
        for _ in 0..10 {
            v.push(());
        }
        assert_eq!(v.len(), 10);
        assert_eq!(
            v.try_reserve(usize::MAX),
            Err(TryReserveError::CapacityOverflow)
        );
        assert_eq!(v.into_iter().count(), 10);
    }
}
