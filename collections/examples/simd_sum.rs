//! Sums `f32`s with AVX aligned loads from an `AlignedVec<f32, 32>` grown
//! one element at a time, checks the result against a scalar sum, and
//! prints how many bytes the growth copied.
//!
//! ```text
//! cargo run --release -p mallocv2-collections --example simd_sum [elements]
//! ```
//!
//! On x86_64 with AVX (detected at run time) the sum uses `_mm256_load_ps`,
//! which requires 32-byte-aligned addresses: the buffer guarantees that
//! through every growth. Elsewhere a scalar loop with the same lane order
//! runs instead.

use mallocv2::Heap;
use mallocv2_collections::AlignedVec;

/// Bytes per SIMD lane (AVX: 8 `f32`).
const LANE: usize = 32;
/// `f32`s per lane.
const PER_LANE: usize = LANE / core::mem::size_of::<f32>();

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(16 << 20);

    let before = Heap::thread_stats();
    let mut v: AlignedVec<f32, LANE> = AlignedVec::new();
    for i in 0..n {
        v.push((i % 1024) as f32 * 0.5);
    }
    let grown = Heap::thread_stats().since(&before);
    let padded = v.pad_to_lanes(LANE, 0.0);

    let (simd, how) = sum(&v);
    let scalar = sum_scalar(&v);
    let exact: f64 = v.iter().map(|&x| f64::from(x)).sum();
    // Same lane order, same IEEE additions: bit-identical.
    assert_eq!(simd.to_bits(), scalar.to_bits(), "{simd} != {scalar}");
    let rel = ((f64::from(simd) - exact) / exact.max(1.0)).abs();
    assert!(rel < 1e-3, "{simd} vs {exact}: relative error {rel}");

    let bytes = v.len() * core::mem::size_of::<f32>();
    println!(
        "elements: {n} (+{padded} padding), {bytes} bytes, buffer at {:p}",
        v.as_ptr()
    );
    println!("sum ({how}): {simd}; scalar: {scalar}; f64 reference: {exact}");
    println!(
        "growth: {} bytes copied ({:.3}% of the final size), {} copying relocations, \
         {} copy-free remaps, {} in-place grows",
        grown.bytes_copied,
        grown.bytes_copied as f64 * 100.0 / bytes.max(1) as f64,
        grown.relocations,
        grown.remaps,
        grown.in_place_grows
    );
}

/// The sum with the best instructions available.
fn sum(v: &AlignedVec<f32, LANE>) -> (f32, &'static str) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: AVX is available on this CPU (checked just above).
            return (unsafe { sum_avx(v) }, "AVX, aligned loads");
        }
    }
    (sum_scalar(v), "scalar fallback")
}

/// Eight running sums, one per lane position, added up at the end: the
/// order the AVX version uses.
fn sum_scalar(v: &AlignedVec<f32, LANE>) -> f32 {
    let (lanes, tail) = v.as_chunks::<PER_LANE>();
    let mut acc = [0.0f32; PER_LANE];
    for lane in lanes {
        for (a, x) in acc.iter_mut().zip(lane) {
            *a += x;
        }
    }
    acc.iter().sum::<f32>() + tail.iter().sum::<f32>()
}

/// AVX sum with aligned loads.
///
/// # Safety
/// The CPU supports AVX.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn sum_avx(v: &AlignedVec<f32, LANE>) -> f32 {
    use std::arch::x86_64::{_mm256_add_ps, _mm256_load_ps, _mm256_setzero_ps, _mm256_storeu_ps};

    let (lanes, tail) = v.as_chunks::<PER_LANE>();
    let mut parts = [0.0f32; PER_LANE];
    // SAFETY: AVX is enabled (caller). Each lane is 8 `f32` = 32 bytes,
    // and lanes start at the buffer, which is 32-byte aligned
    // (`AlignedVec<_, 32>`), so every `lane.as_ptr()` is 32-byte aligned
    // as `_mm256_load_ps` requires and points at 32 readable bytes; the
    // store writes 32 bytes into `parts`, which has exactly that many.
    unsafe {
        let mut acc = _mm256_setzero_ps();
        for lane in lanes {
            acc = _mm256_add_ps(acc, _mm256_load_ps(lane.as_ptr()));
        }
        _mm256_storeu_ps(parts.as_mut_ptr(), acc);
    }
    parts.iter().sum::<f32>() + tail.iter().sum::<f32>()
}
