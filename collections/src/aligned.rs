//! [`AlignedVec<T, ALIGN, A = Heap>`](AlignedVec): a vector whose buffer is
//! aligned to `ALIGN` bytes through every growth and shrink, for SIMD lanes,
//! cache lines or pages.
//!
//! ```text
//!  as_ptr() % ALIGN == 0
//!  |<- lane ->|<- lane ->|<- lane ->|<- tail ->|<- spare capacity ------->|
//!  [ elements: as_chunks::<N>() = (full lanes, tail)  | uninitialised     ]
//! ```
//!
//! # Guarantees and costs
//!
//! - `as_ptr()` is a multiple of `ALIGN` at all times (also when empty:
//!   the dangling pointer is `ALIGN` itself).
//! - Growth follows the protocol of
//!   [`ResizeInPlace::grow_live`] with
//!   `Layout(capacity bytes, ALIGN)`: in place, else a copy-free move (page
//!   remap), else allocate + copy only the live elements + free. std's
//!   `Vec` of an over-aligned type, by contrast, copies the whole buffer
//!   through `realloc`'s allocate-copy-free path once the alignment exceeds
//!   what `realloc` keeps. With [`Heap`], an `AlignedVec<u8, 64>` grown to
//!   64 MiB copies well under 1% of its final size.
//! - Shrinking keeps the alignment too (in place, or a move to a smaller
//!   block of the same alignment).
//! - Element access, `push` and `pop` cost what they cost in
//!   [`Vec`], which this type wraps (with the larger
//!   alignment), so every `Vec` method behaves the same here.
//!
//! `ALIGN` must be a power of two, at least `align_of::<T>()` and at most
//! [`mallocv2::MAX_ALIGN`] (1 GiB, the largest alignment the [`Heap`]
//! serves); this is checked at compile time:
//!
//! ```compile_fail
//! // 48 is not a power of two.
//! let v = mallocv2_collections::AlignedVec::<f32, 48>::new();
//! ```
//!
//! ```compile_fail
//! // below the alignment of u64.
//! let v = mallocv2_collections::AlignedVec::<u64, 4>::new();
//! ```
//!
//! ```compile_fail
//! // 2 GiB is above mallocv2::MAX_ALIGN.
//! let v = mallocv2_collections::AlignedVec::<u8, { 1 << 31 }>::new();
//! ```
//!
//! ```
//! // MAX_ALIGN itself is accepted.
//! let v = mallocv2_collections::AlignedVec::<u8, { mallocv2::MAX_ALIGN }>::new();
//! assert!(v.is_empty());
//! ```
//!
//! ```
//! use mallocv2_collections::AlignedVec;
//!
//! let mut v: AlignedVec<f32, 32> = AlignedVec::new();
//! v.extend((0..10).map(|i| i as f32));
//! v.pad_to_lanes(32, 0.0); // 8 f32 per 32-byte lane
//! let (lanes, tail) = v.as_chunks::<8>();
//! assert_eq!((lanes.len(), tail.len()), (2, 0));
//! assert_eq!(lanes.as_ptr() as usize % 32, 0);
//! ```

use core::borrow::{Borrow, BorrowMut};
use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::mem::{self, MaybeUninit};
use core::ops::{Deref, DerefMut, Index, IndexMut, RangeBounds};
use core::slice::{self, SliceIndex};

use mallocv2::{Heap, ResizeInPlace};

use crate::raw::{unwrap_reserve, Fallibility};
use crate::vec::{Drain, IntoIter, Vec};
use crate::TryReserveError;

/// A vector whose buffer stays aligned to `ALIGN` bytes (see the
/// [module docs](self)).
///
/// ```
/// use mallocv2_collections::AlignedVec;
/// let mut v: AlignedVec<u8, 64> = AlignedVec::new();
/// for i in 0..1000u32 {
///     v.push(i as u8);
///     assert_eq!(v.as_ptr() as usize % 64, 0);
/// }
/// ```
pub struct AlignedVec<T, const ALIGN: usize, A: ResizeInPlace = Heap> {
    /// The elements. Invariant: its buffer's alignment is `ALIGN` (it was
    /// created with it, and `Vec` keeps its buffer's alignment through
    /// growth, shrinking and cloning); it is never replaced by a `Vec` of
    /// another alignment (no `DerefMut` to `Vec`).
    inner: Vec<T, A>,
}

