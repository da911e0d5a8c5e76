#!/usr/bin/env bash
# Run the main job locally, end to end, on one machine:
#
#   simulated Triton pods (tests/support/fake_triton.py) --scrape--> real Prometheus
#   Kubernetes API stand-in (tests/support/kube_standin.py, HTTPS) --pods list+watch--> custom-metrics-adapter
#   kubectl (the real client) --HTTPS/HTTP2--> custom-metrics-adapter --PromQL--> Prometheus
#
# then shows discovery, the HPA's request and what the HPA would decide.
#
# Usage: bash scripts/demo.sh
#   DEMO_RELEASE=1     build and run `swift build -c release` instead of debug
#   DEMO_SKIP_BUILD=1  do not run `swift build`; use the existing binary
#   ADAPTER_BIN=PATH   use this adapter binary (implies no build)
#   DEMO_KEEP=1        leave everything running, print PIDs + kubeconfig, stop on Ctrl-C
#   PYTHON=python3     the Python 3 interpreter for the helpers (standard library only)
#
# Everything binds 127.0.0.1 only, lives in a temporary directory and is stopped on exit.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# 1. System packages: install only what is missing.
step "Checking system packages"
PACKAGES=(prometheus libssl-dev libnghttp2-dev libcurl4-openssl-dev nghttp2-client curl)
command -v dpkg >/dev/null 2>&1 || die "dpkg not found: this script expects a Debian/Ubuntu machine"
missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=()
    elif command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        die "missing packages (${missing[*]}) and neither root nor sudo to install them"
    fi
    echo "installing: ${missing[*]}"
    "${SUDO[@]}" apt-get update
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
    echo "all present: ${PACKAGES[*]}"
fi
command -v kubectl >/dev/null 2>&1 || die "kubectl not found (it is preinstalled on these machines; install kubectl 1.32)"
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found"
echo "kubectl: $(kubectl version --client 2>/dev/null | head -n1)"
echo "prometheus: $(prometheus --version 2>&1 | head -n1)"

# 2. Build the adapter.
if [ -n "${ADAPTER_BIN:-}" ]; then
    step "Using ADAPTER_BIN=$ADAPTER_BIN (no build)"
elif [ "${DEMO_SKIP_BUILD:-0}" = 1 ]; then
    ADAPTER_BIN="$PWD/.build/debug/custom-metrics-adapter"
    if [ "${DEMO_RELEASE:-0}" = 1 ]; then ADAPTER_BIN="$PWD/.build/release/custom-metrics-adapter"; fi
    step "DEMO_SKIP_BUILD=1: using $ADAPTER_BIN"
else
    command -v swift >/dev/null 2>&1 || die "swift not found: install a Swift 6 toolchain"
    BUILD_ARGS=()
    if [ "${DEMO_RELEASE:-0}" = 1 ]; then BUILD_ARGS=(-c release); fi
    step "Building: swift build ${BUILD_ARGS[*]}"
    swift build "${BUILD_ARGS[@]}"
    ADAPTER_BIN="$(swift build "${BUILD_ARGS[@]}" --show-bin-path)/custom-metrics-adapter"
fi
[ -x "$ADAPTER_BIN" ] || die "adapter binary not found at $ADAPTER_BIN"
export ADAPTER_BIN

# 3-5. Start the stack, show what the HPA sees, stop everything (tests/support/e2e_stack.py).
DEMO_PID=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$DEMO_PID" ] && kill -0 "$DEMO_PID" 2>/dev/null; then
        kill -TERM "$DEMO_PID" 2>/dev/null || true
        for _ in $(seq 1 150); do   # the helper stops its own children; give it up to 30 s
            kill -0 "$DEMO_PID" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL "$DEMO_PID" 2>/dev/null || true
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$PYTHON" -m tests.support.e2e_stack demo &
DEMO_PID=$!
rc=0
wait "$DEMO_PID" || rc=$?
DEMO_PID=""
exit "$rc"
