//! Batch blocks: slots carved from 64 KiB slabs inside one reserved region.
//!
//! ```text
//!  region (reserved once, lazily; committed 2 MiB at a time)
//!  | slab 0 | slab 1 | slab 2 | ...                         | (PROT_NONE) |
//!
//!  slab (64 KiB, 64 KiB-aligned), one slot size per slab
//!  | SlabHeader (bitmap of free slots) | pad | slot | slot | ... | slot |
//!  ^ ptr & !(SLAB - 1)                       ^ first
//! ```
//!
//! Any pointer is classified by one range check ([`contains`]), so batch
//! blocks can be freed or resized through the ordinary `Heap` calls. A slab
//! whose last slot is freed goes back to a stack of empty slabs and can take
//! another slot size. All state changes happen under one lock, taken once
//! per batch call (and once per single free).

use core::mem::MaybeUninit;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::os;
use crate::reservation::{reserve_aligned, round_up};
use crate::stats;

const SLAB_SHIFT: u32 = 16;
const SLAB: usize = 1 << SLAB_SHIFT;
/// Largest slot served from slabs; larger batch items are allocated singly.
pub(crate) const MAX_SLOT: usize = 2048;
/// Largest alignment served from slabs.
pub(crate) const MAX_SLOT_ALIGN: usize = 4096;
/// Slot sizes are multiples of this (so a 24-byte node takes 24 bytes)…
const GRANULE: usize = 8;
/// … and at least this, which bounds the slots per slab by the bitmap.
const MIN_SLOT: usize = 16;
const CLASSES: usize = MAX_SLOT / GRANULE;
const WORDS: usize = 64;
/// Slabs committed at a time when the region grows (2 MiB).
const COMMIT_SLABS: usize = 32;
/// Empty slabs kept as they are (256 MiB), so a program that frees and
/// re-allocates batches does not fault its pages in again; beyond this their
/// pages are handed back lazily (`MADV_FREE`: reclaimed only under memory
/// pressure). [`trim`] returns all of them at once.
const KEEP_EMPTY: usize = 4096;
/// Region sizes tried, largest first (each is plain address space).
const REGION_SIZES: [usize; 4] = [16 << 30, 4 << 30, 1 << 30, 256 << 20];

#[repr(C)]
struct SlabHeader {
    /// Slot size in bytes (multiple of 16).
    slot: u32,
    /// Offset of slot 0 from the slab start.
    first: u32,
    nslots: u32,
    /// Slots handed out and not freed.
    live: u32,
    /// Links of the class's partial list or of the empty stack (slab index
    /// + 1; 0 = none).
    next: u32,
    prev: u32,
    /// Whether the slab is on its class's partial list.
    listed: u32,
    /// `ceil(2^32 / slot)`: slot index = `(offset * recip) >> 32`, exact
    /// for offsets that are multiples of `slot` below 2^16.
    recip: u32,
    /// No word of `free` below this one has a set bit (where the scan for
    /// free slots starts, so taking slots one at a time stays O(1)).
    lowest: u32,
    /// Bit set = slot free.
    free: [u64; WORDS],
}

const _: () = assert!(core::mem::size_of::<SlabHeader>() <= 1024);
const _: () = assert!((SLAB - 512) / MIN_SLOT <= WORDS * 64);

struct Region {
    base: usize,
    /// Capacity in slabs.
    slabs: usize,
    /// Slabs ever used (the rest have never been touched).
    bump: usize,
    /// Slabs committed from the start.
    committed: usize,
    /// Stack of empty slabs (index + 1).
    empty: u32,
    empty_count: usize,
    /// Per class, the first slab with a free slot (index + 1).
    partial: [u32; CLASSES],
    /// Reservation attempted (successfully or not).
    tried: bool,
}

static STATE: Mutex<Region> = Mutex::new(Region {
    base: 0,
    slabs: 0,
    bump: 0,
    committed: 0,
    empty: 0,
    empty_count: 0,
    partial: [0; CLASSES],
    tried: false,
});
/// The region's base and size as one value: `base | log2(size)` (the base
/// is `SLAB`-aligned, so its low 16 bits are free; every size in
/// `REGION_SIZES` is a power of two). 0 until the region is reserved, and
/// written once, by [`Region::ensure_reserved`].
///
/// One atomic word rather than two (base, length) because a reader must
/// never combine one publication's length with another's base: with two
/// words, a thread racing the first reservation could read the new length
/// with base 0 and take every address below the length for a batch block.
/// A single word is read whole: either 0 (nothing is contained) or the
/// final value.
static REGION: AtomicUsize = AtomicUsize::new(0);

