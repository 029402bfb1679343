//! The `Heap` allocator: routes each block by size, alignment and address.
//!
//! | block | where | in place | copy-free move |
//! |---|---|---|---|
//! | small: size < [`LARGE_THRESHOLD`], align <= 4096 | C `malloc` family | within the usable size | — (`realloc` when moving) |
//! | batch: from [`BatchAlloc`] calls, slot <= 2 KiB | slabs in one reserved region (range check) | within the slot | — |
//! | large: size >= [`LARGE_THRESHOLD`] or align > 4096 | a page span in its own reservation | commit into the reserved tail, or extend the reservation | `mremap` into a fresh reservation |
//!
//! A block is classified by its address first (batch region), then by its
//! layout. Usable sizes reported for small blocks stay below
//! `LARGE_THRESHOLD`, so every layout a block fits classifies it the same way.
//!
//! Size feedback: `allocate` reports the requested size for small blocks
//! (asking the C library costs as much as the allocation itself); large and
//! batch blocks report their real usable size, and so do every resize,
//! [`ResizeInPlace::usable_size`] and [`Heap::allocate_with`].

mod slab;
mod span;

use core::mem::MaybeUninit;
use core::ptr::{self, NonNull};
use std::alloc::GlobalAlloc;

use crate::alloc::{AllocError, Allocator, Layout};
use crate::error::Error;
use crate::os;
use crate::resize::{Batch, BatchAlloc, BatchItem, Block, Flags, Grant, ResizeInPlace};
use crate::stats::{self, Ev, Stats};

pub use span::{CACHE_MAX_BYTES, DEFAULT_RESERVE_MULTIPLE, MAX_DEFAULT_TAIL};

/// Blocks of at least this many bytes are page spans with a reserved tail.
pub const LARGE_THRESHOLD: usize = 256 << 10;
/// Alignments above this are always page spans.
const SMALL_MAX_ALIGN: usize = 4096;

/// The allocator: zero-sized, `Copy`, `Send + Sync`; usable as
/// `#[global_allocator]` ([`GlobalAlloc`]) and as an
/// [`allocator_api2::alloc::Allocator`] (so hashbrown and any
/// allocator-aware code can use it), with the four N1527 primitives on top:
/// [`ResizeInPlace`], aligned [`Allocator::grow`]/[`Heap::resize`],
/// [`BatchAlloc`]/[`Heap::batch`], and the per-block reserve hint of
/// [`Heap::allocate_with`].
///
/// # Example
/// ```
/// use mallocv2::{alloc::{Allocator, Layout}, Heap, ResizeInPlace};
///
/// let layout = Layout::from_size_align(1 << 20, 64).unwrap();
/// let block = Heap.allocate(layout)?;
/// let ptr = block.cast::<u8>();
/// // A large block grows in place into its reserved tail: same address.
/// let usable = unsafe { Heap.try_grow_in_place(ptr, layout, 4 << 20) }.unwrap();
/// assert!(usable >= 4 << 20);
/// unsafe { Heap.deallocate(ptr, Layout::from_size_align(usable, 64).unwrap()) };
/// # Ok::<(), mallocv2::alloc::AllocError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Heap;

const _: () = assert!(core::mem::size_of::<Heap>() == 0);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Small,
    Slab,
    Span,
}

/// How far a resize may go.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum How {
    /// Never move.
    InPlace,
    /// In place, else without copying, else copy the first `live` bytes.
    Copy { live: usize },
}

#[inline]
fn is_span_layout(size: usize, align: usize) -> bool {
    size >= LARGE_THRESHOLD || align > SMALL_MAX_ALIGN
}

#[inline]
fn kind(ptr: NonNull<u8>, layout: Layout) -> Kind {
    if slab::contains(ptr.as_ptr()) {
        Kind::Slab
    } else if is_span_layout(layout.size(), layout.align()) {
        Kind::Span
    } else {
        Kind::Small
    }
}

#[inline]
fn dangling(align: usize) -> NonNull<u8> {
    // SAFETY: alignments are non-zero.
    unsafe { NonNull::new_unchecked(align as *mut u8) }
}

