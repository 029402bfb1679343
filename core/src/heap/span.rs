//! Large blocks: page spans, each inside its own reservation with a reserved
//! tail, plus a bounded cache of freed spans.
//!
//! ```text
//!  base = data - page   data   ptr = data + color   data + committed   data + reserved
//!   | header page |-----|---- committed data (RW) ----|---- tail (PROT_NONE) ----|
//! ```
//!
//! The header page holds a [`Header`], so the span is recovered from the
//! block's address alone, without allocating (the `Heap` may be the global
//! allocator). The header page and the committed data form one mapping, so
//! `mremap` can move them together.
//!
//! The block starts `color` bytes into its first page (a multiple of 64 and
//! of the alignment, below the page size; 0 for page alignment and above):
//! successive spans get different colors, so buffers written in lockstep
//! (many vectors grown together) do not all map to the same cache sets, as
//! page-aligned blocks would. The color is `ptr % page`, so it needs no
//! storage; the header counts bytes from `data`, the page-aligned start.

use core::ptr::{self, NonNull};
use std::sync::Mutex;

use crate::error::Error;
use crate::os;
use crate::reservation::{extend_mapping, reserve_aligned, round_up};
use crate::stats::{self, Ev};

const MAGIC: usize = 0x6d61_6c6c_6f63_7632; // "mallocv2"

/// Reservation size a span gets by default, as a multiple of the requested
/// size (nedmalloc's default multiple).
pub const DEFAULT_RESERVE_MULTIPLE: usize = 8;
/// The default tail never exceeds this many bytes beyond the block (so a
/// 1 GiB block reserves at most 5 GiB by default).
pub const MAX_DEFAULT_TAIL: usize = 4 << 30;

/// Kept in the page before the block's first page.
#[repr(C)]
struct Header {
    magic: usize,
    /// Bytes of address space from `data` to the reservation's end.
    reserved: usize,
    /// Bytes committed from `data` (a page multiple, `<= reserved`).
    /// Freshly committed pages read as zero; pages committed earlier may hold
    /// old data, which is why zeroed requests clear only `[.., committed)`.
    committed: usize,
    /// Non-zero once the span's committed pages have served a request from
    /// the cache of freed spans (fresh header pages read as zero; `set`
    /// leaves this field alone).
    reused: usize,
}

/// A span's state. For a block (from [`get`] and the functions handing out
/// blocks), `ptr` is the block and the sizes count from it: `committed` is
/// the usable size. Inside this file a span without a block (a fresh or
/// cached one) has `ptr` = `data` and the header's sizes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span {
    pub ptr: NonNull<u8>,
    pub reserved: usize,
    pub committed: usize,
}

/// The block's offset in its first page.
#[inline]
fn color_of(ptr: NonNull<u8>) -> usize {
    ptr.as_ptr() as usize & (os::page_size() - 1)
}

/// The page-aligned start of the span's data.
#[inline]
fn data_of(ptr: NonNull<u8>) -> NonNull<u8> {
    // SAFETY: `ptr - color` is the start of the page holding `ptr`, inside
    // the same mapping, not null (the header page is before it).
    unsafe { NonNull::new_unchecked(ptr.as_ptr().wrapping_sub(color_of(ptr))) }
}

#[inline]
fn header(ptr: NonNull<u8>) -> *mut Header {
    // The header page is committed for the span's whole life.
    data_of(ptr).as_ptr().wrapping_sub(os::page_size()).cast()
}

/// The span of a live block with `ptr` = `data` and the header's sizes.
///
/// # Safety
/// `ptr` is a live span block (or a span's `data`).
#[inline]
unsafe fn raw(ptr: NonNull<u8>) -> Span {
    // SAFETY: the header page of a live span is committed and ours.
    let h = unsafe { &*header(ptr) };
    debug_assert_eq!(h.magic, MAGIC, "no span header before {ptr:p}");
    Span {
        ptr: data_of(ptr),
        reserved: h.reserved,
        committed: h.committed,
    }
}

