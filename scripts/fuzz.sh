#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer: CustomMetricsAPI's label selectors, request paths and quantities,
# the GoTemplate module's templates and regular expressions, and PrometheusClient's VectorDecoder.
#
# Each target in fuzz/ is compiled with its module's sources into one binary (swiftc -sanitize=fuzzer,address,
# no SwiftPM), then run for FUZZ_SECONDS (default 30) from a scratch corpus seeded by fuzz/corpus/<target>.
# A target traps when an invariant breaks; the script then prints the reproducer and exits non-zero.
#
# Usage: scripts/fuzz.sh [target...]        targets: selector path quantity template vector (default: all)
# Environment: FUZZ_SECONDS (30), SWIFTC (swiftc on PATH, else /opt/swift/usr/bin/swiftc).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-30}"
build=.build-fuzz
all_targets=(selector path quantity template vector)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

swiftc="${SWIFTC:-$(command -v swiftc || echo /opt/swift/usr/bin/swiftc)}"
[ -x "$swiftc" ] || { echo "fuzz: no swiftc (set SWIFTC or put the Swift toolchain on PATH)" >&2; exit 1; }
toolchain_bin="$(dirname "$(readlink -f "$swiftc")")"

# libFuzzer and ASan come with the swift.org toolchain, next to its clang.
resource_dir="$(readlink -f "$toolchain_bin/../lib/swift/clang")"
for runtime in fuzzer asan; do
    if ! ls "$resource_dir"/lib/*/libclang_rt."$runtime"*.a >/dev/null 2>&1; then
        echo "fuzz: this Swift toolchain has no libclang_rt.$runtime in $resource_dir;" \
            "use a swift.org Linux toolchain, which ships it" >&2
        exit 1
    fi
done
# libFuzzer is C++: the link needs libstdc++.so, which comes with the GCC development package.
if [ ! -e "$("$toolchain_bin/clang++" -print-file-name=libstdc++.so)" ]; then
    gcc_version="$(ls /usr/lib/gcc/x86_64-linux-gnu 2>/dev/null | sort -n | tail -1)"
    package="libstdc++-${gcc_version:-12}-dev"
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "==> installing $package (libFuzzer links against libstdc++)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package"
    else
        echo "fuzz: libstdc++.so not found; install $package" >&2
        exit 1
    fi
fi
linker=()
[ -x "$toolchain_bin/ld.lld" ] && linker=(-use-ld=lld)

mkdir -p "$build/logs" "$build/artifacts"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# The module a target fuzzes, and the support files it needs (the template target needs no Kubernetes names).
sources_for() {
    extra_flags=()
    case "$1" in
        template)
            module_sources=(Sources/GoTemplate/*.swift)
            support_sources=(fuzz/Support/FuzzInput.swift fuzz/Support/Invariant.swift fuzz/Support/SplitMix64.swift)
            ;;
        vector)
            module_sources=(Sources/PrometheusClient/VectorDecoder.swift Sources/PrometheusClient/JSONReader.swift Sources/MetricRules/PrometheusQuerying.swift)
            support_sources=(fuzz/Support/FuzzInput.swift fuzz/Support/Invariant.swift fuzz/Support/SplitMix64.swift)
            extra_flags=(-D FUZZING)
            ;;
        *)
            module_sources=(Sources/CustomMetricsAPI/*.swift)
            support_sources=(fuzz/Support/*.swift)
            ;;
    esac
}

# Builds one target unless its binary is newer than every source it is made of.
build_target() {
    local name="$1" entry binary
    entry="fuzz/$(tr '[:lower:]' '[:upper:]' <<<"${name:0:1}")${name:1}Target.swift"
    binary="$build/$name"
    sources_for "$name"
    [ -f "$entry" ] || { echo "fuzz: no target $name ($entry)" >&2; exit 1; }
    if [ -x "$binary" ] && [ -z "$(find "${module_sources[@]}" "${support_sources[@]}" "$entry" -newer "$binary")" ]; then
        echo "==> $name: up to date"
        return
    fi
    echo "==> building $name"
    "$swiftc" -swift-version 6 -sanitize=fuzzer,address -parse-as-library -O "${linker[@]}" \
        "${extra_flags[@]}" -module-name "$(tr -d -c "[:alnum:]" <<<"$name")Fuzz" "${module_sources[@]}" "${support_sources[@]}" "$entry" -o "$binary"
}

# Prints what libFuzzer left behind for a failed run: the error, the stack, the input.
report_failure() {
    local name="$1" log="$2" artifact
    artifact="$(ls -t "$build/artifacts/$name"/* 2>/dev/null | head -1 || true)"
    echo "fuzz $name: FAILED" >&2
    local demangle=cat
    [ -x "$toolchain_bin/swift-demangle" ] && demangle="$toolchain_bin/swift-demangle --simplified"
    # The error and the stack up to the target's entry point; the libFuzzer driver below it is noise.
    sed -n '/Fatal error\|ERROR: \(libFuzzer\|AddressSanitizer\|LeakSanitizer\)\|^==[0-9]*==ERROR/,/^SUMMARY/p' "$log" \
        | grep -v '^$\|^NOTE: libFuzzer\|^ *Combine libFuzzer' \
        | awk '/^ *#[0-9]+ /{ if (skip) next; if (/LLVMFuzzerTestOneInput/) skip = 1; print; next } { skip = 0; print }' \
        | $demangle | head -60 >&2
    [ -s "$log" ] && ! grep -q 'Fatal error\|ERROR:' "$log" && tail -20 "$log" >&2
    if [ -n "$artifact" ]; then
        local size
        size=$(wc -c <"$artifact")
        echo "reproducer: $artifact" >&2
        echo "reproduce:  SWIFT_BACKTRACE=enable=no $build/$name $artifact" >&2
        local shown=""
        [ "$size" -gt 512 ] && shown=", first 512 shown"
        echo "input, $size bytes$shown, hex:" >&2
        head -c 512 "$artifact" | od -An -v -tx1 >&2
        echo "input, text (octal escapes outside printable ASCII, \$ ends a line):" >&2
        head -c 512 "$artifact" | LC_ALL=C sed -n 'l 0' >&2
    else
        echo "no reproducer written; full log: $log" >&2
    fi
}

for name in "${targets[@]}"; do
    build_target "$name"
done

summaries=()
failed=0
for name in "${targets[@]}"; do
    corpus="$scratch/$name"
    artifacts="$build/artifacts/$name"
    log="$build/logs/$name.log"
    mkdir -p "$corpus"
    rm -rf "$artifacts" && mkdir -p "$artifacts"
    cp fuzz/corpus/"$name"/* "$corpus"/
    echo "==> fuzzing $name for ${seconds} s"
    start=$(date +%s)
    status=0
    SWIFT_BACKTRACE=enable=no ASAN_SYMBOLIZER_PATH="$toolchain_bin/llvm-symbolizer" \
        "$build/$name" "$corpus" -dict="fuzz/dict/$name.dict" -max_total_time="$seconds" -max_len=4096 \
        -timeout=5 -rss_limit_mb=2048 -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1 \
        || status=$?
    elapsed=$(($(date +%s) - start))
    if [ "$status" -ne 0 ]; then
        report_failure "$name" "$log"
        failed=$((failed + 1))
        continue
    fi
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    coverage="$(sed -n 's/^#[0-9]*.*[[:space:]]cov: \([0-9]*\).*/\1/p' "$log" | tail -1)"
    summaries+=("fuzz $name: ${runs:-0} runs in $elapsed s, ${coverage:-0}-edge coverage, no failures")
done

[ ${#summaries[@]} -eq 0 ] || printf '%s\n' "${summaries[@]}"
if [ "$failed" -gt 0 ]; then
    echo "fuzz: $failed of ${#targets[@]} targets failed (reproducers in $build/artifacts/)" >&2
    exit 1
fi
echo "fuzz: ${#targets[@]} targets passed"