/// `(base, len)` of a `REGION` value; `(0, 0)` for 0.
#[inline]
fn decode(v: usize) -> (usize, usize) {
    // `1 << 0 & !1` is 0: the unpublished value contains nothing.
    (v & !(SLAB - 1), (1usize << (v & 63)) & !1)
}

/// The `REGION` value for a reservation of `len` bytes at `base`.
fn encode(base: usize, len: usize) -> usize {
    debug_assert!(base != 0 && base % SLAB == 0, "region base {base:#x}");
    debug_assert!(len.is_power_of_two() && len > 1, "region size {len:#x}");
    base | len.trailing_zeros() as usize
}

/// Publishes the region for [`contains`]; `after_store` runs after each
/// store to `REGION` (there is one), which lets a test check every state a
/// racing reader can observe.
#[inline]
fn publish(base: usize, len: usize, mut after_store: impl FnMut()) {
    // The ordering is irrelevant to readers of this word (see `contains`);
    // Release documents that it publishes the reservation made before.
    REGION.store(encode(base, len), Ordering::Release);
    after_store();
}

fn lock() -> std::sync::MutexGuard<'static, Region> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether `p` lies in the batch region (then it is a batch block).
///
/// Orderings: `REGION` changes once, from 0 to its final value, and a load
/// sees one or the other, never a mix. A thread that holds a batch block got
/// it from [`allocate`] (under the lock, after the store) through some
/// synchronisation that handed the pointer over, so the store happens
/// before its load and coherence makes it see the final value: Relaxed is
/// enough for every block that is really a batch block. Any other pointer
/// is outside the region whichever value is seen (0 contains nothing), so
/// it is never misclassified. The region is never unmapped.
#[inline]
pub(crate) fn contains(p: *const u8) -> bool {
    let (base, len) = decode(REGION.load(Ordering::Relaxed));
    (p as usize).wrapping_sub(base) < len
}

/// The slot size used for `size` bytes at `align`, if slabs serve it.
#[inline]
pub(crate) fn slot_for(size: usize, align: usize) -> Option<usize> {
    if align > MAX_SLOT_ALIGN || size > MAX_SLOT {
        return None;
    }
    let slot = round_up(round_up(size.max(1), align)?, GRANULE)?.max(MIN_SLOT);
    (slot <= MAX_SLOT).then_some(slot)
}

#[inline]
fn header(base: usize, idx: usize) -> *mut SlabHeader {
    (base + (idx << SLAB_SHIFT)) as *mut SlabHeader
}

/// The usable size of a batch block.
///
/// # Safety
/// `p` is a live batch block.
#[inline]
pub(crate) unsafe fn usable(p: NonNull<u8>) -> usize {
    let h = (p.as_ptr() as usize & !(SLAB - 1)) as *const SlabHeader;
    // SAFETY: the slab of a live block is committed and its `slot` field is
    // only written while the slab has no live blocks.
    unsafe { ptr::addr_of!((*h).slot).read() as usize }
}

impl Region {
    fn ensure_reserved(&mut self) -> bool {
        if !self.tried {
            self.tried = true;
            let limit = os::address_space_limit().map_or(usize::MAX, |l| l / 8);
            for &size in REGION_SIZES.iter().filter(|&&s| s <= limit) {
                if let Ok(p) = reserve_aligned(size, SLAB) {
                    stats::reserved(size);
                    self.base = p.as_ptr() as usize;
                    self.slabs = size / SLAB;
                    publish(self.base, size, || {});
                    break;
                }
            }
        }
        self.base != 0
    }

    /// An empty slab index, from the stack or fresh from the region.
    fn empty_slab(&mut self) -> Option<usize> {
        if self.empty != 0 {
            let idx = self.empty as usize - 1;
            // SAFETY: slabs on the empty stack are committed and ours.
            self.empty = unsafe { (*header(self.base, idx)).next };
            self.empty_count -= 1;
            return Some(idx);
        }
        if self.bump == self.slabs {
            return None;
        }
        if self.bump == self.committed {
            let n = COMMIT_SLABS.min(self.slabs - self.committed);
            let at = self.base + (self.committed << SLAB_SHIFT);
            // SAFETY: the range is inside the region, page-aligned, ours.
            let r = unsafe { os::commit(NonNull::new_unchecked(at as *mut u8), n << SLAB_SHIFT) };
            if r.is_err() {
                return None;
            }
            stats::committed(n << SLAB_SHIFT);
            self.committed += n;
        }
        self.bump += 1;
        Some(self.bump - 1)
    }

