//! Measures what one claim per run saves: `W` writer threads each append
//! `N` `u64` to one `AppendVec`, either one `push` per element or
//! `push_slice` of `CHUNK` elements at a time, and the run prints the
//! median wall time of each way and their ratio.
//!
//! ```text
//! cargo run --release -p mallocv2-collections --example append_runs [N] [CHUNK] [W] [ROUNDS]
//! ```
//!
//! Defaults: 5,000,000 elements per writer, chunks of 1024, 2 writers,
//! 5 rounds (alternating the two ways). Every round checks that each
//! writer's elements are all there, in its order.

use std::sync::Barrier;
use std::time::{Duration, Instant};

use mallocv2_collections::AppendVec;

/// One round: `writers` threads append `n` values each; returns the wall
/// time from the common start to the last writer's end.
fn round(n: usize, chunk: usize, writers: usize, slices: bool) -> Duration {
    // Room for everything, reserved up front (no memory committed yet).
    let v: AppendVec<u64> = AppendVec::with_max_capacity(n * writers);
    let barrier = Barrier::new(writers + 1);
    let elapsed = std::thread::scope(|s| {
        for t in 0..writers {
            let (v, barrier) = (&v, &barrier);
            s.spawn(move || {
                let base = (t as u64) << 40;
                let mut buf = Vec::with_capacity(chunk);
                barrier.wait();
                if slices {
                    let mut i = 0;
                    while i < n {
                        let m = chunk.min(n - i);
                        buf.clear();
                        buf.extend((i..i + m).map(|k| base | k as u64));
                        v.push_slice(&buf);
                        i += m;
                    }
                } else {
                    for k in 0..n {
                        v.push(base | k as u64);
                    }
                }
            });
        }
        barrier.wait();
        let start = Instant::now();
        // The scope joins the writers before returning.
        start
    });
    let elapsed = elapsed.elapsed();
    // Each writer's values, in its order, all present.
    let mut next = vec![0u64; writers];
    for &x in v.as_slice() {
        let t = (x >> 40) as usize;
        assert_eq!(x & ((1 << 40) - 1), next[t], "writer {t} out of order");
        next[t] += 1;
    }
    assert!(
        next.iter().all(|&c| c == n as u64),
        "lost elements: {next:?}"
    );
    elapsed
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

fn main() {
    let arg = |i: usize, default: usize| {
        std::env::args()
            .nth(i)
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let (n, chunk, writers, rounds) = (arg(1, 5_000_000), arg(2, 1024), arg(3, 2), arg(4, 5));
    assert!(chunk > 0 && writers > 0 && rounds > 0);
    let (mut single, mut runs) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        single.push(round(n, chunk, writers, false));
        runs.push(round(n, chunk, writers, true));
    }
    let (s, r) = (median(single), median(runs));
    println!("{writers} writers x {n} u64, {rounds} rounds (median)");
    println!("  push per element     {:>9.1} ms", s.as_secs_f64() * 1e3);
    println!(
        "  push_slice of {chunk:<6} {:>9.1} ms",
        r.as_secs_f64() * 1e3
    );
    println!(
        "  per-element / slice  {:>9.2}x",
        s.as_secs_f64() / r.as_secs_f64()
    );
}
