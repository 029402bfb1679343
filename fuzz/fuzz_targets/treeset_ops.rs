//! Fuzz target: see `ops/treeset.rs`.
#![no_main]
#![allow(dead_code)]

#[path = "../ops/mod.rs"]
mod ops;

libfuzzer_sys::fuzz_target!(|data: &[u8]| ops::treeset::run(data));
