//! Collections over the [`mallocv2`] allocator that grow without copying.
//!
//! Every collection here grows by one protocol: (1) in place (commit the
//! reserved pages after the block, or use the slack of its usable size),
//! (2) move without copying (`mremap` the pages elsewhere), (3) only then
//! allocate, copy **the live elements only** (never the spare capacity), and
//! free. The allocator's usable size becomes capacity. Each type documents
//! what may move, what never moves, and what its operations cost.
//! `mallocv2::Heap::stats()` shows the bytes that were (not) copied.
//!
//! # Which collection when
//!
//! | you have | use | because |
//! |---|---|---|
//! | a `Vec`/`String` that gets big | [`Vec`], [`String`] | drop-in std API; large buffers grow in place or by remapping, a small one is copied only up to 256 KiB |
//! | data whose address must never change (raw pointers, FFI, self-references, a log) | [`ReservedVec`], [`ReservedString`] | one address-space reservation; never relocates; `shrink_to_fit` gives memory back to the OS |
//! | many threads appending, readers wanting a contiguous slice | [`AppendVec`] | `push(&self)`; readers pay one atomic load; elements never move |
//! | SIMD lanes, cache lines, pages | [`AlignedVec`] | the alignment survives every growth; lane helpers |
//! | a hash map | [`HashMap`], [`HashSet`] | hashbrown over the `Heap`, std constructors |
//! | a linked list built or extended in bulk | [`LinkedList`] | all nodes of a bulk operation come from one batch allocation, each still freed alone |
//! | an ordered map built from many keys at once | [`TreeMap`], [`TreeSet`] | bulk construction allocates every node in one batch call |
//!
//! The collections, [`TryReserveError`], [`Heap`] and hashbrown's
//! [`DefaultHashBuilder`] are at the crate root; each module holds its type's
//! iterators, entries and helpers (`vec::IntoIter`, `tree::Entry`,
//! `reserved::DEFAULT_MAX_BYTES`, …).
//!
//! # Examples
//!
//! A vector that never moves:
//! ```
//! use mallocv2_collections::ReservedVec;
//!
//! let mut v = ReservedVec::with_max_capacity(1 << 20);
//! v.push(1u64);
//! let p = v.as_ptr();
//! for i in 0..100_000 {
//!     v.push(i);
//! }
//! assert_eq!(v.as_ptr(), p); // same address, nothing copied
//! ```
//!
//! Growing a std-like `Vec` copies almost nothing:
//! ```
//! use mallocv2_collections::Vec;
//! use mallocv2::Heap;
//!
//! let before = Heap::thread_stats();
//! let mut v = Vec::new();
//! for i in 0..(8u64 << 20) {
//!     v.push(i); // 64 MiB in the end
//! }
//! let copied = Heap::thread_stats().since(&before).bytes_copied;
//! assert!(copied <= 512 << 10, "{copied} bytes copied");
//! ```
//!
//! Aligned data for SIMD:
//! ```
//! use mallocv2_collections::AlignedVec;
//!
//! let mut v: AlignedVec<f32, 64> = AlignedVec::new();
//! v.extend((0..1000).map(|i| i as f32));
//! assert_eq!(v.as_ptr() as usize % 64, 0);
//! ```
//!
//! A map with the std constructors, allocating from the `Heap`:
//! ```
//! use mallocv2_collections::HashMap;
//!
//! let mut m = HashMap::new();
//! *m.entry("apples").or_insert(0) += 3;
//! assert_eq!(m["apples"], 3);
//! ```
//!
//! Every growth method has a `try_*` form returning [`TryReserveError`];
//! the panicking form says what failed.

pub mod aligned;
pub mod append;
pub mod error;
pub mod hash;
pub mod list;
mod raw;
pub mod reserved;
pub mod reserved_string;
pub mod string;
pub mod tree;
pub mod vec;

/// The README's examples, compiled and run by `cargo test` so that they
/// stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
mod readme {}

pub use aligned::AlignedVec;
pub use append::AppendVec;
pub use error::TryReserveError;
pub use hash::{DefaultHashBuilder, HashMap, HashSet};
pub use list::LinkedList;
pub use mallocv2::Heap;
pub use reserved::ReservedVec;
pub use reserved_string::ReservedString;
pub use string::String;
pub use tree::{TreeMap, TreeSet};
pub use vec::Vec;
