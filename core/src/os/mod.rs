//! The OS layer: the only code in the workspace that calls libc (or the
//! Windows API) for memory.
//!
//! One platform file is chosen by `cfg_attr(path)`; each exports the same
//! functions:
//!
//! | function          | Linux                                   | other Unix            | Windows (untested)          |
//! |-------------------|-----------------------------------------|-----------------------|-----------------------------|
//! | `page_size`       | `sysconf(_SC_PAGESIZE)`                 | same                  | `GetSystemInfo`             |
//! | `reserve`         | `mmap(PROT_NONE)` (no `MAP_NORESERVE`)  | same                  | `VirtualAlloc(MEM_RESERVE)` |
//! | `reserve_at`      | `mmap(MAP_FIXED_NOREPLACE)` at a hint   | `mmap` hint, checked  | `VirtualAlloc` at address   |
//! | `commit`          | `mprotect(READ|WRITE)`                  | same                  | `VirtualAlloc(MEM_COMMIT)`  |
//! | `decommit`        | `madvise(MADV_DONTNEED)` + `PROT_NONE`  | same                  | `VirtualFree(MEM_DECOMMIT)` |
//! | `release`         | `munmap`                                | same                  | `VirtualFree(MEM_RELEASE)`  |
//! | `grow_in_place`   | `mremap` without `MREMAP_MAYMOVE`       | unsupported           | unsupported                 |
//! | `move_pages`      | `mremap(MAYMOVE | FIXED)`               | unsupported           | unsupported                 |
//! | `malloc` family   | `malloc`, `posix_memalign`, `realloc`, `free`, `malloc_usable_size` | same (no usable size) | CRT `_aligned_*` |
//!
//! A commit never uses `mmap(MAP_FIXED)` over a reservation: a failed commit
//! must leave the reservation mapped.
//!
//! Commits are charged like any writable private memory: reserving costs
//! nothing, and the kernel may refuse a commit (`ENOMEM`) exactly where it
//! would refuse `malloc` the same bytes. On Linux that depends on
//! `vm.overcommit_memory`: `0` (the default heuristic) refuses a single
//! commit larger than RAM + swap, `1` never refuses, `2` refuses once the
//! process's charges pass `CommitLimit`. Decommitted pages of a range that
//! was written stay charged until the range is released (the kernel keeps
//! the charge of a mapping that has pages), which only matters under `2`.
//!
//! Every call goes through [`inject`] first, so tests can make the Nth call
//! of an operation fail on the current thread (see [`crate::fault`]).

use core::cell::Cell;
use core::ptr::NonNull;

use crate::error::OsError;

#[cfg_attr(all(unix, not(miri)), path = "unix.rs")]
#[cfg_attr(all(windows, not(miri)), path = "windows.rs")]
#[cfg_attr(any(miri, not(any(unix, windows))), path = "unsupported.rs")]
mod imp;

pub(crate) use imp::{
    free, malloc, malloc_aligned, realloc, usable_size, CAN_MOVE_PAGES, MALLOC_ALIGN,
};

/// The OS operations a test can make fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OsOp {
    /// Reserving address space (`mmap`, `VirtualAlloc(MEM_RESERVE)`).
    Reserve,
    /// Committing pages (`mprotect`).
    Commit,
    /// Decommitting pages (`madvise` + `mprotect`).
    Decommit,
    /// Extending a reservation in place.
    Extend,
    /// Moving pages without copying (`mremap`).
    Move,
}

const OPS: usize = 5;

thread_local! {
    /// Per operation: calls left before one fails (0 = never fail).
    static FAIL_AFTER: [Cell<u32>; OPS] = const { [const { Cell::new(0) }; OPS] };
}

/// Arms a failure: the `nth` call (1-based) of `op` on this thread fails with
/// `ENOMEM`. `nth == 0` disarms. See [`crate::fault`].
pub(crate) fn arm(op: OsOp, nth: u32) {
    FAIL_AFTER.with(|f| f[op as usize].set(nth));
}