impl<T, const ALIGN: usize> AlignedVec<T, ALIGN> {
    /// An empty vector; allocates nothing.
    ///
    /// ```
    /// let v = mallocv2_collections::AlignedVec::<u32, 16>::new();
    /// assert_eq!(v.as_ptr() as usize % 16, 0);
    /// ```
    #[inline]
    pub const fn new() -> Self {
        Self::new_in(Heap::new())
    }

    /// An empty vector with room for at least `capacity` elements.
    ///
    /// ```
    /// let v = mallocv2_collections::AlignedVec::<u32, 64>::with_capacity(100);
    /// assert!(v.capacity() >= 100);
    /// ```
    ///
    /// # Panics
    /// As [`Vec::with_capacity`].
    #[inline]
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_capacity_in(capacity, Heap)
    }

    /// Like [`with_capacity`](Self::with_capacity), returning an error.
    ///
    /// ```
    /// assert!(mallocv2_collections::AlignedVec::<u8, 4096>::try_with_capacity(10).is_ok());
    /// ```
    ///
    /// # Errors
    /// As [`Vec::try_with_capacity`].
    #[inline]
    pub fn try_with_capacity(capacity: usize) -> Result<Self, TryReserveError> {
        Self::try_with_capacity_in(capacity, Heap)
    }
}

impl<T, const ALIGN: usize, A: ResizeInPlace> AlignedVec<T, ALIGN, A> {
    /// The buffer alignment, `ALIGN`.
    pub const ALIGNMENT: usize = ALIGN;

    /// Compile-time check of `ALIGN`, evaluated by every constructor.
    const VALID_ALIGN: () = {
        assert!(
            ALIGN.is_power_of_two() && ALIGN >= mem::align_of::<T>(),
            "ALIGN must be a power of two and at least align_of::<T>()"
        );
        // The `Heap` refuses larger alignments, so such a vector could
        // never allocate; say so here rather than at the first `push`.
        assert!(
            ALIGN <= mallocv2::MAX_ALIGN,
            "ALIGN must be at most mallocv2::MAX_ALIGN (1 GiB, 1 << 30)"
        );
    };

