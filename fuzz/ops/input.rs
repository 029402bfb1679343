//! Decodes fuzz input bytes into choices. Running out of bytes yields zeros,
//! so every input is a valid program.

/// A cursor over the input bytes.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// Wraps the input.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    /// Whether any byte is left.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte (0 when exhausted).
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// The next two bytes, little-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from(self.u8()) | (u16::from(self.u8()) << 8)
    }

    /// The next four bytes, little-endian.
    pub fn u32(&mut self) -> u32 {
        u32::from(self.u16()) | (u32::from(self.u16()) << 16)
    }

    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 256 {
            self.u8() as usize % n
        } else if n <= 65536 {
            self.u16() as usize % n
        } else {
            self.u32() as usize % n
        }
    }

    /// A boolean.
    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// A size spread over the interesting ranges: tiny, small, around the
    /// page size, around the large-block threshold, large.
    pub fn size(&mut self) -> usize {
        match self.u8() % 8 {
            0 => self.below(33),
            1 | 2 => self.below(1024),
            3 => 4096 - 64 + self.below(129),
            4 => self.below(64 << 10),
            5 => (256 << 10) - 4096 + self.below(8192),
            6 => (128 << 10) + self.below(1 << 20),
            _ => self.below(4 << 20),
        }
    }

    /// A power-of-two alignment, mostly small, sometimes above the page
    /// size (up to 2 MiB).
    pub fn align(&mut self) -> usize {
        match self.u8() % 16 {
            0..=9 => 1 << (self.u8() % 5),
            10..=13 => 1 << (self.u8() % 13),
            _ => 1 << (13 + self.u8() % 9),
        }
    }
}

/// The byte a cookie pattern holds at `offset`.
#[inline]
pub fn pattern(cookie: u8, offset: usize) -> u8 {
    cookie ^ (offset as u8) ^ ((offset >> 8) as u8).rotate_left(3)
}

/// Offsets a check visits in a block of `len` bytes: all of them for small
/// blocks, else every 61st byte plus the first and last 256.
pub fn probes(len: usize) -> impl Iterator<Item = usize> {
    let dense = len <= 16 << 10;
    let head = if dense { len } else { 256.min(len) };
    let tail_start = if dense { len } else { len.saturating_sub(256) };
    (0..head)
        .chain((head..tail_start).step_by(61))
        .chain(tail_start..len)
}

/// Writes the cookie pattern at the probe offsets of `[ptr, ptr + len)`.
///
/// # Safety
/// `ptr` points to `len` writable bytes.
pub unsafe fn fill(ptr: *mut u8, len: usize, cookie: u8) {
    for i in probes(len) {
        // SAFETY: `i < len` (the caller's block).
        unsafe { ptr.add(i).write(pattern(cookie, i)) };
    }
}

/// Checks the cookie pattern written by `fill(ptr, written, cookie)` at its
/// probe offsets below `upto`.
///
/// # Safety
/// `ptr` points to at least `min(written, upto)` readable bytes that `fill`
/// wrote.
pub unsafe fn check(ptr: *const u8, written: usize, upto: usize, cookie: u8, what: &str) {
    let len = written;
    for i in probes(written).take_while(|&i| i < upto) {
        // SAFETY: `i < len` (the caller's block).
        let b = unsafe { ptr.add(i).read() };
        assert_eq!(
            b,
            pattern(cookie, i),
            "{what}: byte {i} of {len} at {ptr:p} changed"
        );
    }
}
