#!/usr/bin/env bash
# Installs the Debian packages the benchmark and the soak need (scripts/bench.sh, scripts/soak.sh),
# only those missing: wrk (HTTP/1.1 load with Lua), h2load (nghttp2-client, HTTP/2 load), nginx
# (the static-file baseline; run as our own process, never as a system service), Prometheus, curl,
# valgrind (callgrind counts the adapter's instructions per request; binutils and gcc prepare its run).
# Safe to run again; needs root (or sudo) only when something is missing.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"
install_missing_packages wrk nghttp2-client nginx-light prometheus curl openssl python3 valgrind binutils gcc libc6-dev
for tool in wrk h2load nginx prometheus curl valgrind callgrind_control objcopy cc; do
    command -v "$tool" >/dev/null || { echo "install-bench-deps: $tool still missing" >&2; exit 1; }
done