/// The usable size of a small block, kept below `LARGE_THRESHOLD`.
///
/// # Safety
/// `ptr` is a live small block of at least `size` bytes.
#[inline]
unsafe fn small_usable(ptr: NonNull<u8>, size: usize) -> usize {
    // SAFETY: forwarded from the caller.
    let u = unsafe { os::usable_size(ptr, size) };
    u.min(LARGE_THRESHOLD - 1).max(size)
}

#[inline]
fn check(layout: Layout) -> Result<(), Error> {
    if layout.align() > crate::MAX_ALIGN {
        return Err(Error::BadAlignment {
            align: layout.align(),
        });
    }
    Ok(())
}

fn reserve_bytes(size: usize, reserve: usize, flags: Flags) -> usize {
    if flags.contains(Flags::RESERVE_IS_MULT) {
        size.saturating_mul(reserve)
    } else {
        reserve
    }
}

impl Heap {
    /// The allocator (it has no state of its own: all `Heap`s are one).
    pub const fn new() -> Self {
        Heap
    }

    /// Process-wide telemetry: in-place resizes, copy-free remaps, copying
    /// relocations and bytes copied, batch calls, reserved and committed
    /// bytes.
    pub fn stats() -> Stats {
        stats::global()
    }

    /// The same counters for the calling thread only (levels are still
    /// process-wide); handy to measure one piece of work while other
    /// threads run. (The 256th and later threads of a process share one
    /// set of counters.)
    pub fn thread_stats() -> Stats {
        stats::thread()
    }

    /// Returns cached memory to the OS: unmaps every cached free span and
    /// drops the pages of empty batch slabs (up to 256 MiB of them are kept
    /// for reuse otherwise).
    pub fn trim() {
        span::trim();
        slab::trim();
    }

    #[inline]
    fn alloc_impl(
        layout: Layout,
        reserve: usize,
        zeroed: bool,
        want_usable: bool,
    ) -> Result<Grant, Error> {
        check(layout)?;
        let (size, align) = (layout.size(), layout.align());
        if size == 0 {
            return Ok(Grant {
                block: NonNull::slice_from_raw_parts(dangling(align), 0),
                reserved: 0,
            });
        }
        if is_span_layout(size, align) {
            return Self::alloc_span(size, align, reserve, zeroed, layout);
        }
        let p = if align <= os::MALLOC_ALIGN {
            os::malloc(size, zeroed)
        } else {
            os::malloc_aligned(size, align.max(core::mem::size_of::<usize>()), zeroed)
        };
        let p = NonNull::new(p).ok_or(Error::OutOfMemory { layout })?;
        let usable = if want_usable {
            // SAFETY: fresh small block of `size` bytes.
            unsafe { small_usable(p, size) }
        } else {
            size
        };
        if zeroed {
            // The C library zeroes the requested size; the slack up to the
            // usable size is handed out too, so it must read as zero as well.
            // SAFETY: the block has `usable` writable bytes.
            unsafe { zero_range(p, size, usable) };
        }
        Ok(Grant {
            block: NonNull::slice_from_raw_parts(p, usable),
            reserved: usable,
        })
    }

    #[cold]
    #[inline(never)]
    fn alloc_span(
        size: usize,
        align: usize,
        reserve: usize,
        zeroed: bool,
        layout: Layout,
    ) -> Result<Grant, Error> {
        let s = span::allocate(size, align, reserve, zeroed).map_err(|e| match e {
            Error::Os(_) => Error::OutOfMemory { layout },
            e => e,
        })?;
        // The block handed out is the request extended to the end of its
        // last page (less than a page more), even when a recycled span has
        // more committed: some allocator users size their structure by the
        // returned length (hashbrown gives its table as many buckets as fit,
        // and its table clone then assumes the source's bucket count), and a
        // span reused at up to 16 times the request must not turn into a
        // table 16 times larger. The extra pages stay committed in the span;
        // `usable_size` and in-place growth use them. (The block starts
        // `color` bytes into its first page, see `span`.)
        let page = os::page_size();
        let color = s.ptr.as_ptr() as usize & (page - 1);
        let len = size
            .checked_add(color)
            .and_then(|n| crate::reservation::round_up(n, page))
            .map_or(s.committed, |c| (c - color).min(s.committed));
        debug_assert!(
            size <= len && len <= s.committed,
            "span {:p}: size {size}, handed out {len}, committed {}",
            s.ptr,
            s.committed
        );
        Ok(Grant {
            block: NonNull::slice_from_raw_parts(s.ptr, len),
            reserved: s.reserved,
        })
    }

