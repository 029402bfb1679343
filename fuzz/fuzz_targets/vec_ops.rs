//! Fuzz target: see `ops/vec.rs`.
#![no_main]
#![allow(dead_code)]

#[path = "../ops/mod.rs"]
mod ops;

libfuzzer_sys::fuzz_target!(|data: &[u8]| ops::vec::run(data));