    /// An empty vector using `alloc`.
    ///
    /// ```
    /// use mallocv2_collections::AlignedVec;
    /// let v = AlignedVec::<u8, 32, _>::new_in(mallocv2::alloc::Global);
    /// assert_eq!(v.as_ptr() as usize % 32, 0);
    /// ```
    #[inline]
    pub const fn new_in(alloc: A) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = const { Self::VALID_ALIGN };
        AlignedVec {
            inner: Vec::new_aligned_in(alloc, ALIGN),
        }
    }

    /// A vector using `alloc` with room for at least `capacity` elements.
    ///
    /// ```
    /// use mallocv2_collections::AlignedVec;
    /// let v = AlignedVec::<u8, 32, _>::with_capacity_in(10, mallocv2::Heap);
    /// assert!(v.capacity() >= 10);
    /// ```
    ///
    /// # Panics
    /// As [`Vec::with_capacity`].
    #[inline]
    pub fn with_capacity_in(capacity: usize, alloc: A) -> Self {
        unwrap_reserve(Self::with_capacity_impl(
            capacity,
            alloc,
            Fallibility::Infallible,
        ))
    }

    /// Like [`with_capacity_in`](Self::with_capacity_in), returning an
    /// error.
    ///
    /// ```
    /// use mallocv2_collections::{AlignedVec, TryReserveError};
    /// let e = AlignedVec::<u64, 64, _>::try_with_capacity_in(usize::MAX, mallocv2::Heap);
    /// assert_eq!(e.unwrap_err(), TryReserveError::CapacityOverflow);
    /// ```
    ///
    /// # Errors
    /// As [`Vec::try_with_capacity`].
    #[inline]
    pub fn try_with_capacity_in(capacity: usize, alloc: A) -> Result<Self, TryReserveError> {
        Self::with_capacity_impl(capacity, alloc, Fallibility::Fallible)
    }

    fn with_capacity_impl(
        capacity: usize,
        alloc: A,
        fallibility: Fallibility,
    ) -> Result<Self, TryReserveError> {
        #[allow(clippy::let_unit_value)]
        let () = const { Self::VALID_ALIGN };
        Ok(AlignedVec {
            inner: Vec::with_capacity_aligned_in(capacity, ALIGN, alloc, fallibility)?,
        })
    }

    /// The buffer as a pointer aligned to `ALIGN` (dangling but aligned
    /// when nothing is allocated), for aligned SIMD loads.
    ///
    /// ```
    /// let v = mallocv2_collections::AlignedVec::<f32, 32>::from([1.0; 8]);
    /// assert_eq!(v.as_aligned_ptr() as usize % 32, 0);
    /// ```
    #[inline]
    pub fn as_aligned_ptr(&self) -> *const T {
        let p = self.inner.as_ptr();
        debug_assert!(
            p as usize % ALIGN == 0 && self.inner.buffer_align() == ALIGN,
            "buffer {p:p} not aligned to {ALIGN}"
        );
        p
    }

    /// Mutable form of [`as_aligned_ptr`](Self::as_aligned_ptr).
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<f32, 32>::from([1.0; 8]);
    /// assert_eq!(v.as_aligned_mut_ptr() as usize % 32, 0);
    /// ```
    #[inline]
    pub fn as_aligned_mut_ptr(&mut self) -> *mut T {
        let p = self.inner.as_mut_ptr();
        debug_assert!(
            p as usize % ALIGN == 0,
            "buffer {p:p} not aligned to {ALIGN}"
        );
        p
    }

    /// The elements as chunks of `N` (lanes) and the remainder. The first
    /// chunk starts at an `ALIGN`-aligned address; every chunk does when
    /// `N * size_of::<T>()` is a multiple of `ALIGN`.
    ///
    /// ```
    /// let v = mallocv2_collections::AlignedVec::<u32, 16>::from([1, 2, 3, 4, 5]);
    /// let (lanes, tail) = v.as_chunks::<4>();
    /// assert_eq!(lanes, &[[1, 2, 3, 4]]);
    /// assert_eq!(tail, &[5]);
    /// ```
    ///
    /// # Panics
    /// When `N == 0` (at compile time).
    #[inline]
    pub fn as_chunks<const N: usize>(&self) -> (&[[T; N]], &[T]) {
        const { assert!(N != 0, "chunk size must be non-zero") };
        let full = self.len() / N;
        let (head, tail) = self.split_at(full * N);
        // SAFETY: `head` holds `full * N` contiguous elements; `[T; N]` has
        // the layout of `N` consecutive `T`s and alignment of `T`.
        let chunks = unsafe { slice::from_raw_parts(head.as_ptr().cast::<[T; N]>(), full) };
        (chunks, tail)
    }

    /// Mutable form of [`as_chunks`](Self::as_chunks).
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u32, 16>::from([1, 2, 3, 4]);
    /// for lane in v.as_chunks_mut::<4>().0 {
    ///     lane.iter_mut().for_each(|x| *x *= 2);
    /// }
    /// assert_eq!(v, [2, 4, 6, 8]);
    /// ```
    ///
    /// # Panics
    /// When `N == 0` (at compile time).
    #[inline]
    pub fn as_chunks_mut<const N: usize>(&mut self) -> (&mut [[T; N]], &mut [T]) {
        const { assert!(N != 0, "chunk size must be non-zero") };
        let full = self.len() / N;
        let (head, tail) = self.split_at_mut(full * N);
        // SAFETY: as in `as_chunks`, with the exclusive borrow of `head`.
        let chunks = unsafe { slice::from_raw_parts_mut(head.as_mut_ptr().cast::<[T; N]>(), full) };
        (chunks, tail)
    }

    /// Pads the length with clones of `value` up to a multiple of
    /// `lane_bytes / size_of::<T>()` elements, so the data is a whole
    /// number of `lane_bytes`-byte lanes. Returns how many were added.
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<f32, 32>::from([1.0; 3]);
    /// assert_eq!(v.pad_to_lanes(32, 0.0), 5);
    /// assert_eq!(v.len(), 8);
    /// assert_eq!(v.pad_to_lanes(32, 0.0), 0);
    /// ```
    ///
    /// # Panics
    /// When `lane_bytes` is not a non-zero multiple of `size_of::<T>()`
    /// (or `T` is zero-sized), and as [`Vec::reserve`].
    #[track_caller]
    pub fn pad_to_lanes(&mut self, lane_bytes: usize, value: T) -> usize
    where
        T: Clone,
    {
        let size = mem::size_of::<T>();
        assert!(
            size != 0 && lane_bytes != 0 && lane_bytes % size == 0,
            "lane of {lane_bytes} bytes is not a whole number of {size}-byte elements"
        );
        let per_lane = lane_bytes / size;
        let rem = self.len() % per_lane;
        if rem == 0 {
            return 0;
        }
        let add = per_lane - rem;
        self.inner.resize(self.len() + add, value);
        add
    }

    /// The elements as a `Vec` (same buffer, which keeps its `ALIGN`
    /// alignment through later growth).
    ///
    /// ```
    /// let v = mallocv2_collections::AlignedVec::<u8, 64>::from([1, 2]);
    /// let v = v.into_vec();
    /// assert_eq!(v.as_ptr() as usize % 64, 0);
    /// ```
    #[inline]
    pub fn into_vec(self) -> Vec<T, A> {
        self.inner
    }

    /// The elements as a shared `Vec` (for APIs that take `&Vec`).
    #[inline]
    pub fn as_vec(&self) -> &Vec<T, A> {
        &self.inner
    }

    /// The allocator.
    #[inline]
    pub fn allocator(&self) -> &A {
        self.inner.allocator()
    }

    /// The number of elements.
    ///
    /// ```
    /// assert_eq!(mallocv2_collections::AlignedVec::<u8, 8>::from([1]).len(), 1);
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether there are no elements.
    ///
    /// ```
    /// assert!(mallocv2_collections::AlignedVec::<u8, 8>::new().is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Elements the buffer holds without growing (see [`Vec::capacity`]).
    ///
    /// ```
    /// assert!(mallocv2_collections::AlignedVec::<u8, 8>::with_capacity(9).capacity() >= 9);
    /// ```
    #[inline]
    pub fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    /// See [`Vec::reserve`]; the buffer stays `ALIGN`-aligned.
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 128>::new();
    /// v.reserve(1000);
    /// assert_eq!(v.as_ptr() as usize % 128, 0);
    /// ```
    ///
    /// # Panics
    /// As [`Vec::reserve`].
    #[inline]
    pub fn reserve(&mut self, additional: usize) {
        self.inner.reserve(additional);
    }

    /// See [`Vec::reserve_exact`].
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 128>::new();
    /// v.reserve_exact(10);
    /// assert!(v.capacity() >= 10);
    /// ```
    ///
    /// # Panics
    /// As [`Vec::reserve`].
    #[inline]
    pub fn reserve_exact(&mut self, additional: usize) {
        self.inner.reserve_exact(additional);
    }

    /// See [`Vec::try_reserve`]; on error the vector is unchanged.
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 128>::new();
    /// assert!(v.try_reserve(usize::MAX).is_err());
    /// ```
    ///
    /// # Errors
    /// As [`Vec::try_reserve`].
    #[inline]
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), TryReserveError> {
        self.inner.try_reserve(additional)
    }

    /// See [`Vec::try_reserve_exact`].
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 128>::new();
    /// v.try_reserve_exact(3).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`Vec::try_reserve`].
    #[inline]
    pub fn try_reserve_exact(&mut self, additional: usize) -> Result<(), TryReserveError> {
        self.inner.try_reserve_exact(additional)
    }

    /// See [`Vec::shrink_to_fit`]; the buffer stays `ALIGN`-aligned.
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::with_capacity(1 << 20);
    /// v.push(1);
    /// v.shrink_to_fit();
    /// assert_eq!(v.as_ptr() as usize % 64, 0);
    /// ```
    #[inline]
    pub fn shrink_to_fit(&mut self) {
        self.inner.shrink_to_fit();
    }

    /// See [`Vec::shrink_to`].
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::with_capacity(1 << 20);
    /// v.shrink_to(100);
    /// assert!(v.capacity() >= 100);
    /// ```
    #[inline]
    pub fn shrink_to(&mut self, min_capacity: usize) {
        self.inner.shrink_to(min_capacity);
    }

    /// Appends an element.
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::new();
    /// v.push(1);
    /// assert_eq!(v, [1]);
    /// ```
    ///
    /// # Panics
    /// As [`Vec::reserve`].
    #[inline]
    pub fn push(&mut self, value: T) {
        self.inner.push(value);
    }

    /// See [`Vec::try_push`].
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::new();
    /// v.try_push(1).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`Vec::try_reserve`].
    #[inline]
    pub fn try_push(&mut self, value: T) -> Result<(), TryReserveError> {
        self.inner.try_push(value)
    }

    /// See [`Vec::push_within_capacity`].
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::new();
    /// assert_eq!(v.push_within_capacity(1), Err(1));
    /// ```
    ///
    /// # Errors
    /// `Err(value)` when full.
    #[inline]
    pub fn push_within_capacity(&mut self, value: T) -> Result<(), T> {
        self.inner.push_within_capacity(value)
    }

    /// Removes the last element.
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::from([1]);
    /// assert_eq!(v.pop(), Some(1));
    /// ```
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        self.inner.pop()
    }

    /// See [`Vec::insert`].
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::from([2]);
    /// v.insert(0, 1);
    /// assert_eq!(v, [1, 2]);
    /// ```
    ///
    /// # Panics
    /// When `index > len`, and as [`Vec::reserve`].
    #[track_caller]
    pub fn insert(&mut self, index: usize, element: T) {
        self.inner.insert(index, element);
    }

    /// See [`Vec::remove`].
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::from([1, 2]);
    /// assert_eq!(v.remove(0), 1);
    /// ```
    ///
    /// # Panics
    /// When `index >= len`.
    #[track_caller]
    pub fn remove(&mut self, index: usize) -> T {
        self.inner.remove(index)
    }

    /// See [`Vec::swap_remove`].
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::from([1, 2, 3]);
    /// assert_eq!(v.swap_remove(0), 1);
    /// assert_eq!(v, [3, 2]);
    /// ```
    ///
    /// # Panics
    /// When `index >= len`.
    #[track_caller]
    pub fn swap_remove(&mut self, index: usize) -> T {
        self.inner.swap_remove(index)
    }

    /// See [`Vec::truncate`].
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::from([1, 2]);
    /// v.truncate(1);
    /// assert_eq!(v, [1]);
    /// ```
    #[inline]
    pub fn truncate(&mut self, len: usize) {
        self.inner.truncate(len);
    }

    /// Drops every element.
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::from([1, 2]);
    /// v.clear();
    /// assert!(v.is_empty());
    /// ```
    #[inline]
    pub fn clear(&mut self) {
        self.inner.clear();
    }

    /// See [`Vec::extend_from_slice`].
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::new();
    /// v.extend_from_slice(&[1, 2]);
    /// assert_eq!(v, [1, 2]);
    /// ```
    ///
    /// # Panics
    /// As [`Vec::reserve`].
    #[inline]
    pub fn extend_from_slice(&mut self, other: &[T])
    where
        T: Clone,
    {
        self.inner.extend_from_slice(other);
    }

    /// See [`Vec::extend_from_within`].
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::from([1]);
    /// v.extend_from_within(..);
    /// assert_eq!(v, [1, 1]);
    /// ```
    ///
    /// # Panics
    /// When the range is out of bounds, and as [`Vec::reserve`].
    #[track_caller]
    pub fn extend_from_within<R: RangeBounds<usize>>(&mut self, src: R)
    where
        T: Clone,
    {
        self.inner.extend_from_within(src);
    }

    /// Moves every element of `other` to the end of `self`.
    ///
    /// ```
    /// use mallocv2_collections::AlignedVec;
    /// let mut a = AlignedVec::<u8, 64>::from([1]);
    /// let mut b = AlignedVec::<u8, 64>::from([2]);
    /// a.append(&mut b);
    /// assert_eq!(a, [1, 2]);
    /// ```
    ///
    /// # Panics
    /// As [`Vec::reserve`].
    #[inline]
    pub fn append<const B: usize>(&mut self, other: &mut AlignedVec<T, B, A>) {
        self.inner.append(&mut other.inner);
    }

    /// Splits off the elements from `at` into a new aligned vector.
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::from([1, 2, 3]);
    /// let t = v.split_off(1);
    /// assert_eq!(t.as_ptr() as usize % 64, 0);
    /// assert_eq!(t, [2, 3]);
    /// ```
    ///
    /// # Panics
    /// When `at > len`, and as [`Vec::reserve`].
    #[track_caller]
    pub fn split_off(&mut self, at: usize) -> Self
    where
        A: Clone,
    {
        AlignedVec {
            inner: self.inner.split_off(at),
        }
    }

    /// See [`Vec::drain`].
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::from([1, 2, 3]);
    /// assert_eq!(v.drain(1..).count(), 2);
    /// assert_eq!(v, [1]);
    /// ```
    ///
    /// # Panics
    /// When the range is out of bounds.
    #[track_caller]
    pub fn drain<R: RangeBounds<usize>>(&mut self, range: R) -> Drain<'_, T, A> {
        self.inner.drain(range)
    }

    /// See [`Vec::retain`].
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::from([1, 2, 3]);
    /// v.retain(|&x| x != 2);
    /// assert_eq!(v, [1, 3]);
    /// ```
    #[inline]
    pub fn retain<F: FnMut(&T) -> bool>(&mut self, f: F) {
        self.inner.retain(f);
    }

    /// See [`Vec::retain_mut`].
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::from([1, 2]);
    /// v.retain_mut(|x| { *x += 1; *x > 2 });
    /// assert_eq!(v, [3]);
    /// ```
    #[inline]
    pub fn retain_mut<F: FnMut(&mut T) -> bool>(&mut self, f: F) {
        self.inner.retain_mut(f);
    }

    /// See [`Vec::dedup`].
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::from([1, 1, 2]);
    /// v.dedup();
    /// assert_eq!(v, [1, 2]);
    /// ```
    #[inline]
    pub fn dedup(&mut self)
    where
        T: PartialEq,
    {
        self.inner.dedup();
    }

    /// See [`Vec::dedup_by_key`].
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::from([10, 11, 20]);
    /// v.dedup_by_key(|x| *x / 10);
    /// assert_eq!(v, [10, 20]);
    /// ```
    #[inline]
    pub fn dedup_by_key<K: PartialEq, F: FnMut(&mut T) -> K>(&mut self, key: F) {
        self.inner.dedup_by_key(key);
    }

    /// See [`Vec::dedup_by`].
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::from([1, 2, 4]);
    /// v.dedup_by(|a, b| *a == *b + 1);
    /// assert_eq!(v, [1, 4]);
    /// ```
    #[inline]
    pub fn dedup_by<F: FnMut(&mut T, &mut T) -> bool>(&mut self, same_bucket: F) {
        self.inner.dedup_by(same_bucket);
    }

    /// See [`Vec::resize`].
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::new();
    /// v.resize(3, 7);
    /// assert_eq!(v, [7, 7, 7]);
    /// ```
    ///
    /// # Panics
    /// As [`Vec::reserve`].
    #[inline]
    pub fn resize(&mut self, new_len: usize, value: T)
    where
        T: Clone,
    {
        self.inner.resize(new_len, value);
    }

    /// See [`Vec::resize_with`].
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::new();
    /// v.resize_with(2, || 1);
    /// assert_eq!(v, [1, 1]);
    /// ```
    ///
    /// # Panics
    /// As [`Vec::reserve`].
    #[inline]
    pub fn resize_with<F: FnMut() -> T>(&mut self, new_len: usize, f: F) {
        self.inner.resize_with(new_len, f);
    }

    /// The elements as a slice.
    ///
    /// ```
    /// let v = mallocv2_collections::AlignedVec::<u8, 64>::from([1]);
    /// assert_eq!(v.as_slice(), &[1]);
    /// ```
    #[inline]
    pub fn as_slice(&self) -> &[T] {
        self.inner.as_slice()
    }

    /// The elements as a mutable slice.
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::from([1]);
    /// v.as_mut_slice()[0] = 2;
    /// assert_eq!(v, [2]);
    /// ```
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        self.inner.as_mut_slice()
    }

    /// A pointer to the buffer (aligned to `ALIGN`).
    ///
    /// ```
    /// let v = mallocv2_collections::AlignedVec::<u8, 64>::from([1]);
    /// assert_eq!(v.as_ptr() as usize % 64, 0);
    /// ```
    #[inline]
    pub fn as_ptr(&self) -> *const T {
        self.inner.as_ptr()
    }

    /// A mutable pointer to the buffer (aligned to `ALIGN`).
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::from([1]);
    /// assert_eq!(v.as_mut_ptr() as usize % 64, 0);
    /// ```
    #[inline]
    pub fn as_mut_ptr(&mut self) -> *mut T {
        self.inner.as_mut_ptr()
    }

    /// See [`Vec::set_len`].
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::with_capacity(1);
    /// v.spare_capacity_mut()[0].write(1);
    /// unsafe { v.set_len(1) };
    /// assert_eq!(v, [1]);
    /// ```
    ///
    /// # Safety
    /// As [`Vec::set_len`]: `new_len <= capacity()` and the first
    /// `new_len` elements are initialised.
    #[inline]
    pub unsafe fn set_len(&mut self, new_len: usize) {
        // SAFETY: forwarded from the caller.
        unsafe { self.inner.set_len(new_len) }
    }

    /// See [`Vec::spare_capacity_mut`].
    ///
    /// ```
    /// let mut v = mallocv2_collections::AlignedVec::<u8, 64>::with_capacity(1);
    /// assert!(!v.spare_capacity_mut().is_empty());
    /// ```
    #[inline]
    pub fn spare_capacity_mut(&mut self) -> &mut [MaybeUninit<T>] {
        self.inner.spare_capacity_mut()
    }

    /// Gives up the buffer and returns the elements (never freed).
    ///
    /// ```
    /// let v = mallocv2_collections::AlignedVec::<u8, 64>::from([1]);
    /// let s: &'static mut [u8] = v.leak();
    /// assert_eq!(s.as_ptr() as usize % 64, 0);
    /// ```
    pub fn leak<'a>(self) -> &'a mut [T]
    where
        A: 'a,
    {
        self.inner.leak()
    }
}

