//! Capability (iv): reserved address space with a committed prefix.

use core::fmt;
use core::ptr::NonNull;

use crate::error::Error;
use crate::os;

/// A range of reserved address space whose first `committed()` bytes are
/// readable and writable. The base address never moves.
///
/// ```text
///  base                       base + committed()          base + len()
///   |------- committed --------|--------- reserved ----------|
///   |  read/write, may hold    |  PROT_NONE: costs address   |
///   |  data (RSS once touched) |  space only, no memory      |
/// ```
///
/// Committing past `len()` is an error ([`Error::ReservationExhausted`]), and
/// a commit the OS refuses is an error too; either way the reservation and
/// its committed contents stay as they were. Pages that are decommitted and
/// committed again read as zero. The whole range is unmapped on drop.
///
/// # Example
/// ```
/// use mallocv2::Reservation;
///
/// // 1 GiB of address space, no memory yet.
/// let mut r = Reservation::new(1 << 30)?;
/// r.commit(10_000)?; // rounds up to whole pages
/// let base = r.as_ptr();
/// // SAFETY: the first 10_000 bytes are committed.
/// unsafe { base.as_ptr().write_bytes(7, 10_000) };
/// r.commit(1 << 20)?; // grows in place: same base, same bytes
/// assert_eq!(r.as_ptr(), base);
/// assert_eq!(unsafe { *base.as_ptr().add(9_999) }, 7);
/// assert!(r.commit(2 << 30).is_err()); // past the end: refused, nothing lost
/// r.decommit(0)?; // memory goes back to the OS
/// # Ok::<(), mallocv2::Error>(())
/// ```
pub struct Reservation {
    /// Start of the range; page-aligned (and aligned to the requested
    /// alignment). Never changes.
    base: NonNull<u8>,
    /// Reserved bytes, a multiple of the page size, > 0.
    len: usize,
    /// Committed prefix, a multiple of the page size, `<= len`.
    committed: usize,
}

// SAFETY: a Reservation owns its range exclusively, like a `Box<[u8]>`; the
// raw pointer is only dereferenced by callers through `unsafe` code that
// must uphold Rust's aliasing rules themselves.
unsafe impl Send for Reservation {}
// SAFETY: `&Reservation` exposes only addresses and sizes.
unsafe impl Sync for Reservation {}

/// Rounds `n` up to a multiple of the power of two `to`, or `None` on
/// overflow.
#[inline]
pub(crate) const fn round_up(n: usize, to: usize) -> Option<usize> {
    match n.checked_add(to - 1) {
        Some(v) => Some(v & !(to - 1)),
        None => None,
    }
}

/// Checks an alignment against [`crate::MAX_ALIGN`].
pub(crate) fn check_align(align: usize) -> Result<(), Error> {
    if align.is_power_of_two() && align <= crate::MAX_ALIGN {
        Ok(())
    } else {
        Err(Error::BadAlignment { align })
    }
}

/// Reserves `len` bytes whose start is aligned to `align` (>= page size),
/// trimming the slack so no address space is wasted.
pub(crate) fn reserve_aligned(len: usize, align: usize) -> Result<NonNull<u8>, Error> {
    let page = os::page_size();
    debug_assert!(len % page == 0 && align.is_power_of_two());
    if align <= page {
        return Ok(os::reserve(len)?);
    }
    let total = len
        .checked_add(align - page)
        .filter(|&t| t <= isize::MAX as usize)
        .ok_or(Error::CapacityOverflow)?;
    let raw = os::reserve(total)?;
    let start = raw.as_ptr() as usize;
    let aligned = round_up(start, align).ok_or(Error::CapacityOverflow)?;
    let head = aligned - start;
    let tail = total - head - len;
    // SAFETY: both slack ranges lie inside the reservation just made, are
    // page-aligned (start, aligned and len are) and are never used.
    unsafe {
        if head > 0 {
            os::release(raw, head);
        }
        if tail > 0 {
            os::release(NonNull::new_unchecked((aligned + len) as *mut u8), tail);
        }
        Ok(NonNull::new_unchecked(aligned as *mut u8))
    }
}

