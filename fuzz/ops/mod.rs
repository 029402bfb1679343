//! The fuzz programs: one module per structure, each with `run(&[u8])`.
//! Shared by the cargo-fuzz targets (`fuzz/fuzz_targets/`) and by the
//! workspace tests that replay the corpora and regressions on stable.

pub mod input;

pub mod heap;
pub mod reservation;
