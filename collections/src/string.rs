//! [`String<A = Heap>`](String): the std `String` API over
//! [`Vec<u8, A>`](crate::vec::Vec), so it grows by the same protocol (in
//! place, then a copy-free move, then copying only the `len` live bytes) and
//! turns the allocator's usable size into capacity.
//!
//! # Covered API
//!
//! Inherent: `new`, `new_in`, `with_capacity(_in)`, `try_with_capacity`,
//! `from_utf8`, `from_utf8_lossy`, `from_utf8_unchecked`, `from_std`,
//! `into_std`, `allocator`, `push`, `push_str`, `try_push_str`, `pop`,
//! `insert`, `insert_str`, `remove`, `truncate`, `clear`, `retain`, `drain`,
//! `split_off`, `as_str`, `as_mut_str`, `as_bytes`, `as_mut_vec`,
//! `into_bytes`, `len`, `is_empty`, `capacity`, `reserve`, `reserve_exact`,
//! `try_reserve`, `try_reserve_exact`, `shrink_to_fit`, `shrink_to`; all of
//! `str` through `Deref<Target = str>`.
//!
//! Traits: `Deref`/`DerefMut`, `fmt::Write`, `Display`, `Debug`,
//! `PartialEq`/`Eq` with `str`, `&str`, `String`s of any allocator,
//! `std::string::String` and `Cow<str>`, `PartialOrd`/`Ord`, `Hash` (as
//! `str`), `Clone`, `Default`, `FromStr`, `FromIterator` of `char`, `&char`,
//! `&str`, `String` and `std::string::String`, the matching `Extend`s,
//! `From<&str>`, `From<&mut str>`, `From<char>`, `From<std String>` (and
//! `&std String`), `From<String> for std String`, `From<String<A>> for
//! Vec<u8, A>`, `Add<&str>`, `AddAssign<&str>`, `Borrow<str>`,
//! `BorrowMut<str>`, `AsRef<str>`, `AsRef<[u8]>`, `AsMut<str>`, `Index` and
//! `IndexMut` with ranges, and with the `serde` feature
//! `Serialize`/`Deserialize`.
//!
//! Conversions with `std::string::String` always copy the bytes (std's buffer
//! belongs to the global allocator).
//!
//! ```
//! use core::fmt::Write;
//! use mallocv2_collections::String;
//!
//! let mut s = String::from("hello");
//! s.push_str(", world");
//! write!(s, " {}", 42).unwrap();
//! assert_eq!(s, "hello, world 42");
//! ```

use core::borrow::{Borrow, BorrowMut};
use core::fmt;
use core::hash::{Hash, Hasher};
use core::iter::FusedIterator;
use core::ops::{Add, AddAssign, Deref, DerefMut, Index, IndexMut, Range, RangeBounds};
use core::ptr;
use core::slice::SliceIndex;
use core::str::{Chars, Utf8Error};
use std::borrow::Cow;

use mallocv2::{Heap, ResizeInPlace};

use crate::vec::{slice_range, Vec};
use crate::TryReserveError;

/// A growable UTF-8 string, like [`std::string::String`], over
/// [`Vec<u8, A>`](crate::vec::Vec).
///
/// ```
/// use mallocv2_collections::String;
/// let s: String = ["a", "b", "c"].into_iter().collect();
/// assert_eq!(s.to_uppercase(), "ABC");
/// ```
pub struct String<A: ResizeInPlace = Heap> {
    /// The bytes. Invariant: valid UTF-8.
    vec: Vec<u8, A>,
}

/// The error of [`String::from_utf8`]: the bytes were not UTF-8. They are
/// handed back by [`into_bytes`](Self::into_bytes).
///
/// ```
/// use mallocv2_collections::{String, Vec};
/// let e = String::from_utf8(Vec::from(&[0xffu8][..])).unwrap_err();
/// assert_eq!(e.utf8_error().valid_up_to(), 0);
/// assert_eq!(e.into_bytes(), [0xff]);
/// ```
pub struct FromUtf8Error<A: ResizeInPlace = Heap> {
    /// The bytes given.
    bytes: Vec<u8, A>,
    /// Where they stopped being UTF-8.
    error: Utf8Error,
}

impl<A: ResizeInPlace> FromUtf8Error<A> {
    /// The bytes that were not UTF-8.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Hands the bytes back.
    pub fn into_bytes(self) -> Vec<u8, A> {
        self.bytes
    }

    /// Where and why the conversion failed.
    pub fn utf8_error(&self) -> Utf8Error {
        self.error
    }
}

impl<A: ResizeInPlace> fmt::Debug for FromUtf8Error<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FromUtf8Error")
            .field("bytes", &self.bytes)
            .field("error", &self.error)
            .finish()
    }
}

impl<A: ResizeInPlace> fmt::Display for FromUtf8Error<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl<A: ResizeInPlace> core::error::Error for FromUtf8Error<A> {}

