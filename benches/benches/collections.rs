//! Per-operation costs of the collections against their std counterparts,
//! one group per operation, each with the std baseline first.
//!
//! Every timed iteration builds from empty and drops its result unless the
//! group says otherwise (lookup and iterate work on a structure built once,
//! outside the timing; bulk build leaves the drop out of the timing).
//! Throughput is given in elements (bytes for the byte groups), so the
//! report also shows per-element rates.

use std::collections::{BTreeMap, HashMap as StdHashMap, LinkedList as StdLinkedList};
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use mallocv2_collections::aligned::AlignedVec;
use mallocv2_collections::append::AppendVec;
use mallocv2_collections::hash::HashMap;
use mallocv2_collections::list::LinkedList;
use mallocv2_collections::reserved::ReservedVec;
use mallocv2_collections::reserved_string::ReservedString;
use mallocv2_collections::string::String;
use mallocv2_collections::tree::TreeMap;
use mallocv2_collections::vec::Vec;

/// Elements in the push, map, iterate and bulk-build groups.
const N: usize = 100_000;
/// Bytes appended in the `extend_from_slice` group.
const EXTEND_BYTES: usize = 1 << 20;
/// Size of each appended piece in the `extend_from_slice` group.
const PIECE: usize = 4 << 10;
/// Final length of the strings in the `push_str` group.
const STRING_BYTES: usize = 4 << 20;
/// Operations timed between two untimed resets in the single-operation
/// list groups (keeps the list, and memory, bounded).
const CHUNK: u64 = 10_000;

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

/// `n` distinct pseudo-random `u64` keys (splitmix64 of `0..n`: a bijection,
/// so no duplicates), the same on every run.
fn keys(n: usize) -> std::vec::Vec<u64> {
    (0..n as u64)
        .map(|i| {
            let mut z = i.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        })
        .collect()
}

/// Times building a structure from empty by adding each of `items` (behind
/// `black_box`) with `add`, and dropping it.
fn add_each<C, I>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    items: I,
    new: impl Fn() -> C,
    add: impl Fn(&mut C, u64),
) where
    I: IntoIterator<Item = u64> + Clone,
{
    g.bench_function(name, |b| {
        b.iter(|| {
            let mut c = new();
            for x in items.clone() {
                add(&mut c, black_box(x));
            }
            black_box(c)
        })
    });
}

/// Times looking up every key of `probe` with `get`, summing the values.
fn get_each(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    probe: &[u64],
    get: impl Fn(&u64) -> u64,
) {
    g.bench_function(name, |b| {
        b.iter(|| {
            probe
                .iter()
                .map(|k| get(black_box(k)))
                .fold(0u64, u64::wrapping_add)
        })
    });
}

/// Pushes `N` `u64`s one at a time into a vector that starts empty.
fn push(c: &mut Criterion) {
    let mut g = c.benchmark_group("push_1e5_u64");
    g.throughput(Throughput::Elements(N as u64));
    let all = 0..N as u64;
    add_each(
        &mut g,
        "std Vec",
        all.clone(),
        std::vec::Vec::new,
        |v, x| v.push(x),
    );
    add_each(&mut g, "Vec", all.clone(), Vec::new, |v, x| v.push(x));
    add_each(
        &mut g,
        "ReservedVec",
        all.clone(),
        ReservedVec::new,
        |v, x| v.push(x),
    );
    add_each(
        &mut g,
        "AlignedVec<_, 64>",
        all.clone(),
        AlignedVec::<u64, 64>::new,
        |v, x| v.push(x),
    );
    add_each(
        &mut g,
        "AppendVec (1 thread)",
        all,
        AppendVec::new,
        |v, x| {
            v.push(x);
        },
    );
    g.finish();
}

/// Appends 1 MiB of bytes in 4 KiB pieces to a vector that starts empty.
fn extend_from_slice(c: &mut Criterion) {
    let piece: std::vec::Vec<u8> = (0..PIECE).map(|i| i as u8).collect();
    let pieces = EXTEND_BYTES / PIECE;
    let mut g = c.benchmark_group("extend_from_slice_1MiB_by_4KiB");
    g.throughput(Throughput::Bytes(EXTEND_BYTES as u64));
    g.bench_function("std Vec<u8>", |b| {
        b.iter(|| {
            let mut v = std::vec::Vec::new();
            for _ in 0..pieces {
                v.extend_from_slice(black_box(&piece));
            }
            black_box(v)
        })
    });
    g.bench_function("Vec<u8>", |b| {
        b.iter(|| {
            let mut v = Vec::new();
            for _ in 0..pieces {
                v.extend_from_slice(black_box(&piece));
            }
            black_box(v)
        })
    });
    g.bench_function("ReservedVec<u8>", |b| {
        b.iter(|| {
            let mut v = ReservedVec::new();
            for _ in 0..pieces {
                v.extend_from_slice(black_box(&piece));
            }
            black_box(v)
        })
    });
    g.finish();
}

