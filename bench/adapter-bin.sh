#!/usr/bin/env bash
# Prints the path of the adapter binary the benchmark and the soak run: $ADAPTER_BIN when set,
# otherwise a release build in .build-release (built here first; ~10 min from scratch on 2 cores).
# Build progress goes to standard error, the path alone to standard output.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -n "${ADAPTER_BIN:-}" ]]; then
    echo "$ADAPTER_BIN"
    exit 0
fi
echo "==> swift build -c release --scratch-path .build-release --product custom-metrics-adapter" >&2
mkdir -p .build-release
if ! swift build -c release --scratch-path .build-release --product custom-metrics-adapter >.build-release/build.log 2>&1; then
    tail -40 .build-release/build.log >&2
    exit 1
fi
echo "$(swift build -c release --scratch-path .build-release --show-bin-path)/custom-metrics-adapter"