/// The block `color` bytes into span `s` (a `data` span), sizes from it.
#[inline]
fn block(s: Span, color: usize) -> Span {
    debug_assert!(color < s.committed.max(1) && s.ptr == data_of(s.ptr));
    Span {
        // SAFETY: `color` is below the committed size, inside the span.
        ptr: unsafe { s.ptr.add(color) },
        reserved: s.reserved - color,
        committed: s.committed - color,
    }
}

/// Reads the span of a live block (sizes from the block's start).
///
/// # Safety
/// `ptr` is a live span block.
#[inline]
pub(crate) unsafe fn get(ptr: NonNull<u8>) -> Span {
    // SAFETY: forwarded from the caller.
    block(unsafe { raw(ptr) }, color_of(ptr))
}

/// Picks the color of a new block aligned to `align`: successive calls
/// step through the page's 64-byte lines (or `align` units) in an order
/// that spreads neighbours apart.
fn pick_color(align: usize) -> usize {
    use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let page = os::page_size();
    let unit = align.max(64);
    if unit >= page {
        return 0;
    }
    let units = page / unit;
    // An odd stride visits every unit before repeating (units is a power
    // of two).
    (NEXT.fetch_add(1, Relaxed).wrapping_mul(23) % units) * unit
}

/// # Safety
/// `ptr` is a live span's `data`.
unsafe fn set(ptr: NonNull<u8>, reserved: usize, committed: usize) {
    debug_assert!(
        committed <= reserved && committed % os::page_size() == 0 && color_of(ptr) == 0,
        "span {ptr:p}: committed {committed} reserved {reserved}"
    );
    let h = header(ptr);
    // SAFETY: as in `get`; the fields are written one by one so that
    // `reused` keeps its value.
    unsafe {
        (*h).magic = MAGIC;
        (*h).reserved = reserved;
        (*h).committed = committed;
    }
}

/// The reservation size for a block of `size` bytes (a page multiple) given
/// the caller's hint. Never less than `size`: the tail is capped, the block
/// is not (an absurd size then fails in the OS call, not in an assertion).
pub(crate) fn reserve_for(size: usize, hint: usize) -> usize {
    let page = os::page_size();
    let default = size
        .saturating_mul(DEFAULT_RESERVE_MULTIPLE)
        .min(size.saturating_add(MAX_DEFAULT_TAIL));
    let want = if hint == 0 { default } else { hint.max(size) };
    round_up(want.min(isize::MAX as usize / 2), page)
        .unwrap_or(usize::MAX / 4)
        .max(size)
}

/// Reserves a fresh span: `reserved` bytes (page multiple) for the block,
/// aligned to `align`, plus the header page; commits the header page and
/// `commit` bytes of data. Nothing is left behind on failure.
fn reserve_span(reserved: usize, align: usize, commit: usize) -> Result<NonNull<u8>, Error> {
    let page = os::page_size();
    debug_assert!(commit <= reserved && reserved % page == 0 && commit % page == 0);
    let total = reserved.checked_add(page).ok_or(Error::CapacityOverflow)?;
    // Aligning `base + page` to `align` = aligning a range that starts one
    // page earlier: reserve `align` extra and trim.
    let base = if align <= page {
        os::reserve(total)?
    } else {
        let raw = reserve_aligned(
            total.checked_add(align).ok_or(Error::CapacityOverflow)?,
            page,
        )?;
        let start = raw.as_ptr() as usize;
        let ptr = round_up(start + page, align).ok_or(Error::CapacityOverflow)?;
        let head = ptr - page - start;
        let tail = align - head;
        // SAFETY: both slack ranges are page-aligned parts of the fresh
        // reservation and are never used.
        unsafe {
            if head > 0 {
                os::release(raw, head);
            }
            os::release(NonNull::new_unchecked((ptr + reserved) as *mut u8), tail);
            NonNull::new_unchecked((ptr - page) as *mut u8)
        }
    };
    // SAFETY: [base, base + page + commit) is inside the fresh reservation.
    if let Err(e) = unsafe { os::commit(base, page + commit) } {
        // SAFETY: the reservation is ours and unused.
        unsafe { os::release(base, total) };
        return Err(e.into());
    }
    stats::reserved(total);
    stats::committed(page + commit);
    // SAFETY: `base + page` is inside the reservation, not null.
    Ok(unsafe { base.add(page) })
}