/// Builds a 4 MiB string from lines of 80 to 120 bytes (about 100).
fn push_str(c: &mut Criterion) {
    let lines: std::vec::Vec<std::string::String> = (0..64)
        .map(|i| {
            let mut s = format!("line {i:04}: ");
            let target = 80 + (i * 13) % 41;
            while s.len() < target - 1 {
                s.push(char::from(b'a' + (s.len() % 26) as u8));
            }
            s.push('\n');
            s
        })
        .collect();
    let mut g = c.benchmark_group("push_str_100B_lines_to_4MiB");
    g.throughput(Throughput::Bytes(STRING_BYTES as u64));
    g.bench_function("std String", |b| {
        b.iter(|| {
            let mut s = std::string::String::new();
            for line in lines.iter().cycle() {
                if s.len() >= STRING_BYTES {
                    break;
                }
                s.push_str(black_box(line));
            }
            black_box(s)
        })
    });
    g.bench_function("String", |b| {
        b.iter(|| {
            let mut s = String::new();
            for line in lines.iter().cycle() {
                if s.len() >= STRING_BYTES {
                    break;
                }
                s.push_str(black_box(line));
            }
            black_box(s)
        })
    });
    g.bench_function("ReservedString", |b| {
        b.iter(|| {
            let mut s = ReservedString::new();
            for line in lines.iter().cycle() {
                if s.len() >= STRING_BYTES {
                    break;
                }
                s.push_str(black_box(line));
            }
            black_box(s)
        })
    });
    g.finish();
}

/// Inserts `N` random `u64` keys into an empty map.
///
/// Two std hash baselines: the default (SipHash) that a user switching types
/// compares against, and std with our map's hasher, so the allocator and the
/// table are compared without the hash function.
fn insert(c: &mut Criterion) {
    let ks = keys(N);
    let keys = ks.iter().copied();
    let mut g = c.benchmark_group("insert_1e5_u64");
    g.throughput(Throughput::Elements(N as u64));
    add_each(
        &mut g,
        "std HashMap (SipHash)",
        keys.clone(),
        StdHashMap::new,
        |m, k| {
            m.insert(k, k);
        },
    );
    add_each(
        &mut g,
        "std HashMap (foldhash)",
        keys.clone(),
        || StdHashMap::with_hasher(hashbrown::DefaultHashBuilder::default()),
        |m, k| {
            m.insert(k, k);
        },
    );
    add_each(&mut g, "HashMap", keys.clone(), HashMap::new, |m, k| {
        m.insert(k, k);
    });
    add_each(
        &mut g,
        "std BTreeMap",
        keys.clone(),
        BTreeMap::new,
        |m, k| {
            m.insert(k, k);
        },
    );
    add_each(&mut g, "TreeMap", keys, TreeMap::new, |m, k| {
        m.insert(k, k);
    });
    g.finish();
}

/// Looks up every one of `N` keys (in an order unrelated to insertion) in a
/// map built once outside the timing.
fn lookup(c: &mut Criterion) {
    let ks = keys(N);
    let mut probe = ks.clone();
    probe.sort_unstable_by_key(|k| k.rotate_left(17));
    let mut g = c.benchmark_group("lookup_1e5_u64");
    g.throughput(Throughput::Elements(N as u64));

    let m: StdHashMap<u64, u64> = ks.iter().map(|&k| (k, k)).collect();
    get_each(&mut g, "std HashMap (SipHash)", &probe, |k| m[k]);
    drop(m);
    let m: StdHashMap<u64, u64, hashbrown::DefaultHashBuilder> =
        ks.iter().map(|&k| (k, k)).collect();
    get_each(&mut g, "std HashMap (foldhash)", &probe, |k| m[k]);
    drop(m);
    let m: HashMap<u64, u64> = ks.iter().map(|&k| (k, k)).collect();
    get_each(&mut g, "HashMap", &probe, |k| m[k]);
    drop(m);
    let m: BTreeMap<u64, u64> = ks.iter().map(|&k| (k, k)).collect();
    get_each(&mut g, "std BTreeMap", &probe, |k| m[k]);
    drop(m);
    let m: TreeMap<u64, u64> = ks.iter().map(|&k| (k, k)).collect();
    get_each(&mut g, "TreeMap", &probe, |k| *m.get(k).unwrap());
    g.finish();
}

