#!/usr/bin/env bash
# CI's fuzz step: install cargo-fuzz if missing, build every target with
# nightly (AddressSanitizer, coverage), then run each for FUZZ_CI_SECONDS
# (default 30) seconds from the committed corpus, without growing it.
set -euo pipefail
cd "$(dirname "$0")"
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
cargo +nightly fuzz build -O
secs=${FUZZ_CI_SECONDS:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in $(cargo +nightly fuzz list); do
  mkdir -p "$work/$t"
  echo "--- fuzz $t ${secs}s"
  # The committed corpus is read-only input here; new inputs go to $work.
  cargo +nightly fuzz run "$t" -O "$work/$t" "corpus/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=4096 -timeout=60 -print_final_stats=1 \
    -artifact_prefix="$work/$t/" 2>&1 | grep -E '^stat::number_of_executed_units|^Done|panicked|ERROR|SUMMARY' || {
      echo "fuzz target $t failed" >&2
      exit 1
    }
done
