//! [`ReservedString`]: the `String` API over a [`ReservedVec<u8>`], so the
//! text never relocates.
//!
//! Same guarantees as [`ReservedVec`]: one address-space reservation per
//! string ([`DEFAULT_MAX_BYTES`](crate::reserved::DEFAULT_MAX_BYTES) by
//! default, reserved at the first growth), pages committed geometrically,
//! `as_ptr()` fixed for the string's life, `shrink_to_fit` returning memory
//! to the OS, and a clear error at the maximum capacity (in bytes).

use core::borrow::{Borrow, BorrowMut};
use core::fmt;
use core::hash::{Hash, Hasher};
use core::iter::FusedIterator;
use core::marker::PhantomData;
use core::ops::{Add, AddAssign, Deref, DerefMut, Index, IndexMut, RangeBounds};
use core::ptr::NonNull;
use core::slice::SliceIndex;
use core::str::{Chars, Utf8Error};

use crate::error::TryReserveError;
use crate::reserved::{capacity_panic_in, slice_range, ReservedVec};

/// Panics with a message naming the maximum in bytes.
#[cold]
#[inline(never)]
#[track_caller]
fn capacity_panic(what: &str, e: TryReserveError) -> ! {
    capacity_panic_in(what, e, "bytes")
}

/// A UTF-8 string inside one address-space reservation: it never relocates.
///
/// The `String` API (push, push_str, insert, remove, retain, drain, …) over
/// a [`ReservedVec<u8>`]; capacities and the maximum are in bytes.
///
/// # Example
/// ```
/// use std::fmt::Write;
/// use mallocv2_collections::reserved_string::ReservedString;
///
/// let mut s = ReservedString::new();
/// s.push_str("hello");
/// let p = s.as_ptr();
/// for i in 0..10_000 {
///     write!(s, " {i}").unwrap();
/// }
/// assert_eq!(s.as_ptr(), p); // never moved
/// assert!(s.starts_with("hello 0 1 2"));
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReservedString {
    /// The bytes. Invariant: always valid UTF-8.
    vec: ReservedVec<u8>,
}

/// The error of [`ReservedString::from_utf8`]: the bytes were not UTF-8;
/// they are given back.
///
/// # Example
/// ```
/// use mallocv2_collections::{reserved::ReservedVec, reserved_string::ReservedString};
///
/// let e = ReservedString::from_utf8(ReservedVec::from([0xffu8])).unwrap_err();
/// assert_eq!(e.utf8_error().valid_up_to(), 0);
/// assert_eq!(e.into_bytes(), [0xff]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromUtf8Error {
    bytes: ReservedVec<u8>,
    error: Utf8Error,
}

impl FromUtf8Error {
    /// The bytes that were not UTF-8.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::{reserved::ReservedVec, reserved_string::ReservedString};
    ///
    /// let e = ReservedString::from_utf8(ReservedVec::from([b'a', 0xff])).unwrap_err();
    /// assert_eq!(e.as_bytes(), b"a\xff");
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Gives the bytes back.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::{reserved::ReservedVec, reserved_string::ReservedString};
    ///
    /// let e = ReservedString::from_utf8(ReservedVec::from([0xc0u8])).unwrap_err();
    /// assert_eq!(e.into_bytes().len(), 1);
    /// ```
    pub fn into_bytes(self) -> ReservedVec<u8> {
        self.bytes
    }

    /// Where and why decoding failed.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::{reserved::ReservedVec, reserved_string::ReservedString};
    ///
    /// let e = ReservedString::from_utf8(ReservedVec::from([b'a', 0xff])).unwrap_err();
    /// assert_eq!(e.utf8_error().valid_up_to(), 1);
    /// ```
    pub fn utf8_error(&self) -> Utf8Error {
        self.error
    }
}

impl fmt::Display for FromUtf8Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl core::error::Error for FromUtf8Error {}

impl ReservedString {
    /// An empty string with the default maximum capacity
    /// ([`DEFAULT_MAX_BYTES`](crate::reserved::DEFAULT_MAX_BYTES) bytes).
    /// Makes no system call.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let s = ReservedString::new();
    /// assert_eq!(s, "");
    /// ```
    #[inline]
    pub const fn new() -> Self {
        ReservedString {
            vec: ReservedVec::new(),
        }
    }