impl<T, const ALIGN: usize, A: ResizeInPlace> Deref for AlignedVec<T, ALIGN, A> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        &self.inner
    }
}

impl<T, const ALIGN: usize, A: ResizeInPlace> DerefMut for AlignedVec<T, ALIGN, A> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.inner
    }
}

impl<T: Clone, const ALIGN: usize, A: ResizeInPlace + Clone> Clone for AlignedVec<T, ALIGN, A> {
    fn clone(&self) -> Self {
        // `Vec::clone` keeps the buffer alignment.
        AlignedVec {
            inner: self.inner.clone(),
        }
    }
}

impl<T: fmt::Debug, const ALIGN: usize, A: ResizeInPlace> fmt::Debug for AlignedVec<T, ALIGN, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T, const ALIGN: usize, A: ResizeInPlace + Default> Default for AlignedVec<T, ALIGN, A> {
    fn default() -> Self {
        Self::new_in(A::default())
    }
}

impl<T: Hash, const ALIGN: usize, A: ResizeInPlace> Hash for AlignedVec<T, ALIGN, A> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Hash::hash(&**self, state);
    }
}

impl<T, I: SliceIndex<[T]>, const ALIGN: usize, A: ResizeInPlace> Index<I>
    for AlignedVec<T, ALIGN, A>
{
    type Output = I::Output;
    #[inline]
    fn index(&self, index: I) -> &I::Output {
        Index::index(&**self, index)
    }
}

