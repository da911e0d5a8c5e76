#!/usr/bin/env bash
# Renders every kustomization into manifests/rendered/ (checked in). With --check, renders into a
# temporary directory and fails if the checked-in files differ (or one is missing or extra), so the
# manifests cannot drift.
#
#   base, cert-manager, secret          the adapter (manifests/base, manifests/overlays/*)
#   triton-hpa, loadbalancing-*         manifests/examples/** (every directory with a kustomization.yaml)
#   triton-base, triton-<model>         manifests/triton/base and manifests/triton/overlays/*
#   monitoring                          manifests/monitoring
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(base:manifests/base)
for dir in manifests/overlays/*/; do
    [[ -f $dir/kustomization.yaml ]] && targets+=("$(basename "$dir"):${dir%/}")
done
while IFS= read -r file; do
    dir=$(dirname "$file")
    rel=${dir#manifests/examples/}
    targets+=("${rel//\//-}:$dir")
done < <(find manifests/examples -name kustomization.yaml | sort)
targets+=(triton-base:manifests/triton/base)
for dir in manifests/triton/overlays/*/; do
    [[ -f $dir/kustomization.yaml ]] && targets+=("triton-$(basename "$dir"):${dir%/}")
done
targets+=(monitoring:manifests/monitoring)

out=manifests/rendered
if [[ ${1:-} == --check ]]; then
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"
for target in "${targets[@]}"; do
    name=${target%%:*}
    {
        echo "# Rendered by scripts/render-manifests.sh from ${target#*:}; do not edit."
        kubectl kustomize "${target#*:}"
    } > "$out/$name.yaml"
done
if [[ ${1:-} == --check ]]; then
    if ! diff -ru manifests/rendered "$out"; then
        echo "manifests/rendered is out of date: run scripts/render-manifests.sh and commit the result" >&2
        exit 1
    fi
    echo "manifests/rendered matches the kustomizations (${#targets[@]} renders)"
fi
