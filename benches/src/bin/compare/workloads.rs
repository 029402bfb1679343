//! The workloads of BENCHMARKS.md and their implementations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::time::Instant;

use mallocv2::alloc::Allocator;
use mallocv2::{BatchAlloc, Heap};
use mallocv2_collections::aligned::AlignedVec;
use mallocv2_collections::hash::HashMap as MHashMap;
use mallocv2_collections::list::LinkedList as MList;
use mallocv2_collections::reserved::ReservedVec;
use mallocv2_collections::reserved_string::ReservedString;
use mallocv2_collections::string::String as MString;
use mallocv2_collections::tree::TreeMap;
use mallocv2_collections::vec::Vec as MVec;

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
    /// aux(impl) <= x * aux(std) (the workload's second timing)
    AuxVsStd(&'static str, f64),
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
    let string_bytes = match scale {
        Scale::Quick => 64 * MIB as u64,
        Scale::Full => 256 * MIB as u64,
    };
    vec![
        Workload {
            name: "aligned-grow",
            what: "push 64-byte-aligned elements to 1 GiB (quick: 256 MiB)",
            impls: vec![
                imp("std Vec<Aligned64>", "system", Role::Std),
                imp("AlignedVec<Aligned64, 64>", "system", Role::Ours),
                imp("presized std Vec", "system", Role::Presized),
            ]
            .into_iter()
            .chain(peer_impls("std Vec<Aligned64>"))
            .collect(),
            run: aligned_grow,
            targets: vec![
                Target::TimeVsStd("AlignedVec<Aligned64, 64>", 0.6),
                Target::TimeVsPresized("AlignedVec<Aligned64, 64>", 1.15),
                Target::WorstVsStd("AlignedVec<Aligned64, 64>", 1.0 / 20.0),
                Target::CopiedVsFinal("AlignedVec<Aligned64, 64>", 0.01, final_bytes),
                Target::RssVsStd("AlignedVec<Aligned64, 64>", 0.8),
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
                imp("ReservedVec<u64>", "system", Role::Ours),
                imp("Vec<u64, Heap>", "system", Role::Ours),
                imp("presized std Vec", "system", Role::Presized),
            ]
            .into_iter()
            .chain(peer_impls("std Vec<u64>"))
            .chain(virtual_buffer_impls())
            .collect(),
            run: big_grow,
            targets: vec![
                Target::TimeVsStd("ReservedVec<u64>", 1.0),
                Target::TimeVsPresized("ReservedVec<u64>", 1.10),
                Target::NoRelocations("ReservedVec<u64>"),
                Target::TimeVsStd("Vec<u64, Heap>", 1.0),
                Target::TimeVsPresized("Vec<u64, Heap>", 1.10),
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
                imp("Vec<u64, Heap>", "system", Role::Ours),
                imp("presized std Vec", "system", Role::Presized),
            ]
            .into_iter()
            .chain(peer_impls("std Vec<u64>"))
            .collect(),
            run: many_grow,
            targets: vec![
                Target::TimeVsStd("Vec<u64, Heap>", 0.8),
                Target::TimeVsPresized("Vec<u64, Heap>", 1.15),
            ],
            plot_timeline: false,
            quick_runs: 3,
            full_runs: 4,
        },
        Workload {
            name: "string-build",
            what: "append ~100-byte lines to 256 MiB (quick: 64 MiB)",
            impls: vec![
                imp("std String", "system", Role::Std),
                imp("String<Heap>", "system", Role::Ours),
                imp("ReservedString", "system", Role::Ours),
            ],
            run: string_build,
            targets: vec![
                Target::TimeVsStd("String<Heap>", 1.0),
                Target::CopiedVsFinal("String<Heap>", 0.01, string_bytes),
                Target::TimeVsStd("ReservedString", 1.0),
                Target::CopiedVsFinal("ReservedString", 0.01, string_bytes),
            ],
            plot_timeline: false,
            quick_runs: 3,
            full_runs: 4,
        },
        Workload {
            name: "list",
            what: "build a 10^7-node list from an iterator (quick: 2x10^6), sum it, drop it",
            impls: vec![
                imp("std LinkedList", "system", Role::Std),
                imp("LinkedList (batch-built)", "system", Role::Ours),
            ],
            run: list,
            targets: vec![
                Target::TimeVsStd("LinkedList (batch-built)", 0.33),
                Target::AuxVsStd("LinkedList (batch-built)", 0.7),
            ],
            plot_timeline: false,
            quick_runs: 3,
            full_runs: 4,
        },
        Workload {
            name: "tree",
            what: "build an ordered map of 10^6 keys in bulk, look up all, drop",
            impls: vec![
                imp("std BTreeMap", "system", Role::Std),
                imp("TreeMap (batch-built)", "system", Role::Ours),
            ],
            run: tree,
            targets: vec![],
            plot_timeline: false,
            quick_runs: 3,
            full_runs: 4,
        },
        Workload {
            name: "tree-sorted",
            what: "build an ordered map from 10^6 sorted pairs (cold: in a fresh process)",
            impls: vec![
                imp("std BTreeMap", "system", Role::Std),
                imp("TreeMap (batch-built)", "system", Role::Ours),
            ],
            run: tree_sorted,
            targets: vec![Target::TimeVsStd("TreeMap (batch-built)", 0.5)],
            plot_timeline: false,
            quick_runs: 3,
            full_runs: 4,
        },
        Workload {
            name: "tree-churned",
            what: "insert 10^6 random u64 singly, look up, iterate, drop (untimed); \
                   then time building an ordered map from 10^6 sorted pairs",
            impls: vec![
                imp("std BTreeMap", "system", Role::Std),
                imp("TreeMap (batch-built)", "system", Role::Ours),
            ],
            run: tree_churned,
            targets: vec![Target::TimeVsStd("TreeMap (batch-built)", 0.5)],
            plot_timeline: false,
            quick_runs: 3,
            full_runs: 4,
        },
        Workload {
            name: "hashmap",
            what: "10^7 u64 inserts then lookups (quick: 2x10^6), same hasher",
            impls: vec![
                imp("hashbrown over Global (std)", "system", Role::Std),
                imp("HashMap (hashbrown over Heap)", "system", Role::Ours),
            ],
            run: hashmap,
            targets: vec![
                Target::TimeVsStd("HashMap (hashbrown over Heap)", 1.0),
                Target::RssVsStd("HashMap (hashbrown over Heap)", 1.0),
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
            name: "alternating",
            what: "global allocator: Vec<u8> with_capacity + resize, two sizes in turn \
                   (300 KB / 6 MB and 300 KB / 4 MB 2000 times, 1 MB / 20 MB 200 times)",
            impls: churn_impls(),
            run: alternating,
            targets: vec![Target::TimeVsStd("Heap (global)", 1.1)],
            plot_timeline: false,
            quick_runs: 3,
            full_runs: 5,
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

/// With `--features peers`: the std implementation again, with jemalloc and
/// mimalloc as the child's global allocator.
fn peer_impls(std_name: &'static str) -> Vec<Impl> {
    if !cfg!(feature = "peers") {
        return Vec::new();
    }
    let (je, mi) = if std_name == "std Vec<Aligned64>" {
        (
            "std Vec<Aligned64> on jemalloc",
            "std Vec<Aligned64> on mimalloc",
        )
    } else {
        ("std Vec<u64> on jemalloc", "std Vec<u64> on mimalloc")
    };
    vec![
        imp(je, "jemalloc", Role::Peer),
        imp(mi, "mimalloc", Role::Peer),
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

/// What every growable buffer in these workloads offers.
trait Grow<T> {
    fn push(&mut self, v: T);
    fn len(&self) -> usize;
    fn capacity(&self) -> usize;
    fn ptr(&self) -> *const T;
}

macro_rules! grow_impl {
    ($($t:ty),* $(,)?) => {$(
        impl<T> Grow<T> for $t {
            #[inline]
            fn push(&mut self, v: T) {
                <$t>::push(self, v);
            }
            #[inline]
            fn len(&self) -> usize {
                <$t>::len(self)
            }
            #[inline]
            fn capacity(&self) -> usize {
                <$t>::capacity(self)
            }
            #[inline]
            fn ptr(&self) -> *const T {
                <$t>::as_ptr(self)
            }
        }
    )*};
}

grow_impl!(Vec<T>, MVec<T>, ReservedVec<T>, AlignedVec<T, 64>);

/// A 64-byte-aligned element (a cache line / an AVX-512 register).
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub struct Aligned64([u64; 8]);

/// Pushes `n` values, timing each push that grows the buffer (the pushes
/// in between only write memory). The worst of those is the stall a user
/// feels; a pointer change is a relocation.
fn push_n<T, V: Grow<T>>(
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

/// Times `body` on a fresh value from `make`, drop included. For our
/// implementations the Heap's own counters give the bytes copied (and the
/// relocations it performed, copying or not).
fn timed<V>(ours: bool, make: impl FnOnce() -> V, body: impl FnOnce(&mut V, &mut Run)) -> Run {
    let mut run = Run::default();
    let before = Heap::stats();
    let t = Instant::now();
    let mut v = make();
    body(&mut v, &mut run);
    black_box(&v);
    drop(v);
    run.secs = t.elapsed().as_secs_f64();
    if ours {
        let d = Heap::stats().since(&before);
        run.bytes_copied = Some(d.bytes_copied);
    }
    run
}

fn aligned_grow(imp: &str, scale: Scale, tl: bool) -> Run {
    let n = grow_bytes(scale) / size_of::<Aligned64>();
    let make = |i: usize| Aligned64([i as u64; 8]);
    match imp {
        i if i.starts_with("std Vec") => timed(false, Vec::new, |v, r| push_n(v, n, make, r, tl)),
        "presized std Vec" => timed(
            false,
            || Vec::with_capacity(n),
            |v, r| push_n(v, n, make, r, tl),
        ),
        _ => timed(true, AlignedVec::<Aligned64, 64>::new, |v, r| {
            push_n(v, n, make, r, tl);
            assert_eq!(v.as_ptr() as usize % 64, 0);
        }),
    }
}

fn big_grow(imp: &str, scale: Scale, tl: bool) -> Run {
    let n = grow_bytes(scale) / 8;
    let make = |i: usize| i as u64;
    match imp {
        i if i.starts_with("std Vec") => timed(false, Vec::new, |v, r| push_n(v, n, make, r, tl)),
        "presized std Vec" => timed(
            false,
            || Vec::with_capacity(n),
            |v, r| push_n(v, n, make, r, tl),
        ),
        "ReservedVec<u64>" => timed(
            true,
            || ReservedVec::with_max_capacity(n),
            |v, r| push_n(v, n, make, r, tl),
        ),
        #[cfg(feature = "peers")]
        VIRTUAL_BUFFER => timed(
            false,
            || virtual_buffer::vec::Vec::new(n),
            |v, r| push_n(v, n, make, r, tl),
        ),
        _ => timed(true, MVec::new, |v, r| push_n(v, n, make, r, tl)),
    }
}

/// virtual-buffer's vector: also one reservation that never relocates
/// (commits by doubling, lets the writes fault the pages in).
const VIRTUAL_BUFFER: &str = "virtual-buffer Vec<u64>";

/// The never-relocating peer of `big-grow` (with `--features peers`).
fn virtual_buffer_impls() -> Vec<Impl> {
    if cfg!(feature = "peers") {
        vec![imp(VIRTUAL_BUFFER, "system", Role::Peer)]
    } else {
        Vec::new()
    }
}

#[cfg(feature = "peers")]
impl<T> Grow<T> for virtual_buffer::vec::Vec<T> {
    #[inline]
    fn push(&mut self, v: T) {
        self.push_mut(v);
    }
    #[inline]
    fn len(&self) -> usize {
        virtual_buffer::vec::Vec::len(self)
    }
    #[inline]
    fn capacity(&self) -> usize {
        virtual_buffer::vec::Vec::capacity(self)
    }
    #[inline]
    fn ptr(&self) -> *const T {
        self.as_ptr()
    }
}

fn many_grow_with<V: Grow<u64>>(
    ours: bool,
    mut make: impl FnMut() -> V,
    vectors: usize,
    each: usize,
) -> Run {
    timed(
        ours,
        || (0..vectors).map(|_| make()).collect::<Vec<V>>(),
        |vs, run| {
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
        },
    )
}

fn many_grow(imp: &str, scale: Scale, _tl: bool) -> Run {
    let (vectors, bytes) = match scale {
        Scale::Quick => (128, 2 * MIB),
        Scale::Full => (256, 4 * MIB),
    };
    let each = bytes / 8;
    match imp {
        i if i.starts_with("std Vec") => many_grow_with(false, Vec::new, vectors, each),
        "presized std Vec" => many_grow_with(false, || Vec::with_capacity(each), vectors, each),
        _ => many_grow_with(true, MVec::new, vectors, each),
    }
}

// --- strings -----------------------------------------------------------------

/// Appends numbered ~100-byte lines until `bytes` are written.
fn string_build(imp: &str, scale: Scale, tl: bool) -> Run {
    let bytes = match scale {
        Scale::Quick => 64 * MIB,
        Scale::Full => 256 * MIB,
    };
    let line = "the quick brown fox jumps over the lazy dog; memory is bandwidth, not capacity, so stop copying\n";
    assert!(line.len() >= 96);
    macro_rules! build {
        ($ours:expr, $make:expr) => {
            timed($ours, $make, |s, run| {
                let mut k = 0u64;
                while s.len() + line.len() + 20 <= bytes {
                    let grows = s.capacity() - s.len() < line.len() + 20;
                    let before = s.as_ptr();
                    let t = grows.then(Instant::now);
                    use std::fmt::Write as _;
                    let _ = write!(s, "{k:>8} ");
                    s.push_str(line);
                    if let Some(t) = t {
                        let dt = t.elapsed().as_secs_f64();
                        run.worst_op = run.worst_op.max(dt);
                        if tl {
                            run.timeline.push((s.len() as u64, dt));
                        }
                        if s.as_ptr() != before && k > 0 {
                            run.relocations += 1;
                        }
                    }
                    k += 1;
                }
                assert!(s.ends_with('\n'));
            })
        };
    }
    match imp {
        "std String" => build!(false, String::new),
        "ReservedString" => build!(true, || ReservedString::with_max_capacity(bytes)),
        _ => build!(true, MString::new),
    }
}

// --- linked list, tree, hash map --------------------------------------------

fn list(imp: &str, scale: Scale, _tl: bool) -> Run {
    let n: u64 = match scale {
        Scale::Quick => 2_000_000,
        Scale::Full => 10_000_000,
    };
    let mut run = Run::default();
    let before = Heap::stats();
    macro_rules! go {
        ($make:expr) => {{
            let t = Instant::now();
            let l = $make;
            let built = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let sum: u64 = l.iter().sum();
            run.aux = Some(t.elapsed().as_secs_f64());
            assert_eq!(sum, n * (n - 1) / 2);
            let t = Instant::now();
            drop(black_box(l));
            run.secs = built + t.elapsed().as_secs_f64();
        }};
    }
    if imp == "std LinkedList" {
        go!((0..n).collect::<std::collections::LinkedList<u64>>());
    } else {
        go!((0..n).collect::<MList<u64>>());
        run.bytes_copied = Some(Heap::stats().since(&before).bytes_copied);
    }
    run
}

fn tree(imp: &str, scale: Scale, _tl: bool) -> Run {
    let n: u64 = match scale {
        Scale::Quick => 1_000_000,
        Scale::Full => 1_000_000,
    };
    // Keys in a scrambled order, so the bulk build has to sort.
    let keys: Vec<u64> = (0..n)
        .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 16)
        .collect();
    let mut run = Run::default();
    macro_rules! go {
        ($map:ty) => {{
            let t = Instant::now();
            let m: $map = keys.iter().map(|&k| (k, k ^ 1)).collect();
            let mut hits = 0u64;
            for &k in &keys {
                hits += u64::from(m.get(&k) == Some(&(k ^ 1)));
            }
            assert_eq!(hits, n);
            drop(black_box(m));
            run.secs = t.elapsed().as_secs_f64();
        }};
    }
    if imp == "std BTreeMap" {
        go!(std::collections::BTreeMap<u64, u64>);
    } else {
        go!(TreeMap<u64, u64>);
    }
    run
}

fn tree_sorted(imp: &str, _scale: Scale, _tl: bool) -> Run {
    sorted_tree_build(imp, false)
}

fn tree_churned(imp: &str, _scale: Scale, _tl: bool) -> Run {
    sorted_tree_build(imp, true)
}

/// Times a bulk build from 10^6 sorted pairs; with `churn`, after a tree
/// of 10^6 random keys was built by single inserts, looked up, iterated
/// and dropped in the same process (an allocator whose state degrades with
/// that history shows here).
fn sorted_tree_build(imp: &str, churn: bool) -> Run {
    let n: u64 = 1_000_000;
    let keys: Vec<u64> = (0..n)
        .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 16)
        .collect();
    let mut run = Run::default();
    macro_rules! go {
        ($map:ty, $sorted:expr) => {{
            if churn {
                let mut m = <$map>::new();
                for &k in &keys {
                    m.insert(k, k ^ 1);
                }
                let mut hits = 0u64;
                for &k in &keys {
                    hits += u64::from(m.get(&k) == Some(&(k ^ 1)));
                }
                assert_eq!(hits, n);
                let sum = m.iter().fold(0u64, |a, (k, _)| a.wrapping_add(*k));
                black_box(sum);
                drop(black_box(m));
            }
            let t = Instant::now();
            let m: $map = $sorted((0..n).map(|i| (i, i ^ 1)));
            run.secs = t.elapsed().as_secs_f64();
            assert_eq!(m.len() as u64, n);
            drop(black_box(m));
        }};
    }
    if imp == "std BTreeMap" {
        go!(
            std::collections::BTreeMap<u64, u64>,
            |it: std::iter::Map<_, _>| it.collect()
        );
    } else {
        go!(TreeMap<u64, u64>, TreeMap::from_sorted_iter);
    }
    run
}

fn hashmap(imp: &str, scale: Scale, _tl: bool) -> Run {
    let n: u64 = match scale {
        Scale::Quick => 2_000_000,
        Scale::Full => 10_000_000,
    };
    let mut run = Run::default();
    macro_rules! go {
        ($make:expr) => {{
            let t = Instant::now();
            let mut m = $make;
            for i in 0..n {
                m.insert(i.wrapping_mul(0x9e37_79b9_7f4a_7c15), i);
            }
            let mut hits = 0u64;
            for i in 0..n {
                hits += u64::from(m.get(&i.wrapping_mul(0x9e37_79b9_7f4a_7c15)) == Some(&i));
            }
            assert_eq!(hits, n);
            drop(black_box(m));
            run.secs = t.elapsed().as_secs_f64();
        }};
    }
    let hasher = mallocv2_collections::hash::DefaultHashBuilder::default();
    if imp == "hashbrown over Global (std)" {
        go!(hashbrown::HashMap::<u64, u64, _>::with_hasher(hasher));
    } else {
        go!(MHashMap::<u64, u64>::with_hasher(hasher));
    }
    run
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

// --- alternating large sizes -------------------------------------------------

/// The size pairs of `alternating` and how many allocations each makes.
pub const ALTERNATING: [(usize, usize, usize); 3] = [
    (300_000, 6_000_000, 2000),
    (300_000, 4_000_000, 2000),
    (1_000_000, 20_000_000, 200),
];

/// Allocates a `Vec<u8>` of each size of a pair in turn, fills it and drops
/// it: an allocator that cannot keep both sizes' pages faults them in again
/// every time.
fn alternating(_imp: &str, _scale: Scale, _tl: bool) -> Run {
    // The implementation is the process's global allocator, as in `churn`.
    let t = Instant::now();
    let mut sum = 0u64;
    for (a, b, times) in ALTERNATING {
        for i in 0..times {
            let n = if i % 2 == 0 { a } else { b };
            let mut v: Vec<u8> = Vec::with_capacity(n);
            v.resize(n, i as u8);
            sum += u64::from(black_box(&v)[n / 2]);
        }
    }
    black_box(sum);
    Run {
        secs: t.elapsed().as_secs_f64(),
        ..Run::default()
    }
}
