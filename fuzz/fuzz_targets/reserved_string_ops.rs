//! Fuzz target: see `ops/reserved_string.rs`.
#![no_main]
#![allow(dead_code)]

#[path = "../ops/mod.rs"]
mod ops;

libfuzzer_sys::fuzz_target!(|data: &[u8]| ops::reserved_string::run(data));
