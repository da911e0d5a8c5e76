#!/usr/bin/env bash
# Runs every test: Swift unit and component tests, the fixtures' self-test, and the end-to-end test
# against a real Prometheus, the Kubernetes API stand-in, kubectl and curl.
set -euo pipefail
shopt -s lastpipe
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

echo "==> swift build --build-tests"
swift build --build-tests 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]' || true
# Re-run to get the real exit status without the noise.
swift build --build-tests >/dev/null

echo "==> swift test"
swift test --skip-build --parallel 2>&1 | tee .build/swift-test.log | grep -Ev '^(◇|↳|✔ Test [^r])' || true
if grep -q "✘ Test run" .build/swift-test.log || ! grep -q "✔ Test run with" .build/swift-test.log; then
    echo "swift test failed" >&2
    exit 1
fi

swift_count=$(sed -n 's/.*✔ Test run with \([0-9]*\) tests\{0,1\} in.*/\1/p' .build/swift-test.log | tail -1)

echo "==> fuzzing: selector, path and quantity parsers (libFuzzer, ${FUZZ_SECONDS:-30} s each)"
bash scripts/fuzz.sh 2>&1 | tee .build/fuzz.log
fuzz_count=$(sed -n 's/^fuzz: \([0-9]*\) targets passed.*/\1/p' .build/fuzz.log)
[[ -n "$fuzz_count" ]] || { echo "fuzzing failed" >&2; exit 1; }

echo "==> manifests: render, golden files, strict offline validation, no insecureSkipTLSVerify"
bash scripts/render-manifests.sh --check
bash scripts/check-manifests.sh

echo "==> recording rules: promtool check rules, promtool test rules on synthetic Triton series"
bash scripts/check-rules.sh | tee .build/rules-test.log
rules_count=$(sed -n 's/^rules: \([0-9]*\) promtool test groups passed.*/\1/p' .build/rules-test.log)

echo "==> fixtures self-test"
/usr/bin/python3 -m unittest scripts/test_fixtures.py 2>&1 | tee .build/fixtures-test.log
fixtures_count=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\}.*/\1/p' .build/fixtures-test.log)

echo "==> end-to-end: real Prometheus, Kubernetes API stand-in, adapter, kubectl, curl"
ADAPTER_BIN="$(swift build --show-bin-path)/custom-metrics-adapter" \
    /usr/bin/python3 -m unittest tests/integration/test_end_to_end.py -v 2>&1 | tee .build/e2e-test.log
e2e_count=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\}.*/\1/p' .build/e2e-test.log)

echo "==> end-to-end: authentication, authorization, certificate rotation, shutdown"
ADAPTER_BIN="$(swift build --show-bin-path)/custom-metrics-adapter" \
    /usr/bin/python3 -m unittest tests/integration/test_auth.py -v 2>&1 | tee .build/auth-test.log
auth_count=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\}.*/\1/p' .build/auth-test.log)

echo "==> faults: Prometheus (real binary behind a fault proxy), Kubernetes API stand-in, value cache, limits"
ADAPTER_BIN="$(swift build --show-bin-path)/custom-metrics-adapter" \
    /usr/bin/python3 -m unittest tests/integration/test_fault_proxy.py tests/integration/test_faults.py -v 2>&1 | tee .build/faults-test.log
faults_count=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\}.*/\1/p' .build/faults-test.log)

echo "==> tools: explain, config reload (real binary, real Prometheus, stand-in)"
ADAPTER_BIN="$(swift build --show-bin-path)/custom-metrics-adapter" \
    /usr/bin/python3 -m unittest tests/integration/test_tools.py -v 2>&1 | tee .build/tools-test.log
tools_count=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\}.*/\1/p' .build/tools-test.log)

echo "==> replay: promtool-backfilled history, real Prometheus, the replay command"
ADAPTER_BIN="$(swift build --show-bin-path)/custom-metrics-adapter" \
    /usr/bin/python3 -m unittest tests/integration/test_replay.py -v 2>&1 | tee .build/replay-test.log
replay_count=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\}.*/\1/p' .build/replay-test.log)

echo "==> end-to-end: real Triton (PyTriton on CPU), real Prometheus, adapter, kubectl"
bash scripts/install-triton.sh
ADAPTER_BIN="$(swift build --show-bin-path)/custom-metrics-adapter" \
    /usr/bin/python3 -m unittest tests/integration/test_triton.py -v 2>&1 | tee .build/triton-test.log
triton_count=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\}.*/\1/p' .build/triton-test.log)

echo "==> closed loop (shortened): real Triton replicas behind nginx, Prometheus, adapter, hpa-controller"
bash scripts/install-bench-deps.sh
ADAPTER_BIN="$(swift build --show-bin-path)/custom-metrics-adapter" \
    /usr/bin/python3 -m unittest tests/integration/test_closed_loop.py -v 2>&1 | tee .build/closed-loop-test.log
closed_loop_count=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\}.*/\1/p' .build/closed-loop-test.log)

echo "==> container image contents: static release binary in a bare root filesystem, as 65532"
bash scripts/check-rootfs.sh 2>&1 | tee .build/rootfs.log
grep -q '^rootfs: binary answered /readyz in a bare root filesystem' .build/rootfs.log || { echo "rootfs check failed" >&2; exit 1; }
rootfs_count=1

echo "swift: ${swift_count} tests (each parameterised case counted once), fixtures: ${fixtures_count}, end-to-end: ${e2e_count}, auth end-to-end: ${auth_count}, faults: ${faults_count}, tools: ${tools_count}, replay: ${replay_count}, real Triton: ${triton_count}, closed loop: ${closed_loop_count}, promtool rule groups: ${rules_count}, fuzz targets: ${fuzz_count}, rootfs check: ${rootfs_count}"
echo "tests: $((swift_count + fixtures_count + e2e_count + auth_count + faults_count + tools_count + replay_count + triton_count + closed_loop_count + rules_count + fuzz_count + rootfs_count)) passed, 0 failed"