impl<T, I: SliceIndex<[T]>, const ALIGN: usize, A: ResizeInPlace> IndexMut<I>
    for AlignedVec<T, ALIGN, A>
{
    #[inline]
    fn index_mut(&mut self, index: I) -> &mut I::Output {
        IndexMut::index_mut(&mut **self, index)
    }
}

macro_rules! impl_eq {
    ([$($vars:tt)*] $lhs:ty, $rhs:ty) => {
        impl<T, U, const ALIGN: usize, $($vars)*> PartialEq<$rhs> for $lhs
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

impl_eq! { [A: ResizeInPlace, B: ResizeInPlace, const B_ALIGN: usize] AlignedVec<T, ALIGN, A>, AlignedVec<U, B_ALIGN, B> }
impl_eq! { [A: ResizeInPlace, B: ResizeInPlace] AlignedVec<T, ALIGN, A>, Vec<U, B> }
impl_eq! { [A: ResizeInPlace] AlignedVec<T, ALIGN, A>, [U] }
impl_eq! { [A: ResizeInPlace] AlignedVec<T, ALIGN, A>, &[U] }
impl_eq! { [A: ResizeInPlace] AlignedVec<T, ALIGN, A>, std::vec::Vec<U> }
impl_eq! { [A: ResizeInPlace, const N: usize] AlignedVec<T, ALIGN, A>, [U; N] }
impl_eq! { [A: ResizeInPlace, const N: usize] AlignedVec<T, ALIGN, A>, &[U; N] }

impl<T: Eq, const ALIGN: usize, A: ResizeInPlace> Eq for AlignedVec<T, ALIGN, A> {}

impl<T: PartialOrd, const ALIGN: usize, A: ResizeInPlace> PartialOrd for AlignedVec<T, ALIGN, A> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        PartialOrd::partial_cmp(&**self, &**other)
    }
}

