#!/usr/bin/env bash
# The whole autoscaling loop on one machine with real parts (scripts/closed_loop.py): Triton replicas
# (PyTriton, CPU) behind nginx, Prometheus scraping them, the Kubernetes API stand-in, the adapter and
# `custom-metrics-adapter hpa-controller` deciding the replica count, under a load that ramps up and down.
#
# Installs only what is missing, then runs scripts/closed_loop.py with the arguments given:
#   - PyTriton in .venv-triton (scripts/install-triton.sh);
#   - nginx and prometheus from Debian (apt-get update first; needs root or sudo);
#   - the adapter binary: `swift build` only when .build/debug/custom-metrics-adapter is missing
#     (or set ADAPTER_BIN to a binary to use).
#
# Usage:
#   bash scripts/closed_loop.sh                      # default profile: 15 s sync, 6 s scrape, hpa.yaml's behavior
#   bash scripts/closed_loop.sh --profile short      # about 3 minutes
#   bash scripts/closed_loop.sh --help               # every flag
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '==> closed-loop: %s\n' "$*"; }

bash scripts/install-triton.sh

missing=()
for package in nginx prometheus; do
    command -v "$package" >/dev/null 2>&1 || [[ -x /usr/sbin/$package ]] || [[ -x /usr/bin/$package ]] || missing+=("$package")
done
if ((${#missing[@]})); then
    as_root=()
    [[ $(id -u) -eq 0 ]] || as_root=(sudo)
    say "apt-get install ${missing[*]}"
    "${as_root[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian's nginx package starts a system nginx on port 80; this run uses its own (own prefix, pid and
    # port) and leaves that one alone.
fi

if [[ -z ${ADAPTER_BIN:-} && ! -x .build/debug/custom-metrics-adapter ]]; then
    say "no .build/debug/custom-metrics-adapter: swift build (about 5 minutes from scratch on 2 cores)"
    swift build --product custom-metrics-adapter
fi

exec /usr/bin/python3 scripts/closed_loop.py "$@"
