#!/usr/bin/env bash
# Runs every test: Swift unit and component tests, fuzzing, manifest and rule checks, the harness's own
# self-tests, and the end-to-end suites against a real Prometheus, the Kubernetes API stand-in (HTTPS),
# kubectl, curl, real Triton and the closed loop. It says only what happened:
#
# * every step runs from the STEPS table below, in order; its output is kept in .build/test-logs/<name>.log;
# * a step's exit status is kept: a runner that fails fails the run (no `|| true`);
# * a test step that runs 0 tests fails; a count that cannot be read fails (it is never taken as 0);
# * parameterised Swift Testing tests count as their cases ("with N test cases");
# * tests of the adapter and tests of the harness itself are summed on separate lines;
# * the last line is the sum of what the runners reported, alone on its line:
#       tests: N passed, M failed
#
# The table. One row per step, fields separated by "|" (spaces around them are ignored):
#
#     kind | name | count | command
#
#   kind     adapter   tests of what we ship (counted on the "adapter tests" line)
#            harness   tests of the test support: stand-ins, fault proxy, fixtures ("harness self-tests")
#            setup     installs or builds; must exit 0; counts nothing
#   name     a short unique name: the log is .build/test-logs/<name>.log; TEST_ONLY=name1,name2 runs only those
#   count    how to read what the step reported from its output:
#            swift              Swift Testing: one per "✔ Test … passed after", N for "… with N test cases
#                               passed after"; failures likewise from "✘ Test … failed after"; the number
#                               of tests seen must equal the final "Test run with N tests" line
#            unittest           Python unittest: "Ran N tests" and "OK" / "FAILED (failures=F, errors=E)"
#            count:REGEX        a line matching the extended regex whose first group is the number passed
#            once:REGEX         a line matching the extended regex means 1 check passed
#            -                  nothing (setup rows only)
#            (REGEX may not contain "|".)
#   command  run with `bash -c` from the repository root; ADAPTER_BIN is already set (the build's binary)
#
# To add a suite, add a row, e.g.:
#     "adapter | helm | unittest | /usr/bin/python3 -m unittest -v tests/install/test_helm.py"
set -uo pipefail
cd "$(dirname "$0")/.."

PY=/usr/bin/python3
STEPS=(
    "setup   | dependencies       | -        | bash scripts/install-deps.sh"
    "setup   | build              | -        | swift build --build-tests"
    "adapter | swift              | swift    | swift test --skip-build --parallel"
    "adapter | fuzz               | count:^fuzz: ([0-9]+) targets passed$ | bash scripts/fuzz.sh"
    "adapter | rendered-manifests | count:^manifests/rendered matches the kustomizations \(([0-9]+) renders\)$ | bash scripts/render-manifests.sh --check"
    "adapter | manifests          | count:^OK: ([0-9]+) kustomizations render | bash scripts/check-manifests.sh"
    "adapter | rules              | count:^rules: ([0-9]+) promtool test groups passed$ | bash scripts/check-rules.sh"
    "harness | harness            | unittest | $PY -m unittest -v tests/harness/test_fixtures.py tests/harness/test_fault_proxy.py tests/harness/test_kubelet_volume.py"
    "adapter | end-to-end         | unittest | $PY -m unittest -v tests/integration/test_end_to_end.py"
    "adapter | auth               | unittest | $PY -m unittest -v tests/integration/test_auth.py"
    "adapter | faults             | unittest | $PY -m unittest -v tests/integration/test_faults.py"
    "adapter | end-to-end-vm      | unittest | ENGINE=victoriametrics $PY -m unittest -v tests/integration/test_end_to_end.py"
    "adapter | faults-vm          | unittest | ENGINE=victoriametrics $PY -m unittest -v tests/integration/test_faults.py"
    "adapter | tenancy            | unittest | $PY -m unittest -v tests/integration/test_tenancy.py"
    "adapter | replicas           | unittest | $PY -m unittest -v tests/integration/test_replicas.py"
    "adapter | tools              | unittest | $PY -m unittest -v tests/integration/test_tools.py"
    "adapter | rule-answers       | unittest | $PY -m unittest -v tests/integration/test_rule_answers.py"
    "adapter | hostile-network    | unittest | $PY -m unittest -v tests/integration/test_hostile_network.py"
    "adapter | charts             | count:^charts: ([0-9]+) passed, 0 failed$ | bash scripts/check-charts.sh"
    "adapter | replay             | unittest | $PY -m unittest -v tests/integration/test_replay.py"
    "setup   | triton-install     | -        | bash scripts/install-triton.sh"
    "adapter | triton             | unittest | $PY -m unittest -v tests/integration/test_triton.py"
    "setup   | bench-install      | -        | bash scripts/install-bench-deps.sh"
    "adapter | closed-loop        | unittest | $PY -m unittest -v tests/integration/test_closed_loop.py"
    "adapter | rootfs             | once:^rootfs: binary answered /readyz in a bare root filesystem | bash scripts/check-rootfs.sh"
)

LOGS=.build/test-logs
mkdir -p "$LOGS"
export ADAPTER_BIN="${ADAPTER_BIN:-$(swift build --show-bin-path)/custom-metrics-adapter}"