impl String {
    /// An empty string; allocates nothing.
    ///
    /// ```
    /// assert!(mallocv2_collections::String::new().is_empty());
    /// ```
    #[inline]
    pub const fn new() -> Self {
        String { vec: Vec::new() }
    }

    /// An empty string with room for at least `capacity` bytes.
    ///
    /// ```
    /// assert!(mallocv2_collections::String::with_capacity(10).capacity() >= 10);
    /// ```
    ///
    /// # Panics
    /// As [`Vec::with_capacity`].
    #[inline]
    pub fn with_capacity(capacity: usize) -> Self {
        String {
            vec: Vec::with_capacity(capacity),
        }
    }

    /// Like [`with_capacity`](Self::with_capacity), returning an error
    /// instead of failing.
    ///
    /// ```
    /// assert!(mallocv2_collections::String::try_with_capacity(10).is_ok());
    /// ```
    ///
    /// # Errors
    /// As [`Vec::try_with_capacity`].
    #[inline]
    pub fn try_with_capacity(capacity: usize) -> Result<Self, TryReserveError> {
        Ok(String {
            vec: Vec::try_with_capacity(capacity)?,
        })
    }

    /// Decodes bytes, replacing invalid sequences with U+FFFD. Always
    /// returns a new string.
    ///
    /// ```
    /// let s = mallocv2_collections::String::from_utf8_lossy(b"a\xffb");
    /// assert_eq!(s, "a\u{FFFD}b");
    /// ```
    ///
    /// # Panics
    /// As [`Vec::with_capacity`].
    pub fn from_utf8_lossy(v: &[u8]) -> Self {
        let mut s = String::with_capacity(v.len());
        for chunk in v.utf8_chunks() {
            s.push_str(chunk.valid());
            if !chunk.invalid().is_empty() {
                s.push(char::REPLACEMENT_CHARACTER);
            }
        }
        s
    }

    /// Copies a `std::string::String` into a `Heap` buffer.
    ///
    /// ```
    /// let s = mallocv2_collections::String::from_std("x".to_string());
    /// assert_eq!(s, "x");
    /// ```
    ///
    /// # Panics
    /// As [`Vec::with_capacity`].
    pub fn from_std(s: std::string::String) -> Self {
        String::from(s.as_str())
    }
}

impl<A: ResizeInPlace> String<A> {
    /// An empty string using `alloc`.
    ///
    /// ```
    /// use mallocv2_collections::String;
    /// let s = String::new_in(mallocv2::alloc::Global);
    /// assert_eq!(s.capacity(), 0);
    /// ```
    #[inline]
    pub const fn new_in(alloc: A) -> Self {
        String {
            vec: Vec::new_in(alloc),
        }
    }

    /// An empty string using `alloc` with room for `capacity` bytes.
    ///
    /// ```
    /// use mallocv2_collections::String;
    /// assert!(String::with_capacity_in(8, mallocv2::Heap).capacity() >= 8);
    /// ```
    ///
    /// # Panics
    /// As [`Vec::with_capacity`].
    #[inline]
    pub fn with_capacity_in(capacity: usize, alloc: A) -> Self {
        String {
            vec: Vec::with_capacity_in(capacity, alloc),
        }
    }

    /// Takes the bytes as a string if they are UTF-8.
    ///
    /// ```
    /// use mallocv2_collections::{String, Vec};
    /// let s = String::from_utf8(Vec::from(&b"hi"[..])).unwrap();
    /// assert_eq!(s, "hi");
    /// ```
    ///
    /// # Errors
    /// [`FromUtf8Error`] (holding the bytes) when they are not UTF-8.
    pub fn from_utf8(vec: Vec<u8, A>) -> Result<Self, FromUtf8Error<A>> {
        match core::str::from_utf8(&vec) {
            Ok(_) => Ok(String { vec }),
            Err(error) => Err(FromUtf8Error { bytes: vec, error }),
        }
    }

    /// Takes the bytes as a string without checking.
    ///
    /// ```
    /// use mallocv2_collections::{String, Vec};
    /// let s = unsafe { String::from_utf8_unchecked(Vec::from(&b"ok"[..])) };
    /// assert_eq!(s, "ok");
    /// ```
    ///
    /// # Safety
    /// The bytes are valid UTF-8.
    #[inline]
    pub unsafe fn from_utf8_unchecked(bytes: Vec<u8, A>) -> Self {
        debug_assert!(core::str::from_utf8(&bytes).is_ok(), "bytes are not UTF-8");
        String { vec: bytes }
    }

    /// Copies the string into a `std::string::String`.
    ///
    /// ```
    /// let s = mallocv2_collections::String::from("x");
    /// assert_eq!(s.into_std(), "x".to_string());
    /// ```
    pub fn into_std(self) -> std::string::String {
        std::string::String::from(self.as_str())
    }

