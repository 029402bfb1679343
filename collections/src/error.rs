//! The error every fallible collection operation returns.

use core::fmt;

use mallocv2::alloc::Layout;

/// Why `try_reserve`, `try_push` and the other `try_*` methods failed. The
/// collection is unchanged when one of them returns it: no element is lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TryReserveError {
    /// The capacity would exceed `isize::MAX` bytes, or a length
    /// computation overflowed.
    CapacityOverflow,
    /// The allocator (or the OS, when committing pages) refused.
    AllocError {
        /// The layout that was requested.
        layout: Layout,
    },
    /// A reserved collection reached the maximum capacity it reserved
    /// address space for.
    Exhausted {
        /// The maximum capacity, in elements.
        max_capacity: usize,
    },
}

impl fmt::Display for TryReserveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryReserveError::CapacityOverflow => {
                f.write_str("memory allocation failed because the computed capacity exceeded the collection's maximum")
            }
            TryReserveError::AllocError { layout } => write!(
                f,
                "memory allocation of {} bytes (alignment {}) failed",
                layout.size(),
                layout.align()
            ),
            TryReserveError::Exhausted { max_capacity } => write!(
                f,
                "reservation exhausted: the collection's maximum capacity is {max_capacity} elements"
            ),
        }
    }
}

impl core::error::Error for TryReserveError {}