impl<T: Ord, const ALIGN: usize, A: ResizeInPlace> Ord for AlignedVec<T, ALIGN, A> {
    fn cmp(&self, other: &Self) -> Ordering {
        Ord::cmp(&**self, &**other)
    }
}

impl<T, const ALIGN: usize, A: ResizeInPlace> AsRef<[T]> for AlignedVec<T, ALIGN, A> {
    fn as_ref(&self) -> &[T] {
        self
    }
}

impl<T, const ALIGN: usize, A: ResizeInPlace> AsMut<[T]> for AlignedVec<T, ALIGN, A> {
    fn as_mut(&mut self) -> &mut [T] {
        self
    }
}

impl<T, const ALIGN: usize, A: ResizeInPlace> Borrow<[T]> for AlignedVec<T, ALIGN, A> {
    fn borrow(&self) -> &[T] {
        self
    }
}

impl<T, const ALIGN: usize, A: ResizeInPlace> BorrowMut<[T]> for AlignedVec<T, ALIGN, A> {
    fn borrow_mut(&mut self) -> &mut [T] {
        self
    }
}

impl<T: Clone, const ALIGN: usize> From<&[T]> for AlignedVec<T, ALIGN> {
    fn from(s: &[T]) -> Self {
        let mut v = Self::with_capacity(s.len());
        v.extend_from_slice(s);
        v
    }
}