    /// The allocator.
    #[inline]
    pub fn allocator(&self) -> &A {
        self.vec.allocator()
    }

    /// The string as `&str`.
    ///
    /// ```
    /// assert_eq!(mallocv2_collections::String::from("a").as_str(), "a");
    /// ```
    #[inline]
    pub fn as_str(&self) -> &str {
        // SAFETY: the bytes are UTF-8 (field invariant).
        unsafe { core::str::from_utf8_unchecked(&self.vec) }
    }

    /// The string as `&mut str`.
    ///
    /// ```
    /// let mut s = mallocv2_collections::String::from("a");
    /// s.as_mut_str().make_ascii_uppercase();
    /// assert_eq!(s, "A");
    /// ```
    #[inline]
    pub fn as_mut_str(&mut self) -> &mut str {
        // SAFETY: the bytes are UTF-8; `str` methods keep them so.
        unsafe { core::str::from_utf8_unchecked_mut(&mut self.vec) }
    }

    /// The bytes.
    ///
    /// ```
    /// assert_eq!(mallocv2_collections::String::from("a").as_bytes(), b"a");
    /// ```
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.vec
    }

    /// The underlying vector, mutably.
    ///
    /// ```
    /// let mut s = mallocv2_collections::String::from("a");
    /// unsafe { s.as_mut_vec().push(b'b') };
    /// assert_eq!(s, "ab");
    /// ```
    ///
    /// # Safety
    /// The bytes must be valid UTF-8 again when the borrow ends.
    #[inline]
    pub unsafe fn as_mut_vec(&mut self) -> &mut Vec<u8, A> {
        &mut self.vec
    }

    /// The bytes, as a vector.
    ///
    /// ```
    /// assert_eq!(mallocv2_collections::String::from("a").into_bytes(), [b'a']);
    /// ```
    #[inline]
    pub fn into_bytes(self) -> Vec<u8, A> {
        self.vec
    }

    /// Length in bytes.
    ///
    /// ```
    /// assert_eq!(mallocv2_collections::String::from("é").len(), 2);
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.vec.len()
    }

    /// Whether the string is empty.
    ///
    /// ```
    /// assert!(mallocv2_collections::String::new().is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.vec.is_empty()
    }

    /// Capacity in bytes (the allocator's usable size).
    ///
    /// ```
    /// assert!(mallocv2_collections::String::with_capacity(3).capacity() >= 3);
    /// ```
    #[inline]
    pub fn capacity(&self) -> usize {
        self.vec.capacity()
    }

    /// Makes room for `additional` more bytes (geometric growth).
    ///
    /// ```
    /// let mut s = mallocv2_collections::String::new();
    /// s.reserve(10);
    /// assert!(s.capacity() >= 10);
    /// ```
    ///
    /// # Panics
    /// As [`Vec::reserve`].
    #[inline]
    pub fn reserve(&mut self, additional: usize) {
        self.vec.reserve(additional);
    }

    /// Makes room for `additional` more bytes without over-allocating.
    ///
    /// ```
    /// let mut s = mallocv2_collections::String::new();
    /// s.reserve_exact(10);
    /// assert!(s.capacity() >= 10);
    /// ```
    ///
    /// # Panics
    /// As [`Vec::reserve`].
    #[inline]
    pub fn reserve_exact(&mut self, additional: usize) {
        self.vec.reserve_exact(additional);
    }

    /// Like [`reserve`](Self::reserve), returning an error instead of
    /// failing; the string is unchanged on error.
    ///
    /// ```
    /// let mut s = mallocv2_collections::String::from("a");
    /// assert!(s.try_reserve(usize::MAX).is_err());
    /// assert_eq!(s, "a");
    /// ```
    ///
    /// # Errors
    /// As [`Vec::try_reserve`].
    #[inline]
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), TryReserveError> {
        self.vec.try_reserve(additional)
    }

    /// Like [`reserve_exact`](Self::reserve_exact), returning an error
    /// instead of failing.
    ///
    /// ```
    /// let mut s = mallocv2_collections::String::new();
    /// s.try_reserve_exact(4).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`Vec::try_reserve`].
    #[inline]
    pub fn try_reserve_exact(&mut self, additional: usize) -> Result<(), TryReserveError> {
        self.vec.try_reserve_exact(additional)
    }

    /// Shrinks the buffer towards the length (see [`Vec::shrink_to_fit`]).
    ///
    /// ```
    /// let mut s = mallocv2_collections::String::with_capacity(1 << 20);
    /// s.push('a');
    /// s.shrink_to_fit();
    /// assert!(s.capacity() < 1 << 20);
    /// ```
    #[inline]
    pub fn shrink_to_fit(&mut self) {
        self.vec.shrink_to_fit();
    }

    /// Shrinks the buffer to at least `max(len, min_capacity)` bytes.
    ///
    /// ```
    /// let mut s = mallocv2_collections::String::with_capacity(1 << 20);
    /// s.shrink_to(100);
    /// assert!(s.capacity() >= 100);
    /// ```
    #[inline]
    pub fn shrink_to(&mut self, min_capacity: usize) {
        self.vec.shrink_to(min_capacity);
    }

    /// Appends a character.
    ///
    /// ```
    /// let mut s = mallocv2_collections::String::new();
    /// s.push('é');
    /// assert_eq!(s, "é");
    /// ```
    ///
    /// # Panics
    /// As [`Vec::reserve`].
    #[inline]
    pub fn push(&mut self, ch: char) {
        match ch.len_utf8() {
            1 => self.vec.push(ch as u8),
            _ => self
                .vec
                .extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }

    /// Appends a character, or returns an error and leaves the string
    /// unchanged.
    ///
    /// ```
    /// use mallocv2_collections::{String, TryReserveError};
    ///
    /// let mut s = String::new();
    /// s.try_push('é')?;
    /// assert_eq!(s, "é");
    /// # Ok::<(), TryReserveError>(())
    /// ```
    ///
    /// # Errors
    /// As [`Vec::try_reserve`] with `ch.len_utf8()`.
    #[inline]
    pub fn try_push(&mut self, ch: char) -> Result<(), TryReserveError> {
        match ch.len_utf8() {
            1 => self.vec.try_push(ch as u8),
            _ => self.try_push_str(ch.encode_utf8(&mut [0; 4])),
        }
    }

    /// Appends a string slice.
    ///
    /// ```
    /// let mut s = mallocv2_collections::String::from("a");
    /// s.push_str("bc");
    /// assert_eq!(s, "abc");
    /// ```
    ///
    /// # Panics
    /// As [`Vec::reserve`].
    #[inline]
    pub fn push_str(&mut self, string: &str) {
        self.vec.extend_from_slice(string.as_bytes());
    }

    /// Appends a string slice, or returns an error and leaves the string
    /// unchanged.
    ///
    /// ```
    /// let mut s = mallocv2_collections::String::new();
    /// s.try_push_str("a").unwrap();
    /// assert_eq!(s, "a");
    /// ```
    ///
    /// # Errors
    /// As [`Vec::try_reserve`].
    pub fn try_push_str(&mut self, string: &str) -> Result<(), TryReserveError> {
        self.vec.try_reserve(string.len())?;
        self.vec.extend_from_slice(string.as_bytes());
        Ok(())
    }

    /// Removes and returns the last character.
    ///
    /// ```
    /// let mut s = mallocv2_collections::String::from("ab");
    /// assert_eq!(s.pop(), Some('b'));
    /// ```
    pub fn pop(&mut self) -> Option<char> {
        let ch = self.chars().next_back()?;
        let new_len = self.len() - ch.len_utf8();
        // SAFETY: `new_len` is the boundary before the last character.
        unsafe { self.vec.set_len(new_len) };
        Some(ch)
    }

    /// Inserts a character at byte `idx`.
    ///
    /// ```
    /// let mut s = mallocv2_collections::String::from("ac");
    /// s.insert(1, 'b');
    /// assert_eq!(s, "abc");
    /// ```
    ///
    /// # Panics
    /// When `idx` is past the end or not on a character boundary, and as
    /// [`Vec::reserve`].
    #[track_caller]
    pub fn insert(&mut self, idx: usize, ch: char) {
        self.insert_str(idx, ch.encode_utf8(&mut [0; 4]));
    }

    /// Inserts a character at byte `idx`, or returns an error and leaves
    /// the string unchanged.
    ///
    /// ```
    /// use mallocv2_collections::{String, TryReserveError};
    ///
    /// let mut s = String::from("ac");
    /// s.try_insert(1, 'b')?;
    /// assert_eq!(s, "abc");
    /// # Ok::<(), TryReserveError>(())
    /// ```
    ///
    /// # Errors
    /// As [`Vec::try_reserve`] with `ch.len_utf8()`.
    ///
    /// # Panics
    /// When `idx` is past the end or not on a character boundary.
    #[track_caller]
    pub fn try_insert(&mut self, idx: usize, ch: char) -> Result<(), TryReserveError> {
        self.try_insert_str(idx, ch.encode_utf8(&mut [0; 4]))
    }

    /// Inserts a string slice at byte `idx`.
    ///
    /// ```
    /// let mut s = mallocv2_collections::String::from("ad");
    /// s.insert_str(1, "bc");
    /// assert_eq!(s, "abcd");
    /// ```
    ///
    /// # Panics
    /// When `idx` is past the end or not on a character boundary, and as
    /// [`Vec::reserve`].
    #[track_caller]
    pub fn insert_str(&mut self, idx: usize, string: &str) {
        self.check_insert_at(idx);
        self.vec.reserve(string.len());
        self.insert_reserved(idx, string);
    }

    /// Inserts a string slice at byte `idx`, or returns an error and leaves
    /// the string unchanged.
    ///
    /// ```
    /// use mallocv2_collections::{String, TryReserveError};
    ///
    /// let mut s = String::from("ad");
    /// s.try_insert_str(1, "bc")?;
    /// assert_eq!(s, "abcd");
    /// assert_eq!(s.try_insert_str(0, "x"), Ok(()));
    /// # Ok::<(), TryReserveError>(())
    /// ```
    ///
    /// # Errors
    /// As [`Vec::try_reserve`] with `string.len()`.
    ///
    /// # Panics
    /// When `idx` is past the end or not on a character boundary.
    #[track_caller]
    pub fn try_insert_str(&mut self, idx: usize, string: &str) -> Result<(), TryReserveError> {
        self.check_insert_at(idx);
        self.vec.try_reserve(string.len())?;
        self.insert_reserved(idx, string);
        Ok(())
    }

    /// Panics unless `idx` is a character boundary (the end included).
    #[inline]
    #[track_caller]
    fn check_insert_at(&self, idx: usize) {
        assert!(
            self.is_char_boundary(idx),
            "insertion index {idx} is not a char boundary (len {})",
            self.len()
        );
    }

    /// Inserts `string` at `idx`, a character boundary, with room for it
    /// already reserved.
    #[inline]
    fn insert_reserved(&mut self, idx: usize, string: &str) {
        let len = self.len();
        let n = string.len();
        debug_assert!(
            self.is_char_boundary(idx) && self.vec.capacity() - len >= n,
            "insert_reserved({idx}, {n} bytes): len {len}, capacity {}",
            self.vec.capacity()
        );
        // SAFETY: room for `n` more bytes; the tail `idx..len` moves right
        // by `n` and `string` fills the gap, so the bytes stay UTF-8 (the
        // insertion is at a boundary) before the length is set.
        unsafe {
            let p = self.vec.as_mut_ptr();
            ptr::copy(p.add(idx), p.add(idx + n), len - idx);
            ptr::copy_nonoverlapping(string.as_ptr(), p.add(idx), n);
            self.vec.set_len(len + n);
        }
    }

    /// Removes and returns the character at byte `idx`.
    ///
    /// ```
    /// let mut s = mallocv2_collections::String::from("abc");
    /// assert_eq!(s.remove(1), 'b');
    /// assert_eq!(s, "ac");
    /// ```
    ///
    /// # Panics
    /// When `idx` is not the start of a character in the string.
    #[track_caller]
    pub fn remove(&mut self, idx: usize) -> char {
        let Some(ch) = self.get(idx..).and_then(|s| s.chars().next()) else {
            panic!("cannot remove a char from the end of a string or off a boundary (index {idx}, len {})", self.len());
        };
        let n = ch.len_utf8();
        let len = self.len();
        // SAFETY: `idx..idx + n` is one character; the tail moves left over
        // it, which keeps UTF-8.
        unsafe {
            let p = self.vec.as_mut_ptr();
            ptr::copy(p.add(idx + n), p.add(idx), len - idx - n);
            self.vec.set_len(len - n);
        }
        ch
    }

    /// Shortens to `new_len` bytes; does nothing if it is not shorter.
    ///
    /// ```
    /// let mut s = mallocv2_collections::String::from("abc");
    /// s.truncate(1);
    /// assert_eq!(s, "a");
    /// ```
    ///
    /// # Panics
    /// When `new_len` is not on a character boundary.
    #[track_caller]
    pub fn truncate(&mut self, new_len: usize) {
        if new_len < self.len() {
            assert!(
                self.is_char_boundary(new_len),
                "truncate index {new_len} is not a char boundary"
            );
            self.vec.truncate(new_len);
        }
    }

    /// Empties the string; the capacity is unchanged.
    ///
    /// ```
    /// let mut s = mallocv2_collections::String::from("abc");
    /// s.clear();
    /// assert!(s.is_empty());
    /// ```
    #[inline]
    pub fn clear(&mut self) {
        self.vec.clear();
    }

    /// Keeps only the characters for which `f` returns `true`.
    ///
    /// ```
    /// let mut s = mallocv2_collections::String::from("a1b2");
    /// s.retain(|c| c.is_alphabetic());
    /// assert_eq!(s, "ab");
    /// ```
    pub fn retain<F: FnMut(char) -> bool>(&mut self, mut f: F) {
        /// Sets the length to the kept prefix, also when `f` panics (the
        /// unprocessed rest is then cut off, which keeps UTF-8).
        struct SetLen<'a, A: ResizeInPlace> {
            s: &'a mut String<A>,
            idx: usize,
            deleted: usize,
        }
        impl<A: ResizeInPlace> Drop for SetLen<'_, A> {
            fn drop(&mut self) {
                // SAFETY: `idx - deleted` bytes of kept characters were
                // compacted to the front.
                unsafe { self.s.vec.set_len(self.idx - self.deleted) };
            }
        }
        let len = self.len();
        let mut g = SetLen {
            s: self,
            idx: 0,
            deleted: 0,
        };
        while g.idx < len {
            // SAFETY: `idx` is a boundary below `len` in UTF-8 bytes that
            // were not modified past `idx - deleted`.
            let ch = unsafe {
                core::str::from_utf8_unchecked(g.s.vec.get_unchecked(g.idx..len))
                    .chars()
                    .next()
                    .unwrap_unchecked()
            };
            let n = ch.len_utf8();
            if !f(ch) {
                g.deleted += n;
            } else if g.deleted > 0 {
                // SAFETY: moves one character (`n` bytes) down inside the
                // buffer; source and destination may overlap.
                unsafe {
                    let p = g.s.vec.as_mut_ptr();
                    ptr::copy(p.add(g.idx), p.add(g.idx - g.deleted), n);
                }
            }
            g.idx += n;
        }
    }

    /// Removes `range` (byte offsets on character boundaries) and returns
    /// its characters; the range is removed when the iterator is dropped.
    ///
    /// ```
    /// let mut s = mallocv2_collections::String::from("a→b");
    /// let d: String = s.drain(1..4).collect();
    /// assert_eq!(d, "→");
    /// assert_eq!(s, "ab");
    /// ```
    ///
    /// # Panics
    /// When the range is out of bounds or off a character boundary.
    #[track_caller]
    pub fn drain<R: RangeBounds<usize>>(&mut self, range: R) -> Drain<'_, A> {
        let Range { start, end } = slice_range(range, self.len());
        assert!(
            self.is_char_boundary(start),
            "drain start {start} is not a char boundary"
        );
        assert!(
            self.is_char_boundary(end),
            "drain end {end} is not a char boundary"
        );
        let string: *mut String<A> = self;
        // SAFETY: `string` comes from `&mut self`, which the drain borrows
        // for its lifetime; the bytes are not changed until it drops.
        let iter = unsafe { (*string).get_unchecked(start..end) }.chars();
        Drain {
            string,
            start,
            end,
            iter,
        }
    }

    /// Splits off the bytes from `at` into a new string.
    ///
    /// ```
    /// let mut s = mallocv2_collections::String::from("abc");
    /// assert_eq!(s.split_off(1), "bc");
    /// assert_eq!(s, "a");
    /// ```
    ///
    /// # Panics
    /// When `at` is past the end or off a character boundary.
    #[track_caller]
    pub fn split_off(&mut self, at: usize) -> Self
    where
        A: Clone,
    {
        assert!(
            self.is_char_boundary(at),
            "split index {at} is not a char boundary (len {})",
            self.len()
        );
        String {
            vec: self.vec.split_off(at),
        }
    }
}

