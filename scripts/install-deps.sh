#!/usr/bin/env bash
# Installs the Debian packages the build, the demo and the tests need, only those missing.
# Safe to run again; needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(prometheus libssl-dev libnghttp2-dev libcurl4-openssl-dev nghttp2-client curl python3 python3-venv openssl)
missing=()
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "==> installing: ${missing[*]}"
    as_root=()
    [[ $(id -u) -eq 0 ]] || as_root=(sudo)
    "${as_root[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v kubectl >/dev/null || { echo "kubectl is required (it ships with this machine image)" >&2; exit 1; }
command -v swift >/dev/null || { echo "swift is required (Swift 6.3 toolchain)" >&2; exit 1; }
