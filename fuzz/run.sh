#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds each (default 60), one after the
# other, growing the committed corpus in corpus/<target>/. Crash inputs land
# in artifacts/<target>/: copy them to regressions/<target>/ so that
# `cargo test --workspace` replays them.
#   fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
shift || true
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "=== $t: ${secs}s"
  cargo +nightly fuzz run "$t" -O "corpus/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=4096 -timeout=60 -print_final_stats=1 2>&1 \
    | grep -E '^(stat::|Done|#[0-9]+ +DONE)|panicked|ERROR|SUMMARY' || true
  if compgen -G "artifacts/$t/crash-*" >/dev/null; then
    echo "!!! $t found crashes: artifacts/$t/" >&2
    exit 1
  fi
done