impl<A: ResizeInPlace> Deref for String<A> {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl<A: ResizeInPlace> DerefMut for String<A> {
    #[inline]
    fn deref_mut(&mut self) -> &mut str {
        self.as_mut_str()
    }
}

impl<A: ResizeInPlace + Clone> Clone for String<A> {
    fn clone(&self) -> Self {
        String {
            vec: self.vec.clone(),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.vec.clone_from(&source.vec);
    }
}

impl<A: ResizeInPlace + Default> Default for String<A> {
    fn default() -> Self {
        String::new_in(A::default())
    }
}

impl<A: ResizeInPlace> fmt::Write for String<A> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        Ok(())
    }

    #[inline]
    fn write_char(&mut self, c: char) -> fmt::Result {
        self.push(c);
        Ok(())
    }
}

impl<A: ResizeInPlace> fmt::Display for String<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl<A: ResizeInPlace> fmt::Debug for String<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<A: ResizeInPlace> Hash for String<A> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl<A: ResizeInPlace, B: ResizeInPlace> PartialEq<String<B>> for String<A> {
    #[inline]
    fn eq(&self, other: &String<B>) -> bool {
        self.as_str() == other.as_str()
    }
}

impl<A: ResizeInPlace> Eq for String<A> {}

impl<A: ResizeInPlace, B: ResizeInPlace> PartialOrd<String<B>> for String<A> {
    #[inline]
    fn partial_cmp(&self, other: &String<B>) -> Option<core::cmp::Ordering> {
        self.as_str().partial_cmp(other.as_str())
    }
}

