//! The one place that names `allocator_api2` (0.2, the version hashbrown
//! 0.17 uses), so a version change touches only this file.

pub use allocator_api2::alloc::{AllocError, Allocator, Global};
pub use core::alloc::Layout;
pub use std::alloc::System;