    /// An empty string for at most `max_capacity` bytes, reserved now.
    ///
    /// # Panics
    /// When the reservation fails; see
    /// [`try_with_max_capacity`](Self::try_with_max_capacity).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::with_max_capacity(4);
    /// s.push_str("abcd");
    /// assert!(s.try_push('e').is_err());
    /// assert_eq!(s, "abcd");
    /// ```
    #[track_caller]
    pub fn with_max_capacity(max_capacity: usize) -> Self {
        ReservedString {
            vec: ReservedVec::try_with_max_capacity(max_capacity)
                .unwrap_or_else(|e| capacity_panic("ReservedString::with_max_capacity", e)),
        }
    }

    /// Fallible [`with_max_capacity`](Self::with_max_capacity).
    ///
    /// # Errors
    /// As [`ReservedVec::try_with_max_capacity`].
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// assert!(ReservedString::try_with_max_capacity(usize::MAX).is_err());
    /// ```
    pub fn try_with_max_capacity(max_capacity: usize) -> Result<Self, TryReserveError> {
        Ok(ReservedString {
            vec: ReservedVec::try_with_max_capacity(max_capacity)?,
        })
    }

    /// An empty string with at least `capacity` bytes committed.
    ///
    /// # Panics
    /// As [`ReservedVec::with_capacity`].
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// assert!(ReservedString::with_capacity(100).capacity() >= 100);
    /// ```
    #[track_caller]
    pub fn with_capacity(capacity: usize) -> Self {
        ReservedString {
            vec: ReservedVec::try_with_capacity(capacity)
                .unwrap_or_else(|e| capacity_panic("ReservedString::with_capacity", e)),
        }
    }

    /// Converts bytes to a string if they are UTF-8 (no copy).
    ///
    /// # Errors
    /// [`FromUtf8Error`] (holding the bytes) when they are not.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::{reserved::ReservedVec, reserved_string::ReservedString};
    ///
    /// let s = ReservedString::from_utf8(ReservedVec::from(*b"hi")).unwrap();
    /// assert_eq!(s, "hi");
    /// ```
    pub fn from_utf8(vec: ReservedVec<u8>) -> Result<Self, FromUtf8Error> {
        match core::str::from_utf8(&vec) {
            Ok(_) => Ok(ReservedString { vec }),
            Err(error) => Err(FromUtf8Error { bytes: vec, error }),
        }
    }

    /// Converts bytes to a string without checking.
    ///
    /// # Safety
    /// `bytes` is valid UTF-8.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::{reserved::ReservedVec, reserved_string::ReservedString};
    ///
    /// // SAFETY: ASCII is UTF-8.
    /// let s = unsafe { ReservedString::from_utf8_unchecked(ReservedVec::from(*b"ok")) };
    /// assert_eq!(s, "ok");
    /// ```
    pub unsafe fn from_utf8_unchecked(bytes: ReservedVec<u8>) -> Self {
        debug_assert!(
            core::str::from_utf8(&bytes).is_ok(),
            "from_utf8_unchecked: not UTF-8"
        );
        ReservedString { vec: bytes }
    }

    /// The bytes (no copy).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// assert_eq!(ReservedString::from("a").into_bytes(), [b'a']);
    /// ```
    pub fn into_bytes(self) -> ReservedVec<u8> {
        self.vec
    }

    /// The string as `&str`.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// assert_eq!(ReservedString::from("x").as_str(), "x");
    /// ```
    #[inline]
    pub fn as_str(&self) -> &str {
        // SAFETY: the bytes are always valid UTF-8 (field invariant).
        unsafe { core::str::from_utf8_unchecked(&self.vec) }
    }

    /// The string as `&mut str`.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::from("abc");
    /// s.as_mut_str().make_ascii_uppercase();
    /// assert_eq!(s, "ABC");
    /// ```
    #[inline]
    pub fn as_mut_str(&mut self) -> &mut str {
        // SAFETY: valid UTF-8 (field invariant); `&mut str` only allows
        // UTF-8-preserving changes.
        unsafe { core::str::from_utf8_unchecked_mut(&mut self.vec) }
    }

