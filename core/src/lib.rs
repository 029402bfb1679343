//! # mallocv2 — memory allocation that stops copying memory
//!
//! RAM capacity has outgrown RAM bandwidth, yet `realloc`, `Vec` growth and
//! aligned buffers still relocate and copy. The 2010 ISO C proposal N1527
//! ("Improving C memory allocation", reference implementation nedmalloc)
//! asked allocators for four capabilities. This crate provides all four
//! through one allocator, [`Heap`], which is also an
//! [`allocator_api2::alloc::Allocator`] (so hashbrown and allocator-aware
//! collections use it) and a [`GlobalAlloc`](std::alloc::GlobalAlloc):
//!
//! 1. **Aligned block resizing** — [`Allocator::grow`](alloc::Allocator::grow)
//!    and [`Heap::resize`] keep any alignment up to [`MAX_ALIGN`] through
//!    every resize, by the protocol: in place, then a copy-free move (pages
//!    remapped with `mremap`), then allocate + copy + free.
//! 2. **Speculative in-place resizing** — [`ResizeInPlace`]: grow or shrink
//!    without moving, or get [`Error::NoSpace`] and an untouched block; plus
//!    size feedback ([`ResizeInPlace::usable_size`]) and the copy-free move on
//!    its own ([`ResizeInPlace::try_remap`]).
//! 3. **Batch allocation** — [`BatchAlloc`]: many blocks in one call, each
//!    freeable and resizable on its own; [`Heap::batch`] carries out per-item
//!    allocate/resize/free requests.
//! 4. **Address-space reservation** — [`Reservation`] (reserve, commit,
//!    decommit; the base never moves) and the per-block reserve hint of
//!    [`Heap::allocate_with`].
//!
//! [`Heap::stats`] shows what was not copied.
//!
//! ## N1527 → Rust
//!
//! | N1527 | here |
//! |---|---|
//! | `aligned_realloc(p, align, size)` | [`Heap::resize`] (or `Allocator::grow`/`shrink`, which keep the layout's alignment) |
//! | `try_realloc(p, size)` | [`ResizeInPlace::try_grow_in_place`] / [`ResizeInPlace::try_shrink_in_place`] |
//! | `try_aligned_realloc(p, align, size)` | [`Heap::resize`] with [`Flags::PREVENT_MOVE`] |
//! | `malloc_usable_size(p)` | [`ResizeInPlace::usable_size`]; every [`Grant`] and `allocate` result carries it |
//! | `batch_alloc1(…, count, size, align, …)` | [`BatchAlloc::allocate_batch`], [`Heap::allocate_batch_zeroed`]; [`BatchAlloc::deallocate_batch`] |
//! | `batch_alloc2` (per-item sizes) | [`Heap::batch`] with [`BatchItem::alloc`] items |
//! | `batch_alloc5(errnos, items, count)` | [`Heap::batch`]: per-item [`BatchItem`] with `result` (`NoSpace` = `ENOSPC`, `OutOfMemory` = `ENOMEM`; [`Error::errno`]) |
//! | `reserve` argument | `reserve` of [`Heap::allocate_with`] / [`Heap::resize`] / [`BatchItem`]; reported in [`Grant::reserved`] |
//! | `M2_ZERO_MEMORY` | [`Flags::ZERO_MEMORY`] (and `allocate_zeroed`, `grow_zeroed`) |
//! | `M2_PREVENT_MOVE` | [`Flags::PREVENT_MOVE`] |
//! | `M2_CONSTANT_TIME` | [`Flags::CONSTANT_TIME`] (accepted; no path does unbounded housekeeping) |
//! | `M2_RESERVE_IS_MULT` | [`Flags::RESERVE_IS_MULT`] |
//! | (Zig's `remap`: move without copying or refuse) | [`ResizeInPlace::try_remap`] |
//!
//! ## Examples
//!
//! Grow a 1 MiB block to 256 MiB without moving it or copying a byte:
//! ```
//! use mallocv2::{alloc::{Allocator, Layout}, Flags, Heap, ResizeInPlace};
//!
//! let layout = Layout::from_size_align(1 << 20, 8).unwrap();
//! let g = Heap.allocate_with(layout, 256 << 20, Flags::NONE)?;
//! let before = Heap::thread_stats();
//! let n = unsafe { Heap.try_grow_in_place(g.ptr(), layout, 256 << 20)? };
//! assert_eq!(Heap::thread_stats().since(&before).bytes_copied, 0);
//! unsafe { Heap.deallocate(g.ptr(), Layout::from_size_align(n, 8).unwrap()) };
//! # Ok::<(), mallocv2::Error>(())
//! ```
//!
//! A small block refuses to grow past its usable size and stays intact:
//! ```
//! use mallocv2::{alloc::{Allocator, Layout}, Error, Heap, ResizeInPlace};
//!
//! let layout = Layout::new::<[u8; 24]>();
//! let p = Heap.allocate(layout).unwrap().cast::<u8>();
//! unsafe { p.as_ptr().write_bytes(0xAB, 24) };
//! let r = unsafe { Heap.try_grow_in_place(p, layout, 4096) };
//! assert_eq!(r, Err(Error::NoSpace));
//! assert!(unsafe { core::slice::from_raw_parts(p.as_ptr(), 24) }.iter().all(|&b| b == 0xAB));
//! unsafe { Heap.deallocate(p, layout) };
//! ```
//!
//! A million blocks in one call, freed one by one:
//! ```
//! use mallocv2::{alloc::{Allocator, Layout}, BatchAlloc, Heap};
//!
//! let layout = Layout::new::<[u64; 4]>();
//! let mut blocks = Vec::new();
//! let b = Heap.allocate_batch_into(layout, 1_000_000, &mut blocks);
//! assert_eq!(b.count, 1_000_000);
//! for p in blocks {
//!     unsafe { Heap.deallocate(p, layout) };
//! }
//! ```
//!
//! As the global allocator:
//! ```
//! #[global_allocator]
//! static GLOBAL: mallocv2::Heap = mallocv2::Heap;
//! # fn main() { let v: Vec<u8> = Vec::with_capacity(1 << 20); drop(v); }
//! ```

#![warn(missing_docs)]

pub mod alloc;
mod error;
pub mod fault;
mod heap;
mod os;
mod reservation;
mod resize;
mod stats;

pub use error::{Error, OsError};
pub use heap::{
    Heap, CACHE_MAX_BYTES, DEFAULT_RESERVE_MULTIPLE, LARGE_THRESHOLD, MAX_DEFAULT_TAIL,
};
pub use reservation::Reservation;
pub use resize::{Batch, BatchAlloc, BatchItem, Block, Flags, Grant, ResizeInPlace};
pub use stats::Stats;

/// The largest alignment accepted (1 GiB). Larger ones are
/// [`Error::BadAlignment`].
pub const MAX_ALIGN: usize = 1 << 30;