    /// Formats slab `idx` for `slot`-byte slots and puts it on the partial
    /// list.
    fn format(&mut self, idx: usize, slot: usize) {
        let align = (1usize << slot.trailing_zeros()).min(MAX_SLOT_ALIGN);
        let first = round_up(core::mem::size_of::<SlabHeader>(), align).unwrap_or(SLAB);
        let nslots = (SLAB - first) / slot;
        debug_assert!(
            (1..=WORDS * 64).contains(&nslots),
            "slot {slot}: {nslots} slots"
        );
        let mut free = [0u64; WORDS];
        for (w, word) in free.iter_mut().enumerate() {
            let lo = w * 64;
            if lo >= nslots {
                break;
            }
            let n = (nslots - lo).min(64);
            *word = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
        }
        // SAFETY: the slab is committed and has no live blocks.
        unsafe {
            header(self.base, idx).write(SlabHeader {
                slot: slot as u32,
                first: first as u32,
                nslots: nslots as u32,
                live: 0,
                next: 0,
                prev: 0,
                listed: 0,
                recip: (1u64 << 32).div_ceil(slot as u64) as u32,
                lowest: 0,
                free,
            })
        };
        // Every slot is free: unaddressable for AddressSanitizer until
        // `allocate` hands it out (the header stays addressable).
        // SAFETY: the slot area is ours and holds no live block.
        unsafe {
            os::poison(
                NonNull::new_unchecked((self.base + (idx << SLAB_SHIFT) + first) as *mut u8),
                nslots * slot,
            )
        };
        self.link(idx, slot);
    }

    fn link(&mut self, idx: usize, slot: usize) {
        let class = slot / GRANULE - 1;
        let head = self.partial[class];
        // SAFETY: live slab headers in the region; we hold the lock.
        unsafe {
            let h = &mut *header(self.base, idx);
            debug_assert_eq!(h.listed, 0);
            h.next = head;
            h.prev = 0;
            h.listed = 1;
            if head != 0 {
                (*header(self.base, head as usize - 1)).prev = idx as u32 + 1;
            }
        }
        self.partial[class] = idx as u32 + 1;
    }

    fn unlink(&mut self, idx: usize) {
        // SAFETY: as in `link`.
        unsafe {
            let h = &mut *header(self.base, idx);
            debug_assert_eq!(h.listed, 1);
            let (next, prev) = (h.next, h.prev);
            let class = h.slot as usize / GRANULE - 1;
            if prev == 0 {
                self.partial[class] = next;
            } else {
                (*header(self.base, prev as usize - 1)).next = next;
            }
            if next != 0 {
                (*header(self.base, next as usize - 1)).prev = prev;
            }
            h.listed = 0;
            h.next = 0;
            h.prev = 0;
        }
    }

    /// Marks one block of slab `idx` free in its bitmap, without touching
    /// `live`; returns false (and changes nothing) for a double free.
    ///
    /// # Safety
    /// `p` is a live batch block of slab `idx`.
    #[inline]
    unsafe fn mark_free(&mut self, idx: usize, p: usize) -> bool {
        // SAFETY: the slab of a live block is a formatted, committed slab.
        let h = unsafe { &mut *header(self.base, idx) };
        let rel = p - (self.base + (idx << SLAB_SHIFT)) - h.first as usize;
        let i = ((rel as u64 * u64::from(h.recip)) >> 32) as usize;
        debug_assert!(
            i * h.slot as usize == rel,
            "{p:#x} is not a slot start (slot {})",
            h.slot
        );
        let (w, bit) = (i / 64, 1u64 << (i % 64));
        if h.free[w] & bit != 0 {
            debug_assert!(false, "double free of batch block {p:#x}");
            return false;
        }
        h.free[w] |= bit;
        h.lowest = h.lowest.min(w as u32);
        true
    }

