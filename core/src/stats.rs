//! Telemetry: how often memory was resized without moving, moved without
//! copying, or copied, and how much address space is reserved and committed.
//!
//! Event counters live in one cache line per thread (the first 255 threads
//! get their own; later ones share the last), written with plain loads and
//! stores by their owner and summed by [`Heap::stats`](crate::Heap::stats);
//! [`Heap::thread_stats`](crate::Heap::thread_stats) reads the calling
//! thread's line, so a test can measure its own operations while others
//! run. None of this is on the small-block `malloc`/`free` path.

use core::cell::Cell;
use core::fmt;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

/// A snapshot of the counters, from [`Heap::stats`](crate::Heap::stats) or
/// [`Heap::thread_stats`](crate::Heap::thread_stats).
///
/// Counters (`in_place_*`, `remaps`, `relocations`, `bytes_copied`,
/// `batch_*`) only ever grow; use [`Stats::since`] to measure a stretch of
/// work. `reserved_bytes` and `committed_bytes` are current process-wide
/// levels (page spans of the `Heap`, the batch region, and every
/// [`Reservation`](crate::Reservation)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Resizes up that kept the address (within the usable size, by
    /// committing reserved pages, or by extending the reservation). Small
    /// blocks resized through the C library's `realloc` are not counted
    /// here (that path stays free of telemetry); their moves are counted
    /// as relocations.
    pub in_place_grows: u64,
    /// Resizes down that kept the address.
    pub in_place_shrinks: u64,
    /// Moves without copying (pages remapped with `mremap`).
    pub remaps: u64,
    /// Moves that copied bytes (allocate, copy, free). For small blocks
    /// resized by the C library's `realloc` a move is counted with the old
    /// size as the bytes copied (an upper bound).
    pub relocations: u64,
    /// Bytes copied by those relocations.
    pub bytes_copied: u64,
    /// Calls to the batch functions.
    pub batch_calls: u64,
    /// Blocks handed out by batch calls.
    pub batch_blocks: u64,
    /// Large blocks served from the cache of freed spans (no page faults).
    pub span_cache_hits: u64,
    /// Address space currently reserved (process-wide).
    pub reserved_bytes: u64,
    /// Bytes currently committed in those reservations (process-wide).
    pub committed_bytes: u64,
}

impl Stats {
    /// The counters' growth from `earlier` to `self`; the levels
    /// (`reserved_bytes`, `committed_bytes`) are `self`'s.
    ///
    /// ```
    /// use mallocv2::Heap;
    /// let before = Heap::thread_stats();
    /// // ... work ...
    /// let d = Heap::thread_stats().since(&before);
    /// assert_eq!(d.bytes_copied, 0);
    /// ```
    pub fn since(&self, earlier: &Stats) -> Stats {
        Stats {
            in_place_grows: self.in_place_grows.wrapping_sub(earlier.in_place_grows),
            in_place_shrinks: self.in_place_shrinks.wrapping_sub(earlier.in_place_shrinks),
            remaps: self.remaps.wrapping_sub(earlier.remaps),
            relocations: self.relocations.wrapping_sub(earlier.relocations),
            bytes_copied: self.bytes_copied.wrapping_sub(earlier.bytes_copied),
            batch_calls: self.batch_calls.wrapping_sub(earlier.batch_calls),
            batch_blocks: self.batch_blocks.wrapping_sub(earlier.batch_blocks),
            span_cache_hits: self.span_cache_hits.wrapping_sub(earlier.span_cache_hits),
            reserved_bytes: self.reserved_bytes,
            committed_bytes: self.committed_bytes,
        }
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "in-place grows {}, in-place shrinks {}, copy-free remaps {}, copying relocations {} \
             ({} bytes copied), batch calls {} ({} blocks), span cache hits {}, \
             reserved {} bytes, committed {} bytes",
            self.in_place_grows,
            self.in_place_shrinks,
            self.remaps,
            self.relocations,
            self.bytes_copied,
            self.batch_calls,
            self.batch_blocks,
            self.span_cache_hits,
            self.reserved_bytes,
            self.committed_bytes
        )
    }
}

