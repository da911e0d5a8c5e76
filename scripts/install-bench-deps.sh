#!/usr/bin/env bash
# Installs the Debian packages the benchmark and the soak need (scripts/bench.sh, scripts/soak.sh),
# only those missing: wrk (HTTP/1.1 load with Lua), h2load (nghttp2-client, HTTP/2 load), nginx
# (the static-file baseline; run as our own process, never as a system service), Prometheus, curl.
# Safe to run again; needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(wrk nghttp2-client nginx-light prometheus curl openssl python3)
missing=()
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
# Any nginx flavour will do for the baseline.
if [[ " ${missing[*]} " == *" nginx-light "* ]] && command -v nginx >/dev/null 2>&1; then
    missing=("${missing[@]/nginx-light}")
fi
read -r -a missing <<<"${missing[*]}"
if ((${#missing[@]})); then
    echo "==> installing: ${missing[*]}"
    as_root=()
    [[ $(id -u) -eq 0 ]] || as_root=(sudo)
    "${as_root[@]}" apt-get update -qq
    # policy-rc.d keeps Debian's postinst from starting the system nginx: the benchmark runs its own.
    policy=/usr/sbin/policy-rc.d
    added_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee "$policy" >/dev/null
        "${as_root[@]}" chmod +x "$policy"
        added_policy=1
    fi
    status=0
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        >/dev/null || status=$?
    if ((added_policy)); then "${as_root[@]}" rm -f "$policy"; fi
    ((status == 0)) || exit "$status"
fi
for tool in wrk h2load nginx prometheus curl; do
    command -v "$tool" >/dev/null || { echo "install-bench-deps: $tool still missing" >&2; exit 1; }
done