    /// # Safety
    /// `ptr` is a live block of this heap fitting `layout`.
    #[inline]
    unsafe fn dealloc_impl(ptr: NonNull<u8>, layout: Layout) {
        if layout.size() == 0 {
            return;
        }
        // SAFETY: (all arms) forwarded from the caller; `kind` names the
        // part of the heap that owns the block.
        unsafe {
            match kind(ptr, layout) {
                Kind::Small => os::free(ptr, layout.size(), layout.align()),
                Kind::Slab => slab::free(ptr),
                Kind::Span => span::free(ptr),
            }
        }
    }

    /// The usable size and reservation of a live block.
    ///
    /// # Safety
    /// `ptr` is a live block of this heap fitting `layout`, size > 0.
    unsafe fn sizes(ptr: NonNull<u8>, layout: Layout) -> (usize, usize) {
        // SAFETY: forwarded from the caller.
        unsafe {
            match kind(ptr, layout) {
                Kind::Small => {
                    let u = small_usable(ptr, layout.size());
                    (u, u)
                }
                Kind::Slab => {
                    let u = slab::usable(ptr);
                    (u, u)
                }
                Kind::Span => {
                    let s = span::get(ptr);
                    (s.committed, s.reserved)
                }
            }
        }
    }

    /// The one resize routine behind `grow`, `shrink`, `realloc`, the
    /// in-place and copy-free primitives and batch items.
    ///
    /// # Safety
    /// `ptr` is a live block fitting `old`; with `How::Copy { live }`,
    /// `live <= min(old.size(), new.size())`. On success the old pointer is
    /// invalid unless it equals the new one.
    unsafe fn resize_impl(
        ptr: NonNull<u8>,
        old: Layout,
        new: Layout,
        how: How,
        zeroed: bool,
        reserve: usize,
    ) -> Result<Grant, Error> {
        check(new)?;
        if old.size() == 0 {
            if how != (How::Copy { live: 0 }) && new.size() != 0 {
                return Err(Error::NoSpace);
            }
            return Self::alloc_impl(new, reserve, zeroed, true);
        }
        let grows = new.size() > old.size();
        let aligned = ptr.as_ptr() as usize % new.align() == 0;
        let k = kind(ptr, old);
        if new.size() == 0 {
            if how == How::InPlace {
                return Err(Error::NoSpace);
            }
            // SAFETY: forwarded from the caller.
            unsafe { Self::dealloc_impl(ptr, old) };
            return Self::alloc_impl(new, 0, false, true);
        }
        // Small blocks at malloc's own alignment go straight to `realloc`,
        // which extends in place when it can and otherwise copies the old
        // size: fine while at least half of it is live.
        if let How::Copy { live } = how {
            if k == Kind::Small
                && !is_span_layout(new.size(), new.align())
                && new.align() <= os::MALLOC_ALIGN
                && old.align() <= os::MALLOC_ALIGN
                && live.saturating_mul(2) >= old.size()
            {
                // SAFETY: a live small malloc block (caller).
                return unsafe { Self::small_realloc(ptr, old, new, zeroed) };
            }
        }
        // Step 1: in place.
        if aligned {
            // SAFETY: forwarded from the caller.
            if let Some(g) = unsafe { Self::in_place(ptr, old, new, k, zeroed) } {
                let ev = if grows { Ev::Grow } else { Ev::Shrink };
                if new.size() != old.size() {
                    stats::add(ev, 1);
                }
                return Ok(g);
            }
        }
        if how == How::InPlace {
            return Err(Error::NoSpace);
        }
        // Step 2: move without copying.
        if k == Kind::Span && is_span_layout(new.size(), new.align()) {
            // SAFETY: a live span block (caller).
            if let Ok(s) = unsafe { span::remap(ptr, new.size(), new.align(), reserve) } {
                if zeroed && grows {
                    // Moved pages may hold old bytes past the old size;
                    // zeroing the freshly committed rest is harmless.
                    // SAFETY: the new block has `s.committed >= new.size()`
                    // committed bytes.
                    unsafe { zero_range(s.ptr, old.size(), new.size()) };
                }
                return Ok(Grant {
                    block: NonNull::slice_from_raw_parts(s.ptr, s.committed),
                    reserved: s.reserved,
                });
            }
        }
        let How::Copy { live } = how else {
            return Err(Error::NoSpace);
        };
        debug_assert!(live <= old.size().min(new.size()));
        // Step 3: allocate, copy the live bytes, free.
        let g = Self::alloc_impl(new, reserve, zeroed, true)?;
        // SAFETY: distinct live blocks; `live` bytes fit both. The old block
        // is freed only after the copy.
        unsafe {
            ptr::copy_nonoverlapping(ptr.as_ptr(), g.ptr().as_ptr(), live);
            Self::dealloc_impl(ptr, old);
        }
        stats::copied(live);
        Ok(g)
    }

