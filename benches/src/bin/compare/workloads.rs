//! The workloads of BENCHMARKS.md and their implementations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::time::Instant;

use mallocv2::alloc::Allocator;
use mallocv2::{BatchAlloc, Heap};

use crate::{Run, Scale};

/// What an implementation is, for the ratios.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The std baseline (ratios are against it).
    Std,
    /// Presized std: the physical limit of a growable buffer.
    Presized,
    /// One of ours.
    Ours,
    /// A peer allocator.
    Peer,
}

/// One implementation of a workload.
pub struct Impl {
    pub name: &'static str,
    /// The child's global allocator (`switch::ENV` value).
    pub global: &'static str,
    pub role: Role,
}

/// A target from BENCHMARKS.md, checked on the steady-state medians.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// median(impl) <= x * median(std)
    TimeVsStd(&'static str, f64),
    /// median(impl) <= x * median(presized)
    TimeVsPresized(&'static str, f64),
    /// worst_op(impl) <= x * worst_op(std)
    WorstVsStd(&'static str, f64),
    /// bytes_copied(impl) <= x * final size in bytes
    CopiedVsFinal(&'static str, f64, u64),
    /// peak_rss(impl) <= x * peak_rss(std)
    RssVsStd(&'static str, f64),
    /// relocations(impl) == 0
    NoRelocations(&'static str),
    /// median(other) >= x * median(impl): impl is x times faster than other
    FasterThan(&'static str, &'static str, f64),
}

/// A workload: its implementations, its runner and its targets.
pub struct Workload {
    pub name: &'static str,
    pub what: &'static str,
    pub impls: Vec<Impl>,
    /// Runs one timed repetition of `impl` (recording a timeline if asked).
    pub run: fn(&str, Scale, bool) -> Run,
    pub targets: Vec<Target>,
    pub plot_timeline: bool,
    quick_runs: usize,
    full_runs: usize,
}

impl Workload {
    /// Runs per child (the first is the cold one).
    pub fn runs(&self, scale: Scale) -> usize {
        match scale {
            Scale::Quick => self.quick_runs,
            Scale::Full => self.full_runs,
        }
    }
}

const fn imp(name: &'static str, global: &'static str, role: Role) -> Impl {
    Impl { name, global, role }
}

const MIB: usize = 1 << 20;

fn grow_bytes(scale: Scale) -> usize {
    match scale {
        Scale::Quick => 256 * MIB,
        Scale::Full => 1024 * MIB,
    }
}

/// Every workload, in the order they run.
pub fn all(scale: Scale) -> Vec<Workload> {
    let final_bytes = grow_bytes(scale) as u64;
    vec![
        Workload {
            name: "aligned-grow",
            what: "push 64-byte-aligned elements to 1 GiB (quick: 256 MiB)",
            impls: vec![
                imp("std Vec<Aligned64>", "system", Role::Std),
                imp("Heap grow_live (align 64)", "system", Role::Ours),
                imp("presized std Vec", "system", Role::Presized),
            ],
            run: aligned_grow,
            targets: vec![
                Target::TimeVsStd("Heap grow_live (align 64)", 0.6),
                Target::TimeVsPresized("Heap grow_live (align 64)", 1.15),
                Target::WorstVsStd("Heap grow_live (align 64)", 1.0 / 20.0),
                Target::CopiedVsFinal("Heap grow_live (align 64)", 0.01, final_bytes),
                Target::RssVsStd("Heap grow_live (align 64)", 0.8),
            ],
            plot_timeline: true,
            quick_runs: 3,
            full_runs: 4,
        },
        Workload {
            name: "big-grow",
            what: "push u64 to 1 GiB (quick: 256 MiB)",
            impls: vec![
                imp("std Vec<u64>", "system", Role::Std),
                imp("Heap grow_live", "system", Role::Ours),
                imp("presized std Vec", "system", Role::Presized),
            ],
            run: big_grow,
            targets: vec![
                Target::TimeVsStd("Heap grow_live", 1.0),
                Target::TimeVsPresized("Heap grow_live", 1.10),
            ],
            plot_timeline: true,
            quick_runs: 3,
            full_runs: 4,
        },
        Workload {
            name: "many-grow",
            what: "256 vectors grown together to 4 MiB each (quick: 128 x 2 MiB)",
            impls: vec![
                imp("std Vec<u64>", "system", Role::Std),
                imp("Heap grow_live", "system", Role::Ours),
                imp("presized std Vec", "system", Role::Presized),
            ],
            run: many_grow,
            targets: vec![
                Target::TimeVsStd("Heap grow_live", 0.8),
                Target::TimeVsPresized("Heap grow_live", 1.15),
            ],
            plot_timeline: false,
            quick_runs: 3,
            full_runs: 4,
        },
        Workload {
            name: "batch",
            what: "4x10^6 blocks of 32 B, each written once, then freed",
            impls: vec![
                imp("loop over System", "system", Role::Std),
                imp("Heap::allocate_batch", "system", Role::Ours),
                imp("loop over Heap", "system", Role::Ours),
            ],
            run: batch,
            targets: vec![Target::FasterThan(
                "Heap::allocate_batch",
                "loop over System",
                4.0,
            )],
            plot_timeline: false,
            quick_runs: 4,
            full_runs: 6,
        },
        Workload {
            name: "churn",
            what: "global allocator: mixed small/large alloc, realloc, free",
            impls: churn_impls(),
            run: churn,
            targets: vec![Target::TimeVsStd("Heap (global)", 1.2)],
            plot_timeline: false,
            quick_runs: 3,
            full_runs: 5,
        },
    ]
}

fn churn_impls() -> Vec<Impl> {
    let mut v = vec![
        imp("System (global)", "system", Role::Std),
        imp("Heap (global)", "heap", Role::Ours),
    ];
    if cfg!(feature = "peers") {
        v.push(imp("jemalloc (global)", "jemalloc", Role::Peer));
        v.push(imp("mimalloc (global)", "mimalloc", Role::Peer));
    }
    v
}

// --- growth ------------------------------------------------------------------

/// A minimal growable buffer over any `ResizeInPlace` allocator using the
/// growth protocol (`grow_live`) with size feedback: what the collections
/// do, with nothing else in the way.
struct GrowBuf<T, A: mallocv2::ResizeInPlace> {
    ptr: NonNull<T>,
    len: usize,
    cap: usize,
    align: usize,
    alloc: A,
}

impl<T: Copy, A: mallocv2::ResizeInPlace> GrowBuf<T, A> {
    fn new(alloc: A, align: usize) -> Self {
        GrowBuf {
            ptr: NonNull::dangling(),
            len: 0,
            cap: 0,
            align: align.max(align_of::<T>()),
            alloc,
        }
    }

    fn layout(&self, cap: usize) -> Layout {
        Layout::from_size_align(cap * size_of::<T>(), self.align).expect("layout")
    }

    #[inline]
    fn push(&mut self, v: T) {
        if self.len == self.cap {
            self.grow();
        }
        // SAFETY: len < cap after grow; the buffer holds cap elements.
        unsafe { self.ptr.as_ptr().add(self.len).write(v) };
        self.len += 1;
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let new_cap = (self.cap * 2).max(8);
        let new = self.layout(new_cap);
        let block = if self.cap == 0 {
            self.alloc.allocate(new).expect("allocate")
        } else {
            // SAFETY: ptr is our live block of layout(cap); len elements live.
            unsafe {
                self.alloc.grow_live(
                    self.ptr.cast(),
                    self.layout(self.cap),
                    new,
                    self.len * size_of::<T>(),
                )
            }
            .expect("grow")
        };
        self.ptr = block.cast();
        self.cap = block.len() / size_of::<T>();
    }

    fn as_ptr(&self) -> *const T {
        self.ptr.as_ptr()
    }
}

impl<T, A: mallocv2::ResizeInPlace> Drop for GrowBuf<T, A> {
    fn drop(&mut self) {
        if self.cap != 0 {
            let l = Layout::from_size_align(self.cap * size_of::<T>(), self.align).expect("layout");
            // SAFETY: our live block; usable-size capacity fits the block.
            unsafe { self.alloc.deallocate(self.ptr.cast(), l) };
        }
    }
}

/// What every growable buffer in these workloads offers.
trait Grow<T> {
    fn push(&mut self, v: T);
    fn len(&self) -> usize;
    fn capacity(&self) -> usize;
    fn ptr(&self) -> *const T;
    fn checksum(&self) -> u64;
}

impl<T: Copy + Into<u64>> Grow<T> for Vec<T> {
    #[inline]
    fn push(&mut self, v: T) {
        Vec::push(self, v);
    }
    #[inline]
    fn len(&self) -> usize {
        Vec::len(self)
    }
    #[inline]
    fn capacity(&self) -> usize {
        Vec::capacity(self)
    }
    fn ptr(&self) -> *const T {
        self.as_ptr()
    }
    fn checksum(&self) -> u64 {
        self.iter().step_by(4096).map(|&x| x.into()).sum()
    }
}

impl<T: Copy + Into<u64>, A: mallocv2::ResizeInPlace> Grow<T> for GrowBuf<T, A> {
    #[inline]
    fn push(&mut self, v: T) {
        GrowBuf::push(self, v);
    }
    #[inline]
    fn len(&self) -> usize {
        self.len
    }
    #[inline]
    fn capacity(&self) -> usize {
        self.cap
    }
    fn ptr(&self) -> *const T {
        self.as_ptr()
    }
    fn checksum(&self) -> u64 {
        // SAFETY: len elements are initialised.
        let s = unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) };
        s.iter().step_by(4096).map(|&x| x.into()).sum()
    }
}

/// A 64-byte-aligned element (a cache line / an AVX-512 register).
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub struct Aligned64([u64; 8]);

impl From<Aligned64> for u64 {
    fn from(a: Aligned64) -> u64 {
        a.0[0]
    }
}

/// Pushes `n` values, timing each push that grows the buffer.
fn push_n<T: Copy, V: Grow<T>>(
    v: &mut V,
    n: usize,
    make: impl Fn(usize) -> T,
    run: &mut Run,
    timeline: bool,
) {
    for i in 0..n {
        if v.len() == v.capacity() {
            let before = v.ptr();
            let t = Instant::now();
            v.push(make(i));
            let dt = t.elapsed().as_secs_f64();
            run.worst_op = run.worst_op.max(dt);
            if i > 0 && v.ptr() != before {
                run.relocations += 1;
            }
            if timeline {
                run.timeline.push((i as u64, dt));
            }
        } else {
            v.push(make(i));
        }
    }
}

fn heap_counted(run: &mut Run, f: impl FnOnce(&mut Run)) {
    let before = Heap::stats();
    f(run);
    let d = Heap::stats().since(&before);
    run.relocations = d.relocations;
    run.bytes_copied = Some(d.bytes_copied);
}

fn timed<V>(make: impl FnOnce() -> V, body: impl FnOnce(&mut V, &mut Run)) -> Run {
    let mut run = Run::default();
    let t = Instant::now();
    let mut v = make();
    body(&mut v, &mut run);
    black_box(&v);
    drop(v);
    run.secs = t.elapsed().as_secs_f64();
    run
}

fn aligned_grow(imp: &str, scale: Scale, tl: bool) -> Run {
    let n = grow_bytes(scale) / size_of::<Aligned64>();
    let make = |i: usize| Aligned64([i as u64; 8]);
    match imp {
        "std Vec<Aligned64>" => timed(Vec::new, |v, r| push_n(v, n, make, r, tl)),
        "presized std Vec" => timed(|| Vec::with_capacity(n), |v, r| push_n(v, n, make, r, tl)),
        _ => {
            let mut out = Run::default();
            heap_counted(&mut out, |out| {
                let r = timed(
                    || GrowBuf::new(Heap, 64),
                    |v, r| {
                        push_n(v, n, make, r, tl);
                        assert_eq!(v.as_ptr() as usize % 64, 0);
                    },
                );
                *out = r;
            });
            out
        }
    }
}

fn big_grow(imp: &str, scale: Scale, tl: bool) -> Run {
    let n = grow_bytes(scale) / 8;
    let make = |i: usize| i as u64;
    match imp {
        "std Vec<u64>" => timed(Vec::new, |v, r| push_n(v, n, make, r, tl)),
        "presized std Vec" => timed(|| Vec::with_capacity(n), |v, r| push_n(v, n, make, r, tl)),
        _ => {
            let mut out = Run::default();
            heap_counted(&mut out, |out| {
                *out = timed(|| GrowBuf::new(Heap, 8), |v, r| push_n(v, n, make, r, tl));
            });
            out
        }
    }
}

fn many_grow_with<V: Grow<u64>>(mut make: impl FnMut() -> V, vectors: usize, each: usize) -> Run {
    let mut run = Run::default();
    let t = Instant::now();
    let mut vs: Vec<V> = (0..vectors).map(|_| make()).collect();
    for i in 0..each {
        for v in vs.iter_mut() {
            if v.len() == v.capacity() {
                let before = v.ptr();
                let t = Instant::now();
                v.push(i as u64);
                run.worst_op = run.worst_op.max(t.elapsed().as_secs_f64());
                if i > 0 && v.ptr() != before {
                    run.relocations += 1;
                }
            } else {
                v.push(i as u64);
            }
        }
    }
    black_box(vs.iter().map(|v| v.checksum()).sum::<u64>());
    drop(vs);
    run.secs = t.elapsed().as_secs_f64();
    run
}

fn many_grow(imp: &str, scale: Scale, _tl: bool) -> Run {
    let (vectors, bytes) = match scale {
        Scale::Quick => (128, 2 * MIB),
        Scale::Full => (256, 4 * MIB),
    };
    let each = bytes / 8;
    match imp {
        "std Vec<u64>" => many_grow_with(Vec::new, vectors, each),
        "presized std Vec" => many_grow_with(|| Vec::with_capacity(each), vectors, each),
        _ => {
            let mut out = Run::default();
            heap_counted(&mut out, |out| {
                *out = many_grow_with(|| GrowBuf::<u64, Heap>::new(Heap, 8), vectors, each);
            });
            out
        }
    }
}

// --- batch -------------------------------------------------------------------

const BATCH_N: usize = 4_000_000;

fn batch(imp: &str, _scale: Scale, _tl: bool) -> Run {
    let layout = Layout::new::<[u64; 4]>();
    // The pointer array is set up before the clock starts, for every impl.
    let mut ptrs: Vec<NonNull<u8>> = Vec::with_capacity(BATCH_N);
    let mut run = Run::default();
    let write = |p: NonNull<u8>, i: usize| {
        // SAFETY: each block has 32 writable bytes, 8-aligned.
        unsafe { p.cast::<u64>().as_ptr().write(i as u64) }
    };
    let before = Heap::stats();
    let t = Instant::now();
    match imp {
        "Heap::allocate_batch" => {
            let spare: &mut [MaybeUninit<NonNull<u8>>] = &mut ptrs.spare_capacity_mut()[..BATCH_N];
            let b = Heap.allocate_batch(layout, spare);
            assert_eq!(b.count, BATCH_N, "batch allocation fell short");
            // SAFETY: `count` elements were initialised.
            unsafe { ptrs.set_len(b.count) };
            for (i, &p) in ptrs.iter().enumerate() {
                write(p, i);
            }
            // SAFETY: every block is live, listed once, not used again.
            unsafe { Heap.deallocate_batch(&ptrs, layout) };
        }
        "loop over Heap" => {
            for i in 0..BATCH_N {
                let p = Heap.allocate(layout).expect("allocate").cast::<u8>();
                write(p, i);
                ptrs.push(p);
            }
            for &p in &ptrs {
                // SAFETY: live blocks of `layout`.
                unsafe { Heap.deallocate(p, layout) };
            }
        }
        _ => {
            for i in 0..BATCH_N {
                // SAFETY: non-zero size.
                let p = NonNull::new(unsafe { System.alloc(layout) }).expect("alloc");
                write(p, i);
                ptrs.push(p);
            }
            for &p in &ptrs {
                // SAFETY: live blocks of `layout`.
                unsafe { System.dealloc(p.as_ptr(), layout) };
            }
        }
    }
    run.secs = t.elapsed().as_secs_f64();
    if imp != "loop over System" {
        run.bytes_copied = Some(Heap::stats().since(&before).bytes_copied);
    }
    run
}

// --- churn -------------------------------------------------------------------

/// A small deterministic generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }
    #[inline]
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn churn_size(rng: &mut Rng) -> usize {
    match rng.below(100) {
        0..=79 => 8 + rng.below(248) as usize,
        80..=95 => 1024 + rng.below(31 * 1024) as usize,
        _ => 64 * 1024 + rng.below(960 * 1024) as usize,
    }
}

fn churn(_imp: &str, scale: Scale, _tl: bool) -> Run {
    // The implementation is the process's global allocator (set by the
    // parent through the environment); the code is the same for all.
    let steps = match scale {
        Scale::Quick => 1_500_000,
        Scale::Full => 6_000_000,
    };
    let mut rng = Rng::new(0x5eed);
    let mut slots: Vec<Option<Vec<u8>>> = (0..8192).map(|_| None).collect();
    let before = Heap::stats();
    let t = Instant::now();
    for _ in 0..steps {
        let i = rng.below(slots.len() as u64) as usize;
        match &mut slots[i] {
            s @ None => {
                let n = churn_size(&mut rng);
                let mut v = Vec::with_capacity(n);
                v.push(1u8);
                v.resize(n.min(64), 2);
                *s = Some(v);
            }
            Some(v) => match rng.below(10) {
                0..=4 => slots[i] = None,
                5..=7 => {
                    // Grow by realloc, keeping the bytes.
                    let extra = v.capacity().max(64);
                    v.reserve_exact(extra);
                    let c = v.capacity();
                    v.resize(c.min(v.len() + 64), 3);
                }
                _ => {
                    let keep = v.len() / 2 + 1;
                    v.truncate(keep);
                    v.shrink_to_fit();
                }
            },
        }
    }
    let live: usize = slots.iter().flatten().map(|v| v.len()).sum();
    black_box(live);
    drop(slots);
    let mut run = Run {
        secs: t.elapsed().as_secs_f64(),
        ..Run::default()
    };
    if crate::switch::name() == "Heap" {
        let d = Heap::stats().since(&before);
        run.relocations = d.relocations;
        run.bytes_copied = Some(d.bytes_copied);
    }
    run
}
