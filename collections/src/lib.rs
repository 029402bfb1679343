//! Collections over the [`mallocv2`] allocator that grow without copying.
//!
//! (The guide "which collection when" is completed with the collections.)

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

pub use error::TryReserveError;
pub use mallocv2::Heap;