    /// `realloc` for small blocks. Reports the requested size (no usable-size
    /// query: this is the hot path of small vectors) and counts only moves.
    ///
    /// # Safety
    /// `ptr` is a live small `malloc` block fitting `old`; both alignments are
    /// at most `MALLOC_ALIGN`; `new` is small and non-zero.
    #[inline]
    unsafe fn small_realloc(
        ptr: NonNull<u8>,
        old: Layout,
        new: Layout,
        zeroed: bool,
    ) -> Result<Grant, Error> {
        // SAFETY: forwarded from the caller; on failure the block is
        // unchanged (realloc(3)).
        let p = unsafe { os::realloc(ptr, old.size(), new.size()) };
        let p = NonNull::new(p).ok_or(Error::OutOfMemory { layout: new })?;
        if p != ptr {
            stats::copied(old.size().min(new.size()));
        }
        if zeroed && new.size() > old.size() {
            // SAFETY: the new block has `new.size()` bytes.
            unsafe { zero_range(p, old.size(), new.size()) };
        }
        Ok(Grant {
            block: NonNull::slice_from_raw_parts(p, new.size()),
            reserved: new.size(),
        })
    }

    /// Step 1 of a resize. `None` = not possible in place (nothing changed).
    ///
    /// # Safety
    /// As for `resize_impl`; `ptr` is aligned to `new.align()`; both sizes
    /// are non-zero.
    unsafe fn in_place(
        ptr: NonNull<u8>,
        old: Layout,
        new: Layout,
        k: Kind,
        zeroed: bool,
    ) -> Option<Grant> {
        let grows = new.size() > old.size();
        match k {
            Kind::Slab => {
                // SAFETY: live batch block (caller).
                let u = unsafe { slab::usable(ptr) };
                if new.size() > u {
                    return None;
                }
                if zeroed && grows {
                    // SAFETY: the slot has `u >= new.size()` bytes.
                    unsafe { zero_range(ptr, old.size(), new.size()) };
                }
                Some(Grant {
                    block: NonNull::slice_from_raw_parts(ptr, u),
                    reserved: u,
                })
            }
            Kind::Small => {
                if is_span_layout(new.size(), new.align()) {
                    return None;
                }
                // SAFETY: live small block (caller).
                let u = unsafe { small_usable(ptr, old.size()) };
                if new.size() > u {
                    return None;
                }
                if zeroed && grows {
                    // SAFETY: the block has `u >= new.size()` bytes.
                    unsafe { zero_range(ptr, old.size(), new.size()) };
                }
                Some(Grant {
                    block: NonNull::slice_from_raw_parts(ptr, u),
                    reserved: u,
                })
            }
            Kind::Span => {
                // A span must stay a span: every layout it fits afterwards
                // has to classify as one.
                if !is_span_layout(new.size(), new.align()) {
                    return None;
                }
                // SAFETY: live span block (caller).
                let usable = unsafe {
                    if grows {
                        span::grow_in_place(ptr, new.size(), zeroed.then_some(old.size()))
                    } else {
                        span::shrink_in_place(ptr, new.size())
                    }
                }
                .ok()?;
                // SAFETY: still a live span block.
                let s = unsafe { span::get(ptr) };
                Some(Grant {
                    block: NonNull::slice_from_raw_parts(ptr, usable),
                    reserved: s.reserved,
                })
            }
        }
    }

