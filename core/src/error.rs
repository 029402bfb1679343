//! Errors returned by the primitives.

use core::fmt;

use crate::alloc::Layout;

/// An operating-system call that failed, with the `errno` it reported.
///
/// Only `core/src/os/` creates these; they travel upwards inside [`Error::Os`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OsError {
    /// The call that failed, e.g. `"mmap"`, `"mprotect"`, `"mremap"`.
    pub op: &'static str,
    /// The raw `errno` value (`ENOMEM` = 12 on Linux), or 0 where the
    /// platform has no such call (see [`OsError::is_unsupported`]).
    pub errno: i32,
}

impl OsError {
    /// The operation does not exist on this platform (e.g. `mremap` outside
    /// Linux).
    pub const fn unsupported(op: &'static str) -> Self {
        OsError { op, errno: 0 }
    }

    /// True when this error means "not available here" rather than a refusal.
    pub const fn is_unsupported(&self) -> bool {
        self.errno == 0
    }
}

impl fmt::Display for OsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_unsupported() {
            write!(f, "{} is not supported on this platform", self.op)
        } else {
            let msg = std::io::Error::from_raw_os_error(self.errno);
            write!(f, "{} failed: {msg}", self.op)
        }
    }
}

impl core::error::Error for OsError {}

/// Why an allocation, resize, commit or batch item failed.
///
/// Every failure leaves the block or reservation it was asked to change
/// exactly as it was: same address, same contents, same size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// An in-place (or copy-free) resize was refused: there is no room after
    /// the block, or its address is not aligned enough. N1527's `ENOSPC`.
    /// Nothing was changed; the caller may fall back to moving the block.
    NoSpace,
    /// The memory could not be obtained. N1527's `ENOMEM`.
    OutOfMemory {
        /// The layout that was asked for.
        layout: Layout,
    },
    /// A size computation overflowed or exceeds `isize::MAX`.
    CapacityOverflow,
    /// The alignment is not a power of two, or is absurdly large
    /// (above [`MAX_ALIGN`](crate::MAX_ALIGN)).
    BadAlignment {
        /// The alignment that was asked for.
        align: usize,
    },
    /// A [`Reservation`](crate::Reservation) would have to grow past its end.
    ReservationExhausted {
        /// Bytes that would have had to be committed.
        requested: usize,
        /// Bytes of address space the reservation holds.
        reserved: usize,
    },
    /// The operating system refused a call (the errno is kept).
    Os(OsError),
}

impl Error {
    /// True for [`Error::NoSpace`]: a refusal of an in-place or copy-free
    /// resize rather than a shortage of memory.
    pub const fn is_no_space(&self) -> bool {
        matches!(self, Error::NoSpace)
    }

    /// The N1527 error number this corresponds to (`ENOSPC` or `ENOMEM`;
    /// `EINVAL` for bad arguments).
    pub const fn errno(&self) -> i32 {
        match self {
            Error::NoSpace => libc::ENOSPC,
            Error::CapacityOverflow | Error::BadAlignment { .. } => libc::EINVAL,
            Error::Os(e) if e.errno != 0 => e.errno,
            _ => libc::ENOMEM,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoSpace => f.write_str("no space to resize the block without moving it"),
            Error::OutOfMemory { layout } => write!(
                f,
                "out of memory allocating {} bytes aligned to {}",
                layout.size(),
                layout.align()
            ),
            Error::CapacityOverflow => f.write_str("requested size overflows isize::MAX"),
            Error::BadAlignment { align } => write!(
                f,
                "alignment {align} is not a power of two no greater than {}",
                crate::MAX_ALIGN
            ),
            Error::ReservationExhausted {
                requested,
                reserved,
            } => write!(
                f,
                "reservation exhausted: {requested} bytes needed but only {reserved} reserved"
            ),
            Error::Os(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Error::Os(e) => Some(e),
            _ => None,
        }
    }
}

impl From<OsError> for Error {
    fn from(e: OsError) -> Self {
        Error::Os(e)
    }
}

impl From<Error> for crate::alloc::AllocError {
    fn from(_: Error) -> Self {
        crate::alloc::AllocError
    }
}