/// The bytes to commit for a block of `size` bytes starting `color` bytes
/// into its first page (whole pages from the page start), and the reserve
/// hint measured the same way (0 stays "no hint").
fn colored(
    size: usize,
    reserve: usize,
    color: usize,
    page: usize,
) -> Result<(usize, usize), Error> {
    let commit = size
        .checked_add(color)
        .and_then(|n| round_up(n, page))
        .ok_or(Error::CapacityOverflow)?;
    let reserve = if reserve == 0 {
        0
    } else {
        reserve.saturating_add(color)
    };
    Ok((commit, reserve))
}

/// Allocates a span for at least `size` bytes aligned to `align`, with
/// `reserve` bytes of address space (0 = the default multiple). Returns the
/// block and its span (sizes from the block's start).
pub(crate) fn allocate(
    size: usize,
    align: usize,
    reserve: usize,
    zeroed: bool,
) -> Result<Span, Error> {
    let page = os::page_size();
    let color = pick_color(align);
    let (commit, reserve) = colored(size, reserve, color, page)?;
    // The block is aligned when `data` is: `color` is a multiple of
    // `align` below the page size, or 0.
    if let Some(span) = cache_take(commit, align, reserve) {
        return finish_cached(span, commit, zeroed).map(|s| block(s, color));
    }
    let reserved = reserve_for(commit, reserve);
    let (ptr, reserved) = match reserve_span(reserved, align, commit) {
        Ok(p) => (p, reserved),
        // A large default tail may not fit under `ulimit -v`: retry exact.
        Err(_) if reserved > commit => (reserve_span(commit, align, commit)?, commit),
        Err(e) => return Err(e),
    };
    // SAFETY: `ptr` is a fresh span's data with a committed header page.
    unsafe { set(ptr, reserved, commit) };
    let s = Span {
        ptr,
        reserved,
        committed: commit,
    };
    Ok(block(s, color))
}

fn finish_cached(span: Span, commit: usize, zeroed: bool) -> Result<Span, Error> {
    stats::add(Ev::CacheHit, 1);
    debug_assert!(span.committed <= keep_for(commit));
    // Every committed byte of a recycled span may hold old data.
    let dirty = span.committed;
    let mut committed = span.committed;
    if commit > committed {
        // SAFETY: [committed, commit) is inside the span's reservation.
        if let Err(e) = unsafe { os::commit(span.ptr.add(committed), commit - committed) } {
            // SAFETY: the span is ours; release it whole.
            unsafe { release(span) };
            return Err(e.into());
        }
        stats::committed(commit - committed);
        committed = commit;
    }
    if zeroed {
        // The block handed out is `commit` bytes (`Heap::alloc_span`):
        // those are cleared where they were committed before; pages
        // committed just now are fresh zero pages. Bytes past `commit` are
        // only reached by growing, and zeroed growth clears from the old
        // size (`grow_in_place`).
        // SAFETY: the first `dirty.min(commit) <= committed` bytes are
        // committed.
        unsafe { ptr::write_bytes(span.ptr.as_ptr(), 0, dirty.min(commit)) };
    }
    // SAFETY: live span block.
    unsafe { set(span.ptr, span.reserved, committed) };
    Ok(Span { committed, ..span })
}

