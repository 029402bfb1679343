//! Per-operation costs of the `Heap` against `System`, one group per
//! operation, each with the std baseline.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mallocv2::alloc::Allocator;
use mallocv2::{BatchAlloc, Heap, ResizeInPlace};

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

fn alloc_free(c: &mut Criterion) {
    let mut g = c.benchmark_group("alloc_free");
    for size in [32usize, 1024, 300 << 10] {
        let layout = Layout::from_size_align(size, 8).unwrap();
        g.bench_with_input(BenchmarkId::new("System", size), &layout, |b, &l| {
            b.iter(|| {
                // SAFETY: non-zero size; freed with the same layout.
                unsafe {
                    let p = System.alloc(l);
                    p.write(1);
                    System.dealloc(black_box(p), l);
                }
            })
        });
        g.bench_with_input(BenchmarkId::new("Heap", size), &layout, |b, &l| {
            b.iter(|| {
                let p = Heap.allocate(l).unwrap().cast::<u8>();
                // SAFETY: a live block of `l`, freed once.
                unsafe {
                    p.as_ptr().write(1);
                    Heap.deallocate(black_box(p), l);
                }
            })
        });
    }
    g.finish();
}

/// Grows one block from 1 MiB to 64 MiB by doubling, touching one byte per
/// page of each new part (as a vector filling it would).
fn grow_large(c: &mut Criterion) {
    let mut g = c.benchmark_group("grow_1MiB_to_64MiB");
    for align in [8usize, 64] {
        g.bench_with_input(BenchmarkId::new("System", align), &align, |b, &a| {
            b.iter(|| {
                let mut l = Layout::from_size_align(1 << 20, a).unwrap();
                // SAFETY: non-zero size; every realloc result replaces `p`.
                unsafe {
                    let mut p = System.alloc(l);
                    while l.size() < 64 << 20 {
                        let n = l.size() * 2;
                        p = System.realloc(p, l, n);
                        for off in (l.size()..n).step_by(4096) {
                            p.add(off).write(1);
                        }
                        l = Layout::from_size_align(n, a).unwrap();
                    }
                    System.dealloc(black_box(p), l);
                }
            })
        });
        g.bench_with_input(BenchmarkId::new("Heap", align), &align, |b, &a| {
            b.iter(|| {
                let mut l = Layout::from_size_align(1 << 20, a).unwrap();
                let mut p = Heap.allocate(l).unwrap().cast::<u8>();
                while l.size() < 64 << 20 {
                    let n = Layout::from_size_align(l.size() * 2, a).unwrap();
                    // SAFETY: `p` is live with layout `l`.
                    p = unsafe { Heap.grow(p, l, n) }.unwrap().cast();
                    for off in (l.size()..n.size()).step_by(4096) {
                        // SAFETY: inside the grown block.
                        unsafe { p.as_ptr().add(off).write(1) };
                    }
                    l = n;
                }
                // SAFETY: live block of `l`.
                unsafe { Heap.deallocate(black_box(p), l) };
            })
        });
    }
    g.finish();
}

/// 4096 blocks of 32 bytes: one batch call against a loop.
fn batch(c: &mut Criterion) {
    const N: usize = 4096;
    let layout = Layout::new::<[u64; 4]>();
    let mut g = c.benchmark_group("batch_4096x32B");
    let mut ptrs: Vec<NonNull<u8>> = Vec::with_capacity(N);
    g.bench_function("System loop", |b| {
        b.iter(|| {
            ptrs.clear();
            for _ in 0..N {
                // SAFETY: non-zero size.
                ptrs.push(NonNull::new(unsafe { System.alloc(layout) }).unwrap());
            }
            for &p in &ptrs {
                // SAFETY: live blocks of `layout`.
                unsafe { System.dealloc(p.as_ptr(), layout) };
            }
        })
    });
    g.bench_function("Heap::allocate_batch", |b| {
        b.iter(|| {
            ptrs.clear();
            let spare: &mut [MaybeUninit<NonNull<u8>>] = &mut ptrs.spare_capacity_mut()[..N];
            let r = Heap.allocate_batch(layout, spare);
            // SAFETY: `count` entries were initialised.
            unsafe { ptrs.set_len(r.count) };
            // SAFETY: live blocks of `layout`, each listed once.
            unsafe { Heap.deallocate_batch(black_box(&ptrs), layout) };
        })
    });
    g.finish();
}

/// Growing a large block by one page: in place (commit) against realloc.
fn grow_one_page(c: &mut Criterion) {
    let mut g = c.benchmark_group("grow_by_one_page_at_4MiB");
    let base = 4 << 20;
    g.bench_function("System realloc", |b| {
        let l = Layout::from_size_align(base, 8).unwrap();
        b.iter(|| {
            // SAFETY: non-zero sizes; the realloc result is freed with its size.
            unsafe {
                let p = System.alloc(l);
                let q = System.realloc(p, l, base + 4096);
                System.dealloc(
                    black_box(q),
                    Layout::from_size_align(base + 4096, 8).unwrap(),
                );
            }
        })
    });
    g.bench_function("Heap try_grow_in_place", |b| {
        let l = Layout::from_size_align(base, 8).unwrap();
        b.iter(|| {
            let p = Heap.allocate(l).unwrap().cast::<u8>();
            // SAFETY: live block of `l`; freed with its new usable size.
            unsafe {
                let n = Heap.try_grow_in_place(p, l, base + 4096).unwrap();
                Heap.deallocate(black_box(p), Layout::from_size_align(n, 8).unwrap());
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = alloc_free, grow_large, batch, grow_one_page
}
criterion_main!(benches);