/// Sums `N` elements of a structure built once outside the timing.
fn iterate(c: &mut Criterion) {
    let ks = keys(N);
    let mut g = c.benchmark_group("iterate_sum_1e5_u64");
    g.throughput(Throughput::Elements(N as u64));

    let v: std::vec::Vec<u64> = (0..N as u64).collect();
    g.bench_function("std Vec", |b| {
        b.iter(|| black_box(&v).iter().fold(0u64, |a, &x| a.wrapping_add(x)))
    });
    let v: Vec<u64> = (0..N as u64).collect();
    g.bench_function("Vec", |b| {
        b.iter(|| black_box(&v).iter().fold(0u64, |a, &x| a.wrapping_add(x)))
    });
    let v: ReservedVec<u64> = (0..N as u64).collect();
    g.bench_function("ReservedVec", |b| {
        b.iter(|| black_box(&v).iter().fold(0u64, |a, &x| a.wrapping_add(x)))
    });
    let l: StdLinkedList<u64> = (0..N as u64).collect();
    g.bench_function("std LinkedList", |b| {
        b.iter(|| black_box(&l).iter().fold(0u64, |a, &x| a.wrapping_add(x)))
    });
    let l: LinkedList<u64> = (0..N as u64).collect();
    g.bench_function("LinkedList", |b| {
        b.iter(|| black_box(&l).iter().fold(0u64, |a, &x| a.wrapping_add(x)))
    });
    let m: BTreeMap<u64, u64> = ks.iter().map(|&k| (k, k)).collect();
    g.bench_function("std BTreeMap", |b| {
        b.iter(|| black_box(&m).values().fold(0u64, |a, &x| a.wrapping_add(x)))
    });
    let m: TreeMap<u64, u64> = ks.iter().map(|&k| (k, k)).collect();
    g.bench_function("TreeMap", |b| {
        b.iter(|| black_box(&m).values().fold(0u64, |a, &x| a.wrapping_add(x)))
    });
    g.finish();
}

/// Builds a structure of `N` elements with `collect` (the bulk path: ours
/// allocates the nodes in batches); the drop is not timed.
fn bulk_build(c: &mut Criterion) {
    let ks = keys(N);
    let mut g = c.benchmark_group("collect_1e5_u64");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("std LinkedList", |b| {
        b.iter_with_large_drop(|| (0..black_box(N as u64)).collect::<StdLinkedList<u64>>())
    });
    g.bench_function("LinkedList", |b| {
        b.iter_with_large_drop(|| (0..black_box(N as u64)).collect::<LinkedList<u64>>())
    });
    g.bench_function("std BTreeMap (random keys)", |b| {
        b.iter_with_large_drop(|| {
            black_box(&ks)
                .iter()
                .map(|&k| (k, k))
                .collect::<BTreeMap<u64, u64>>()
        })
    });
    g.bench_function("TreeMap (random keys)", |b| {
        b.iter_with_large_drop(|| {
            black_box(&ks)
                .iter()
                .map(|&k| (k, k))
                .collect::<TreeMap<u64, u64>>()
        })
    });
    g.finish();
}

/// Times `iters` calls of `op` on lists that are reset by `reset` (untimed)
/// every [`CHUNK`] calls.
fn timed_in_chunks<L>(
    iters: u64,
    mut reset: impl FnMut() -> L,
    mut op: impl FnMut(&mut L, u64),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let n = CHUNK.min(iters - done);
        let mut list = reset();
        let start = Instant::now();
        for i in 0..n {
            op(&mut list, i);
        }
        total += start.elapsed();
        drop(list);
        done += n;
    }
    total
}

/// One `push_front`, then one `pop_front`, on lists of up to [`CHUNK`]
/// elements; building and dropping the lists is not timed.
fn list_ends(c: &mut Criterion) {
    let mut g = c.benchmark_group("list_push_front");
    g.throughput(Throughput::Elements(1));
    g.bench_function("std LinkedList", |b| {
        b.iter_custom(|iters| {
            timed_in_chunks(iters, StdLinkedList::new, |l, i| {
                l.push_front(black_box(i));
            })
        })
    });
    g.bench_function("LinkedList", |b| {
        b.iter_custom(|iters| {
            timed_in_chunks(iters, LinkedList::new, |l, i| {
                l.push_front(black_box(i));
            })
        })
    });
    g.finish();

    let mut g = c.benchmark_group("list_pop_front");
    g.throughput(Throughput::Elements(1));
    g.bench_function("std LinkedList", |b| {
        b.iter_custom(|iters| {
            timed_in_chunks(
                iters,
                || (0..CHUNK).collect::<StdLinkedList<u64>>(),
                |l, _| {
                    black_box(l.pop_front());
                },
            )
        })
    });
    g.bench_function("LinkedList", |b| {
        b.iter_custom(|iters| {
            timed_in_chunks(
                iters,
                || (0..CHUNK).collect::<LinkedList<u64>>(),
                |l, _| {
                    black_box(l.pop_front());
                },
            )
        })
    });
    g.finish();

    // A push then a pop on a short list: the node is freed and allocated
    // again every time (the allocator's reuse path).
    let mut g = c.benchmark_group("list_push_pop_front_pair");
    g.throughput(Throughput::Elements(1));
    let mut l: StdLinkedList<u64> = (0..16).collect();
    g.bench_function("std LinkedList", |b| {
        b.iter(|| {
            l.push_front(black_box(1));
            black_box(l.pop_front())
        })
    });
    let mut l: LinkedList<u64> = (0..16).collect();
    g.bench_function("LinkedList", |b| {
        b.iter(|| {
            l.push_front(black_box(1));
            black_box(l.pop_front())
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = push, extend_from_slice, push_str, insert, lookup, iterate, bulk_build, list_ends
}
criterion_main!(benches);