trim() { local s="$1"; s="${s#"${s%%[![:space:]]*}"}"; printf '%s' "${s%"${s##*[![:space:]]}"}"; }

# count_swift LOG: prints "passed failed", or nothing when the log cannot be read.
count_swift() {
    awk '
        /^(✔|✘) Test run with [0-9]+ tests?/ { match($0, /with [0-9]+ test/); run = substr($0, RSTART + 5, RLENGTH - 10) + 0; seen = 1; next }
        /^(✔|✘) Test .* (passed|failed) after / {
            n = 1
            if (match($0, /with [0-9]+ test cases?/)) n = substr($0, RSTART + 5, RLENGTH - 5) + 0
            tests++
            if ($0 ~ /^✔/) passed += n; else failed += n
            next
        }
        /^➜ Test .* skipped/ { tests++ }
        END { if (seen && tests == run) print passed + 0, failed + 0 }
    ' "$1"
}

# count_unittest LOG: prints "passed failed", or nothing when the log cannot be read.
count_unittest() {
    awk '
        /^Ran [0-9]+ tests? in / { ran = $2 + 0; seen = 1; result = ""; next }
        seen && result == "" && /^(OK|FAILED)/ { result = $0 }
        END {
            if (!seen || result == "") exit
            f = 0; s = 0
            if (match(result, /failures=[0-9]+/)) f += substr(result, RSTART + 9, RLENGTH - 9)
            if (match(result, /errors=[0-9]+/)) f += substr(result, RSTART + 7, RLENGTH - 7)
            if (match(result, /skipped=[0-9]+/)) s = substr(result, RSTART + 8, RLENGTH - 8)
            if (match(result, /expected failures=[0-9]+/)) s += substr(result, RSTART + 18, RLENGTH - 18)
            print ran - f - s, f
        }
    ' "$1"
}

# count_line MODE REGEX LOG: prints "passed 0", or nothing when no line matches.
count_line() {
    local mode="$1" regex="$2" log="$3" line
    line=$(grep -E -- "$regex" "$log" | tail -1)
    [[ -n $line ]] || return 0
    if [[ $mode == once ]]; then echo "1 0"; return; fi
    [[ $line =~ $regex ]] || return 0
    local number="${BASH_REMATCH[1]:-}"
    [[ $number =~ ^[0-9]+$ ]] && echo "$number 0"
}

declare -A passed=([adapter]=0 [harness]=0) failed=([adapter]=0 [harness]=0)
summary=()
run_failed=0
failed_steps=()

for row in "${STEPS[@]}"; do
    IFS='|' read -r kind name count command <<<"$row"
    kind=$(trim "$kind"); name=$(trim "$name"); count=$(trim "$count"); command=$(trim "$command")
    if [[ -n ${TEST_ONLY:-} && ",$TEST_ONLY," != *",$name,"* ]]; then
        continue
    fi
    log="$LOGS/$name.log"
    echo "==> [$kind] $name: $command"
    if [[ $count == swift || $name == build ]]; then
        # Progress lines and per-test noise stay in the log; failures and the summary are shown.
        bash -c "$command" 2>&1 | tee "$log" | grep -Ev '^(\[[0-9]+/[0-9]+\]|◇|↳|✔ Test [^r])'
    else
        bash -c "$command" 2>&1 | tee "$log"
    fi
    status=${PIPESTATUS[0]}

    if [[ $kind == setup ]]; then
        if [[ $status -ne 0 ]]; then
            echo "test.sh: setup step $name exited $status; see $log" >&2
            exit 1
        fi
        continue
    fi

    case "$count" in
        swift) result=$(count_swift "$log") ;;
        unittest) result=$(count_unittest "$log") ;;
        count:*) result=$(count_line count "${count#count:}" "$log") ;;
        once:*) result=$(count_line once "${count#once:}" "$log") ;;
        *) echo "test.sh: step $name: unknown count method '$count'" >&2; exit 2 ;;
    esac

    problem=""
    if [[ -z $result ]]; then
        problem="its count could not be read from $log"
        result="0 0"
    fi
    read -r p f <<<"$result"
    if [[ -z $problem && $((p + f)) -eq 0 ]]; then
        problem="it ran 0 tests"
    elif [[ $status -ne 0 && $f -eq 0 && -z $problem ]]; then
        problem="it exited $status but reported no failure"
    elif [[ $status -eq 0 && $f -gt 0 ]]; then
        problem="it reported $f failed but exited 0"
    fi
    passed[$kind]=$((passed[$kind] + p))
    failed[$kind]=$((failed[$kind] + f))
    line="$name: $p passed, $f failed"
    [[ $status -ne 0 ]] && line+=" (exit $status)"
    if [[ -n $problem ]]; then
        line+=" - FAILED: $problem"
    fi
    if [[ -n $problem || $f -gt 0 || $status -ne 0 ]]; then
        run_failed=1
        failed_steps+=("$name")
    fi
    summary+=("$kind|$line")
    echo "<== $line"
done

echo
for kind in adapter harness; do
    parts=()
    for entry in "${summary[@]}"; do
        [[ ${entry%%|*} == "$kind" ]] && parts+=("${entry#*|}")
    done
    [[ ${#parts[@]} -eq 0 ]] && continue
    title="adapter tests"
    [[ $kind == harness ]] && title="harness self-tests"
    echo "$title: ${passed[$kind]} passed, ${failed[$kind]} failed"
    printf '    %s\n' "${parts[@]}"
done
[[ $run_failed -eq 0 ]] || echo "test.sh: FAILED steps: ${failed_steps[*]}" >&2
echo "tests: $((passed[adapter] + passed[harness])) passed, $((failed[adapter] + failed[harness])) failed"
exit "$run_failed"
