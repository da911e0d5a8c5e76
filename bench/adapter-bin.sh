#!/usr/bin/env bash
# Prints the path of a release binary the benchmark and the soak run, built in .build-release here first
# (~10 min from scratch on 2 cores) unless the environment names one:
#   bash bench/adapter-bin.sh                  the adapter; $ADAPTER_BIN when set
#   bash bench/adapter-bin.sh bench-baseline   the bare-Hummingbird baseline (bench/BaselineServer); $BASELINE_BIN
# Build progress goes to standard error, the path alone to standard output.
set -euo pipefail
cd "$(dirname "$0")/.."
product=${1:-custom-metrics-adapter}
case $product in
    custom-metrics-adapter) given=${ADAPTER_BIN:-} ;;
    bench-baseline) given=${BASELINE_BIN:-} ;;
    *) echo "usage: $0 [custom-metrics-adapter|bench-baseline]" >&2; exit 2 ;;
esac
if [[ -n $given ]]; then
    echo "$given"
    exit 0
fi
echo "==> swift build -c release --scratch-path .build-release --product $product" >&2
mkdir -p .build-release
if ! swift build -c release --scratch-path .build-release --product "$product" >".build-release/build-$product.log" 2>&1; then
    tail -40 ".build-release/build-$product.log" >&2
    exit 1
fi
echo "$(swift build -c release --scratch-path .build-release --show-bin-path)/$product"