/// Indices of the event counters.
#[derive(Clone, Copy)]
pub(crate) enum Ev {
    Grow = 0,
    Shrink,
    Remap,
    Reloc,
    Copied,
    BatchCall,
    BatchBlock,
    CacheHit,
}
const EVENTS: usize = 8;

/// One thread's counters, on a cache line of its own.
#[repr(align(64))]
struct Slot([AtomicU64; EVENTS]);

const _: () = assert!(core::mem::size_of::<Slot>() == 64);

/// Threads get a slot each, in order; from the last one on they share it.
const SLOTS: usize = 256;
const SHARED: usize = SLOTS - 1;

static COUNTERS: [Slot; SLOTS] = [const { Slot([const { AtomicU64::new(0) }; EVENTS]) }; SLOTS];
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);
static RESERVED: AtomicU64 = AtomicU64::new(0);
static COMMITTED: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's slot (`usize::MAX` until the first event).
    static MY_SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
}

#[cold]
fn claim_slot() -> usize {
    NEXT_SLOT.fetch_add(1, Relaxed).min(SHARED)
}

#[inline]
fn my_slot() -> usize {
    MY_SLOT
        .try_with(|m| match m.get() {
            usize::MAX => {
                let i = claim_slot();
                m.set(i);
                i
            }
            i => i,
        })
        // During thread teardown: count in the shared slot.
        .unwrap_or(SHARED)
}

/// Adds `n` to an event counter of this thread. A thread owns its slot, so
/// a plain load and store suffice (no locked instruction on the hot path);
/// the shared slot uses `fetch_add`.
#[inline]
pub(crate) fn add(ev: Ev, n: u64) {
    let i = my_slot();
    let c = &COUNTERS[i].0[ev as usize];
    if i == SHARED {
        c.fetch_add(n, Relaxed);
    } else {
        c.store(c.load(Relaxed).wrapping_add(n), Relaxed);
    }
}

/// Records a copying relocation of `bytes`.
#[inline]
pub(crate) fn copied(bytes: usize) {
    add(Ev::Reloc, 1);
    add(Ev::Copied, bytes as u64);
}

pub(crate) fn reserved(n: usize) {
    RESERVED.fetch_add(n as u64, Relaxed);
}
pub(crate) fn released(n: usize) {
    RESERVED.fetch_sub(n as u64, Relaxed);
}
pub(crate) fn committed(n: usize) {
    COMMITTED.fetch_add(n as u64, Relaxed);
}
pub(crate) fn decommitted(n: usize) {
    COMMITTED.fetch_sub(n as u64, Relaxed);
}

fn build(ev: impl Fn(Ev) -> u64) -> Stats {
    Stats {
        in_place_grows: ev(Ev::Grow),
        in_place_shrinks: ev(Ev::Shrink),
        remaps: ev(Ev::Remap),
        relocations: ev(Ev::Reloc),
        bytes_copied: ev(Ev::Copied),
        batch_calls: ev(Ev::BatchCall),
        batch_blocks: ev(Ev::BatchBlock),
        span_cache_hits: ev(Ev::CacheHit),
        reserved_bytes: RESERVED.load(Relaxed),
        committed_bytes: COMMITTED.load(Relaxed),
    }
}

pub(crate) fn global() -> Stats {
    let used = NEXT_SLOT.load(Relaxed).min(SLOTS);
    build(|e| {
        COUNTERS[..used]
            .iter()
            .chain(core::iter::once(&COUNTERS[SHARED]).filter(|_| used < SLOTS))
            .map(|s| s.0[e as usize].load(Relaxed))
            .fold(0u64, u64::wrapping_add)
    })
}

pub(crate) fn thread() -> Stats {
    let i = my_slot();
    build(|e| COUNTERS[i].0[e as usize].load(Relaxed))
}
