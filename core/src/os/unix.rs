//! Unix: `mmap`/`mprotect`/`madvise`/`munmap`, plus `mremap` on Linux.
//! References are to the Linux man pages (mmap(2), mprotect(2), madvise(2),
//! mremap(2), malloc(3), posix_memalign(3), malloc_usable_size(3)).

use core::ptr::{self, NonNull};

use crate::error::OsError;

fn last_error(op: &'static str) -> OsError {
    OsError {
        op,
        errno: std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
    }
}

pub(super) fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p <= 0 {
        4096
    } else {
        p as usize
    }
}

pub(super) fn address_space_limit() -> Option<usize> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid out-pointer (getrlimit(2)).
    let r = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut lim) };
    (r == 0 && lim.rlim_cur != libc::RLIM_INFINITY).then_some(lim.rlim_cur as usize)
}

// Reservations are mapped without `MAP_NORESERVE`. A private mapping is
// charged against the kernel's commit limit when it becomes writable: a
// `PROT_NONE` reservation costs nothing, and `mprotect(PROT_READ |
// PROT_WRITE)` charges the pages it makes writable (mprotect(2) fails with
// ENOMEM when the charge is refused). With `MAP_NORESERVE` the kernel would
// never charge the mapping, so no commit could ever be refused and every
// fallible allocation would succeed until the OOM killer ends the process.
// What the charge means depends on `vm.overcommit_memory` (proc(5)): 0, the
// default, refuses one request larger than RAM + swap; 1 never refuses; 2
// refuses when the sum of charges passes `CommitLimit`.

pub(super) fn reserve(len: usize) -> Result<NonNull<u8>, OsError> {
    // SAFETY: an anonymous private mapping with a null hint touches no
    // existing memory; the result is checked against MAP_FAILED.
    let p = unsafe {
        libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(last_error("mmap"));
    }
    NonNull::new(p.cast()).ok_or(OsError {
        op: "mmap",
        errno: libc::ENOMEM,
    })
}

pub(super) unsafe fn reserve_at(addr: NonNull<u8>, len: usize) -> Result<(), OsError> {
    #[cfg(target_os = "linux")]
    let flags = libc::MAP_FIXED_NOREPLACE;
    #[cfg(not(target_os = "linux"))]
    let flags = 0;
    // SAFETY: without MAP_FIXED the kernel never replaces an existing
    // mapping (MAP_FIXED_NOREPLACE fails with EEXIST instead, mmap(2)); the
    // address is only a hint, checked below.
    let p = unsafe {
        libc::mmap(
            addr.as_ptr().cast(),
            len,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | flags,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(last_error("mmap"));
    }
    if p != addr.as_ptr().cast() {
        // Kernels before 4.17 treat MAP_FIXED_NOREPLACE as a plain hint and
        // may map elsewhere: undo that mapping, which is ours alone.
        // SAFETY: `p` was just mapped with length `len` by this call.
        unsafe { libc::munmap(p, len) };
        return Err(OsError {
            op: "mmap",
            errno: libc::EEXIST,
        });
    }
    Ok(())
}

pub(super) unsafe fn commit(ptr: NonNull<u8>, len: usize) -> Result<(), OsError> {
    // SAFETY: the caller owns the page-aligned range; mprotect changes only
    // its protection and fails without effect (ENOMEM/EACCES, mprotect(2)).
    let r = unsafe { libc::mprotect(ptr.as_ptr().cast(), len, libc::PROT_READ | libc::PROT_WRITE) };
    if r != 0 {
        return Err(last_error("mprotect"));
    }
    Ok(())
}

pub(super) unsafe fn discard(ptr: NonNull<u8>, len: usize) -> Result<(), OsError> {
    // SAFETY: the caller owns the committed, page-aligned range and no longer
    // needs its contents; MADV_DONTNEED on private anonymous memory makes the
    // pages read as zero afterwards (madvise(2)).
    let r = unsafe { libc::madvise(ptr.as_ptr().cast(), len, libc::MADV_DONTNEED) };
    if r != 0 {
        return Err(last_error("madvise"));
    }
    Ok(())
}

pub(super) unsafe fn prefault(ptr: NonNull<u8>, len: usize) {
    #[cfg(target_os = "linux")]
    {
        /// `MADV_POPULATE_WRITE` (linux/mman.h; not in every libc version).
        const MADV_POPULATE_WRITE: libc::c_int = 23;
        // SAFETY: the caller owns the committed range; populating only
        // faults pages in (madvise(2)); older kernels answer EINVAL, which
        // is fine for a hint.
        let _ = unsafe { libc::madvise(ptr.as_ptr().cast(), len, MADV_POPULATE_WRITE) };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (ptr, len);
}

pub(super) unsafe fn discard_lazy(ptr: NonNull<u8>, len: usize) -> Result<(), OsError> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: as for `discard`; MADV_FREE lets the kernel reclaim the
        // pages lazily (madvise(2), Linux 4.5+). Older kernels answer EINVAL:
        // fall back to MADV_DONTNEED.
        let r = unsafe { libc::madvise(ptr.as_ptr().cast(), len, libc::MADV_FREE) };
        if r == 0 {
            return Ok(());
        }
    }
    // SAFETY: forwarded from the caller.
    unsafe { discard(ptr, len) }
}

