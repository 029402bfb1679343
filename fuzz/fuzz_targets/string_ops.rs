//! Fuzz target: see `ops/string.rs`.
#![no_main]
#![allow(dead_code)]

#[path = "../ops/mod.rs"]
mod ops;

libfuzzer_sys::fuzz_target!(|data: &[u8]| ops::string::run(data));
