//! The primitives as traits: capability (ii) in-place-or-fail resizing and
//! the copy-free move ([`ResizeInPlace`]), capability (iii) batch
//! allocation ([`BatchAlloc`]), and the proposal's flags and per-item batch
//! requests.

use core::mem::MaybeUninit;
use core::ops::{BitOr, BitOrAssign};
use core::ptr::{self, NonNull};

use crate::alloc::{Allocator, Global, Layout, System};
use crate::error::Error;

/// N1527's `M2_*` flags for [`Heap::allocate_with`](crate::Heap::allocate_with),
/// [`Heap::resize`](crate::Heap::resize) and [`BatchItem`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flags(u32);

impl Flags {
    /// No flags.
    pub const NONE: Flags = Flags(0);
    /// `M2_ZERO_MEMORY`: new bytes (all of a new block, or the bytes past
    /// the old size of a resized one) read as zero.
    pub const ZERO_MEMORY: Flags = Flags(1);
    /// `M2_PREVENT_MOVE`: resize in place or fail with [`Error::NoSpace`],
    /// leaving the block untouched.
    pub const PREVENT_MOVE: Flags = Flags(1 << 1);
    /// `M2_CONSTANT_TIME`: skip housekeeping. Accepted; the `Heap` does no
    /// unbounded housekeeping on any path, so it changes nothing.
    pub const CONSTANT_TIME: Flags = Flags(1 << 2);
    /// `M2_RESERVE_IS_MULT`: the reserve hint is a multiple of the size
    /// rather than a byte count.
    pub const RESERVE_IS_MULT: Flags = Flags(1 << 3);

    /// Whether every flag in `other` is set in `self`.
    #[inline]
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The raw bits (N1527 numbering is not implied).
    #[inline]
    pub const fn bits(self) -> u32 {
        self.0
    }
}

impl BitOr for Flags {
    type Output = Flags;
    #[inline]
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl BitOrAssign for Flags {
    #[inline]
    fn bitor_assign(&mut self, rhs: Flags) {
        self.0 |= rhs.0;
    }
}

/// What a successful allocation or resize hands back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The block; its length is the usable size (>= the size asked for).
    pub block: NonNull<[u8]>,
    /// Bytes of address space set aside for the block to grow into without
    /// moving (>= the usable size; equal when nothing extra was reserved).
    pub reserved: usize,
}

impl Grant {
    /// The block's address.
    #[inline]
    pub fn ptr(&self) -> NonNull<u8> {
        self.block.cast()
    }

    /// The usable size.
    #[inline]
    pub fn usable(&self) -> usize {
        self.block.len()
    }
}

/// Capability (ii): resize a block without moving it, or refuse and leave it
/// untouched; plus the copy-free move and size feedback.
///
/// Collections grow with [`grow_live`](ResizeInPlace::grow_live), the
/// protocol every collection here uses: (1) in place, (2) move without
/// copying, (3) allocate, copy only the `live` bytes, free.
///
/// # Safety
/// Implementors guarantee: a successful `try_*_in_place` keeps the address
/// and contents, and the block may then be used and freed with any layout
/// whose size lies between the requested size and the returned usable size;
/// a refusal changes nothing; [`usable_size`](Self::usable_size) is such a
/// size; a successful [`try_remap`](Self::try_remap) preserves the first
/// `old_layout.size()` bytes without the caller copying them.
pub unsafe trait ResizeInPlace: Allocator {
    /// Grows the block to at least `new_size` bytes without moving it.
    /// Returns the usable size. The alignment stays `layout.align()`.
    ///
    /// # Errors
    /// [`Error::NoSpace`] when it cannot grow where it is (the block and
    /// its bytes are untouched), or an OS error from committing pages.
    ///
    /// # Safety
    /// `ptr` is a block of this allocator that fits `layout`;
    /// `new_size >= layout.size()`.
    unsafe fn try_grow_in_place(
        &self,
        ptr: NonNull<u8>,
        layout: Layout,
        new_size: usize,
    ) -> Result<usize, Error>;

    /// Shrinks the block to `new_size` bytes without moving it. Returns the
    /// usable size.
    ///
    /// # Errors
    /// [`Error::NoSpace`] when it cannot stay where it is at that size.
    ///
    /// # Safety
    /// `ptr` is a block of this allocator that fits `layout`;
    /// `new_size <= layout.size()`.
    unsafe fn try_shrink_in_place(
        &self,
        ptr: NonNull<u8>,
        layout: Layout,
        new_size: usize,
    ) -> Result<usize, Error>;

    /// Bytes the block really has (>= `layout.size()`): N1527's
    /// `malloc_usable_size`. Any size up to it may be used and passed back.
    ///
    /// # Safety
    /// `ptr` is a block of this allocator that fits `layout`.
    unsafe fn usable_size(&self, ptr: NonNull<u8>, layout: Layout) -> usize;

