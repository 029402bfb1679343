//! Fuzz target: see `ops/append_vec.rs`.
#![no_main]
#![allow(dead_code)]

#[path = "../ops/mod.rs"]
mod ops;

libfuzzer_sys::fuzz_target!(|data: &[u8]| ops::append_vec::run(data));