    /// The bytes as a slice.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// assert_eq!(ReservedString::from("ab").as_bytes(), b"ab");
    /// ```
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.vec
    }

    /// The underlying vector, mutably.
    ///
    /// # Safety
    /// The bytes must be valid UTF-8 again when the borrow ends.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::from("a");
    /// // SAFETY: pushes ASCII.
    /// unsafe { s.as_mut_vec().push(b'b') };
    /// assert_eq!(s, "ab");
    /// ```
    #[inline]
    pub unsafe fn as_mut_vec(&mut self) -> &mut ReservedVec<u8> {
        &mut self.vec
    }

    /// Length in bytes.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// assert_eq!(ReservedString::from("é").len(), 2);
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.vec.len()
    }

    /// True for the empty string.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// assert!(ReservedString::new().is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.vec.is_empty()
    }

    /// Bytes that fit in committed memory.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let s = ReservedString::from("a");
    /// assert!(s.capacity() >= 1);
    /// ```
    #[inline]
    pub fn capacity(&self) -> usize {
        self.vec.capacity()
    }

    /// The most bytes this string can ever hold.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// assert_eq!(ReservedString::with_max_capacity(10).max_capacity(), 10);
    /// ```
    #[inline]
    pub fn max_capacity(&self) -> usize {
        self.vec.max_capacity()
    }

    /// Pointer to the first byte; never changes once the string reserved
    /// its address space.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::from("a");
    /// let p = s.as_ptr();
    /// s.push_str(&"b".repeat(1 << 20));
    /// assert_eq!(s.as_ptr(), p);
    /// ```
    #[inline]
    pub fn as_ptr(&self) -> *const u8 {
        self.vec.as_ptr()
    }

    /// Makes sure `additional` more bytes fit without a system call.
    ///
    /// # Panics
    /// As [`ReservedVec::reserve`].
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::new();
    /// s.reserve(10);
    /// assert!(s.capacity() >= 10);
    /// ```
    #[track_caller]
    pub fn reserve(&mut self, additional: usize) {
        if let Err(e) = self.vec.try_reserve(additional) {
            capacity_panic("ReservedString::reserve", e)
        }
    }

    /// Fallible [`reserve`](Self::reserve).
    ///
    /// # Errors
    /// As [`ReservedVec::try_reserve`]; the string is unchanged on error.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::{reserved_string::ReservedString, TryReserveError};
    ///
    /// let mut s = ReservedString::with_max_capacity(3);
    /// assert_eq!(s.try_reserve(4), Err(TryReserveError::Exhausted { max_capacity: 3 }));
    /// ```
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), TryReserveError> {
        self.vec.try_reserve(additional)
    }

    /// Like [`reserve`](Self::reserve), committing only what is needed.
    ///
    /// # Panics
    /// As [`ReservedVec::reserve_exact`].
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::new();
    /// s.reserve_exact(10);
    /// assert!(s.capacity() >= 10);
    /// ```
    #[track_caller]
    pub fn reserve_exact(&mut self, additional: usize) {
        if let Err(e) = self.vec.try_reserve_exact(additional) {
            capacity_panic("ReservedString::reserve_exact", e)
        }
    }

    /// Fallible [`reserve_exact`](Self::reserve_exact).
    ///
    /// # Errors
    /// As [`ReservedVec::try_reserve_exact`].
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::new();
    /// assert!(s.try_reserve_exact(10).is_ok());
    /// ```
    pub fn try_reserve_exact(&mut self, additional: usize) -> Result<(), TryReserveError> {
        self.vec.try_reserve_exact(additional)
    }

    /// Decommits the pages past the length (memory returns to the OS).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::from("x".repeat(1 << 20).as_str());
    /// s.truncate(1);
    /// s.shrink_to_fit();
    /// assert!(s.capacity() < 1 << 20);
    /// ```
    pub fn shrink_to_fit(&mut self) {
        self.vec.shrink_to_fit()
    }

    /// Decommits the pages past `max(len, min_capacity)` bytes.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::with_capacity(1 << 20);
    /// s.shrink_to(10);
    /// assert!(s.capacity() >= 10 && s.capacity() < 1 << 20);
    /// ```
    pub fn shrink_to(&mut self, min_capacity: usize) {
        self.vec.shrink_to(min_capacity)
    }

    /// Appends a character.
    ///
    /// # Panics
    /// At the maximum capacity (the message names it), or when committing
    /// fails.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::new();
    /// s.push('é');
    /// assert_eq!(s, "é");
    /// ```
    #[track_caller]
    pub fn push(&mut self, ch: char) {
        if let Err(e) = self.try_push(ch) {
            capacity_panic("ReservedString::push", e)
        }
    }

    /// Fallible [`push`](Self::push).
    ///
    /// # Errors
    /// As [`try_reserve`](Self::try_reserve) with `ch.len_utf8()`.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::with_max_capacity(2);
    /// assert!(s.try_push('a').is_ok());
    /// assert!(s.try_push('é').is_err()); // 2 bytes: does not fit
    /// assert_eq!(s, "a");
    /// ```
    pub fn try_push(&mut self, ch: char) -> Result<(), TryReserveError> {
        self.try_push_str(ch.encode_utf8(&mut [0; 4]))
    }

    /// Appends a string slice.
    ///
    /// # Panics
    /// As [`push`](Self::push).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::from("a");
    /// s.push_str("bc");
    /// assert_eq!(s, "abc");
    /// ```
    #[track_caller]
    pub fn push_str(&mut self, string: &str) {
        if let Err(e) = self.try_push_str(string) {
            capacity_panic("ReservedString::push_str", e)
        }
    }

    /// Fallible [`push_str`](Self::push_str): on error nothing is appended.
    ///
    /// # Errors
    /// As [`try_reserve`](Self::try_reserve) with `string.len()`.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::with_max_capacity(3);
    /// assert!(s.try_push_str("abcd").is_err());
    /// assert_eq!(s, "");
    /// ```
    pub fn try_push_str(&mut self, string: &str) -> Result<(), TryReserveError> {
        self.vec.try_extend_from_slice(string.as_bytes())
    }

    /// Removes and returns the last character.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::from("aé");
    /// assert_eq!(s.pop(), Some('é'));
    /// assert_eq!(s, "a");
    /// ```
    pub fn pop(&mut self) -> Option<char> {
        let ch = self.as_str().chars().next_back()?;
        let new_len = self.len() - ch.len_utf8();
        self.vec.truncate(new_len);
        Some(ch)
    }

    /// Inserts a character at byte index `idx`.
    ///
    /// # Panics
    /// When `idx` is not a char boundary or is past the end, or as
    /// [`push`](Self::push).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::from("ac");
    /// s.insert(1, 'b');
    /// assert_eq!(s, "abc");
    /// ```
    #[track_caller]
    pub fn insert(&mut self, idx: usize, ch: char) {
        self.insert_str(idx, ch.encode_utf8(&mut [0; 4]));
    }

    /// Inserts a string slice at byte index `idx`.
    ///
    /// # Panics
    /// As [`insert`](Self::insert).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::from("ad");
    /// s.insert_str(1, "bc");
    /// assert_eq!(s, "abcd");
    /// ```
    #[track_caller]
    pub fn insert_str(&mut self, idx: usize, string: &str) {
        if let Err(e) = self.try_insert_str(idx, string) {
            capacity_panic("ReservedString::insert_str", e)
        }
    }

    /// Fallible [`insert_str`](Self::insert_str): on error nothing changes.
    ///
    /// # Errors
    /// As [`try_reserve`](Self::try_reserve) with `string.len()`.
    ///
    /// # Panics
    /// When `idx` is not a char boundary or is past the end.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::with_max_capacity(3);
    /// s.try_insert_str(0, "ab")?;
    /// assert!(s.try_insert_str(0, "xy").is_err());
    /// assert_eq!(s, "ab");
    /// # Ok::<(), mallocv2_collections::TryReserveError>(())
    /// ```
    #[track_caller]
    pub fn try_insert_str(&mut self, idx: usize, string: &str) -> Result<(), TryReserveError> {
        assert!(
            self.is_char_boundary(idx),
            "byte index {idx} is not a char boundary of a string of length {}",
            self.len()
        );
        self.vec.try_extend_from_slice(string.as_bytes())?;
        // Whole chars move as units, so the result is UTF-8 again.
        self.vec[idx..].rotate_right(string.len());
        Ok(())
    }

    /// Removes and returns the character at byte index `idx`.
    ///
    /// # Panics
    /// When `idx` is not a char boundary or is at or past the end.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::from("aéb");
    /// assert_eq!(s.remove(1), 'é');
    /// assert_eq!(s, "ab");
    /// ```
    #[track_caller]
    pub fn remove(&mut self, idx: usize) -> char {
        let ch = match self[idx..].chars().next() {
            Some(ch) => ch,
            None => panic!("cannot remove a char from the end of a string"),
        };
        self.vec.drain(idx..idx + ch.len_utf8());
        ch
    }

    /// Keeps the first `new_len` bytes.
    ///
    /// # Panics
    /// When `new_len` is not a char boundary.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::from("hello");
    /// s.truncate(2);
    /// assert_eq!(s, "he");
    /// ```
    #[track_caller]
    pub fn truncate(&mut self, new_len: usize) {
        if new_len < self.len() {
            assert!(
                self.is_char_boundary(new_len),
                "new_len {new_len} is not a char boundary"
            );
            self.vec.truncate(new_len);
        }
    }

    /// Empties the string (memory stays committed).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::from("a");
    /// s.clear();
    /// assert!(s.is_empty());
    /// ```
    pub fn clear(&mut self) {
        self.vec.clear()
    }

    /// Keeps only the characters for which `f` returns true. If `f` panics,
    /// the string keeps the characters accepted so far (and stays UTF-8).
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::from("a1b2");
    /// s.retain(|c| c.is_alphabetic());
    /// assert_eq!(s, "ab");
    /// ```
    pub fn retain<F: FnMut(char) -> bool>(&mut self, mut f: F) {
        /// Sets the length to what was kept, also on unwind.
        struct SetLenOnDrop<'a> {
            s: &'a mut ReservedString,
            idx: usize,
            deleted: usize,
        }
        impl Drop for SetLenOnDrop<'_> {
            fn drop(&mut self) {
                // Bytes past `idx - deleted` are dropped, so what remains is
                // the kept chars: valid UTF-8.
                self.s.vec.truncate(self.idx - self.deleted);
            }
        }
        let len = self.len();
        let mut g = SetLenOnDrop {
            s: self,
            idx: 0,
            deleted: 0,
        };
        while g.idx < len {
            // SAFETY: bytes `[idx, len)` have not been written (writes go
            // below `idx - deleted <= idx`), so they are the original
            // string's bytes from a char boundary: valid UTF-8.
            let rest = unsafe { core::str::from_utf8_unchecked(&g.s.vec[g.idx..len]) };
            let ch = rest.chars().next().expect("idx < len: a char follows");
            let n = ch.len_utf8();
            if !f(ch) {
                g.deleted += n;
            } else if g.deleted > 0 {
                g.s.vec.copy_within(g.idx..g.idx + n, g.idx - g.deleted);
            }
            g.idx += n;
        }
        drop(g);
    }

    /// Removes the byte range and returns its characters as an iterator;
    /// the range is removed when the iterator is dropped, consumed or not.
    ///
    /// # Panics
    /// When the range is out of bounds or not on char boundaries.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::from("héllo");
    /// let d: String = s.drain(1..3).collect();
    /// assert_eq!(d, "é");
    /// assert_eq!(s, "hllo");
    /// ```
    #[track_caller]
    pub fn drain<R: RangeBounds<usize>>(&mut self, range: R) -> Drain<'_> {
        let (start, end) = slice_range(range, self.len());
        assert!(
            self.is_char_boundary(start),
            "drain start {start} is not a char boundary"
        );
        assert!(
            self.is_char_boundary(end),
            "drain end {end} is not a char boundary"
        );
        let text: *const str = &self.as_str()[start..end];
        // SAFETY: the text lives in the reservation, which neither moves nor
        // changes while the Drain (holding the only access to the string)
        // exists; the Drain removes the range only in its `Drop`, after
        // which the `Chars` over it is not used.
        let iter = unsafe { (*text).chars() };
        Drain {
            string: NonNull::from(self),
            start,
            end,
            iter,
            _marker: PhantomData,
        }
    }

    /// Splits off the bytes from `at` into a new string.
    ///
    /// # Panics
    /// When `at` is not a char boundary or is past the end.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::from("ab");
    /// assert_eq!(s.split_off(1), "b");
    /// assert_eq!(s, "a");
    /// ```
    #[track_caller]
    pub fn split_off(&mut self, at: usize) -> Self {
        assert!(
            self.is_char_boundary(at),
            "split_off: {at} is not a char boundary"
        );
        ReservedString {
            vec: self.vec.split_off(at),
        }
    }
}