impl<A: ResizeInPlace> Ord for String<A> {
    #[inline]
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

macro_rules! impl_str_eq {
    ($($rhs:ty),*) => {$(
        impl<A: ResizeInPlace> PartialEq<$rhs> for String<A> {
            #[inline]
            fn eq(&self, other: &$rhs) -> bool {
                self.as_str() == &other[..]
            }
        }
        impl<A: ResizeInPlace> PartialEq<String<A>> for $rhs {
            #[inline]
            fn eq(&self, other: &String<A>) -> bool {
                &self[..] == other.as_str()
            }
        }
    )*};
}

impl_str_eq!(str, &str, std::string::String, Cow<'_, str>);

impl<A: ResizeInPlace, I: SliceIndex<str>> Index<I> for String<A> {
    type Output = I::Output;
    #[inline]
    fn index(&self, index: I) -> &I::Output {
        Index::index(self.as_str(), index)
    }
}

impl<A: ResizeInPlace, I: SliceIndex<str>> IndexMut<I> for String<A> {
    #[inline]
    fn index_mut(&mut self, index: I) -> &mut I::Output {
        IndexMut::index_mut(self.as_mut_str(), index)
    }
}

impl<A: ResizeInPlace> Borrow<str> for String<A> {
    fn borrow(&self) -> &str {
        self
    }
}

impl<A: ResizeInPlace> BorrowMut<str> for String<A> {
    fn borrow_mut(&mut self) -> &mut str {
        self
    }
}

impl<A: ResizeInPlace> AsRef<str> for String<A> {
    fn as_ref(&self) -> &str {
        self
    }
}

impl<A: ResizeInPlace> AsMut<str> for String<A> {
    fn as_mut(&mut self) -> &mut str {
        self
    }
}

impl<A: ResizeInPlace> AsRef<[u8]> for String<A> {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl From<&str> for String {
    fn from(s: &str) -> Self {
        let mut out = String::with_capacity(s.len());
        out.push_str(s);
        out
    }
}

impl From<&mut str> for String {
    fn from(s: &mut str) -> Self {
        String::from(&*s)
    }
}

impl From<char> for String {
    fn from(c: char) -> Self {
        String::from(c.encode_utf8(&mut [0; 4]))
    }
}

impl From<std::string::String> for String {
    /// Copies (see [`String::from_std`]).
    fn from(s: std::string::String) -> Self {
        String::from_std(s)
    }
}

impl From<&std::string::String> for String {
    fn from(s: &std::string::String) -> Self {
        String::from(s.as_str())
    }
}

impl<A: ResizeInPlace> From<String<A>> for std::string::String {
    /// Copies (see [`String::into_std`]).
    fn from(s: String<A>) -> Self {
        s.into_std()
    }
}

impl<A: ResizeInPlace> From<String<A>> for Vec<u8, A> {
    fn from(s: String<A>) -> Self {
        s.into_bytes()
    }
}

impl core::str::FromStr for String {
    type Err = core::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(String::from(s))
    }
}

impl<A: ResizeInPlace> Add<&str> for String<A> {
    type Output = String<A>;
    #[inline]
    fn add(mut self, other: &str) -> String<A> {
        self.push_str(other);
        self
    }
}

impl<A: ResizeInPlace> AddAssign<&str> for String<A> {
    #[inline]
    fn add_assign(&mut self, other: &str) {
        self.push_str(other);
    }
}

impl<A: ResizeInPlace> Extend<char> for String<A> {
    fn extend<I: IntoIterator<Item = char>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        self.reserve(iter.size_hint().0);
        iter.for_each(|c| self.push(c));
    }
}

impl<'a, A: ResizeInPlace> Extend<&'a char> for String<A> {
    fn extend<I: IntoIterator<Item = &'a char>>(&mut self, iter: I) {
        self.extend(iter.into_iter().copied());
    }
}