/// Returns an error when a test armed a failure for this call.
#[inline]
fn inject(op: OsOp, name: &'static str) -> Result<(), OsError> {
    let fail = FAIL_AFTER
        .try_with(|f| {
            let c = &f[op as usize];
            match c.get() {
                0 => false,
                1 => {
                    c.set(0);
                    true
                }
                n => {
                    c.set(n - 1);
                    false
                }
            }
        })
        .unwrap_or(false);
    if fail {
        Err(OsError {
            op: name,
            errno: libc::ENOMEM,
        })
    } else {
        Ok(())
    }
}

/// The page size, cached after the first call.
#[inline]
pub(crate) fn page_size() -> usize {
    use core::sync::atomic::{AtomicUsize, Ordering};
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    let p = PAGE.load(Ordering::Relaxed);
    if p != 0 {
        return p;
    }
    let p = imp::page_size();
    debug_assert!(p.is_power_of_two(), "page size {p} is not a power of two");
    PAGE.store(p, Ordering::Relaxed);
    p
}

/// The process's address-space limit (`RLIMIT_AS`), if one is set.
pub(crate) fn address_space_limit() -> Option<usize> {
    imp::address_space_limit()
}

/// Reserves `len` bytes (a multiple of the page size) of inaccessible
/// address space. Nothing is committed.
pub(crate) fn reserve(len: usize) -> Result<NonNull<u8>, OsError> {
    debug_assert!(len > 0 && len % page_size() == 0, "reserve: len {len}");
    inject(OsOp::Reserve, "mmap")?;
    imp::reserve(len)
}

/// Reserves exactly `[addr, addr + len)` if that range is free; fails
/// (leaving everything as it was) when any of it is mapped.
///
/// # Safety
/// `addr` is page-aligned and `addr + len` does not overflow.
pub(crate) unsafe fn reserve_at(addr: NonNull<u8>, len: usize) -> Result<(), OsError> {
    debug_assert!(addr.as_ptr() as usize % page_size() == 0 && len % page_size() == 0);
    inject(OsOp::Extend, "mmap")?;
    // SAFETY: forwarded from the caller.
    unsafe { imp::reserve_at(addr, len) }
}

/// Makes `[ptr, ptr + len)` readable and writable.
///
/// # Safety
/// The range is page-aligned and lies inside a reservation the caller owns.
pub(crate) unsafe fn commit(ptr: NonNull<u8>, len: usize) -> Result<(), OsError> {
    debug_assert!(ptr.as_ptr() as usize % page_size() == 0 && len % page_size() == 0);
    inject(OsOp::Commit, "mprotect")?;
    // SAFETY: forwarded from the caller.
    unsafe { imp::commit(ptr, len) }
}

/// Returns the pages of `[ptr, ptr + len)` to the OS (their contents are
/// lost; they read as zero once committed again) and makes them
/// inaccessible.
///
/// # Safety
/// The range is page-aligned, inside a reservation the caller owns, and
/// nothing refers to its contents any more.
pub(crate) unsafe fn decommit(ptr: NonNull<u8>, len: usize) -> Result<(), OsError> {
    debug_assert!(ptr.as_ptr() as usize % page_size() == 0 && len % page_size() == 0);
    inject(OsOp::Decommit, "madvise")?;
    // SAFETY: forwarded from the caller.
    unsafe { imp::decommit(ptr, len) }
}

/// Whether the OS refuses, right now, to commit `len` more bytes (rounded up
/// to pages), asked without touching memory: a scratch reservation of `len`
/// bytes is made writable and released again. `false` when the answer is
/// unknown (the scratch reservation itself could not be made, for example
/// under `RLIMIT_AS`). Not subject to [`inject`]: it is a question, not an
/// operation on the caller's memory.
pub(crate) fn commit_refused(len: usize) -> bool {
    let Some(len) = len.checked_next_multiple_of(page_size()).filter(|&l| l > 0) else {
        return len != 0;
    };
    let Ok(p) = imp::reserve(len) else {
        return false;
    };
    // SAFETY: `[p, p + len)` is the reservation just made, page-aligned.
    let refused = unsafe { imp::commit(p, len) }.is_err_and(|e| e.errno == libc::ENOMEM);
    // SAFETY: the scratch reservation is ours and never used again.
    let _ = unsafe { imp::release(p, len) };
    refused
}

