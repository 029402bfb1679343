//! The raw buffer under [`Vec`](crate::vec::Vec), [`String`](crate::string::String)
//! and [`AlignedVec`](crate::aligned::AlignedVec): a block of bytes with an
//! alignment, grown by the protocol of
//! [`ResizeInPlace::grow_live`].
//!
//! It knows nothing of the element type (the typed wrappers own `len`,
//! element drops and the element size), so one copy of the growth code
//! serves every `T`.
//!
//! ```text
//!  ptr (aligned to `align`)
//!  |<------------------ cap_bytes (the block's usable size) ------------------>|
//!  [ live bytes (the wrapper's len * size) | spare capacity (uninitialised)    ]
//! ```
//!
//! Growth never copies the spare part: the wrapper says how many bytes are
//! live and only those are copied, and only when neither growing in place
//! nor a copy-free move (page remap) worked.

use core::ptr::{self, NonNull};

use mallocv2::alloc::Layout;
use mallocv2::{Error, ResizeInPlace};

use crate::TryReserveError;

/// Whether a failed growth returns an error or ends the program, the way
/// hashbrown's `Fallibility` lets one growth path serve both `try_reserve`
/// and `reserve`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fallibility {
    /// Return the error (`try_*` methods).
    Fallible,
    /// Panic on capacity overflow, call
    /// [`handle_alloc_error`](std::alloc::handle_alloc_error) on allocation
    /// failure (the panicking forms, like std).
    Infallible,
}

impl Fallibility {
    /// Turns an error into the outcome this fallibility asks for.
    #[cold]
    #[inline(never)]
    pub(crate) fn fail(self, e: TryReserveError) -> TryReserveError {
        match self {
            Fallibility::Fallible => e,
            Fallibility::Infallible => infallible(e),
        }
    }
}

/// The panicking end of every infallible growth path.
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn infallible(e: TryReserveError) -> ! {
    match e {
        TryReserveError::AllocError { layout } => std::alloc::handle_alloc_error(layout),
        e => panic!("capacity overflow: {e}"),
    }
}

/// Unwraps a `try_*` result in a panicking form.
#[inline]
#[track_caller]
pub(crate) fn unwrap_reserve<T>(r: Result<T, TryReserveError>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => infallible(e),
    }
}

/// The smallest non-zero capacity, in elements, an amortized growth picks
/// (std's rule: 8 for bytes, 4 for elements up to 1 KiB, else 1).
#[inline]
const fn min_non_zero_cap(elem_size: usize) -> usize {
    if elem_size == 1 {
        8
    } else if elem_size <= 1024 {
        4
    } else {
        1
    }
}

/// A growable block of bytes. See the module docs.
pub(crate) struct RawBuf<A: ResizeInPlace> {
    /// The block, or a dangling pointer equal to `align` when `cap_bytes`
    /// is 0. Invariant: `ptr as usize % align == 0`.
    ptr: NonNull<u8>,
    /// Usable bytes of the block (0 = no block). Invariant: the block was
    /// requested with a size `<= cap_bytes` and `cap_bytes` is at most its
    /// usable size, so `Layout(cap_bytes, align)` frees it;
    /// `cap_bytes <= isize::MAX`.
    cap_bytes: usize,
    /// Alignment of the block, a power of two.
    align: usize,
    /// The allocator that owns the block.
    alloc: A,
}

impl<A: ResizeInPlace> RawBuf<A> {
    /// An empty buffer that allocates nothing.
    #[inline]
    pub(crate) const fn new_in(alloc: A, align: usize) -> Self {
        assert!(align.is_power_of_two(), "alignment must be a power of two");
        RawBuf {
            ptr: Self::dangling(align),
            cap_bytes: 0,
            align,
            alloc,
        }
    }

    /// A dangling pointer aligned to `align`, like `NonNull::dangling`.
    #[inline]
    const fn dangling(align: usize) -> NonNull<u8> {
        let ptr = ptr::without_provenance_mut::<u8>(align);
        // SAFETY: `align` is a power of two (checked by every caller's
        // invariant), so never zero.
        unsafe { NonNull::new_unchecked(ptr) }
    }

    /// The block's address (dangling and aligned when there is no block).
    #[inline]
    pub(crate) fn ptr(&self) -> NonNull<u8> {
        self.ptr
    }

    /// Usable bytes.
    #[inline]
    pub(crate) fn cap_bytes(&self) -> usize {
        self.cap_bytes
    }

    /// The block's alignment.
    #[inline]
    pub(crate) fn align(&self) -> usize {
        self.align
    }