    /// Allocates with N1527's extras: a reservation hint (`reserve` bytes of
    /// address space to grow into without moving, or a multiple of the size
    /// with [`Flags::RESERVE_IS_MULT`]) and flags ([`Flags::ZERO_MEMORY`]).
    /// The grant reports the usable size and the reservation actually made.
    ///
    /// The reservation applies to page spans (blocks of at least
    /// [`LARGE_THRESHOLD`] bytes or alignment above 4096); smaller blocks
    /// report their usable size as reserved.
    ///
    /// ```
    /// use mallocv2::{alloc::Layout, Flags, Heap, ResizeInPlace};
    /// let layout = Layout::from_size_align(1 << 20, 4096).unwrap();
    /// let g = Heap.allocate_with(layout, 256 << 20, Flags::ZERO_MEMORY)?;
    /// assert!(g.reserved >= 256 << 20);
    /// // Grows to 256 MiB at the same address.
    /// let n = unsafe { Heap.try_grow_in_place(g.ptr(), layout, 256 << 20)? };
    /// assert!(n >= 256 << 20);
    /// unsafe { mallocv2::alloc::Allocator::deallocate(&Heap, g.ptr(), Layout::from_size_align(n, 4096).unwrap()) };
    /// # Ok::<(), mallocv2::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::OutOfMemory`], [`Error::BadAlignment`].
    pub fn allocate_with(
        &self,
        layout: Layout,
        reserve: usize,
        flags: Flags,
    ) -> Result<Grant, Error> {
        let reserve = reserve_bytes(layout.size(), reserve, flags);
        Self::alloc_impl(layout, reserve, flags.contains(Flags::ZERO_MEMORY), true)
    }

    /// N1527's `aligned_realloc` / `try_aligned_realloc`: resizes a block to
    /// `new_layout` (size and alignment may both change), keeping the
    /// alignment through every move. Follows the protocol: in place, then a
    /// copy-free move, then allocate + copy `min(old, new)` bytes + free.
    /// With [`Flags::PREVENT_MOVE`] only the first step is tried.
    ///
    /// # Errors
    /// [`Error::NoSpace`] when `PREVENT_MOVE` cannot be honoured;
    /// [`Error::OutOfMemory`]. The block is untouched on error.
    ///
    /// # Safety
    /// `ptr` is a live block of this heap fitting `old_layout`. After
    /// success only the returned block may be used.
    pub unsafe fn resize(
        &self,
        ptr: NonNull<u8>,
        old_layout: Layout,
        new_layout: Layout,
        reserve: usize,
        flags: Flags,
    ) -> Result<Grant, Error> {
        let how = if flags.contains(Flags::PREVENT_MOVE) {
            How::InPlace
        } else {
            How::Copy {
                live: old_layout.size().min(new_layout.size()),
            }
        };
        let reserve = reserve_bytes(new_layout.size(), reserve, flags);
        // SAFETY: forwarded from the caller.
        unsafe {
            Self::resize_impl(
                ptr,
                old_layout,
                new_layout,
                how,
                flags.contains(Flags::ZERO_MEMORY),
                reserve,
            )
        }
    }

    /// Bytes of address space reserved for the block (>= its usable size).
    ///
    /// # Safety
    /// `ptr` is a live block of this heap fitting `layout`.
    pub unsafe fn reserved_size(&self, ptr: NonNull<u8>, layout: Layout) -> usize {
        if layout.size() == 0 {
            return 0;
        }
        // SAFETY: forwarded from the caller.
        unsafe { Self::sizes(ptr, layout).1 }
    }

