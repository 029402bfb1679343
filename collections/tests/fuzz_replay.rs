//! Replays the fuzz programs (`fuzz/ops/`) on stable: every committed seed
//! of `fuzz/corpus/<target>/` and every crash input kept in
//! `fuzz/regressions/<target>/` runs through the same function the
//! cargo-fuzz target calls, so a crash found once stays a test.

#![allow(dead_code)]

#[path = "../../fuzz/ops/mod.rs"]
mod ops;

use std::path::PathBuf;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let slow = std::env::var_os("MALLOCV2_SLOW_RUNNER").is_some();
    let mut out = Vec::new();
    for (dir, limit) in [
        ("regressions", usize::MAX),
        ("corpus", if slow { 40 } else { usize::MAX }),
    ] {
        let Ok(rd) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for p in files.into_iter().take(limit) {
            let data = std::fs::read(&p).expect("read fuzz input");
            out.push((p, data));
        }
    }
    out
}

fn replay(target: &str, run: fn(&[u8])) {
    let inputs = inputs(target);
    assert!(!inputs.is_empty(), "no committed inputs for {target}");
    for (path, data) in inputs {
        let r = std::panic::catch_unwind(|| run(&data));
        assert!(r.is_ok(), "{target}: {} fails", path.display());
    }
}

#[test]
fn heap_ops() {
    replay("heap_ops", ops::heap::run);
}

#[test]
fn reservation_ops() {
    replay("reservation_ops", ops::reservation::run);
}

#[test]
fn vec_ops() {
    replay("vec_ops", ops::vec::run);
}

#[test]
fn string_ops() {
    replay("string_ops", ops::string::run);
}

#[test]
fn reserved_vec_ops() {
    replay("reserved_vec_ops", ops::reserved_vec::run);
}

#[test]
fn aligned_vec_ops() {
    replay("aligned_vec_ops", ops::aligned_vec::run);
}

#[test]
fn hashmap_ops() {
    replay("hashmap_ops", ops::hashmap::run);
}

#[test]
fn linked_list_ops() {
    replay("linked_list_ops", ops::linked_list::run);
}

#[test]
fn tree_ops() {
    replay("tree_ops", ops::tree::run);
}

#[test]
fn hashset_ops() {
    replay("hashset_ops", ops::hashset::run);
}

#[test]
fn treeset_ops() {
    replay("treeset_ops", ops::treeset::run);
}

#[test]
fn reserved_string_ops() {
    replay("reserved_string_ops", ops::reserved_string::run);
}

#[test]
fn append_vec_ops() {
    replay("append_vec_ops", ops::append_vec::run);
}
