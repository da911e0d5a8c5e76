#!/usr/bin/env bash
# Installs the Debian packages the build, the demo and the tests need, only those missing.
# Safe to run again; needs root (or sudo) only when something is missing.
#
# victoria-metrics (the server, vmagent, vmalert, vmauth) is the second engine of the end-to-end, fault and
# tenancy suites; nginx (any flavour) with libnginx-mod-stream is the tenant router and the replicas' TCP
# pass-through. Both are run as the tests' own processes: Debian's postinst is kept from starting the
# system services.
set -euo pipefail

packages=(prometheus libssl-dev libnghttp2-dev libcurl4-openssl-dev nghttp2-client curl python3 python3-venv openssl
          victoria-metrics nginx-light libnginx-mod-stream)
missing=()
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
# Any nginx flavour will do.
if [[ " ${missing[*]} " == *" nginx-light "* ]] && command -v nginx >/dev/null 2>&1; then
    missing=("${missing[@]/nginx-light}")
fi
read -r -a missing <<<"${missing[*]}"
if ((${#missing[@]})); then
    echo "==> installing: ${missing[*]}"
    as_root=()
    [[ $(id -u) -eq 0 ]] || as_root=(sudo)
    "${as_root[@]}" apt-get update -qq
    # policy-rc.d keeps Debian's postinst from starting victoria-metrics and nginx as system services.
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
command -v kubectl >/dev/null || { echo "kubectl is required (it ships with this machine image)" >&2; exit 1; }
command -v swift >/dev/null || { echo "swift is required (Swift 6.3 toolchain)" >&2; exit 1; }
for tool in victoria-metrics vmagent vmalert vmauth nginx; do
    command -v "$tool" >/dev/null || { echo "install-deps: $tool still missing" >&2; exit 1; }
done
[[ -e /usr/lib/nginx/modules/ngx_stream_module.so ]] || { echo "install-deps: nginx stream module missing" >&2; exit 1; }
