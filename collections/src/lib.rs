//! Collections over the [`mallocv2`] allocator (in progress; see the
//! collections issue).

pub use mallocv2::Heap;