    /// The middle step of the protocol on its own: move the block to a
    /// place with room for `new_size` bytes without copying (pages are
    /// remapped), or refuse. Does not try in place first. On success the old
    /// pointer is invalid and the first `layout.size()` bytes are at the new
    /// one. The default refuses.
    ///
    /// # Errors
    /// [`Error::NoSpace`] when no copy-free move is possible (the block is
    /// untouched).
    ///
    /// # Safety
    /// As for [`try_grow_in_place`](Self::try_grow_in_place).
    unsafe fn try_remap(
        &self,
        ptr: NonNull<u8>,
        layout: Layout,
        new_size: usize,
    ) -> Result<NonNull<[u8]>, Error> {
        let _ = (ptr, layout, new_size);
        Err(Error::NoSpace)
    }

    /// Called by [`grow_live`](Self::grow_live) after it copied `bytes`
    /// bytes; allocators with telemetry count it. The default does nothing.
    fn record_copy(&self, bytes: usize) {
        let _ = bytes;
    }

    /// Grows a block by the protocol: in place, else a copy-free move, else
    /// allocate `new_layout`, copy only the first `live` bytes, and free the
    /// old block. Never reads past `live`.
    ///
    /// # Errors
    /// [`Error::OutOfMemory`] when every step fails; the old block is then
    /// untouched and still owned by the caller.
    ///
    /// # Safety
    /// `ptr` is a block of this allocator that fits `old_layout`;
    /// `new_layout.size() >= old_layout.size() >= live`. On success the old
    /// pointer must not be used any more (it may equal the new one).
    unsafe fn grow_live(
        &self,
        ptr: NonNull<u8>,
        old_layout: Layout,
        new_layout: Layout,
        live: usize,
    ) -> Result<NonNull<[u8]>, Error> {
        debug_assert!(new_layout.size() >= old_layout.size() && old_layout.size() >= live);
        if new_layout.align() == old_layout.align() && old_layout.size() != 0 {
            // SAFETY: forwarded from the caller.
            if let Ok(n) = unsafe { self.try_grow_in_place(ptr, old_layout, new_layout.size()) } {
                return Ok(NonNull::slice_from_raw_parts(ptr, n));
            }
            // SAFETY: forwarded from the caller.
            if let Ok(b) = unsafe { self.try_remap(ptr, old_layout, new_layout.size()) } {
                return Ok(b);
            }
        }
        let new = self
            .allocate(new_layout)
            .map_err(|_| Error::OutOfMemory { layout: new_layout })?;
        // SAFETY: both blocks are live and distinct; `live` bytes fit both.
        unsafe {
            ptr::copy_nonoverlapping(ptr.as_ptr(), new.cast::<u8>().as_ptr(), live);
            if old_layout.size() != 0 {
                self.deallocate(ptr, old_layout);
            }
        }
        self.record_copy(live);
        Ok(new)
    }
}

/// Refusing implementation shared by the allocators that cannot resize in
/// place.
macro_rules! refusing_resize {
    ($t:ty, $doc:literal) => {
        #[doc = $doc]
        // SAFETY: only trivial resizes succeed, which keep the address; the
        // usable size reported is exactly the layout's size.
        unsafe impl ResizeInPlace for $t {
            unsafe fn try_grow_in_place(
                &self,
                _ptr: NonNull<u8>,
                layout: Layout,
                new_size: usize,
            ) -> Result<usize, Error> {
                if new_size <= layout.size() {
                    Ok(layout.size())
                } else {
                    Err(Error::NoSpace)
                }
            }

            unsafe fn try_shrink_in_place(
                &self,
                _ptr: NonNull<u8>,
                layout: Layout,
                new_size: usize,
            ) -> Result<usize, Error> {
                if new_size == layout.size() {
                    Ok(new_size)
                } else {
                    Err(Error::NoSpace)
                }
            }

            unsafe fn usable_size(&self, _ptr: NonNull<u8>, layout: Layout) -> usize {
                layout.size()
            }
        }
    };
}

refusing_resize!(
    Global,
    "`Global` cannot resize in place: it refuses honestly (only a resize to the \
     same size succeeds), so collections generic over `ResizeInPlace` still work."
);
refusing_resize!(
    System,
    "`System` cannot resize in place: it refuses honestly, like `Global`."
);

/// What a batch call handed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Batch {
    /// Blocks written to the front of the output (the rest failed).
    pub count: usize,
    /// The smallest usable size among them (>= the layout's size), as
    /// N1527's `batch_alloc1` reports through its `size` argument.
    pub usable_size: usize,
}