    /// Accounts `n` blocks of slab `idx` freed: the slab goes back on its
    /// partial list, or to the empty stack when nothing is left in it.
    fn released(&mut self, idx: usize, n: u32) {
        if n == 0 {
            return;
        }
        // SAFETY: a formatted, committed slab; we hold the lock.
        let h = unsafe { &mut *header(self.base, idx) };
        debug_assert!(h.live >= n, "slab {idx}: live {} < freed {n}", h.live);
        h.live -= n;
        let (slot, listed) = (h.slot as usize, h.listed != 0);
        if h.live == 0 {
            if listed {
                self.unlink(idx);
            }
            // SAFETY: as above (re-borrowed after `unlink`).
            let h = unsafe { &mut *header(self.base, idx) };
            h.next = self.empty;
            self.empty = idx as u32 + 1;
            self.empty_count += 1;
            if self.empty_count > KEEP_EMPTY {
                // Offer the memory back; the slab is reformatted on reuse.
                // Only the pages after the header's page are offered, which
                // keeps the stack link intact.
                let page = os::page_size();
                let start = self.base + (idx << SLAB_SHIFT) + page;
                // SAFETY: those pages are committed, ours, and unused.
                let _ = unsafe {
                    os::discard_lazy(NonNull::new_unchecked(start as *mut u8), SLAB - page)
                };
            }
        } else if !listed {
            self.link(idx, slot);
        }
    }

    /// Frees one block; `p` is in the region.
    ///
    /// # Safety
    /// `p` is a live batch block.
    unsafe fn free_one(&mut self, p: usize) {
        let idx = (p - self.base) >> SLAB_SHIFT;
        // SAFETY: forwarded from the caller.
        if unsafe { self.mark_free(idx, p) } {
            self.released(idx, 1);
        }
    }
}

/// A range of adjacent blocks, for the sanitizer hooks.
struct Span {
    start: usize,
    end: usize,
}

impl Span {
    const EMPTY: Span = Span { start: 0, end: 0 };

    /// Adds `[a, a + len)`; hands the current range to `f` first when the
    /// new block does not extend it.
    #[inline]
    fn add(&mut self, a: usize, len: usize, f: impl Fn(usize, usize)) {
        if a != self.end {
            self.flush(&f);
            self.start = a;
        }
        self.end = a + len;
    }

    fn flush(&mut self, f: impl Fn(usize, usize)) {
        if self.end > self.start {
            f(self.start, self.end - self.start);
        }
        *self = Span::EMPTY;
    }
}

/// Allocates up to `out.len()` blocks of `slot` bytes; returns how many were
/// written to the front of `out`.
pub(crate) fn allocate(slot: usize, zeroed: bool, out: &mut [MaybeUninit<NonNull<u8>>]) -> usize {
    debug_assert!(slot % GRANULE == 0 && (MIN_SLOT..=MAX_SLOT).contains(&slot));
    let mut r = lock();
    if !r.ensure_reserved() {
        return 0;
    }
    let class = slot / GRANULE - 1;
    let mut n = 0;
    while n < out.len() {
        let idx = match r.partial[class] {
            0 => match r.empty_slab() {
                Some(idx) => {
                    r.format(idx, slot);
                    idx
                }
                None => break,
            },
            i => i as usize - 1,
        };
        let hbase = r.base + (idx << SLAB_SHIFT);
        // SAFETY: a listed slab is formatted and committed; we hold the lock.
        let h = unsafe { &mut *header(r.base, idx) };
        let first = hbase + h.first as usize;
        let mut taken = 0;
        let want = (out.len() - n).min((h.nslots - h.live) as usize);
        let mut w = h.lowest as usize;
        while taken < want {
            debug_assert!(w < WORDS, "slab {idx}: live count and bitmap disagree");
            let mut bits = h.free[w];
            while bits != 0 && taken < want {
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let addr = first + (w * 64 + b) * slot;
                // SAFETY: slot addresses are inside the region, not null.
                out[n + taken].write(unsafe { NonNull::new_unchecked(addr as *mut u8) });
                taken += 1;
            }
            h.free[w] = bits;
            if bits == 0 {
                w += 1;
            }
        }
        h.lowest = w as u32;
        h.live += taken as u32;
        debug_assert!(taken > 0, "slab {idx} on the partial list is full");
        if h.live == h.nslots {
            debug_assert!(h.free.iter().all(|&w| w == 0));
            r.unlink(idx);
        }
        n += taken;
    }
    drop(r);
    // Unpoisoned in runs of adjacent slots (a fresh slab is one run), so
    // the sanitizer hooks cost little per block; natively not at all.
    if os::poisoning() {
        let mut run = Span::EMPTY;
        for p in &out[..n] {
            // SAFETY: initialised above; each block is ours, with `slot` bytes.
            let p = unsafe { p.assume_init() };
            run.add(p.as_ptr() as usize, slot, |a, len| {
                // SAFETY: a run of blocks just handed out, ours.
                unsafe { os::unpoison(NonNull::new_unchecked(a as *mut u8), len) }
            });
        }
        run.flush(|a, len| {
            // SAFETY: as above.
            unsafe { os::unpoison(NonNull::new_unchecked(a as *mut u8), len) }
        });
    }
    if zeroed {
        for p in &out[..n] {
            // SAFETY: initialised above; each block has `slot` bytes.
            unsafe { ptr::write_bytes(p.assume_init().as_ptr(), 0, slot) };
        }
    }
    n
}