impl Reservation {
    /// Reserves at least `len` bytes (rounded up to whole pages, at least
    /// one page) of address space. Nothing is committed.
    ///
    /// # Errors
    /// [`Error::CapacityOverflow`] above `isize::MAX`; [`Error::Os`] when the
    /// OS refuses (e.g. under `ulimit -v`).
    pub fn new(len: usize) -> Result<Self, Error> {
        Self::with_align(len, 1)
    }

    /// Like [`Reservation::new`], with the base aligned to `align` (any power
    /// of two up to [`MAX_ALIGN`](crate::MAX_ALIGN); page alignment is
    /// always given).
    ///
    /// # Errors
    /// As [`Reservation::new`], plus [`Error::BadAlignment`].
    pub fn with_align(len: usize, align: usize) -> Result<Self, Error> {
        check_align(align)?;
        let page = os::page_size();
        let len = round_up(len.max(1), page)
            .filter(|&l| l <= isize::MAX as usize)
            .ok_or(Error::CapacityOverflow)?;
        let base = reserve_aligned(len, align.max(page))?;
        crate::stats::reserved(len);
        Ok(Reservation {
            base,
            len,
            committed: 0,
        })
    }

    /// The base address. It never changes for the life of the reservation.
    #[inline]
    pub fn as_ptr(&self) -> NonNull<u8> {
        self.base
    }

    /// Reserved bytes (a multiple of the page size).
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a reservation holds at least one page.
    #[inline]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Committed bytes at the start of the range (a multiple of the page
    /// size).
    #[inline]
    pub fn committed(&self) -> usize {
        self.committed
    }

    /// The OS page size, the unit of commit and decommit.
    #[inline]
    pub fn page_size() -> usize {
        os::page_size()
    }

    /// Makes sure at least `len` bytes from the base are committed. Returns
    /// the committed length afterwards (rounded up to whole pages). Does
    /// nothing when enough is committed already.
    ///
    /// # Errors
    /// [`Error::ReservationExhausted`] when `len` exceeds [`len()`](Self::len);
    /// [`Error::Os`] when the OS refuses. The reservation is unchanged then.
    pub fn commit(&mut self, len: usize) -> Result<usize, Error> {
        if len <= self.committed {
            return Ok(self.committed);
        }
        if len > self.len {
            return Err(Error::ReservationExhausted {
                requested: len,
                reserved: self.len,
            });
        }
        // `len <= self.len`, which is a page multiple: cannot overflow.
        let target = round_up(len, os::page_size())
            .unwrap_or(self.len)
            .min(self.len);
        self.commit_range(target)?;
        Ok(self.committed)
    }

    #[cold]
    #[inline(never)]
    fn commit_range(&mut self, target: usize) -> Result<(), Error> {
        debug_assert!(
            self.committed < target && target <= self.len,
            "commit {} -> {target} of {}",
            self.committed,
            self.len
        );
        // SAFETY: [committed, target) is page-aligned and inside our range.
        unsafe { os::commit(self.base.add(self.committed), target - self.committed)? };
        crate::stats::committed(target - self.committed);
        self.committed = target;
        Ok(())
    }

    /// Faults in the committed pages of `[from, to)` (rounded out to whole
    /// pages, clipped to the committed part) in one system call, so that
    /// writing them later takes no page faults (Linux `MADV_POPULATE_WRITE`;
    /// a no-op where unavailable). Worth it for memory that is about to be
    /// written: on these machines a fault costs 2–10 µs per page and one
    /// bulk call saves most of it. The pages count towards RSS at once.
    ///
    /// ```
    /// use mallocv2::Reservation;
    /// let mut r = Reservation::new(1 << 20)?;
    /// r.commit(1 << 20)?;
    /// r.prefault(0, 1 << 20);
    /// # Ok::<(), mallocv2::Error>(())
    /// ```
    pub fn prefault(&mut self, from: usize, to: usize) {
        let page = os::page_size();
        let from = from & !(page - 1);
        let to = round_up(to, page).unwrap_or(usize::MAX).min(self.committed);
        if from < to {
            // SAFETY: [from, to) is page-aligned and committed, ours.
            unsafe { os::prefault(self.base.add(from), to - from) };
        }
    }

