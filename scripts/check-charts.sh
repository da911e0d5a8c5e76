#!/usr/bin/env bash
# Checks both Helm charts and the install path with the real Helm (v3.17.2) and the real adapter binary:
#
#   tests/install/test_charts.py                 helm lint --strict; helm template with the defaults, every
#                                                charts/custom-metrics-adapter/ci/*.yaml (prometheus-community's
#                                                shapes, the NVIDIA pipeline's values), tls.*, every
#                                                charts/triton/values-<model>.yaml; kubernetes-validate --strict;
#                                                no insecureSkipTLSVerify; refusals with their exact messages
#   tests/install/test_chart_matches_kustomize.py  the chart's default render is manifests/base, object by object
#   tests/install/test_docs_agree.py             the memory request and the 429 wait tied to one source
#   tests/install/test_install_order.py          scripts/install.sh against the stand-in world, real adapter
#   tests/install/test_chart_end_to_end.py       the chart's rules ConfigMap served by the real binary from the
#                                                real Prometheus
#
# Installs Helm into .tools/ (scripts/install-helm.sh) and kubernetes-validate into .venv-tools/ (as
# scripts/check-manifests.sh does) on first use. Needs the Debian packages of scripts/install-deps.sh
# (prometheus, openssl, python3-venv) and kubectl. ADAPTER_BIN: the adapter binary (default .build/debug/…).
# Last line: "charts: N passed, M failed". Exit status 0 only when M is 0.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
KV_VERSION=${KUBERNETES_VALIDATE_VERSION:-1.37.0}
VENV="$ROOT/.venv-tools"

export HELM
HELM=$(bash scripts/install-helm.sh | tail -1)
if ! "$VENV/bin/python" -c 'import kubernetes_validate, yaml' 2>/dev/null; then
    echo "installing kubernetes-validate==$KV_VERSION into .venv-tools/"
    /usr/bin/python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "kubernetes-validate==$KV_VERSION"
fi
echo "helm: $("$HELM" version --template '{{.Version}}'), kubernetes-validate: $("$VENV/bin/python" -c 'import kubernetes_validate as k; print(k.__version__)')"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
"$VENV/bin/python" -m unittest -v \
    tests/install/test_charts.py \
    tests/install/test_chart_matches_kustomize.py \
    tests/install/test_docs_agree.py \
    tests/install/test_install_order.py \
    tests/install/test_chart_end_to_end.py 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
ran=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\}.*/\1/p' "$log" | tail -1)
failures=$(sed -n 's/^FAILED (.*failures=\([0-9]*\).*/\1/p' "$log" | tail -1)
errors=$(sed -n 's/^FAILED (.*errors=\([0-9]*\).*/\1/p' "$log" | tail -1)
skipped=$(sed -n 's/.*skipped=\([0-9]*\).*/\1/p' "$log" | tail -1)
failed=$(( ${failures:-0} + ${errors:-0} ))
[[ -n $ran ]] || { echo "charts: 0 passed, 1 failed (the tests did not run)"; exit 1; }
(( status == 0 || failed > 0 )) || failed=1
echo "charts: $(( ran - failed - ${skipped:-0} )) passed, $failed failed"
(( failed == 0 ))
