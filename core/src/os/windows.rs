//! Windows: `VirtualAlloc`/`VirtualFree` reserve and commit, the CRT's
//! `_aligned_malloc` family for small blocks. Designed for, not yet tested
//! (no Windows machine in CI): `mremap` has no equivalent, so copy-free
//! moves are refused and growth past a reservation copies.

use core::ffi::c_void;
use core::ptr::{self, NonNull};

use crate::error::OsError;

const MEM_COMMIT: u32 = 0x1000;
const MEM_RESERVE: u32 = 0x2000;
const MEM_DECOMMIT: u32 = 0x4000;
const MEM_RELEASE: u32 = 0x8000;
const PAGE_NOACCESS: u32 = 0x01;
const PAGE_READWRITE: u32 = 0x04;

#[repr(C)]
struct SystemInfo {
    oem_id: u32,
    page_size: u32,
    min_addr: *mut c_void,
    max_addr: *mut c_void,
    active_mask: usize,
    processors: u32,
    processor_type: u32,
    granularity: u32,
    level: u16,
    revision: u16,
}

#[link(name = "kernel32")]
extern "system" {
    fn VirtualAlloc(addr: *mut c_void, size: usize, kind: u32, protect: u32) -> *mut c_void;
    fn VirtualFree(addr: *mut c_void, size: usize, kind: u32) -> i32;
    fn GetSystemInfo(info: *mut SystemInfo);
    fn GetLastError() -> u32;
}

extern "C" {
    fn _aligned_malloc(size: usize, align: usize) -> *mut c_void;
    fn _aligned_realloc(p: *mut c_void, size: usize, align: usize) -> *mut c_void;
    fn _aligned_free(p: *mut c_void);
    fn _aligned_msize(p: *mut c_void, align: usize, offset: usize) -> usize;
}

fn last_error(op: &'static str) -> OsError {
    // SAFETY: GetLastError has no preconditions.
    OsError {
        op,
        errno: unsafe { GetLastError() } as i32,
    }
}

pub(super) fn page_size() -> usize {
    // SAFETY: `info` is a valid out-pointer of the documented layout.
    unsafe {
        let mut info: SystemInfo = core::mem::zeroed();
        GetSystemInfo(&mut info);
        info.page_size as usize
    }
}

pub(super) fn address_space_limit() -> Option<usize> {
    None
}

pub(super) fn reserve(len: usize) -> Result<NonNull<u8>, OsError> {
    // SAFETY: a null address asks the system to choose the range.
    let p = unsafe { VirtualAlloc(ptr::null_mut(), len, MEM_RESERVE, PAGE_NOACCESS) };
    NonNull::new(p.cast()).ok_or_else(|| last_error("VirtualAlloc"))
}

pub(super) unsafe fn reserve_at(addr: NonNull<u8>, len: usize) -> Result<(), OsError> {
    // SAFETY: MEM_RESERVE at an address fails if any page there is in use.
    let p = unsafe { VirtualAlloc(addr.as_ptr().cast(), len, MEM_RESERVE, PAGE_NOACCESS) };
    if p.is_null() {
        return Err(last_error("VirtualAlloc"));
    }
    Ok(())
}

pub(super) unsafe fn commit(ptr: NonNull<u8>, len: usize) -> Result<(), OsError> {
    // SAFETY: the caller owns the reserved range.
    let p = unsafe { VirtualAlloc(ptr.as_ptr().cast(), len, MEM_COMMIT, PAGE_READWRITE) };
    if p.is_null() {
        return Err(last_error("VirtualAlloc"));
    }
    Ok(())
}

pub(super) unsafe fn discard(ptr: NonNull<u8>, len: usize) -> Result<(), OsError> {
    // SAFETY: forwarded; decommit then recommit yields zero pages.
    unsafe {
        decommit(ptr, len)?;
        commit(ptr, len)
    }
}

pub(super) unsafe fn prefault(_: NonNull<u8>, _: usize) {}

pub(super) unsafe fn discard_lazy(ptr: NonNull<u8>, len: usize) -> Result<(), OsError> {
    // SAFETY: forwarded from the caller.
    unsafe { discard(ptr, len) }
}

pub(super) unsafe fn decommit(ptr: NonNull<u8>, len: usize) -> Result<(), OsError> {
    // SAFETY: the caller owns the committed range.
    if unsafe { VirtualFree(ptr.as_ptr().cast(), len, MEM_DECOMMIT) } == 0 {
        return Err(last_error("VirtualFree"));
    }
    Ok(())
}

pub(super) unsafe fn release(ptr: NonNull<u8>, _len: usize) -> Result<(), OsError> {
    // SAFETY: MEM_RELEASE frees the whole reservation made at `ptr`.
    // A reservation extended by `reserve_at` is two regions; releasing the
    // second is left to the caller's bookkeeping (not yet done: Windows is
    // untested).
    if unsafe { VirtualFree(ptr.as_ptr().cast(), 0, MEM_RELEASE) } == 0 {
        return Err(last_error("VirtualFree"));
    }
    Ok(())
}

pub(super) unsafe fn grow_in_place(_: NonNull<u8>, _: usize, _: usize) -> Result<(), OsError> {
    Err(OsError::unsupported("mremap"))
}

pub(super) unsafe fn move_pages(_: NonNull<u8>, _: usize, _: NonNull<u8>) -> Result<(), OsError> {
    Err(OsError::unsupported("mremap"))
}

/// Whether `move_pages` exists here.
pub(crate) const CAN_MOVE_PAGES: bool = false;
/// Alignment used for every CRT block (so `_aligned_free` always applies).
pub(crate) const MALLOC_ALIGN: usize = 16;

pub(crate) fn malloc(size: usize, zeroed: bool) -> *mut u8 {
    malloc_aligned(size, MALLOC_ALIGN, zeroed)
}

pub(crate) fn malloc_aligned(size: usize, align: usize, zeroed: bool) -> *mut u8 {
    // SAFETY: `align` is a power of two.
    let p = unsafe { _aligned_malloc(size.max(1), align) }.cast::<u8>();
    if zeroed && !p.is_null() {
        // SAFETY: `p` points to `size` writable bytes.
        unsafe { ptr::write_bytes(p, 0, size) };
    }
    p
}

pub(crate) unsafe fn realloc(ptr: NonNull<u8>, _old_size: usize, size: usize) -> *mut u8 {
    // SAFETY: `ptr` came from `_aligned_malloc` with MALLOC_ALIGN.
    unsafe { _aligned_realloc(ptr.as_ptr().cast(), size, MALLOC_ALIGN).cast() }
}

pub(crate) unsafe fn free(ptr: NonNull<u8>, _size: usize, _align: usize) {
    // SAFETY: `ptr` came from `_aligned_malloc`.
    unsafe { _aligned_free(ptr.as_ptr().cast()) }
}

pub(crate) unsafe fn usable_size(ptr: NonNull<u8>, requested: usize) -> usize {
    // SAFETY: `ptr` came from `_aligned_malloc` (alignment is not needed
    // for the size query beyond matching the allocation's).
    unsafe { _aligned_msize(ptr.as_ptr().cast(), MALLOC_ALIGN, 0) }.max(requested)
}