impl<T, const ALIGN: usize, const N: usize> From<[T; N]> for AlignedVec<T, ALIGN> {
    fn from(a: [T; N]) -> Self {
        let mut v = Self::with_capacity(N);
        v.extend(a);
        v
    }
}

/// For every allocator with a [`Default`], as [`Vec`]'s.
///
/// ```
/// use mallocv2_collections::AlignedVec;
/// let v: AlignedVec<u8, 64, mallocv2::alloc::Global> = (0..10).collect();
/// assert_eq!(v.as_ptr() as usize % 64, 0);
/// assert_eq!(v.len(), 10);
/// ```
impl<T, const ALIGN: usize, A: ResizeInPlace + Default> FromIterator<T>
    for AlignedVec<T, ALIGN, A>
{
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut v = Self::new_in(A::default());
        v.extend(iter);
        v
    }
}

impl<T, const ALIGN: usize, A: ResizeInPlace> Extend<T> for AlignedVec<T, ALIGN, A> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        self.inner.extend(iter);
    }
}

impl<'a, T: Copy + 'a, const ALIGN: usize, A: ResizeInPlace> Extend<&'a T>
    for AlignedVec<T, ALIGN, A>
{
    fn extend<I: IntoIterator<Item = &'a T>>(&mut self, iter: I) {
        self.inner.extend(iter);
    }
}