/// Returns the pages of every empty slab to the OS (`MADV_DONTNEED`).
pub(crate) fn trim() {
    let r = lock();
    let page = os::page_size();
    let mut next = r.empty;
    while next != 0 {
        let idx = next as usize - 1;
        let start = r.base + (idx << SLAB_SHIFT) + page;
        // SAFETY: an empty slab's pages after its header page hold nothing;
        // the header (with the stack link) stays.
        unsafe {
            let _ = os::discard(NonNull::new_unchecked(start as *mut u8), SLAB - page);
            next = (*header(r.base, idx)).next;
        }
    }
}

/// Frees one batch block.
///
/// # Safety
/// `p` is a live batch block, never used again.
pub(crate) unsafe fn free(p: NonNull<u8>) {
    // Poisoned while still ours (before the bitmap says free, so a thread
    // that allocates the slot next unpoisons after this).
    if os::poisoning() {
        // SAFETY: a live batch block of `usable(p)` bytes, never used again.
        unsafe { os::poison(p, usable(p)) };
    }
    let mut r = lock();
    // SAFETY: forwarded from the caller.
    unsafe { r.free_one(p.as_ptr() as usize) };
}

/// Frees the batch blocks among `ptrs` under one lock; returns the others
/// unfreed by leaving them to `rest`.
///
/// # Safety
/// Every pointer in `ptrs` is a live block, never used again.
pub(crate) unsafe fn free_many(ptrs: &[NonNull<u8>], mut rest: impl FnMut(NonNull<u8>)) {
    let mut r = lock();
    let (base, len) = (r.base, r.slabs << SLAB_SHIFT);
    // Runs of blocks from one slab (the common case: they were allocated
    // together) update the slab's count and lists once per run.
    let mut cur = usize::MAX;
    let mut run = 0u32;
    // Adjacent blocks are poisoned as one range; every range is poisoned
    // before the lock is released, so no slot is reused before.
    let poisoning = os::poisoning();
    let mut dead = Span::EMPTY;
    let poison = |a: usize, len: usize| {
        // SAFETY: blocks being freed (caller), no longer used.
        unsafe { os::poison(NonNull::new_unchecked(a as *mut u8), len) }
    };
    for &p in ptrs {
        let a = p.as_ptr() as usize;
        if a.wrapping_sub(base) >= len {
            rest(p);
            continue;
        }
        let idx = (a - base) >> SLAB_SHIFT;
        if idx != cur {
            if cur != usize::MAX {
                r.released(cur, run);
            }
            cur = idx;
            run = 0;
        }
        // SAFETY: forwarded from the caller: a live batch block of slab
        // `idx`.
        run += u32::from(unsafe {
            if poisoning {
                dead.add(a, usable(p), poison);
            }
            r.mark_free(idx, a)
        });
    }
    dead.flush(poison);
    if cur != usize::MAX {
        r.released(cur, run);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    const CHILD_ENV: &str = "MALLOCV2_SLAB_TEST_CHILD";

    /// In the parent, reruns test `name` alone in a child process (the
    /// region is process-wide state, reserved once) and checks it passed;
    /// returns false. In the child, returns true.
    fn in_child(name: &str) -> bool {
        if std::env::var(CHILD_ENV).as_deref() == Ok(name) {
            return true;
        }
        let exe = std::env::current_exe().expect("test binary path");
        let out = Command::new(exe)
            .args(["--exact", name, "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, name)
            .output()
            .expect("spawn the child test process");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains(&format!("CHILD OK {name}")),
            "child {name} failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        false
    }

    /// Addresses below any region size, as non-PIE programs, valgrind and
    /// programs loading a C ABI use them.
    const LOW: [usize; 4] = [0x1000, 0x40_0000, 0x1_0000_0000, (16 << 30) - 8];

    #[test]
    fn encoding_round_trips_and_zero_contains_nothing() {
        assert_eq!(decode(0), (0, 0));
        for &size in &REGION_SIZES {
            for base in [SLAB, 0x7f12_3456_0000, 0x5555_0000_0000] {
                assert_eq!(decode(encode(base, size)), (base, size));
            }
        }
    }

    #[test]
    fn no_published_state_contains_a_foreign_address() {
        if !in_child("heap::slab::tests::no_published_state_contains_a_foreign_address") {
            return;
        }
        // A made-up region far from the low addresses; nothing is allocated
        // in this child, so the region is never used.
        let base = 0x7e00_0000_0000usize;
        let mut states = 0;
        let check = |states: &mut usize| {
            *states += 1;
            for a in LOW {
                assert!(
                    !contains(a as *const u8),
                    "{a:#x} classified as a batch block after store {states}"
                );
            }
        };
        check(&mut states);
        publish(base, 16 << 30, || check(&mut states));
        assert!(contains(base as *const u8) && contains((base + (16 << 30) - 1) as *const u8));
        assert!(!contains((base + (16 << 30)) as *const u8));
        println!("CHILD OK heap::slab::tests::no_published_state_contains_a_foreign_address");
    }

    #[test]
    fn first_allocation_races_classification() {
        if !in_child("heap::slab::tests::first_allocation_races_classification") {
            return;
        }
        // Readers spin on `contains` while the first batch allocation
        // reserves and publishes the region: no state they see may take a
        // low address for a batch block.
        let stop = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicUsize::new(0));
        let readers: std::vec::Vec<_> = (0..2)
            .map(|_| {
                let (stop, started) = (Arc::clone(&stop), Arc::clone(&started));
                std::thread::spawn(move || {
                    started.fetch_add(1, Ordering::Relaxed);
                    while !stop.load(Ordering::Relaxed) {
                        for a in LOW {
                            assert!(!contains(a as *const u8), "{a:#x} misclassified");
                        }
                    }
                })
            })
            .collect();
        while started.load(Ordering::Relaxed) < 2 {
            std::thread::yield_now();
        }
        let mut out = [MaybeUninit::uninit(); 4];
        let n = allocate(32, false, &mut out);
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            r.join().expect("a reader saw a low address in the region");
        }
        assert_eq!(n, 4);
        // SAFETY: `allocate` initialised the first `n` (= all) entries.
        let blocks: std::vec::Vec<_> = out.iter().map(|p| unsafe { p.assume_init() }).collect();
        // SAFETY: live batch blocks just allocated, freed once.
        unsafe { free_many(&blocks, |_| panic!("a batch block classified as foreign")) };
        println!("CHILD OK heap::slab::tests::first_allocation_races_classification");
    }

    #[test]
    fn single_slot_allocation_reuses_the_lowest_free_slot() {
        // A slot size no other test uses, so these slabs are ours alone.
        const SLOT: usize = 2040;
        let one = || {
            let mut out = [MaybeUninit::uninit()];
            assert_eq!(allocate(SLOT, false, &mut out), 1);
            // SAFETY: `allocate` initialised it.
            unsafe { out[0].assume_init() }
        };
        // Two slabs' worth, one slot at a time.
        let mut live: std::vec::Vec<NonNull<u8>> = (0..64).map(|_| one()).collect();
        let mut sorted = live.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), live.len(), "a slot was handed out twice");
        // Free every third block; single allocations then take exactly the
        // freed slots back, lowest address of a slab first.
        let freed: std::vec::Vec<NonNull<u8>> = live.iter().copied().step_by(3).collect();
        live.retain(|p| !freed.contains(p));
        for &p in &freed {
            // SAFETY: a live batch block, freed once.
            unsafe { free(p) };
        }
        let mut again: std::vec::Vec<NonNull<u8>> = (0..freed.len()).map(|_| one()).collect();
        let mut want = freed.clone();
        want.sort();
        let same_slab = |a: NonNull<u8>, b: NonNull<u8>| {
            a.as_ptr() as usize & !(SLAB - 1) == b.as_ptr() as usize & !(SLAB - 1)
        };
        for w in again.windows(2) {
            if same_slab(w[0], w[1]) {
                assert!(w[0] < w[1], "slots of one slab not taken lowest first");
            }
        }
        again.sort();
        assert_eq!(
            again, want,
            "single allocations did not reuse the freed slots"
        );
        live.extend(again);
        // SAFETY: live batch blocks, each freed once.
        unsafe { free_many(&live, |_| panic!("a batch block classified as foreign")) };
    }
}