impl Deref for ReservedString {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl DerefMut for ReservedString {
    #[inline]
    fn deref_mut(&mut self) -> &mut str {
        self.as_mut_str()
    }
}

impl<I: SliceIndex<str>> Index<I> for ReservedString {
    type Output = I::Output;
    #[inline]
    fn index(&self, index: I) -> &I::Output {
        self.as_str().index(index)
    }
}

impl<I: SliceIndex<str>> IndexMut<I> for ReservedString {
    #[inline]
    fn index_mut(&mut self, index: I) -> &mut I::Output {
        self.as_mut_str().index_mut(index)
    }
}

impl fmt::Write for ReservedString {
    /// Appends `s`; a refused growth is `fmt::Error` (nothing appended).
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.try_push_str(s).map_err(|_| fmt::Error)
    }

    fn write_char(&mut self, c: char) -> fmt::Result {
        self.try_push(c).map_err(|_| fmt::Error)
    }
}

impl fmt::Display for ReservedString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for ReservedString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Hash for ReservedString {
    /// Hashes like `str` (and `String`), so `Borrow<str>` is consistent.
    fn hash<H: Hasher>(&self, state: &mut H) {
        Hash::hash(self.as_str(), state)
    }
}

macro_rules! impl_str_eq {
    ($($t:ty),*) => {$(
        impl PartialEq<$t> for ReservedString {
            #[inline]
            fn eq(&self, other: &$t) -> bool {
                self.as_str() == &other[..]
            }
        }
        impl PartialEq<ReservedString> for $t {
            #[inline]
            fn eq(&self, other: &ReservedString) -> bool {
                &self[..] == other.as_str()
            }
        }
    )*};
}