pub(super) unsafe fn decommit(ptr: NonNull<u8>, len: usize) -> Result<(), OsError> {
    // SAFETY: forwarded from the caller (see `discard`).
    unsafe { discard(ptr, len)? };
    // SAFETY: the caller owns the range; PROT_NONE only removes access.
    let r = unsafe { libc::mprotect(ptr.as_ptr().cast(), len, libc::PROT_NONE) };
    if r != 0 {
        return Err(last_error("mprotect"));
    }
    Ok(())
}

pub(super) unsafe fn release(ptr: NonNull<u8>, len: usize) -> Result<(), OsError> {
    // SAFETY: the caller owns the range and never touches it again.
    let r = unsafe { libc::munmap(ptr.as_ptr().cast(), len) };
    if r != 0 {
        return Err(last_error("munmap"));
    }
    Ok(())
}

/// Whether `move_pages` exists here.
#[cfg(target_os = "linux")]
pub(crate) const CAN_MOVE_PAGES: bool = true;
/// Whether `move_pages` exists here.
#[cfg(not(target_os = "linux"))]
pub(crate) const CAN_MOVE_PAGES: bool = false;

#[cfg(target_os = "linux")]
pub(super) unsafe fn grow_in_place(
    ptr: NonNull<u8>,
    old_len: usize,
    new_len: usize,
) -> Result<(), OsError> {
    // SAFETY: without MREMAP_MAYMOVE the mapping either grows at the same
    // address or the call fails with ENOMEM and changes nothing (mremap(2)).
    let p = unsafe { libc::mremap(ptr.as_ptr().cast(), old_len, new_len, 0) };
    if p == libc::MAP_FAILED {
        return Err(last_error("mremap"));
    }
    debug_assert_eq!(p, ptr.as_ptr().cast());
    Ok(())
}

#[cfg(target_os = "linux")]
pub(super) unsafe fn move_pages(
    from: NonNull<u8>,
    len: usize,
    to: NonNull<u8>,
) -> Result<(), OsError> {
    // SAFETY: MREMAP_FIXED moves the pages of one mapping to `to`, unmapping
    // whatever the caller had reserved there; on failure nothing changes
    // (mremap(2)). The caller owns both ranges and they do not overlap.
    let p = unsafe {
        libc::mremap(
            from.as_ptr().cast(),
            len,
            len,
            libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
            to.as_ptr().cast::<libc::c_void>(),
        )
    };
    if p == libc::MAP_FAILED {
        return Err(last_error("mremap"));
    }
    debug_assert_eq!(p, to.as_ptr().cast());
    Ok(())
}

