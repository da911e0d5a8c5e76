#!/usr/bin/env bash
# Benchmark: the adapter (release build) against nginx, bare Hummingbird and Prometheus, measured in the
# same run, and its instructions per request under callgrind.
# Not part of scripts/test.sh.  Usage: bash scripts/bench.sh [--quick] [scripts/bench.py options]
#   ADAPTER_BIN=/path/to/custom-metrics-adapter  use this binary instead of building a release one
#   BASELINE_BIN=/path/to/bench-baseline         the same for the bare-Hummingbird baseline
#   bash scripts/bench.sh --instructions-only    only instructions per request (callgrind), ~3 min
# Prints the table; writes bench/results.json and docs/performance-latency.svg (docs/performance.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-bench-deps.sh
ADAPTER_BIN="$(bash bench/adapter-bin.sh)"
BASELINE_BIN="$(bash bench/adapter-bin.sh bench-baseline)"
export ADAPTER_BIN BASELINE_BIN
exec /usr/bin/python3 scripts/bench.py "$@"
