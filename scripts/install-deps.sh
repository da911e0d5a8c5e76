#!/usr/bin/env bash
# Installs the Debian packages the build, the demo and the tests need, only those missing.
# Safe to run again; needs root (or sudo) only when something is missing.
#
# victoria-metrics (the server, vmagent, vmalert, vmauth) is the second engine of the end-to-end, fault and
# tenancy suites; nginx (any flavour) with libnginx-mod-stream is the tenant router and the replicas' TCP
# pass-through. Both are run as the tests' own processes: Debian's postinst is kept from starting the
# system services.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"
install_missing_packages prometheus libssl-dev libnghttp2-dev libcurl4-openssl-dev nghttp2-client curl python3 python3-venv openssl \
    victoria-metrics nginx-light libnginx-mod-stream
command -v kubectl >/dev/null || { echo "kubectl is required (it ships with this machine image)" >&2; exit 1; }
command -v swift >/dev/null || { echo "swift is required (Swift 6.3 toolchain)" >&2; exit 1; }
for tool in victoria-metrics vmagent vmalert vmauth nginx; do
    command -v "$tool" >/dev/null || { echo "install-deps: $tool still missing" >&2; exit 1; }
done
[[ -e /usr/lib/nginx/modules/ngx_stream_module.so ]] || { echo "install-deps: nginx stream module missing" >&2; exit 1; }