impl<'a, A: ResizeInPlace> Extend<&'a str> for String<A> {
    fn extend<I: IntoIterator<Item = &'a str>>(&mut self, iter: I) {
        iter.into_iter().for_each(|s| self.push_str(s));
    }
}

impl<A: ResizeInPlace, B: ResizeInPlace> Extend<String<B>> for String<A> {
    fn extend<I: IntoIterator<Item = String<B>>>(&mut self, iter: I) {
        iter.into_iter().for_each(|s| self.push_str(&s));
    }
}

impl<A: ResizeInPlace> Extend<std::string::String> for String<A> {
    fn extend<I: IntoIterator<Item = std::string::String>>(&mut self, iter: I) {
        iter.into_iter().for_each(|s| self.push_str(&s));
    }
}

/// The `FromIterator` impls hold for every allocator with a [`Default`] (as
/// `Default` for `String<A>`); the `From` conversions stay on [`Heap`] only,
/// so that `String::from(…)` needs no type annotation.
///
/// ```
/// use mallocv2_collections::String;
/// let s: String<mallocv2::alloc::Global> = ['a', 'b'].into_iter().collect();
/// assert_eq!(s, "ab");
/// ```
impl<A: ResizeInPlace + Default> FromIterator<char> for String<A> {
    fn from_iter<I: IntoIterator<Item = char>>(iter: I) -> Self {
        let mut s = String::new_in(A::default());
        s.extend(iter);
        s
    }
}

