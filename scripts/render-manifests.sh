#!/usr/bin/env bash
# Renders every kustomization into manifests/rendered/ (checked in). With --check, renders into a
# temporary directory and fails if the checked-in files differ, so the manifests cannot drift.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(base:manifests/base cert-manager:manifests/overlays/cert-manager secret:manifests/overlays/secret
    triton-hpa:manifests/examples/triton-hpa)
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
    echo "manifests/rendered matches the kustomizations"
fi
