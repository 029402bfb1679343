//! The cache of freed spans: alternating sizes reuse cached memory, the cache
//! stays within its bound, and it does not pin the old blocks of a growing
//! program. The tests share the process-wide cache, so they run one at a
//! time.

use std::ptr::NonNull;
use std::sync::Mutex;

use mallocv2::alloc::{Allocator, Layout};
use mallocv2::{Heap, Reservation, ResizeInPlace, CACHE_MAX_BYTES};

const MIB: usize = 1 << 20;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 64).unwrap()
}

/// Minor page faults of the calling thread so far.
fn minor_faults() -> u64 {
    let mut u = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes one rusage into the buffer.
    let r = unsafe { libc::getrusage(libc::RUSAGE_THREAD, u.as_mut_ptr()) };
    assert_eq!(r, 0, "getrusage");
    // SAFETY: initialised by the successful call.
    unsafe { u.assume_init() }.ru_minflt as u64
}

/// Allocates `size` bytes, writes every byte, frees the block.
fn use_once(size: usize, byte: u8) {
    let l = layout(size);
    let p: NonNull<u8> = Heap.allocate(l).expect("allocate").cast();
    // SAFETY: `size` bytes are ours.
    unsafe {
        p.as_ptr().write_bytes(byte, size);
        Heap.deallocate(p, l);
    }
}

/// Two sizes in turn, each freed before the next is allocated: after a
/// warm-up round every allocation comes from the cache and faults nothing
/// in (the old cache skipped the big span for the small request and emptied
/// itself on that miss, so every allocation mapped and faulted fresh pages).
#[test]
fn alternating_sizes_reuse_cached_spans() {
    let _g = serial();
    let page = Reservation::page_size();
    let pairs = [
        (300_000, 6_000_000),
        (300_000, 5_000_000),
        (300_000, 4_000_000),
        (MIB, 20 * MIB),
        (6_000_000, 300_000),
    ];
    for (a, b) in pairs {
        Heap::trim();
        for i in 0..3 {
            use_once(a, i);
            use_once(b, i);
        }
        let rounds = 10;
        let before = Heap::thread_stats();
        let faults = minor_faults();
        for i in 0..rounds {
            use_once(a, i);
            use_once(b, i);
        }
        let faults = minor_faults() - faults;
        let d = Heap::thread_stats().since(&before);
        assert_eq!(
            d.span_cache_hits,
            2 * u64::from(rounds),
            "{a} / {b}: {d}, {faults} faults"
        );
        // One round alone would fault (a + b) / page pages.
        let one_round = ((a + b) / page) as u64;
        assert!(
            faults < one_round / 4,
            "{a} / {b}: {faults} minor faults in {rounds} rounds (one round: {one_round})"
        );
    }
    Heap::trim();
}

/// A recycled span hands out zeroed memory when asked, whatever it held.
#[test]
fn zeroed_allocation_from_a_dirty_span() {
    let _g = serial();
    Heap::trim();
    for (a, b) in [(300_000, 6_000_000), (6_000_000, 300_000), (MIB, 3 * MIB)] {
        use_once(b, 0xa5);
        use_once(a, 0x5a);
        let before = Heap::thread_stats();
        let l = layout(a);
        let p: NonNull<u8> = Heap.allocate_zeroed(l).expect("allocate_zeroed").cast();
        assert_eq!(Heap::thread_stats().since(&before).span_cache_hits, 1);
        // SAFETY: live block of at least `a` bytes.
        let usable = unsafe { Heap.usable_size(p, l) };
        // SAFETY: `a` bytes are ours and initialised (zeroed).
        let s = unsafe { std::slice::from_raw_parts(p.as_ptr(), a) };
        assert!(s.iter().all(|&x| x == 0), "{a} after {b}: not zeroed");
        // Growing with zeroing clears the rest of the committed pages too.
        // SAFETY: live block fitting `l`; `usable >= a`.
        let g = unsafe { Heap.grow_zeroed(p, l, layout(usable)) }.expect("grow");
        assert_eq!(g.cast::<u8>(), p, "growth within the usable size moved");
        // SAFETY: `usable` bytes are ours and zeroed.
        let s = unsafe { std::slice::from_raw_parts(p.as_ptr(), usable) };
        assert!(
            s.iter().all(|&x| x == 0),
            "{a} after {b}: grown part not zeroed"
        );
        // SAFETY: live block of `usable` bytes.
        unsafe { Heap.deallocate(p, layout(usable)) };
    }
    Heap::trim();
}

/// A span far bigger than the request is left for a request of its size
/// (which then finds its pages), and gives its pages back once it has been
/// idle for a while: it is not pinned by the cache.
#[test]
fn big_cached_span_is_kept_for_its_size_then_purged() {
    let _g = serial();
    Heap::trim();
    let big = 24 * MIB;
    use_once(big, 1);
    let small = layout(300_000);
    let p: NonNull<u8> = Heap.allocate(small).expect("allocate").cast();
    // SAFETY: live block fitting `small`.
    let usable = unsafe { Heap.usable_size(p, small) };
    assert!(usable < 16 * 300_000 + MIB, "usable {usable}");
    // SAFETY: live block fitting `small`.
    unsafe { Heap.deallocate(p, small) };
    let before = Heap::thread_stats();
    let faults = minor_faults();
    use_once(big, 2);
    let faults = minor_faults() - faults;
    assert_eq!(Heap::thread_stats().since(&before).span_cache_hits, 1);
    assert!(faults < 100, "{faults} faults writing a cached 24 MiB span");
    // Many allocations of the small size: the big span goes idle.
    for i in 0..100 {
        use_once(300_000, i);
    }
    let committed = Heap::stats().committed_bytes as usize;
    assert!(committed < 4 * MIB, "{committed} bytes still committed");
    Heap::trim();
}