    /// Decommits everything beyond `len` bytes (rounded up to whole pages):
    /// the memory returns to the OS at once (`MADV_DONTNEED`, so RSS drops)
    /// and those pages read as zero if committed again.
    ///
    /// # Errors
    /// [`Error::Os`] when the OS refuses; nothing was decommitted then.
    pub fn decommit(&mut self, len: usize) -> Result<(), Error> {
        let keep = round_up(len, os::page_size())
            .unwrap_or(usize::MAX)
            .min(self.len);
        if keep >= self.committed {
            return Ok(());
        }
        // SAFETY: [keep, committed) is page-aligned, inside our range, and
        // the caller (holding `&mut self`) gives up its contents.
        unsafe { os::decommit(self.base.add(keep), self.committed - keep)? };
        crate::stats::decommitted(self.committed - keep);
        self.committed = keep;
        Ok(())
    }

    /// Tries to enlarge the reservation in place to at least `new_len` bytes
    /// (the base stays put). Succeeds only when the address space right
    /// after it is free.
    ///
    /// # Errors
    /// [`Error::NoSpace`] when the following addresses are in use (or the
    /// platform cannot tell); [`Error::CapacityOverflow`] for absurd sizes.
    /// The reservation is unchanged on error.
    pub fn try_extend(&mut self, new_len: usize) -> Result<(), Error> {
        let new_len = round_up(new_len, os::page_size())
            .filter(|&l| l <= isize::MAX as usize)
            .ok_or(Error::CapacityOverflow)?;
        if new_len <= self.len {
            return Ok(());
        }
        // SAFETY: the reservation is ours; the extension starts right after
        // it and is page-aligned.
        unsafe { extend_mapping(self.base, self.committed, self.len, new_len) }?;
        crate::stats::reserved(new_len - self.len);
        self.len = new_len;
        Ok(())
    }

    /// Gives up ownership without unmapping; returns `(base, len,
    /// committed)`.
    pub fn into_raw_parts(self) -> (NonNull<u8>, usize, usize) {
        let me = core::mem::ManuallyDrop::new(self);
        (me.base, me.len, me.committed)
    }

    /// Rebuilds a reservation from [`into_raw_parts`](Self::into_raw_parts).
    ///
    /// # Safety
    /// The parts come from `into_raw_parts` and no other owner exists.
    pub unsafe fn from_raw_parts(base: NonNull<u8>, len: usize, committed: usize) -> Self {
        debug_assert!(committed <= len && len % os::page_size() == 0);
        Reservation {
            base,
            len,
            committed,
        }
    }
}

/// Extends the mapping `[base, base + len)` (committed prefix `committed`)
/// in place to `new_len`. On Linux the PROT_NONE tail is grown with `mremap`
/// without `MREMAP_MAYMOVE`; otherwise (or when there is no tail) the next
/// addresses are reserved with a no-replace `mmap`.
///
/// # Safety
/// The caller owns the whole range; `committed <= len < new_len`, all page
/// multiples.
pub(crate) unsafe fn extend_mapping(
    base: NonNull<u8>,
    committed: usize,
    len: usize,
    new_len: usize,
) -> Result<(), Error> {
    // SAFETY: offsets are within or right after the caller's range.
    let r = unsafe {
        if committed < len && os::CAN_MOVE_PAGES {
            os::grow_in_place(base.add(committed), len - committed, new_len - committed)
        } else {
            os::reserve_at(base.add(len), new_len - len)
        }
    };
    // Whatever the reason (addresses in use, no mremap, RLIMIT_AS), the
    // answer to "grow here?" is no, and nothing changed.
    r.map_err(|_| Error::NoSpace)
}

impl Drop for Reservation {
    fn drop(&mut self) {
        crate::stats::decommitted(self.committed);
        crate::stats::released(self.len);
        // SAFETY: we own the range and nothing refers to it after drop.
        unsafe { os::release(self.base, self.len) };
    }
}

impl fmt::Debug for Reservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reservation")
            .field("base", &self.base)
            .field("len", &self.len)
            .field("committed", &self.committed)
            .finish()
    }
}