/// Grows a span in place to at least `new_size` bytes: commits reserved
/// pages, or first extends the reservation where the addresses after it are
/// free. Zeroes `[zero_from, new_size)` when asked. Returns the usable size.
///
/// # Safety
/// `ptr` is a live span block.
pub(crate) unsafe fn grow_in_place(
    ptr: NonNull<u8>,
    new_size: usize,
    zero_from: Option<usize>,
) -> Result<usize, Error> {
    let page = os::page_size();
    let color = color_of(ptr);
    let data = data_of(ptr);
    // SAFETY: live span (caller).
    let s = unsafe { raw(ptr) };
    let need = new_size
        .checked_add(color)
        .and_then(|n| round_up(n, page))
        .ok_or(Error::CapacityOverflow)?;
    let mut reserved = s.reserved;
    if need > reserved {
        // Try to enlarge the reservation where it is: double it, or just
        // enough.
        let base = data.as_ptr().wrapping_sub(page);
        let base = NonNull::new(base).ok_or(Error::NoSpace)?;
        let doubled = need.max(reserved.saturating_mul(2));
        // SAFETY: the span's mapping is [base, ptr + reserved), ours.
        let r =
            unsafe { extend_mapping(base, page + s.committed, page + reserved, page + doubled) }
                .map(|()| doubled)
                .or_else(|_| {
                    // SAFETY: as above.
                    unsafe {
                        extend_mapping(base, page + s.committed, page + reserved, page + need)
                    }
                    .map(|()| need)
                })?;
        stats::reserved(r - reserved);
        reserved = r;
        // SAFETY: live span; the header records the larger reservation even
        // if the commit below fails, which is true and harmless.
        unsafe { set(data, reserved, s.committed) };
    }
    let mut committed = s.committed;
    if need > committed {
        // SAFETY: [committed, need) lies in the span's reservation.
        unsafe { os::commit(data.add(committed), need - committed)? };
        stats::committed(need - committed);
        committed = need;
    }
    if let Some(from) = zero_from {
        // Fresh pages are zero; only formerly committed bytes need clearing
        // (`from` and `new_size` count from the block).
        let end = new_size.min(s.committed - color);
        if from < end {
            // SAFETY: [from, end) of the block is committed.
            unsafe { ptr::write_bytes(ptr.as_ptr().add(from), 0, end - from) };
        }
    }
    // SAFETY: live span.
    unsafe { set(data, reserved, committed) };
    Ok(committed - color)
}

/// Shrinks a span in place to `new_size` bytes, decommitting whole pages past
/// it (memory goes back to the OS). Returns the usable size.
///
/// # Safety
/// `ptr` is a live span block; `new_size` > 0.
pub(crate) unsafe fn shrink_in_place(ptr: NonNull<u8>, new_size: usize) -> Result<usize, Error> {
    let page = os::page_size();
    let color = color_of(ptr);
    let data = data_of(ptr);
    // SAFETY: live span (caller).
    let s = unsafe { raw(ptr) };
    let keep = new_size
        .checked_add(color)
        .and_then(|n| round_up(n, page))
        .ok_or(Error::CapacityOverflow)?;
    if keep < s.committed {
        // SAFETY: [keep, committed) is committed, ours, beyond the new size.
        unsafe { os::decommit(data.add(keep), s.committed - keep)? };
        stats::decommitted(s.committed - keep);
        // SAFETY: live span.
        unsafe { set(data, s.reserved, keep) };
        return Ok(keep - color);
    }
    Ok(s.committed - color)
}