    /// N1527's `batch_alloc5`: carries out each item (allocate, resize or
    /// free, each with its own size, alignment, reserve and flags; see
    /// [`BatchItem`]) and returns how many succeeded. Failed items are left
    /// as they were with the error in `result`; successes are not rolled
    /// back.
    ///
    /// ```
    /// use mallocv2::{BatchItem, Flags, Heap};
    /// let mut items = [BatchItem::alloc(100, 8), BatchItem::alloc(1 << 20, 64)];
    /// assert_eq!(unsafe { Heap.batch(&mut items) }, 2);
    /// let big = items[1].block.unwrap();
    /// // Now grow the big one in place and free the small one, in one call.
    /// let mut items = [
    ///     BatchItem::free(items[0].block.unwrap()),
    ///     BatchItem::resize(big, 2 << 20).with_flags(Flags::PREVENT_MOVE),
    /// ];
    /// assert_eq!(unsafe { Heap.batch(&mut items) }, 2);
    /// assert_eq!(items[1].block.unwrap().ptr, big.ptr);
    /// # unsafe { Heap.batch(&mut [BatchItem::free(items[1].block.unwrap())]) };
    /// ```
    ///
    /// # Safety
    /// Every `block` given is a live block of this heap fitting its layout,
    /// and appears in one item only. After the call, only the blocks the
    /// items now hold may be used.
    pub unsafe fn batch(&self, items: &mut [BatchItem]) -> usize {
        stats::add(Ev::BatchCall, 1);
        let mut ok = 0;
        for it in items.iter_mut() {
            // SAFETY: forwarded from the caller.
            it.result = unsafe { Self::batch_item(it) };
            ok += usize::from(it.result.is_ok());
        }
        ok
    }

    /// # Safety
    /// As for [`Heap::batch`].
    unsafe fn batch_item(it: &mut BatchItem) -> Result<(), Error> {
        let align = it.align.max(1);
        if !align.is_power_of_two() {
            return Err(Error::BadAlignment { align });
        }
        match (it.block, it.size) {
            (None, 0) => Ok(()),
            (Some(b), 0) => {
                // SAFETY: forwarded from the caller.
                unsafe { Self::dealloc_impl(b.ptr, b.layout) };
                it.block = None;
                it.reserve = 0;
                Ok(())
            }
            (block, size) => {
                let zeroed = it.flags.contains(Flags::ZERO_MEMORY);
                let reserve = reserve_bytes(size, it.reserve, it.flags);
                let g = match block {
                    None => {
                        let layout = Layout::from_size_align(size, align)
                            .map_err(|_| Error::CapacityOverflow)?;
                        Self::alloc_impl(layout, reserve, zeroed, true)?
                    }
                    Some(b) => {
                        let align = align.max(b.layout.align());
                        let layout = Layout::from_size_align(size, align)
                            .map_err(|_| Error::CapacityOverflow)?;
                        let how = if it.flags.contains(Flags::PREVENT_MOVE) {
                            How::InPlace
                        } else {
                            How::Copy {
                                live: b.layout.size().min(size),
                            }
                        };
                        // SAFETY: forwarded from the caller.
                        unsafe { Self::resize_impl(b.ptr, b.layout, layout, how, zeroed, reserve)? }
                    }
                };
                let layout = Layout::from_size_align(g.usable(), align)
                    .map_err(|_| Error::CapacityOverflow)?;
                it.block = Some(Block {
                    ptr: g.ptr(),
                    layout,
                });
                it.size = g.usable();
                it.reserve = g.reserved;
                Ok(())
            }
        }
    }
}

/// Zeroes `[from, to)` of a block (nothing when `from >= to`).
///
/// # Safety
/// The block has at least `to` writable bytes.
#[inline]
unsafe fn zero_range(p: NonNull<u8>, from: usize, to: usize) {
    if from < to {
        // SAFETY: forwarded from the caller.
        unsafe { ptr::write_bytes(p.as_ptr().add(from), 0, to - from) };
    }
}

