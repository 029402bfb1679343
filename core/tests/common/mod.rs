//! Helpers shared by the integration tests: a small deterministic random
//! number generator and content cookies that survive moves.
//!
//! A cookie pattern is derived from a per-block seed (fixed when the block is
//! first filled, so it stays valid after the block moves) and the byte
//! offset. Blocks above 16 KiB are filled and checked sparsely (64 bytes per
//! page, per 64 KiB above 256 KiB, per MiB above 64 MiB) so that tests stay
//! fast in debug builds and tests on gigabyte blocks keep a small resident
//! set.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use core::ptr::NonNull;

/// xorshift64*: deterministic, fast, good enough for test programs.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed` (0 is mapped to a fixed non-zero seed).
    pub fn new(seed: u64) -> Self {
        Rng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A value in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// Shuffles `v` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// Whether the tests should scale down (set under valgrind by the CI).
pub fn slow_runner() -> bool {
    std::env::var_os("MALLOCV2_SLOW_RUNNER").is_some_and(|v| v != "0")
}

/// `n` normally, `slow` on a slow runner.
pub fn scaled(n: usize, slow: usize) -> usize {
    if slow_runner() {
        slow
    } else {
        n
    }
}

/// The cookie byte at offset `i` of a block with seed `seed`.
#[inline]
pub fn cookie(seed: u64, i: usize) -> u8 {
    let x = seed
        .wrapping_add(i as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (x >> 56) as u8 ^ (i as u8)
}

/// Blocks up to this size are filled and checked densely.
const DENSE: usize = 16 << 10;

/// The byte ranges of a block of `len` bytes that carry cookies: all of a
/// small block; for a larger one the first and last 4 KiB plus 64 bytes
/// every page (every 64 KiB above 256 KiB, every MiB above 64 MiB).
pub fn cookie_ranges(len: usize) -> Vec<(usize, usize)> {
    if len <= DENSE {
        return vec![(0, len)];
    }
    let stride = if len > (64 << 20) {
        1 << 20
    } else if len > (256 << 10) {
        64 << 10
    } else {
        4096
    };
    let mut v = vec![(0, 4096)];
    let mut at = stride;
    while at + 64 <= len - 4096 {
        v.push((at, at + 64));
        at += stride;
    }
    v.push((len - 4096, len));
    v
}

/// Writes the cookie of `seed` into the cookie ranges of `[0, len)`.
///
/// # Safety
/// `p` is valid for writes of `len` bytes.
pub unsafe fn fill(p: NonNull<u8>, len: usize, seed: u64) {
    for (a, b) in cookie_ranges(len) {
        // SAFETY: `[a, b)` lies inside `[0, len)` (caller).
        let s = unsafe { core::slice::from_raw_parts_mut(p.as_ptr().add(a), b - a) };
        for (k, x) in s.iter_mut().enumerate() {
            *x = cookie(seed, a + k);
        }
    }
}

/// Checks the cookies written by `fill(p, filled, seed)` that lie below
/// `limit`; panics with the first mismatch.
///
/// # Safety
/// `p` is valid for reads of `min(filled, limit)` bytes.
pub unsafe fn check(p: NonNull<u8>, filled: usize, limit: usize, seed: u64, what: &str) {
    for (a, b) in cookie_ranges(filled) {
        let b = b.min(limit);
        if a >= b {
            continue;
        }
        // SAFETY: `[a, b)` lies inside `[0, min(filled, limit))` (caller).
        let s = unsafe { core::slice::from_raw_parts(p.as_ptr().add(a), b - a) };
        if let Some(k) = s
            .iter()
            .enumerate()
            .position(|(k, &x)| x != cookie(seed, a + k))
        {
            panic!(
                "{what}: cookie mismatch at offset {} of {p:p} (filled {filled}, limit {limit}): \
                 found {:#04x}, expected {:#04x}",
                a + k,
                s[k],
                cookie(seed, a + k)
            );
        }
    }
}

/// Checks that `[from, to)` of the block reads as zero (sparsely above
/// 16 KiB of range, like the cookies); panics with the first non-zero byte.
///
/// # Safety
/// `p` is valid for reads of `to` bytes.
pub unsafe fn check_zero(p: NonNull<u8>, from: usize, to: usize, what: &str) {
    if from >= to {
        return;
    }
    for (a, b) in cookie_ranges(to - from) {
        let (a, b) = (from + a, from + b);
        // SAFETY: `[a, b)` lies inside `[from, to)` (caller).
        let s = unsafe { core::slice::from_raw_parts(p.as_ptr().add(a), b - a) };
        if let Some(k) = s.iter().position(|&x| x != 0) {
            panic!(
                "{what}: byte {} of {p:p} is {:#04x}, expected 0 (zero range {from}..{to})",
                a + k,
                s[k]
            );
        }
    }
}

/// Writes `byte` over `[from, to)` sparsely (the same ranges `check_zero`
/// reads), to dirty memory before a zeroing operation.
///
/// # Safety
/// `p` is valid for writes of `to` bytes.
pub unsafe fn dirty(p: NonNull<u8>, from: usize, to: usize, byte: u8) {
    if from >= to {
        return;
    }
    for (a, b) in cookie_ranges(to - from) {
        // SAFETY: inside `[from, to)` (caller).
        unsafe { p.as_ptr().add(from + a).write_bytes(byte, b - a) };
    }
}

/// Whether `p` is aligned to `align`.
pub fn aligned(p: NonNull<u8>, align: usize) -> bool {
    p.as_ptr() as usize % align == 0
}