/// Moves a span without copying into a fresh reservation that has room for
/// `new_size` bytes (`reserve` bytes of address space, 0 = default),
/// aligned to `align`. Returns the new block's usable size.
///
/// # Safety
/// `ptr` is a live span block; on success it is no longer valid.
pub(crate) unsafe fn remap(
    ptr: NonNull<u8>,
    new_size: usize,
    align: usize,
    reserve: usize,
) -> Result<Span, Error> {
    if !os::CAN_MOVE_PAGES {
        return Err(Error::NoSpace);
    }
    let page = os::page_size();
    // The pages move whole, so the block keeps its color: it must suit the
    // new alignment (a page-aligned `data` is then aligned as asked).
    let color = color_of(ptr);
    if color % align != 0 {
        return Err(Error::NoSpace);
    }
    let data = data_of(ptr);
    // SAFETY: live span (caller).
    let s = unsafe { raw(ptr) };
    let (need, reserve) = colored(new_size, reserve, color, page)?;
    let reserved = reserve_for(need, reserve).max(s.committed);
    // Only the header page is committed in the new place; the moved pages
    // replace the PROT_NONE range after it.
    let exact = need.max(s.committed);
    let (new_ptr, new_reserved) = match reserve_span(reserved, align, 0) {
        Ok(p) => (p, reserved),
        Err(_) if reserved > exact => (reserve_span(exact, align, 0)?, exact),
        Err(e) => return Err(e),
    };
    // SAFETY: both spans are ours. Commit the pages past the moved ones
    // first, so a refused commit leaves the old block where it was.
    unsafe {
        let new_base = NonNull::new_unchecked(new_ptr.as_ptr().sub(page));
        let release_new = || {
            stats::released(page + new_reserved);
            stats::decommitted(page);
            os::release(new_base, page + new_reserved);
        };
        if need > s.committed {
            if let Err(e) = os::commit(new_ptr.add(s.committed), need - s.committed) {
                release_new();
                return Err(e.into());
            }
        }
        let old_base = NonNull::new_unchecked(data.as_ptr().sub(page));
        if os::move_pages(old_base, page + s.committed, new_base).is_err() {
            // Unmapping the new reservation drops its committed pages too.
            release_new();
            return Err(Error::NoSpace);
        }
        // The old header page and data now live at new_base; the old tail
        // is still reserved and is released here.
        if s.reserved > s.committed {
            os::release(data.add(s.committed), s.reserved - s.committed);
        }
        // Accounting: the old reservation is gone; the moved pages replaced
        // part of the new one (whose header page we had committed and which
        // was replaced too).
        stats::released(page + s.reserved);
        stats::decommitted(page);
        let committed = need.max(s.committed);
        if need > s.committed {
            stats::committed(need - s.committed);
        }
        set(new_ptr, new_reserved, committed);
        stats::add(Ev::Remap, 1);
        Ok(block(
            Span {
                ptr: new_ptr,
                reserved: new_reserved,
                committed,
            },
            color,
        ))
    }
}

/// Unmaps a span.
///
/// # Safety
/// `s` is a live span (a `data` span, as [`raw`] gives), never used again.
unsafe fn release(s: Span) {
    debug_assert_eq!(color_of(s.ptr), 0);
    let page = os::page_size();
    stats::released(page + s.reserved);
    stats::decommitted(page + s.committed);
    // SAFETY: the span's whole reservation is ours.
    unsafe {
        os::release(
            NonNull::new_unchecked(s.ptr.as_ptr().sub(page)),
            page + s.reserved,
        )
    };
}

/// Frees a span block: into the cache if it fits there, else unmapped.
///
/// # Safety
/// `ptr` is a live span block, never used again by the caller.
pub(crate) unsafe fn free(ptr: NonNull<u8>) {
    // SAFETY: live span (caller).
    let s = unsafe { raw(ptr) };
    if let Some(evicted) = cache_put(s) {
        // SAFETY: evicted spans are ours alone.
        unsafe { release(evicted) };
    }
}

// --- cache of freed spans ---------------------------------------------------
//
// Freed spans are kept for reuse, so that a program that frees and allocates
// large blocks again and again (a buffer rebuilt each round, two sizes in
// turn) gets pages it has already faulted in instead of mapping and faulting
// fresh ones. The policy:
//
// - A request takes the cached span that fits it best (reservation large
//   enough, alignment right, at most `keep_for(request)` committed): one
//   whose committed pages cover the request with the least excess; else the
//   one with most pages committed (fewest fresh faults). Spans with far more
//   committed are left for requests of their size, so two sizes in turn
//   each keep their own span.
// - Neither a miss nor a partly backed hit empties the cache; both commit
//   fresh pages, so first they purge (decommit, keeping the reservation for
//   a later request) the cached spans smaller than the request whose pages
//   never served a request again (a growing program frees each buffer once:
//   its old blocks must not add to its peak), and those idle for
//   `PURGE_AFTER` span allocations (checked at every span allocation).
// - Bounds: at most `CACHE_SLOTS` spans, at most `CACHE_MAX_BYTES` committed
//   bytes in all (the oldest committed spans are decommitted to make room),
//   no span with more than `CACHE_MAX_SPAN` committed. A full cache evicts
//   (unmaps) its oldest entry, decommitted ones first.

