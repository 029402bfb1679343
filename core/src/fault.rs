//! Fault injection for tests: make the Nth OS call of a kind fail on the
//! current thread, the way jemalloc's extent-hook tests do.
//!
//! Only the calling thread is affected, so tests running in parallel do not
//! disturb each other. For process-wide limits (`RLIMIT_AS`), run a child
//! process instead.
//!
//! ```
//! use mallocv2::{fault::{self, OsOp}, Reservation};
//!
//! let mut r = Reservation::new(1 << 20)?;
//! r.commit(4096)?;
//! fault::fail_nth(OsOp::Commit, 1);
//! assert!(r.commit(8192).is_err()); // refused …
//! assert_eq!(r.committed(), 4096); // … and nothing changed
//! r.commit(8192)?; // the next one goes through
//! # Ok::<(), mallocv2::Error>(())
//! ```

pub use crate::os::OsOp;

/// Makes the `nth` (1-based) call of `op` on this thread fail with `ENOMEM`.
/// `nth == 0` disarms.
pub fn fail_nth(op: OsOp, nth: u32) {
    crate::os::arm(op, nth);
}

/// Disarms every injected failure on this thread.
pub fn clear() {
    for op in [
        OsOp::Reserve,
        OsOp::Commit,
        OsOp::Decommit,
        OsOp::Extend,
        OsOp::Move,
    ] {
        crate::os::arm(op, 0);
    }
}