/// Capability (iii): many blocks of one layout in one call. Every block is
/// also an ordinary block: free it alone with `deallocate` or resize it like
/// any other.
///
/// # Safety
/// Implementors hand out blocks that are valid for `layout` and distinct,
/// and accept them back through `deallocate` as well as
/// [`deallocate_batch`](Self::deallocate_batch).
pub unsafe trait BatchAlloc: Allocator {
    /// Allocates up to `out.len()` blocks of `layout`, writing them to the
    /// front of `out`. Partial success is reported through
    /// [`Batch::count`]; no block is lost (`out[..count]` are all live).
    /// The default loops over `allocate`.
    fn allocate_batch(&self, layout: Layout, out: &mut [MaybeUninit<NonNull<u8>>]) -> Batch {
        let mut usable = usize::MAX;
        for (i, slot) in out.iter_mut().enumerate() {
            match self.allocate(layout) {
                Ok(b) => {
                    usable = usable.min(b.len());
                    slot.write(b.cast());
                }
                Err(_) => {
                    return Batch {
                        count: i,
                        usable_size: if i == 0 { 0 } else { usable },
                    }
                }
            }
        }
        Batch {
            count: out.len(),
            usable_size: if out.is_empty() { 0 } else { usable },
        }
    }

    /// Like [`allocate_batch`](Self::allocate_batch), appending `n` blocks
    /// to `v` (reserving room first). Returns the batch outcome; `v` grows
    /// by `count`.
    fn allocate_batch_into(&self, layout: Layout, n: usize, v: &mut Vec<NonNull<u8>>) -> Batch {
        v.reserve(n);
        let spare = &mut v.spare_capacity_mut()[..n];
        let b = self.allocate_batch(layout, spare);
        // SAFETY: the first `b.count` spare elements were initialised.
        unsafe { v.set_len(v.len() + b.count) };
        b
    }

    /// Frees many blocks of one layout. The default loops over
    /// `deallocate`.
    ///
    /// # Safety
    /// Every pointer is a live block of this allocator fitting `layout`,
    /// listed once, and is not used afterwards.
    unsafe fn deallocate_batch(&self, blocks: &[NonNull<u8>], layout: Layout) {
        for &p in blocks {
            // SAFETY: forwarded from the caller.
            unsafe { self.deallocate(p, layout) };
        }
    }
}

// SAFETY: the default methods only use `allocate`/`deallocate`.
unsafe impl BatchAlloc for Global {}
// SAFETY: as above.
unsafe impl BatchAlloc for System {}

/// An existing block: its address and a layout it fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// The block's address.
    pub ptr: NonNull<u8>,
    /// A layout the block fits (size between requested and usable).
    pub layout: Layout,
}

/// One item of a per-item batch request
/// ([`Heap::batch`](crate::Heap::batch)), mirroring N1527's `batch_alloc5`
/// item `{ptr, size, alignment, reserve, flags}`:
///
/// | `block` | `size` | action |
/// |---|---|---|
/// | `None` | 0 | nothing |
/// | `Some` | 0 | free the block |
/// | `None` | s | allocate `s` bytes at `align` |
/// | `Some` | s | resize to >= `s` bytes at >= `align` (in place only with `PREVENT_MOVE`) |
///
/// On success `block` holds the result (with its usable size as layout
/// size), `size` the usable size, `reserve` the reservation made, and
/// `result` is `Ok`. On failure `result` holds the error (`NoSpace` for a
/// refused `PREVENT_MOVE`, `OutOfMemory` …) and everything else is as it was:
/// the old block is neither freed nor changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchItem {
    /// The block to free or resize, or `None` to allocate.
    pub block: Option<Block>,
    /// Requested size (0 = free); usable size after success.
    pub size: usize,
    /// Requested alignment (a power of two; 0 or 1 = no requirement).
    pub align: usize,
    /// Reservation hint in bytes (or a multiple with `RESERVE_IS_MULT`);
    /// reservation made after success.
    pub reserve: usize,
    /// Flags for this item.
    pub flags: Flags,
    /// The outcome, written by the call.
    pub result: Result<(), Error>,
}

impl BatchItem {
    /// An item that allocates `size` bytes aligned to `align`.
    pub const fn alloc(size: usize, align: usize) -> Self {
        BatchItem {
            block: None,
            size,
            align,
            reserve: 0,
            flags: Flags::NONE,
            result: Ok(()),
        }
    }

    /// An item that resizes `block` to `size` bytes (same alignment).
    pub const fn resize(block: Block, size: usize) -> Self {
        BatchItem {
            block: Some(block),
            size,
            align: block.layout.align(),
            reserve: 0,
            flags: Flags::NONE,
            result: Ok(()),
        }
    }

    /// An item that frees `block`.
    pub const fn free(block: Block) -> Self {
        BatchItem {
            block: Some(block),
            size: 0,
            align: block.layout.align(),
            reserve: 0,
            flags: Flags::NONE,
            result: Ok(()),
        }
    }

    /// The same item with `flags`.
    pub const fn with_flags(mut self, flags: Flags) -> Self {
        self.flags = flags;
        self
    }

    /// The same item with a reservation hint.
    pub const fn with_reserve(mut self, reserve: usize) -> Self {
        self.reserve = reserve;
        self
    }
}