impl<'a, A: ResizeInPlace + Default> FromIterator<&'a char> for String<A> {
    fn from_iter<I: IntoIterator<Item = &'a char>>(iter: I) -> Self {
        let mut s = String::new_in(A::default());
        s.extend(iter);
        s
    }
}

impl<'a, A: ResizeInPlace + Default> FromIterator<&'a str> for String<A> {
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> Self {
        let mut s = String::new_in(A::default());
        s.extend(iter);
        s
    }
}

impl<A: ResizeInPlace + Default, B: ResizeInPlace> FromIterator<String<B>> for String<A> {
    fn from_iter<I: IntoIterator<Item = String<B>>>(iter: I) -> Self {
        let mut s = String::new_in(A::default());
        s.extend(iter);
        s
    }
}

impl<A: ResizeInPlace + Default> FromIterator<std::string::String> for String<A> {
    fn from_iter<I: IntoIterator<Item = std::string::String>>(iter: I) -> Self {
        let mut s = String::new_in(A::default());
        s.extend(iter);
        s
    }
}

/// The iterator of [`String::drain`]: the removed characters.
///
/// ```
/// let mut s = mallocv2_collections::String::from("abc");
/// let mut d = s.drain(..2);
/// assert_eq!(d.as_str(), "ab");
/// assert_eq!(d.next_back(), Some('b'));
/// drop(d);
/// assert_eq!(s, "c");
/// ```
pub struct Drain<'a, A: ResizeInPlace = Heap> {
    /// The string, exclusively borrowed for `'a`.
    string: *mut String<A>,
    /// Start of the drained byte range.
    start: usize,
    /// End of the drained byte range.
    end: usize,
    /// The characters not yet yielded.
    iter: Chars<'a>,
}

