//! Shared pieces of the `compare` program and the criterion suites: the
//! switchable global allocator and measuring helpers.

pub mod switch;