    /// The allocator.
    #[inline]
    pub(crate) fn allocator(&self) -> &A {
        &self.alloc
    }

    /// The layout the block is freed and resized with.
    #[inline]
    fn current_layout(&self) -> Option<Layout> {
        if self.cap_bytes == 0 {
            return None;
        }
        // SAFETY: the invariant on `cap_bytes` and `align`: the pair formed a
        // valid layout (size <= isize::MAX rounded to a power-of-two align).
        Some(unsafe { Layout::from_size_align_unchecked(self.cap_bytes, self.align) })
    }

    /// Makes room for `len + additional` elements of `elem_size` bytes of
    /// which the first `len` are live. With `amortized`, the capacity at
    /// least doubles (and is at least 4 or 8 elements), so pushes cost
    /// amortized O(1). `elem_size` must not be 0 (ZSTs never allocate).
    ///
    /// The fast check (enough spare room) is the caller's; this is the
    /// growth path.
    #[cold]
    #[inline(never)]
    pub(crate) fn grow(
        &mut self,
        len: usize,
        additional: usize,
        elem_size: usize,
        amortized: bool,
        fallibility: Fallibility,
    ) -> Result<(), TryReserveError> {
        debug_assert!(elem_size != 0, "zero-sized elements never allocate");
        let cap = self.cap_bytes / elem_size;
        debug_assert!(len <= cap, "len {len} > capacity {cap}");
        let Some(required) = len.checked_add(additional) else {
            return Err(fallibility.fail(TryReserveError::CapacityOverflow));
        };
        if required <= cap {
            return Ok(());
        }
        // The largest capacity whose layout is valid at this alignment.
        let max_cap = (isize::MAX as usize - (self.align - 1)) / elem_size;
        if required > max_cap {
            return Err(fallibility.fail(TryReserveError::CapacityOverflow));
        }
        let new_cap = if amortized {
            cap.saturating_mul(2)
                .max(required)
                .max(min_non_zero_cap(elem_size))
                .min(max_cap)
        } else {
            required
        };
        // Cannot overflow: new_cap <= max_cap.
        self.grow_to(new_cap * elem_size, len * elem_size, fallibility)
    }

    /// Grows the block to at least `new_bytes` (> `cap_bytes`), keeping the
    /// first `live_bytes`: in place, else a copy-free move, else allocate,
    /// copy `live_bytes`, free. On error nothing changed.
    fn grow_to(
        &mut self,
        new_bytes: usize,
        live_bytes: usize,
        fallibility: Fallibility,
    ) -> Result<(), TryReserveError> {
        debug_assert!(
            new_bytes > self.cap_bytes && live_bytes <= self.cap_bytes,
            "grow_to({new_bytes}) from {} bytes with {live_bytes} live",
            self.cap_bytes
        );
        let Ok(new_layout) = Layout::from_size_align(new_bytes, self.align) else {
            return Err(fallibility.fail(TryReserveError::CapacityOverflow));
        };
        let block = match self.current_layout() {
            None => self
                .alloc
                .allocate(new_layout)
                .map_err(|_| Error::OutOfMemory { layout: new_layout }),
            // SAFETY: (1) `self.ptr` is a live block of `self.alloc` fitting
            // `old` (field invariants); (2) `new_bytes > cap_bytes >=
            // live_bytes`; (3) on success we replace `self.ptr` and never use
            // the old pointer again.
            Some(old) => unsafe { self.alloc.grow_live(self.ptr, old, new_layout, live_bytes) },
        };
        match block {
            Ok(block) => {
                self.set_block(block, new_bytes);
                Ok(())
            }
            Err(e) => Err(fallibility.fail(map_error(e, new_layout))),
        }
    }

    /// Records a block handed back by the allocator.
    #[inline]
    fn set_block(&mut self, block: NonNull<[u8]>, requested: usize) {
        let usable = block.len().min(isize::MAX as usize - (self.align - 1));
        debug_assert!(
            usable >= requested,
            "usable size {usable} below the {requested} bytes requested"
        );
        self.ptr = block.cast();
        debug_assert!(
            self.ptr.as_ptr() as usize % self.align == 0,
            "block {:p} not aligned to {}",
            self.ptr,
            self.align
        );
        self.cap_bytes = usable;
    }

