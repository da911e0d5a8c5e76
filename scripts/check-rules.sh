#!/usr/bin/env bash
# Checks the Triton recording rules with promtool:
#
#   * renders manifests/monitoring (kubectl kustomize) and extracts the spec.groups of every PrometheusRule into a
#     plain Prometheus rules file (what prometheus-operator hands Prometheus);
#   * `promtool check rules` on it (syntax, PromQL, names);
#   * `promtool test rules tests/promtool/triton-rules.test.yaml` against it: synthetic Triton series for an idle
#     pod, a queueing pod, an ensemble pod and several versions/namespaces, with exact expected values.
#
# promtool comes from the Debian package `prometheus` (scripts/install-deps.sh installs it). PyYAML comes from
# .venv-tools/ (the same virtualenv scripts/check-manifests.sh creates for kubernetes-validate).
#
# Prints `rules: N promtool test groups passed` and exits 0, or exits 1 on any failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

KV_VERSION=${KUBERNETES_VALIDATE_VERSION:-1.37.0}
VENV="$ROOT/.venv-tools"
TEST_FILE=tests/promtool/triton-rules.test.yaml

fail() { echo "FAIL: $*" >&2; exit 1; }

command -v promtool >/dev/null || fail "promtool not found (apt-get install -y --no-install-recommends prometheus)"
command -v kubectl >/dev/null || fail "kubectl not found (kubectl kustomize renders manifests/monitoring)"
if ! "$VENV/bin/python" -c 'import yaml' 2>/dev/null; then
    echo "installing kubernetes-validate==$KV_VERSION (with PyYAML) into .venv-tools/"
    /usr/bin/python3 -m venv "$VENV" || fail "cannot create $VENV with /usr/bin/python3 -m venv"
    "$VENV/bin/pip" install --quiet "kubernetes-validate==$KV_VERSION" || fail "pip install kubernetes-validate failed"
fi

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

kubectl kustomize manifests/monitoring >"$OUT/monitoring.yaml" || fail "kubectl kustomize manifests/monitoring does not render"

# Rules file next to a copy of the test file: rule_files in the test are relative to the test file.
"$VENV/bin/python" - "$OUT/monitoring.yaml" "$OUT/triton-rules.yaml" "$TEST_FILE" "$OUT/groups" <<'PY'
import sys
import yaml

rendered, rules_out, test_file, count_out = sys.argv[1:5]
groups = []
for obj in yaml.safe_load_all(open(rendered)):
    if obj and obj.get("kind") == "PrometheusRule" and obj.get("apiVersion", "").startswith("monitoring.coreos.com/"):
        groups.extend(obj["spec"]["groups"])
if not groups:
    sys.exit("FAIL: manifests/monitoring renders no PrometheusRule with spec.groups")
with open(rules_out, "w") as f:
    yaml.safe_dump({"groups": groups}, f, sort_keys=False)
records = [r["record"] for g in groups for r in g["rules"] if "record" in r]
print(f"extracted {len(groups)} group(s), {len(records)} recording rule(s): {', '.join(records)}")

tests = yaml.safe_load(open(test_file))
if tests.get("rule_files") != ["triton-rules.yaml"]:
    sys.exit(f"FAIL: {test_file} must name rule_files: [triton-rules.yaml] (the extracted file)")
tested = set()
for t in tests["tests"]:
    for case in t.get("promql_expr_test", []):
        tested.update(r for r in records if r in case["expr"])
untested = [r for r in records if r not in tested]
if untested:
    sys.exit(f"FAIL: recording rules without a promtool test in {test_file}: {', '.join(untested)}")
with open(count_out, "w") as f:
    f.write(str(len(tests["tests"])))
PY

echo "==> promtool check rules"
promtool check rules "$OUT/triton-rules.yaml" || fail "promtool check rules rejects the PrometheusRule's groups"

cp "$TEST_FILE" "$OUT/triton-rules.test.yaml"
echo "==> promtool test rules $TEST_FILE"
if ! promtool test rules "$OUT/triton-rules.test.yaml"; then
    fail "promtool test rules $TEST_FILE"
fi

echo "rules: $(cat "$OUT/groups") promtool test groups passed"