impl_str_eq!(str, &str, std::string::String, std::borrow::Cow<'_, str>);

impl Borrow<str> for ReservedString {
    fn borrow(&self) -> &str {
        self
    }
}

impl BorrowMut<str> for ReservedString {
    fn borrow_mut(&mut self) -> &mut str {
        self
    }
}

impl AsRef<str> for ReservedString {
    fn as_ref(&self) -> &str {
        self
    }
}

impl AsMut<str> for ReservedString {
    fn as_mut(&mut self) -> &mut str {
        self
    }
}

impl AsRef<[u8]> for ReservedString {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl From<&str> for ReservedString {
    #[track_caller]
    fn from(s: &str) -> Self {
        let mut r = Self::with_capacity(s.len());
        r.push_str(s);
        r
    }
}

impl From<&mut str> for ReservedString {
    #[track_caller]
    fn from(s: &mut str) -> Self {
        Self::from(&*s)
    }
}

impl From<&std::string::String> for ReservedString {
    #[track_caller]
    fn from(s: &std::string::String) -> Self {
        Self::from(s.as_str())
    }
}

impl From<std::string::String> for ReservedString {
    /// Copies the text into a new reservation.
    #[track_caller]
    fn from(s: std::string::String) -> Self {
        Self::from(s.as_str())
    }
}

impl From<char> for ReservedString {
    #[track_caller]
    fn from(c: char) -> Self {
        Self::from(c.encode_utf8(&mut [0; 4]) as &str)
    }
}

impl From<ReservedString> for std::string::String {
    /// Copies the text into a std `String`.
    fn from(s: ReservedString) -> Self {
        s.as_str().to_owned()
    }
}

impl From<ReservedString> for ReservedVec<u8> {
    /// [`ReservedString::into_bytes`].
    fn from(s: ReservedString) -> Self {
        s.into_bytes()
    }
}

impl core::str::FromStr for ReservedString {
    type Err = core::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::from(s))
    }
}