/// Drops the pages of `[ptr, ptr + len)` but keeps them accessible: they read
/// as zero afterwards (`MADV_DONTNEED`); RSS falls at once.
///
/// # Safety
/// The range is page-aligned, committed, owned by the caller, and nothing
/// refers to its contents any more.
pub(crate) unsafe fn discard(ptr: NonNull<u8>, len: usize) -> Result<(), OsError> {
    inject(OsOp::Decommit, "madvise")?;
    // SAFETY: forwarded from the caller.
    unsafe { imp::discard(ptr, len) }
}

/// Faults in the committed pages of `[ptr, ptr + len)` for writing in one
/// call (Linux `MADV_POPULATE_WRITE`, 5.14+), instead of one trap per page
/// later. A hint: where it is not available nothing happens.
///
/// # Safety
/// The range is page-aligned, committed and owned by the caller.
pub(crate) unsafe fn prefault(ptr: NonNull<u8>, len: usize) {
    // SAFETY: forwarded from the caller.
    unsafe { imp::prefault(ptr, len) }
}

/// Tells the OS it may take the pages of `[ptr, ptr + len)` when memory is
/// short (`MADV_FREE`): cheap, and pages not taken are reused without a
/// fault. Their contents become undefined (old data or zero).
///
/// # Safety
/// As for [`discard`].
pub(crate) unsafe fn discard_lazy(ptr: NonNull<u8>, len: usize) -> Result<(), OsError> {
    inject(OsOp::Decommit, "madvise")?;
    // SAFETY: forwarded from the caller.
    unsafe { imp::discard_lazy(ptr, len) }
}

/// Unmaps `[ptr, ptr + len)`.
///
/// # Safety
/// The range is page-aligned, owned by the caller, and never used again.
pub(crate) unsafe fn release(ptr: NonNull<u8>, len: usize) {
    debug_assert!(ptr.as_ptr() as usize % page_size() == 0 && len % page_size() == 0);
    // SAFETY: forwarded from the caller.
    let r = unsafe { imp::release(ptr, len) };
    // munmap of a range we own can only fail when the kernel cannot split a
    // mapping (ENOMEM at the map-count limit); the range then stays mapped,
    // which leaks address space but is memory-safe.
    debug_assert!(r.is_ok(), "release({ptr:p}, {len}) failed: {r:?}");
}

/// Grows the single mapping `[ptr, ptr + old_len)` to `new_len` bytes without
/// moving it (Linux `mremap` without `MREMAP_MAYMOVE`); fails, changing
/// nothing, when the addresses after it are in use.
///
/// # Safety
/// `[ptr, ptr + old_len)` is exactly one mapping owned by the caller.
pub(crate) unsafe fn grow_in_place(
    ptr: NonNull<u8>,
    old_len: usize,
    new_len: usize,
) -> Result<(), OsError> {
    inject(OsOp::Extend, "mremap")?;
    // SAFETY: forwarded from the caller.
    unsafe { imp::grow_in_place(ptr, old_len, new_len) }
}

/// Moves the pages of the single mapping `[from, from + len)` to `to`
/// without copying (Linux `mremap(MREMAP_MAYMOVE | MREMAP_FIXED)`),
/// replacing whatever the caller had reserved at `[to, to + len)`. On
/// success `from` is unmapped; on failure nothing changed.
///
/// # Safety
/// `[from, from + len)` is one mapping owned by the caller; `[to, to + len)`
/// lies in a reservation the caller owns and does not overlap `from`.
pub(crate) unsafe fn move_pages(
    from: NonNull<u8>,
    len: usize,
    to: NonNull<u8>,
) -> Result<(), OsError> {
    inject(OsOp::Move, "mremap")?;
    // SAFETY: forwarded from the caller.
    unsafe { imp::move_pages(from, len, to) }
}

#[cfg(mallocv2_asan)]
extern "C" {
    // AddressSanitizer's manual poisoning interface
    // (sanitizer/asan_interface.h), linked in by `-Zsanitizer=address`.
    fn __asan_poison_memory_region(addr: *const core::ffi::c_void, size: usize);
    fn __asan_unpoison_memory_region(addr: *const core::ffi::c_void, size: usize);
}