// SAFETY: blocks are valid for their layout until deallocated; the Heap has
// no per-instance state, so every copy of it frees every block; grow/shrink
// preserve the first `min(old, new)` bytes (resize_impl copies exactly that
// when it moves, and remapping moves whole pages).
unsafe impl Allocator for Heap {
    #[inline]
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        Ok(Self::alloc_impl(layout, 0, false, false)?.block)
    }

    #[inline]
    fn allocate_zeroed(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        Ok(Self::alloc_impl(layout, 0, true, false)?.block)
    }

    #[inline]
    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        // SAFETY: forwarded from the caller.
        unsafe { Self::dealloc_impl(ptr, layout) }
    }

    unsafe fn grow(
        &self,
        ptr: NonNull<u8>,
        old: Layout,
        new: Layout,
    ) -> Result<NonNull<[u8]>, AllocError> {
        let how = How::Copy { live: old.size() };
        // SAFETY: forwarded from the caller.
        Ok(unsafe { Self::resize_impl(ptr, old, new, how, false, 0)? }.block)
    }

    unsafe fn grow_zeroed(
        &self,
        ptr: NonNull<u8>,
        old: Layout,
        new: Layout,
    ) -> Result<NonNull<[u8]>, AllocError> {
        let how = How::Copy { live: old.size() };
        // SAFETY: forwarded from the caller.
        Ok(unsafe { Self::resize_impl(ptr, old, new, how, true, 0)? }.block)
    }

    unsafe fn shrink(
        &self,
        ptr: NonNull<u8>,
        old: Layout,
        new: Layout,
    ) -> Result<NonNull<[u8]>, AllocError> {
        let how = How::Copy { live: new.size() };
        // SAFETY: forwarded from the caller.
        Ok(unsafe { Self::resize_impl(ptr, old, new, how, false, 0)? }.block)
    }
}

