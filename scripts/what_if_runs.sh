#!/usr/bin/env bash
# Ground truth for docs/what-if.md: the same load under three HPA settings, recorded with the real loop
# (scripts/closed_loop.sh), then the README's default run. Each run keeps its Prometheus data (--keep) so
# scripts/what_if_export.py can write its history as OpenMetrics into docs/what-if-runs/<name>/.
#
# Usage: ADAPTER_BIN=... bash scripts/what_if_runs.sh [name ...]   (names: 1000m 2000m 1000m-fast default)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${WHAT_IF_OUT:-/tmp/what-if-runs}
# One profile for the three comparable runs: the default profile's shape, time constants scaled down so
# that a run takes about 5 minutes (5 s sync, 2 s scrape, 30 s rate window, 60 s stabilization).
# Load: 20 s of 1 client, ramp to 8, hold, step down to 4, hold, then idle until back at the minimum.
MEDIUM=(--sync-period 5s --scrape-interval 2s --rate-window 30s --stabilization 60s
        --scale-up-period 20s --scale-down-period 20s
        --load 0:1,20:1,60:8,160:8,170:4,240:4,250:0)
run() {
    local name=$1; shift
    rm -rf "$OUT/$name"; mkdir -p "$OUT"
    echo "==> what-if run $name: $(date -u +%FT%TZ)"
    bash scripts/closed_loop.sh --keep --out "$OUT/$name" "$@" >"$OUT/$name.log" 2>&1 || echo "run $name failed: see $OUT/$name.log"
    echo "==> what-if run $name done: $(date -u +%FT%TZ)"
}
names=("$@"); ((${#names[@]})) || names=(1000m 2000m 1000m-fast default)
for name in "${names[@]}"; do
    case $name in
        1000m)      run "$name" "${MEDIUM[@]}" --hpa docs/what-if-runs/hpa-1000m.yaml ;;
        2000m)      run "$name" "${MEDIUM[@]}" --hpa docs/what-if-runs/hpa-2000m.yaml ;;
        1000m-fast) run "$name" "${MEDIUM[@]}" --hpa docs/what-if-runs/hpa-1000m-fast.yaml ;;
        default)    run "$name" --svg docs/closed-loop.svg --json docs/closed-loop-run.json \
                        --csv docs/closed-loop-run.csv --table docs/closed-loop-run.txt ;;
        *) echo "unknown run $name" >&2; exit 2 ;;
    esac
done