impl Add<&str> for ReservedString {
    type Output = ReservedString;
    #[track_caller]
    fn add(mut self, rhs: &str) -> ReservedString {
        self.push_str(rhs);
        self
    }
}

impl AddAssign<&str> for ReservedString {
    #[track_caller]
    fn add_assign(&mut self, rhs: &str) {
        self.push_str(rhs);
    }
}

impl Extend<char> for ReservedString {
    #[track_caller]
    fn extend<I: IntoIterator<Item = char>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        let (lower, _) = iter.size_hint();
        let _ = self.try_reserve(lower.min(self.max_capacity() - self.len()));
        for c in iter {
            self.push(c);
        }
    }
}

impl<'a> Extend<&'a char> for ReservedString {
    #[track_caller]
    fn extend<I: IntoIterator<Item = &'a char>>(&mut self, iter: I) {
        self.extend(iter.into_iter().copied());
    }
}

impl<'a> Extend<&'a str> for ReservedString {
    #[track_caller]
    fn extend<I: IntoIterator<Item = &'a str>>(&mut self, iter: I) {
        for s in iter {
            self.push_str(s);
        }
    }
}

impl Extend<std::string::String> for ReservedString {
    #[track_caller]
    fn extend<I: IntoIterator<Item = std::string::String>>(&mut self, iter: I) {
        for s in iter {
            self.push_str(&s);
        }
    }
}