/// However many spans are freed, the cache keeps at most
/// `CACHE_MAX_BYTES` committed (plus one header page per cached span).
#[test]
fn cache_stays_within_its_bound() {
    let _g = serial();
    Heap::trim();
    for size in [3 * MIB, 300_000, 20 * MIB, 40 * MIB] {
        let l = layout(size);
        let blocks: Vec<NonNull<u8>> = (0..40)
            .map(|i| {
                let p: NonNull<u8> = Heap.allocate(l).expect("allocate").cast();
                // SAFETY: `size` bytes are ours.
                unsafe { p.as_ptr().write_bytes(i, size) };
                p
            })
            .collect();
        for p in blocks {
            // SAFETY: live block fitting `l`.
            unsafe { Heap.deallocate(p, l) };
        }
        let committed = Heap::stats().committed_bytes as usize;
        assert!(
            committed <= CACHE_MAX_BYTES + MIB,
            "after 40 x {size}: {committed} bytes committed in the cache"
        );
    }
    Heap::trim();
    assert!(Heap::stats().committed_bytes < MIB as u64);
}

/// A growing program (each block replaced by a bigger one) never has its
/// old blocks pinned by the cache: while the new block is allocated, only
/// the live old one and the new one are committed.
#[test]
fn growing_program_peak_is_not_raised() {
    let _g = serial();
    Heap::trim();
    let mut size = 512 << 10;
    let mut old: Option<(NonNull<u8>, usize)> = None;
    while size <= 32 * MIB {
        let l = layout(size);
        let p: NonNull<u8> = Heap.allocate(l).expect("allocate").cast();
        let live = size + old.map_or(0, |(_, s)| s);
        let committed = Heap::stats().committed_bytes as usize;
        assert!(
            committed <= live + MIB,
            "allocating {size}: {committed} committed, {live} live"
        );
        // SAFETY: `size` bytes are ours.
        unsafe { p.as_ptr().write_bytes(7, size) };
        if let Some((q, s)) = old {
            // SAFETY: the previous live block.
            unsafe { Heap.deallocate(q, layout(s)) };
        }
        old = Some((p, size));
        size *= 2;
    }
    if let Some((q, s)) = old {
        // SAFETY: the last live block.
        unsafe { Heap.deallocate(q, layout(s)) };
    }
    Heap::trim();
}

/// Successive large blocks start at different offsets in their first page
/// (multiples of 64 and of the alignment), so buffers written in lockstep
/// do not all fall into the same cache sets (page-aligned blocks did: 128
/// vectors grown together ran 1.5x slower than std's). The block still
/// ends its usable size on a page boundary, and page alignment and above
/// are served exactly.
#[test]
fn span_blocks_start_at_varied_offsets() {
    let _g = serial();
    let page = Reservation::page_size();
    for align in [1usize, 8, 64, 256, 2048, 4096, 8192, 1 << 16] {
        let l = Layout::from_size_align(512 << 10, align).unwrap();
        let blocks: Vec<NonNull<u8>> = (0..64)
            .map(|_| Heap.allocate(l).expect("allocate").cast())
            .collect();
        let mut colors: Vec<usize> = blocks
            .iter()
            .map(|p| {
                let a = p.as_ptr() as usize;
                assert_eq!(a % align, 0, "{p:p} not aligned to {align}");
                assert_eq!(a % 64, 0, "{p:p} not on a cache line");
                // SAFETY: live block fitting `l`.
                let usable = unsafe { Heap.usable_size(*p, l) };
                assert_eq!((a + usable) % page, 0, "{p:p} + {usable}");
                // SAFETY: the usable size is writable.
                unsafe { p.as_ptr().write_bytes(3, usable) };
                a % page
            })
            .collect();
        colors.sort_unstable();
        colors.dedup();
        let possible = (page / align.max(64)).max(1);
        assert!(
            colors.len() >= possible.min(32),
            "align {align}: {} distinct offsets in the page",
            colors.len()
        );
        for p in blocks {
            // SAFETY: live block fitting `l`.
            unsafe { Heap.deallocate(p, l) };
        }
    }
    Heap::trim();
}

/// A block moved to a larger alignment than its offset allows is copied
/// (not remapped with the old offset), aligned and intact.
#[test]
fn span_regrown_to_a_larger_alignment() {
    let _g = serial();
    for _ in 0..8 {
        let l = Layout::from_size_align(MIB, 64).unwrap();
        let p: NonNull<u8> = Heap.allocate(l).expect("allocate").cast();
        // SAFETY: 1 MiB is ours.
        unsafe { p.as_ptr().write_bytes(9, MIB) };
        let big = Layout::from_size_align(64 * MIB, 4096).unwrap();
        // SAFETY: live block fitting `l`; `big` is larger.
        let q: NonNull<u8> = unsafe { Heap.grow(p, l, big) }.expect("grow").cast();
        assert_eq!(q.as_ptr() as usize % 4096, 0);
        // SAFETY: the first MiB was kept.
        let s = unsafe { std::slice::from_raw_parts(q.as_ptr(), MIB) };
        assert!(s.iter().all(|&x| x == 9));
        // SAFETY: live block fitting `big`.
        unsafe { Heap.deallocate(q, big) };
    }
}
