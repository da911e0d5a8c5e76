#!/usr/bin/env bash
# Soak: the adapter (release build) under steady HPA-like load for --duration (default 10m), with pod
# churn and a Prometheus restart; exits non-zero on any wrong answer or RSS growth past the bound.
# Not part of scripts/test.sh.  Usage: bash scripts/soak.sh [--duration 10m] [scripts/soak.py options]
#   ADAPTER_BIN=/path/to/custom-metrics-adapter  use this binary instead of building a release one
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-bench-deps.sh
ADAPTER_BIN="$(bash bench/adapter-bin.sh)"
export ADAPTER_BIN
exec /usr/bin/python3 scripts/soak.py "$@"