impl<'a> Extend<std::borrow::Cow<'a, str>> for ReservedString {
    #[track_caller]
    fn extend<I: IntoIterator<Item = std::borrow::Cow<'a, str>>>(&mut self, iter: I) {
        for s in iter {
            self.push_str(&s);
        }
    }
}

impl FromIterator<char> for ReservedString {
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = char>>(iter: I) -> Self {
        let mut s = Self::new();
        s.extend(iter);
        s
    }
}

impl<'a> FromIterator<&'a char> for ReservedString {
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = &'a char>>(iter: I) -> Self {
        let mut s = Self::new();
        s.extend(iter);
        s
    }
}

impl<'a> FromIterator<&'a str> for ReservedString {
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> Self {
        let mut s = Self::new();
        s.extend(iter);
        s
    }
}

impl FromIterator<std::string::String> for ReservedString {
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = std::string::String>>(iter: I) -> Self {
        let mut s = Self::new();
        s.extend(iter);
        s
    }
}

/// The draining iterator of [`ReservedString::drain`].
///
/// # Example
/// ```
/// use mallocv2_collections::reserved_string::ReservedString;
///
/// let mut s = ReservedString::from("abc");
/// let mut d = s.drain(..2);
/// assert_eq!(d.as_str(), "ab");
/// assert_eq!(d.next_back(), Some('b'));
/// drop(d);
/// assert_eq!(s, "c");
/// ```
pub struct Drain<'a> {
    /// The string; borrowed mutably for `'a`.
    string: NonNull<ReservedString>,
    /// The drained byte range, on char boundaries.
    start: usize,
    /// See `start`.
    end: usize,
    /// The characters not yet yielded.
    iter: Chars<'a>,
    /// Borrows the string mutably.
    _marker: PhantomData<&'a mut ReservedString>,
}

// SAFETY: a Drain is a `&mut ReservedString` plus a `Chars`; both are Send
// and Sync.
unsafe impl Send for Drain<'_> {}
// SAFETY: see above.
unsafe impl Sync for Drain<'_> {}

impl Drain<'_> {
    /// The characters not yet yielded.
    ///
    /// # Example
    /// ```
    /// use mallocv2_collections::reserved_string::ReservedString;
    ///
    /// let mut s = ReservedString::from("xyz");
    /// let mut d = s.drain(..);
    /// d.next();
    /// assert_eq!(d.as_str(), "yz");
    /// ```
    pub fn as_str(&self) -> &str {
        self.iter.as_str()
    }
}

impl Iterator for Drain<'_> {
    type Item = char;
    #[inline]
    fn next(&mut self) -> Option<char> {
        self.iter.next()
    }
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.size_hint()
    }
}

impl DoubleEndedIterator for Drain<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<char> {
        self.iter.next_back()
    }
}

impl FusedIterator for Drain<'_> {}

impl fmt::Debug for Drain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Drain").field(&self.as_str()).finish()
    }
}

impl Drop for Drain<'_> {
    fn drop(&mut self) {
        // SAFETY: the Drain holds the string's only (mutable) borrow; the
        // `Chars` into it is not used after this point. The range is on char
        // boundaries, so removing it keeps the text UTF-8.
        unsafe {
            let s = self.string.as_mut();
            s.vec.drain(self.start..self.end);
        }
    }
}

#[cfg(feature = "serde")]
mod serde_impls {
    use core::fmt;

    use serde::de::{Deserialize, Deserializer, Error, Visitor};
    use serde::ser::{Serialize, Serializer};

    use super::ReservedString;

    impl Serialize for ReservedString {
        /// Serializes as a string.
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(self)
        }
    }

    impl<'de> Deserialize<'de> for ReservedString {
        /// Deserializes a string (default maximum capacity).
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = ReservedString;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a string")
                }
                fn visit_str<E: Error>(self, v: &str) -> Result<ReservedString, E> {
                    let mut s = ReservedString::new();
                    s.try_push_str(v).map_err(E::custom)?;
                    Ok(s)
                }
            }
            d.deserialize_str(V)
        }
    }
}