/// Spans kept for reuse at most.
const CACHE_SLOTS: usize = 16;
/// Committed bytes kept in the cache at most.
pub const CACHE_MAX_BYTES: usize = 64 << 20;
/// Spans with more committed bytes than this are unmapped, not cached.
const CACHE_MAX_SPAN: usize = 32 << 20;
/// A cached span that no request took during this many span allocations is
/// decommitted at the next miss.
const PURGE_AFTER: u64 = 64;

/// The committed bytes a recycled span keeps for a request of `commit`
/// bytes: up to 16 times the request (or 4 MiB), so a buffer that is freed
/// and grown again (a string rebuilt each round) finds its pages without a
/// fault, and its usable size tells it the room it has.
fn keep_for(commit: usize) -> usize {
    commit.saturating_mul(16).max(4 << 20)
}

#[derive(Clone, Copy)]
struct Entry {
    span: Span,
    /// The cache clock when the span was freed into the cache.
    stamp: u64,
    /// The span's committed pages have served a request from the cache
    /// before (not only its reservation).
    reused: bool,
}

struct Cache {
    entries: [Option<Entry>; CACHE_SLOTS],
    /// Sum of the cached spans' committed bytes, `<= CACHE_MAX_BYTES`.
    bytes: usize,
    /// Span allocations so far (hits and misses).
    clock: u64,
}

// SAFETY: the cached spans are owned by the cache; their pointers are plain
// addresses of memory no one else uses.
unsafe impl Send for Cache {}

static CACHE: Mutex<Cache> = Mutex::new(Cache {
    entries: [None; CACHE_SLOTS],
    bytes: 0,
    clock: 0,
});

fn lock() -> std::sync::MutexGuard<'static, Cache> {
    CACHE.lock().unwrap_or_else(|e| e.into_inner())
}

impl Cache {
    fn check(&self) {
        debug_assert_eq!(
            self.bytes,
            self.entries
                .iter()
                .flatten()
                .map(|e| e.span.committed)
                .sum::<usize>(),
            "span cache byte count"
        );
        debug_assert!(self.bytes <= CACHE_MAX_BYTES, "span cache over its bound");
    }

    /// Decommits the data pages of the cached span in slot `i` (its header
    /// page and reservation stay); unmaps it if the decommit is refused.
    fn decommit(&mut self, i: usize) {
        let Some(e) = self.entries[i].as_mut() else {
            return;
        };
        let s = e.span;
        if s.committed == 0 {
            return;
        }
        self.bytes -= s.committed;
        // SAFETY: the span is cached, so ours alone; its data pages are
        // committed and nothing refers to their contents.
        if unsafe { os::decommit(s.ptr, s.committed) }.is_ok() {
            stats::decommitted(s.committed);
            // SAFETY: the header page of a cached span is committed.
            unsafe { set(s.ptr, s.reserved, 0) };
            e.span.committed = 0;
        } else {
            self.entries[i] = None;
            // SAFETY: the span was cached, so ours alone; it left the cache.
            unsafe { release(s) };
        }
    }

    /// At each span allocation (of `commit` bytes): decommits the spans idle
    /// for `PURGE_AFTER` allocations and, when the allocation `grows` the
    /// footprint (commits fresh pages), the spans with fewer committed bytes
    /// that were never reused (the old blocks of a growing program).
    fn purge(&mut self, commit: usize, grows: bool) {
        for i in 0..CACHE_SLOTS {
            let Some(e) = self.entries[i] else { continue };
            let outgrown = grows && !e.reused && e.span.committed < commit;
            if e.span.committed > 0 && (outgrown || self.clock - e.stamp > PURGE_AFTER) {
                self.decommit(i);
            }
        }
    }
}