// SAFETY: as for `Allocator`; null is returned on every failure.
unsafe impl GlobalAlloc for Heap {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::alloc_impl(layout, 0, false, false).map_or(ptr::null_mut(), |g| g.ptr().as_ptr())
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::alloc_impl(layout, 0, true, false).map_or(ptr::null_mut(), |g| g.ptr().as_ptr())
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(p) = NonNull::new(ptr) {
            // SAFETY: forwarded from the caller.
            unsafe { Self::dealloc_impl(p, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let (Some(p), Ok(new)) = (
            NonNull::new(ptr),
            Layout::from_size_align(new_size, layout.align()),
        ) else {
            return ptr::null_mut();
        };
        let how = How::Copy {
            live: layout.size().min(new_size),
        };
        // SAFETY: forwarded from the caller.
        unsafe { Self::resize_impl(p, layout, new, how, false, 0) }
            .map_or(ptr::null_mut(), |g| g.ptr().as_ptr())
    }
}

// SAFETY: successes keep the address (resize_impl with How::InPlace never
// moves); usable sizes come from `sizes`, which reports sizes that classify
// the block the same way; remap moves whole pages.
unsafe impl ResizeInPlace for Heap {
    unsafe fn try_grow_in_place(
        &self,
        ptr: NonNull<u8>,
        layout: Layout,
        new_size: usize,
    ) -> Result<usize, Error> {
        let new = Layout::from_size_align(new_size, layout.align())
            .map_err(|_| Error::CapacityOverflow)?;
        // SAFETY: forwarded from the caller.
        unsafe { Self::resize_impl(ptr, layout, new, How::InPlace, false, 0) }.map(|g| g.usable())
    }

    unsafe fn try_shrink_in_place(
        &self,
        ptr: NonNull<u8>,
        layout: Layout,
        new_size: usize,
    ) -> Result<usize, Error> {
        let new = Layout::from_size_align(new_size, layout.align())
            .map_err(|_| Error::CapacityOverflow)?;
        // SAFETY: forwarded from the caller.
        unsafe { Self::resize_impl(ptr, layout, new, How::InPlace, false, 0) }.map(|g| g.usable())
    }

    unsafe fn usable_size(&self, ptr: NonNull<u8>, layout: Layout) -> usize {
        if layout.size() == 0 {
            return 0;
        }
        // SAFETY: forwarded from the caller.
        unsafe { Self::sizes(ptr, layout).0 }
    }

    unsafe fn try_remap(
        &self,
        ptr: NonNull<u8>,
        layout: Layout,
        new_size: usize,
    ) -> Result<NonNull<[u8]>, Error> {
        if layout.size() == 0
            || kind(ptr, layout) != Kind::Span
            || !is_span_layout(new_size, layout.align())
        {
            return Err(Error::NoSpace);
        }
        // SAFETY: a live span block (caller).
        let s = unsafe { span::remap(ptr, new_size, layout.align(), 0)? };
        Ok(NonNull::slice_from_raw_parts(s.ptr, s.committed))
    }

    fn record_copy(&self, bytes: usize) {
        stats::copied(bytes);
    }

    unsafe fn grow_live(
        &self,
        ptr: NonNull<u8>,
        old_layout: Layout,
        new_layout: Layout,
        live: usize,
    ) -> Result<NonNull<[u8]>, Error> {
        let how = How::Copy { live };
        // SAFETY: forwarded from the caller.
        unsafe { Self::resize_impl(ptr, old_layout, new_layout, how, false, 0) }
            .map(|g| g.block)
            .map_err(|e| match e {
                Error::NoSpace | Error::Os(_) => Error::OutOfMemory { layout: new_layout },
                e => e,
            })
    }
}

// SAFETY: slab slots are distinct, aligned to the layout (the slot size is a
// multiple of the alignment and slots start at a multiple of it), and
// classified by address when freed or resized singly.
unsafe impl BatchAlloc for Heap {
    fn allocate_batch(&self, layout: Layout, out: &mut [MaybeUninit<NonNull<u8>>]) -> Batch {
        Self::batch_impl(layout, false, out)
    }

    unsafe fn deallocate_batch(&self, blocks: &[NonNull<u8>], layout: Layout) {
        if layout.size() == 0 {
            return;
        }
        // SAFETY: forwarded from the caller.
        unsafe {
            slab::free_many(blocks, |p| Self::dealloc_impl(p, layout));
        }
    }
}

impl Heap {
    /// N1527's `batch_alloc1` with `M2_ZERO_MEMORY`: like
    /// [`BatchAlloc::allocate_batch`], every block zeroed.
    pub fn allocate_batch_zeroed(
        &self,
        layout: Layout,
        out: &mut [MaybeUninit<NonNull<u8>>],
    ) -> Batch {
        Self::batch_impl(layout, true, out)
    }

    /// Whether a batch of `count` blocks of `size` bytes is refused up
    /// front. Its blocks are committed one slab or one span at a time, and
    /// the kernel judges each commit alone: a batch of many blocks that each
    /// fit would commit, and touch the slab headers and allocator metadata
    /// of, far more than the machine has. So a large batch first asks the
    /// kernel whether it would commit the whole total at once, as it would
    /// for one `malloc` of that size; a refusal leaves nothing allocated.
    fn batch_refused(size: usize, count: usize) -> bool {
        /// Below this total the probe costs more than it could save.
        const PROBE_FROM: usize = 256 << 20;
        match size.checked_mul(count) {
            None => true,
            Some(total) => total >= PROBE_FROM && os::commit_refused(total),
        }
    }

    fn batch_impl(layout: Layout, zeroed: bool, out: &mut [MaybeUninit<NonNull<u8>>]) -> Batch {
        stats::add(Ev::BatchCall, 1);
        let mut n = 0;
        let mut usable = usize::MAX;
        if Self::batch_refused(layout.size(), out.len()) {
            return Batch {
                count: 0,
                usable_size: 0,
            };
        }
        if layout.size() != 0 {
            if let Some(slot) = slab::slot_for(layout.size(), layout.align()) {
                n = slab::allocate(slot, zeroed, out);
                if n > 0 {
                    usable = slot;
                }
            }
        }
        // Whatever the slabs could not serve is allocated singly.
        for slot in &mut out[n..] {
            match Self::alloc_impl(layout, 0, zeroed, true) {
                Ok(g) => {
                    usable = usable.min(g.usable());
                    slot.write(g.ptr());
                    n += 1;
                }
                Err(_) => break,
            }
        }
        stats::add(Ev::BatchBlock, n as u64);
        Batch {
            count: n,
            usable_size: if n == 0 { 0 } else { usable },
        }
    }
}