#[cfg(not(target_os = "linux"))]
pub(super) unsafe fn grow_in_place(_: NonNull<u8>, _: usize, _: usize) -> Result<(), OsError> {
    Err(OsError::unsupported("mremap"))
}

#[cfg(not(target_os = "linux"))]
pub(super) unsafe fn move_pages(_: NonNull<u8>, _: usize, _: NonNull<u8>) -> Result<(), OsError> {
    Err(OsError::unsupported("mremap"))
}

// --- the malloc family, for small blocks -----------------------------------

/// Alignment every `malloc` result has (16 on 64-bit glibc and musl).
pub(crate) const MALLOC_ALIGN: usize = 2 * core::mem::size_of::<usize>();

/// `malloc`/`calloc` for `align <= MALLOC_ALIGN`, `posix_memalign` above.
pub(crate) fn malloc(size: usize, zeroed: bool) -> *mut u8 {
    // SAFETY: malloc and calloc accept any size and return null on failure.
    unsafe {
        if zeroed {
            libc::calloc(1, size).cast()
        } else {
            libc::malloc(size).cast()
        }
    }
}

/// `posix_memalign`; `align` is a power of two and a multiple of
/// `size_of::<usize>()`.
pub(crate) fn malloc_aligned(size: usize, align: usize, zeroed: bool) -> *mut u8 {
    let mut out = ptr::null_mut();
    // SAFETY: `out` is a valid place to write the result; `align` meets
    // posix_memalign(3)'s requirements (checked by the caller).
    let r = unsafe { libc::posix_memalign(&mut out, align, size) };
    if r != 0 {
        return ptr::null_mut();
    }
    if zeroed {
        // SAFETY: `out` points to `size` writable bytes.
        unsafe { ptr::write_bytes(out.cast::<u8>(), 0, size) };
    }
    out.cast()
}

/// `realloc`; only for blocks from `malloc` with `align <= MALLOC_ALIGN`.
///
/// # Safety
/// `ptr` came from `malloc`/`calloc`/`realloc` and is live.
pub(crate) unsafe fn realloc(ptr: NonNull<u8>, _old_size: usize, size: usize) -> *mut u8 {
    // SAFETY: forwarded from the caller; on failure the block is unchanged
    // (realloc(3)).
    unsafe { libc::realloc(ptr.as_ptr().cast(), size).cast() }
}

/// # Safety
/// `ptr` came from this module's `malloc`/`malloc_aligned`/`realloc`.
pub(crate) unsafe fn free(ptr: NonNull<u8>, _size: usize, _align: usize) {
    // SAFETY: forwarded from the caller.
    unsafe { libc::free(ptr.as_ptr().cast()) }
}

/// The usable size of a malloc block (glibc, musl), or `requested` where the
/// C library cannot tell.
///
/// # Safety
/// `ptr` came from this module's allocation functions and is live.
#[cfg(any(
    all(target_os = "linux", any(target_env = "gnu", target_env = "musl")),
    target_os = "android"
))]
pub(crate) unsafe fn usable_size(ptr: NonNull<u8>, requested: usize) -> usize {
    // SAFETY: forwarded from the caller (malloc_usable_size(3)).
    let n = unsafe { libc::malloc_usable_size(ptr.as_ptr().cast()) };
    debug_assert!(n >= requested, "usable {n} < requested {requested}");
    n.max(requested)
}

/// The usable size of a malloc block, or `requested` where the C library
/// cannot tell.
///
/// # Safety
/// `ptr` came from this module's allocation functions and is live.
#[cfg(not(any(
    all(target_os = "linux", any(target_env = "gnu", target_env = "musl")),
    target_os = "android"
)))]
pub(crate) unsafe fn usable_size(_ptr: NonNull<u8>, requested: usize) -> usize {
    requested
}