    /// Shrinks the block to about `new_bytes` (>= `live_bytes`), keeping the
    /// first `live_bytes`: in place when the allocator can, else (when that
    /// gives memory back) allocate, copy `live_bytes`, free. On allocation
    /// failure the block stays as it is (shrinking is a request, not a
    /// promise). `new_bytes == 0` frees the block.
    pub(crate) fn shrink(&mut self, live_bytes: usize, new_bytes: usize) {
        debug_assert!(
            live_bytes <= new_bytes,
            "shrink to {new_bytes} bytes below the {live_bytes} live"
        );
        let Some(old) = self.current_layout() else {
            return;
        };
        if new_bytes >= self.cap_bytes {
            return;
        }
        if new_bytes == 0 {
            // SAFETY: the block is live and fits `old`; it is forgotten
            // right after.
            unsafe { self.alloc.deallocate(self.ptr, old) };
            self.ptr = Self::dangling(self.align);
            self.cap_bytes = 0;
            return;
        }
        // SAFETY: the block is live and fits `old`; `new_bytes < old.size()`.
        if let Ok(usable) = unsafe { self.alloc.try_shrink_in_place(self.ptr, old, new_bytes) } {
            if usable < self.cap_bytes {
                self.cap_bytes = usable.max(new_bytes);
                return;
            }
        }
        let Ok(new_layout) = Layout::from_size_align(new_bytes, self.align) else {
            return;
        };
        let Ok(block) = self.alloc.allocate(new_layout) else {
            return;
        };
        if block.len() >= self.cap_bytes {
            // No memory would be given back.
            // SAFETY: the block was just allocated with `new_layout`.
            unsafe { self.alloc.deallocate(block.cast(), new_layout) };
            return;
        }
        // SAFETY: two distinct live blocks; `live_bytes <= new_bytes` fit
        // both; the old block is freed after the copy with the layout it
        // fits and not used again.
        unsafe {
            ptr::copy_nonoverlapping(self.ptr.as_ptr(), block.cast::<u8>().as_ptr(), live_bytes);
            self.alloc.deallocate(self.ptr, old);
        }
        self.alloc.record_copy(live_bytes);
        self.set_block(block, new_bytes);
    }
}

/// The collection error for a core error on the way to `layout`.
fn map_error(e: Error, layout: Layout) -> TryReserveError {
    match e {
        Error::CapacityOverflow => TryReserveError::CapacityOverflow,
        Error::OutOfMemory { layout } => TryReserveError::AllocError { layout },
        _ => TryReserveError::AllocError { layout },
    }
}

impl<A: ResizeInPlace> Drop for RawBuf<A> {
    fn drop(&mut self) {
        if let Some(layout) = self.current_layout() {
            // SAFETY: the block is live and fits `layout` (field invariants);
            // it is not used afterwards.
            unsafe { self.alloc.deallocate(self.ptr, layout) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mallocv2::Heap;

    #[test]
    fn grows_and_keeps_live_bytes() {
        let mut b = RawBuf::new_in(Heap, 64);
        b.grow(0, 3, 8, true, Fallibility::Fallible).unwrap();
        assert!(b.cap_bytes() >= 32);
        assert_eq!(b.ptr().as_ptr() as usize % 64, 0);
        // SAFETY: the block has at least 32 bytes.
        unsafe { b.ptr().as_ptr().write_bytes(7, 32) };
        b.grow(4, 1000, 8, false, Fallibility::Fallible).unwrap();
        assert!(b.cap_bytes() >= 8 * 1004);
        assert_eq!(b.ptr().as_ptr() as usize % 64, 0);
        // SAFETY: the first 32 bytes were kept.
        let s = unsafe { core::slice::from_raw_parts(b.ptr().as_ptr(), 32) };
        assert!(s.iter().all(|&x| x == 7));
        b.shrink(32, 32);
        assert!(b.cap_bytes() >= 32);
        // SAFETY: as above.
        let s = unsafe { core::slice::from_raw_parts(b.ptr().as_ptr(), 32) };
        assert!(s.iter().all(|&x| x == 7));
        b.shrink(0, 0);
        assert_eq!(b.cap_bytes(), 0);
    }

    #[test]
    fn overflow_is_an_error() {
        let mut b = RawBuf::new_in(Heap, 8);
        assert_eq!(
            b.grow(0, usize::MAX, 8, false, Fallibility::Fallible),
            Err(TryReserveError::CapacityOverflow)
        );
        assert_eq!(
            b.grow(0, isize::MAX as usize - 6, 1, true, Fallibility::Fallible),
            Err(TryReserveError::CapacityOverflow)
        );
        assert_eq!(b.cap_bytes(), 0);
    }
}
