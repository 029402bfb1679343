//! The fuzz programs: one module per structure, each with `run(&[u8])`.
//! Shared by the cargo-fuzz targets (`fuzz/fuzz_targets/`) and by the
//! workspace tests that replay the corpora and regressions on stable.

pub mod common;
pub mod input;
pub mod vector;

pub mod aligned_vec;
pub mod append_vec;
pub mod hashmap;
pub mod hashset;
pub mod heap;
pub mod linked_list;
pub mod reservation;
pub mod reserved_string;
pub mod reserved_vec;
pub mod string;
pub mod tree;
pub mod treeset;
pub mod vec;