/// Memcheck's `VG_USERREQ__MAKE_MEM_NOACCESS` (valgrind/memcheck.h:
/// `VG_USERREQ_TOOL_BASE('M', 'C')`); `+ 1` is `MAKE_MEM_UNDEFINED`.
#[cfg(all(target_arch = "x86_64", target_os = "linux", not(miri)))]
const VG_MAKE_MEM_NOACCESS: usize = 0x4d43_0000;

/// A valgrind client request (valgrind.h's amd64 sequence). Natively it is
/// a few no-op instructions; under valgrind the core reads the request
/// from the array in `rax`.
#[cfg(all(target_arch = "x86_64", target_os = "linux", not(miri)))]
#[inline(always)]
fn valgrind_request(request: usize, a1: usize, a2: usize) -> usize {
    let args: [usize; 6] = [request, a1, a2, 0, 0, 0];
    let answer: usize;
    // SAFETY: four rotations of `rdi` by 3 + 13 + 61 + 51 = 128 bits leave
    // it unchanged and `xchg rbx, rbx` swaps a register with itself, so
    // natively only the flags change; valgrind recognises the sequence,
    // reads `args` (live across the asm) and writes its answer to `rdx`
    // (declared clobbered, default 0).
    unsafe {
        core::arch::asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            in("rax") args.as_ptr(),
            inout("rdx") 0usize => answer,
            options(nostack),
        );
    }
    answer
}

/// Whether [`poison`] and [`unpoison`] do anything in this process: built
/// with AddressSanitizer, or running under valgrind (asked once with
/// `RUNNING_ON_VALGRIND`, valgrind.h, and cached). Callers skip their
/// per-block poisoning loops otherwise, so a native batch pays nothing.
#[inline]
pub(crate) fn poisoning() -> bool {
    if cfg!(mallocv2_asan) {
        return true;
    }
    #[cfg(all(target_arch = "x86_64", target_os = "linux", not(miri)))]
    {
        use core::sync::atomic::{AtomicU8, Ordering};
        /// 0: not asked yet; 1: native; 2: under valgrind.
        static UNDER_VALGRIND: AtomicU8 = AtomicU8::new(0);
        match UNDER_VALGRIND.load(Ordering::Relaxed) {
            0 => {
                /// `VG_USERREQ__RUNNING_ON_VALGRIND` (valgrind.h).
                const RUNNING_ON_VALGRIND: usize = 0x1001;
                let yes = valgrind_request(RUNNING_ON_VALGRIND, 0, 0) != 0;
                UNDER_VALGRIND.store(if yes { 2 } else { 1 }, Ordering::Relaxed);
                yes
            }
            v => v == 2,
        }
    }
    #[cfg(not(all(target_arch = "x86_64", target_os = "linux", not(miri))))]
    false
}

/// Marks `[ptr, ptr + len)` unaddressable for AddressSanitizer and
/// valgrind's memcheck (no-ops outside them), so that any access is
/// reported.
///
/// # Safety
/// The caller owns the range and nothing may access it until it is
/// [`unpoison`]ed.
#[inline]
pub(crate) unsafe fn poison(ptr: NonNull<u8>, len: usize) {
    // SAFETY: only changes the sanitizer's shadow of a range the caller owns.
    #[cfg(mallocv2_asan)]
    unsafe {
        __asan_poison_memory_region(ptr.as_ptr().cast(), len)
    };
    #[cfg(all(target_arch = "x86_64", target_os = "linux", not(miri)))]
    let _ = valgrind_request(VG_MAKE_MEM_NOACCESS, ptr.as_ptr() as usize, len);
    let _ = (ptr, len);
}

/// Makes `[ptr, ptr + len)` addressable again (for memcheck: addressable
/// and undefined, like fresh `malloc` memory).
///
/// # Safety
/// The caller owns the range.
#[inline]
pub(crate) unsafe fn unpoison(ptr: NonNull<u8>, len: usize) {
    // SAFETY: as for `poison`.
    #[cfg(mallocv2_asan)]
    unsafe {
        __asan_unpoison_memory_region(ptr.as_ptr().cast(), len)
    };
    #[cfg(all(target_arch = "x86_64", target_os = "linux", not(miri)))]
    let _ = valgrind_request(VG_MAKE_MEM_NOACCESS + 1, ptr.as_ptr() as usize, len);
    let _ = (ptr, len);
}
