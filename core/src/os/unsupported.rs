//! Platforms without virtual-memory calls (and Miri): every page operation
//! reports `Unsupported`, so the `Heap` serves everything from the C
//! library's `malloc` family (via `std::alloc::System`) and the primitives
//! refuse honestly.

use core::ptr::NonNull;

use crate::error::OsError;

pub(super) fn page_size() -> usize {
    4096
}

pub(super) fn address_space_limit() -> Option<usize> {
    None
}

pub(super) fn reserve(_: usize) -> Result<NonNull<u8>, OsError> {
    Err(OsError::unsupported("reserve"))
}

pub(super) unsafe fn reserve_at(_: NonNull<u8>, _: usize) -> Result<(), OsError> {
    Err(OsError::unsupported("reserve"))
}

pub(super) unsafe fn commit(_: NonNull<u8>, _: usize) -> Result<(), OsError> {
    Err(OsError::unsupported("commit"))
}

pub(super) unsafe fn discard(_: NonNull<u8>, _: usize) -> Result<(), OsError> {
    Err(OsError::unsupported("discard"))
}

pub(super) unsafe fn prefault(_: NonNull<u8>, _: usize) {}

pub(super) unsafe fn discard_lazy(ptr: NonNull<u8>, len: usize) -> Result<(), OsError> {
    // SAFETY: forwarded from the caller.
    unsafe { discard(ptr, len) }
}

pub(super) unsafe fn decommit(_: NonNull<u8>, _: usize) -> Result<(), OsError> {
    Err(OsError::unsupported("decommit"))
}

pub(super) unsafe fn release(_: NonNull<u8>, _: usize) -> Result<(), OsError> {
    Err(OsError::unsupported("release"))
}

pub(super) unsafe fn grow_in_place(_: NonNull<u8>, _: usize, _: usize) -> Result<(), OsError> {
    Err(OsError::unsupported("mremap"))
}

pub(super) unsafe fn move_pages(_: NonNull<u8>, _: usize, _: NonNull<u8>) -> Result<(), OsError> {
    Err(OsError::unsupported("mremap"))
}

/// Whether `move_pages` exists here.
pub(crate) const CAN_MOVE_PAGES: bool = false;
/// Alignment `malloc` guarantees here.
pub(crate) const MALLOC_ALIGN: usize = core::mem::align_of::<u128>();

fn layout(size: usize, align: usize) -> Option<std::alloc::Layout> {
    std::alloc::Layout::from_size_align(size.max(1), align).ok()
}

pub(crate) fn malloc(size: usize, zeroed: bool) -> *mut u8 {
    malloc_aligned(size, MALLOC_ALIGN, zeroed)
}

pub(crate) fn malloc_aligned(size: usize, align: usize, zeroed: bool) -> *mut u8 {
    use std::alloc::GlobalAlloc;
    let Some(l) = layout(size, align) else {
        return core::ptr::null_mut();
    };
    // SAFETY: `l` has a non-zero size.
    unsafe {
        if zeroed {
            std::alloc::System.alloc_zeroed(l)
        } else {
            std::alloc::System.alloc(l)
        }
    }
}

pub(crate) unsafe fn realloc(ptr: NonNull<u8>, old_size: usize, size: usize) -> *mut u8 {
    use std::alloc::GlobalAlloc;
    let Some(l) = layout(old_size, MALLOC_ALIGN) else {
        return core::ptr::null_mut();
    };
    // SAFETY: the block was allocated by `malloc` above with this layout.
    unsafe { std::alloc::System.realloc(ptr.as_ptr(), l, size.max(1)) }
}

pub(crate) unsafe fn free(ptr: NonNull<u8>, size: usize, align: usize) {
    use std::alloc::GlobalAlloc;
    if let Some(l) = layout(size, align) {
        // SAFETY: the block was allocated above with this layout (usable
        // size equals requested size here, so the caller's size is exact).
        unsafe { std::alloc::System.dealloc(ptr.as_ptr(), l) }
    }
}

pub(crate) unsafe fn usable_size(_: NonNull<u8>, requested: usize) -> usize {
    requested
}