// SAFETY: the drain is an exclusive borrow of the string (`&mut String`
// is Send when `A` is) plus a shared view of its bytes.
unsafe impl<A: ResizeInPlace + Send> Send for Drain<'_, A> {}
// SAFETY: `&Drain` only reads the bytes.
unsafe impl<A: ResizeInPlace + Sync> Sync for Drain<'_, A> {}

impl<A: ResizeInPlace> Drain<'_, A> {
    /// The characters not yet yielded.
    pub fn as_str(&self) -> &str {
        self.iter.as_str()
    }
}

impl<A: ResizeInPlace> Iterator for Drain<'_, A> {
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

impl<A: ResizeInPlace> DoubleEndedIterator for Drain<'_, A> {
    #[inline]
    fn next_back(&mut self) -> Option<char> {
        self.iter.next_back()
    }
}

impl<A: ResizeInPlace> FusedIterator for Drain<'_, A> {}

impl<A: ResizeInPlace> fmt::Debug for Drain<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Drain").field(&self.as_str()).finish()
    }
}

impl<A: ResizeInPlace> Drop for Drain<'_, A> {
    fn drop(&mut self) {
        // SAFETY: the drain holds the exclusive borrow of the string; the
        // character iterator is not used again. The range is on character
        // boundaries, so removing it keeps UTF-8.
        unsafe {
            (*self.string).vec.drain(self.start..self.end);
        }
    }
}

#[cfg(feature = "serde")]
mod serde_impls {
    use super::*;
    use serde::de::{Deserialize, Deserializer, Visitor};
    use serde::ser::{Serialize, Serializer};

    impl<A: ResizeInPlace> Serialize for String<A> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(self.as_str())
        }
    }

    /// Reads a string.
    struct StringVisitor<A>(core::marker::PhantomData<A>);

    impl<A: ResizeInPlace + Default> Visitor<'_> for StringVisitor<A> {
        type Value = String<A>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            let mut s = String::new_in(A::default());
            s.try_push_str(v).map_err(E::custom)?;
            Ok(s)
        }

        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
            let v = core::str::from_utf8(v)
                .map_err(|_| E::invalid_value(serde::de::Unexpected::Bytes(v), &self))?;
            self.visit_str(v)
        }
    }

    impl<'de, A: ResizeInPlace + Default> Deserialize<'de> for String<A> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_string(StringVisitor(core::marker::PhantomData))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_ops() {
        let mut s = String::new();
        for c in "héllo wörld".chars() {
            s.push(c);
        }
        assert_eq!(s, "héllo wörld");
        s.retain(|c| c != 'l');
        assert_eq!(s, "héo wörd");
        assert_eq!(s.remove(1), 'é');
        s.insert_str(1, "ÉÉ");
        assert_eq!(s, "hÉÉo wörd");
        let d: std::string::String = s.drain(1..5).collect();
        assert_eq!(d, "ÉÉ");
        assert_eq!(s.pop(), Some('d'));
        assert_eq!(s.as_str(), "ho wör");
    }
}