/// Takes the cached span that best holds `commit` bytes at `align` without a
/// new reservation (see the policy above); at a miss, purges the cache.
fn cache_take(commit: usize, align: usize, reserve: usize) -> Option<Span> {
    let mut c = lock();
    c.clock += 1;
    let keep = keep_for(commit);
    // Larger keys are better: (tier, fit, stamp).
    let mut best: Option<(usize, (bool, usize, u64))> = None;
    for (i, e) in c.entries.iter().enumerate() {
        let Some(e) = e else { continue };
        let s = e.span;
        if s.reserved < commit.max(reserve) || s.ptr.as_ptr() as usize % align != 0 {
            continue;
        }
        let key = if s.committed > keep {
            // Far more committed than asked for: left for a request of its
            // size (taking it and decommitting the excess would fault the
            // excess in again when that size comes back).
            continue;
        } else if s.committed >= commit {
            // Backed: the least excess first.
            (true, usize::MAX - (s.committed - commit), e.stamp)
        } else {
            // Partly backed (or decommitted): the most pages first.
            (false, s.committed, e.stamp)
        };
        if best.is_none_or(|(_, k)| key > k) {
            best = Some((i, key));
        }
    }
    let taken = best.and_then(|(i, (backed, _, _))| {
        let e = c.entries[i].take()?;
        c.bytes -= e.span.committed;
        if backed {
            // Its pages served a request again: a size that comes back.
            // SAFETY: the span is ours now; its header page is committed.
            unsafe { (*header(e.span.ptr)).reused = 1 };
        }
        Some((e.span, backed))
    });
    // When fresh pages are about to be committed (a miss, or a hit that
    // commits more), the program's footprint grows: the smaller spans it
    // never reused give their pages back first. Idle spans always do.
    let grows = !taken.is_some_and(|(_, backed)| backed);
    c.purge(commit, grows);
    c.check();
    taken.map(|(s, _)| s)
}

/// Puts a freed span into the cache; returns a span to unmap: the freed one
/// when it does not qualify, or the entry it evicted.
fn cache_put(s: Span) -> Option<Span> {
    if s.committed > CACHE_MAX_SPAN {
        return Some(s);
    }
    // SAFETY: a live span's header page is committed.
    let reused = unsafe { (*header(s.ptr)).reused != 0 };
    let mut c = lock();
    // Make room in bytes: decommit the oldest committed entries.
    while c.bytes + s.committed > CACHE_MAX_BYTES {
        let oldest = c
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.filter(|e| e.span.committed > 0).map(|e| (i, e.stamp)))
            .min_by_key(|&(_, stamp)| stamp);
        let Some((i, _)) = oldest else { break };
        c.decommit(i);
    }
    // A slot: a free one, else evict the oldest entry (decommitted first).
    let slot = c.entries.iter().position(Option::is_none);
    let (slot, evicted) = match slot {
        Some(i) => (i, None),
        None => {
            let (i, _) = c
                .entries
                .iter()
                .enumerate()
                .filter_map(|(i, e)| e.map(|e| (i, (e.span.committed > 0, e.stamp))))
                .min_by_key(|&(_, k)| k)
                .expect("a full cache has entries");
            let v = c.entries[i].take().map(|e| e.span);
            if let Some(v) = v {
                c.bytes -= v.committed;
            }
            (i, v)
        }
    };
    let stamp = c.clock;
    c.entries[slot] = Some(Entry {
        span: s,
        stamp,
        reused,
    });
    c.bytes += s.committed;
    c.check();
    evicted
}

/// Unmaps every cached span (returns their memory to the OS).
pub(crate) fn trim() {
    let entries: [Option<Entry>; CACHE_SLOTS] = {
        let mut c = lock();
        if c.entries.iter().all(Option::is_none) {
            return;
        }
        c.bytes = 0;
        core::mem::replace(&mut c.entries, [None; CACHE_SLOTS])
    };
    for e in entries.into_iter().flatten() {
        // SAFETY: cached spans are ours alone.
        unsafe { release(e.span) };
    }
}
