#!/usr/bin/env bash
# Benchmark: the adapter (release build) against nginx and Prometheus, measured in the same run.
# Not part of scripts/test.sh.  Usage: bash scripts/bench.sh [--quick] [scripts/bench.py options]
#   ADAPTER_BIN=/path/to/custom-metrics-adapter  use this binary instead of building a release one
# Prints the table; writes bench/results.json and docs/performance-latency.svg (docs/performance.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-bench-deps.sh
ADAPTER_BIN="$(bash bench/adapter-bin.sh)"
export ADAPTER_BIN
exec /usr/bin/python3 scripts/bench.py "$@"
