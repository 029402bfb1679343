//! Sets `cfg(mallocv2_asan)` when the crate is built with AddressSanitizer
//! (`RUSTFLAGS=-Zsanitizer=address` on nightly), so the batch slabs can tell
//! the sanitizer which of their slots are free. Works on stable too (where
//! the sanitizer does not exist and the cfg is never set).

use std::env;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(mallocv2_asan)");
    println!("cargo::rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    // Cargo passes the target's cfgs to build scripts: `-Zsanitizer=address`
    // sets `sanitize="address"`, seen here as CARGO_CFG_SANITIZE. The flags
    // themselves are checked as well, for toolchains that do not forward it.
    let cfg = env::var("CARGO_CFG_SANITIZE").unwrap_or_default();
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let asan = cfg.split(',').any(|s| s == "address")
        || flags
            .split('\x1f')
            .collect::<Vec<_>>()
            .windows(2)
            .any(|w| w[0] == "-Z" && w[1] == "sanitizer=address")
        || flags.split('\x1f').any(|f| f == "-Zsanitizer=address");
    if asan {
        println!("cargo::rustc-cfg=mallocv2_asan");
    }
}