impl<T, const ALIGN: usize, A: ResizeInPlace> IntoIterator for AlignedVec<T, ALIGN, A> {
    type Item = T;
    type IntoIter = IntoIter<T, A>;
    fn into_iter(self) -> IntoIter<T, A> {
        self.inner.into_iter()
    }
}

impl<'a, T, const ALIGN: usize, A: ResizeInPlace> IntoIterator for &'a AlignedVec<T, ALIGN, A> {
    type Item = &'a T;
    type IntoIter = slice::Iter<'a, T>;
    fn into_iter(self) -> slice::Iter<'a, T> {
        self.iter()
    }
}

impl<'a, T, const ALIGN: usize, A: ResizeInPlace> IntoIterator for &'a mut AlignedVec<T, ALIGN, A> {
    type Item = &'a mut T;
    type IntoIter = slice::IterMut<'a, T>;
    fn into_iter(self) -> slice::IterMut<'a, T> {
        self.iter_mut()
    }
}

impl<const ALIGN: usize, A: ResizeInPlace> std::io::Write for AlignedVec<u8, ALIGN, A> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(feature = "serde")]
mod serde_impls {
    use super::*;
    use serde::de::{Deserialize, Deserializer};
    use serde::ser::{Serialize, Serializer};

    impl<T: serde::Serialize, const ALIGN: usize, A: ResizeInPlace> Serialize
        for AlignedVec<T, ALIGN, A>
    {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.iter())
        }
    }

    impl<'de, T: Deserialize<'de>, const ALIGN: usize, A: ResizeInPlace + Default> Deserialize<'de>
        for AlignedVec<T, ALIGN, A>
    {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            #[allow(clippy::let_unit_value)]
            let () = const { Self::VALID_ALIGN };
            // Straight into a buffer of this alignment.
            let v = Vec::new_aligned_in(A::default(), ALIGN);
            Ok(AlignedVec {
                inner: crate::vec::serde_impls::deserialize_into(d, v)?,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[repr(align(256))]
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Big(u8);

    #[test]
    fn alignment_survives_growth_and_shrink() {
        let mut v: AlignedVec<u8, 4096> = AlignedVec::new();
        for i in 0..20_000u32 {
            v.push(i as u8);
            assert_eq!(v.as_ptr() as usize % 4096, 0);
        }
        v.truncate(10);
        v.shrink_to_fit();
        assert_eq!(v.as_ptr() as usize % 4096, 0);
        let mut w: AlignedVec<Big, 512> = AlignedVec::new();
        for i in 0..100 {
            w.push(Big(i));
            assert_eq!(w.as_ptr() as usize % 512, 0);
        }
        assert_eq!(w[99], Big(99));
    }
}
