//! A global allocator chosen once per process from the environment, so one
//! `compare` binary can run a workload under `System` or under `Heap` (and,
//! with the `peers` feature, jemalloc or mimalloc) in its child processes.
//!
//! The choice is read from `MALLOCV2_GLOBAL` (`system`, `heap`, `jemalloc`,
//! `mimalloc`) on the first allocation, with `getenv` (which does not
//! allocate), and never changes afterwards, so every block is freed by the
//! allocator that made it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU8, Ordering};

use mallocv2::Heap;

const UNSET: u8 = 0;
const SYSTEM: u8 = 1;
const HEAP: u8 = 2;
#[cfg(feature = "peers")]
const JEMALLOC: u8 = 3;
#[cfg(feature = "peers")]
const MIMALLOC: u8 = 4;

/// The environment variable that picks the global allocator.
pub const ENV: &str = "MALLOCV2_GLOBAL";

/// The switchable global allocator.
pub struct Switch;

static MODE: AtomicU8 = AtomicU8::new(UNSET);

#[cold]
fn init() -> u8 {
    // SAFETY: the name is a NUL-terminated literal; getenv returns a
    // pointer into the environment or null, and we only read it here,
    // before any thread of ours could change the environment.
    let v = unsafe { libc::getenv(c"MALLOCV2_GLOBAL".as_ptr()) };
    let mode = if v.is_null() {
        SYSTEM
    } else {
        // SAFETY: getenv returned a NUL-terminated string.
        match unsafe { std::ffi::CStr::from_ptr(v) }.to_bytes() {
            b"heap" => HEAP,
            #[cfg(feature = "peers")]
            b"jemalloc" => JEMALLOC,
            #[cfg(feature = "peers")]
            b"mimalloc" => MIMALLOC,
            _ => SYSTEM,
        }
    };
    match MODE.compare_exchange(UNSET, mode, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => mode,
        Err(existing) => existing,
    }
}

#[inline]
fn mode() -> u8 {
    match MODE.load(Ordering::Relaxed) {
        UNSET => init(),
        m => m,
    }
}

/// The name of the global allocator in use.
pub fn name() -> &'static str {
    match mode() {
        HEAP => "Heap",
        #[cfg(feature = "peers")]
        JEMALLOC => "jemalloc",
        #[cfg(feature = "peers")]
        MIMALLOC => "mimalloc",
        _ => "System",
    }
}

macro_rules! dispatch {
    ($method:ident($($arg:expr),*)) => {
        match mode() {
            HEAP => Heap.$method($($arg),*),
            #[cfg(feature = "peers")]
            JEMALLOC => tikv_jemallocator::Jemalloc.$method($($arg),*),
            #[cfg(feature = "peers")]
            MIMALLOC => mimalloc::MiMalloc.$method($($arg),*),
            _ => System.$method($($arg),*),
        }
    };
}

// SAFETY: every call is forwarded to one allocator, the same for the whole
// life of the process (MODE is set once, before the first allocation
// returns), so each block is freed and resized by the allocator that made it.
unsafe impl GlobalAlloc for Switch {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from the caller.
        unsafe { dispatch!(alloc(layout)) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from the caller.
        unsafe { dispatch!(alloc_zeroed(layout)) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded from the caller.
        unsafe { dispatch!(dealloc(ptr, layout)) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded from the caller.
        unsafe { dispatch!(realloc(ptr, layout, new_size)) }
    }
}
