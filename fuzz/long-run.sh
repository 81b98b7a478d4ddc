#!/usr/bin/env bash
# The long run (fuzz/README.md): every target (or the ones named) for SECONDS each, two at a
# time under `nice -n 19`, seeded corpora in fuzz/corpus/<target>, logs in fuzz/logs/<target>.log.
# Fork mode with timeouts ignored: on a shared machine a niced fuzzer can be starved past the
# wall-clock timeout by an input that costs milliseconds, so a run keeps going and every
# timeout-* artifact is triaged afterwards by its CPU time (fuzz/README.md). Crashes and OOMs
# still stop the run.
#
# usage: fuzz/long-run.sh [SECONDS [TARGET...]]      (default: 600 s, every target)
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-600}"
shift || true
flags=(-O --debug-assertions --sanitizer none)
cargo +nightly fuzz build "${flags[@]}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
mkdir -p logs
printf '%s\n' "${targets[@]}" | xargs -P 2 -I{} sh -c '
  nice -n 19 cargo +nightly fuzz run '"${flags[*]}"' {} corpus/{} -- \
    -max_total_time='"$secs"' -rss_limit_mb=2048 -timeout=2 -print_final_stats=1 \
    -fork=1 -ignore_timeouts=1 -ignore_ooms=0 -ignore_crashes=0 \
    > logs/{}.log 2>&1; echo "{}: exit $? ($(date -u +%H:%M:%S))"'
