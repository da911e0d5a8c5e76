#!/usr/bin/env bash
# Renders every kustomization under manifests/ and checks it offline:
#
#   * `kubectl kustomize` renders manifests/base, every manifests/overlays/*/ and manifests/examples/*/;
#   * no output contains insecureSkipTLSVerify or --insecure-local-mode;
#   * every APIService of an installable rendering (an overlay) has a non-empty caBundle that decodes to a
#     PEM certificate, or the cert-manager.io/inject-ca-from annotation naming a Certificate rendered with
#     it. The base is not installable alone (its APIServices get the CA from an overlay), which is printed;
#   * every object validates with PyPI kubernetes-validate in strict mode (unknown fields are errors).
#     CRD kinds it has no schema for are skipped by name (CRD_KINDS below) with a printed note and get a
#     structural check instead; any other kind without a schema is a failure, never a silent pass.
#
# kubernetes-validate is installed into .venv-tools/ (git-ignored) on first use.
#
# Environment: KUBERNETES_VERSION (default 1.32.0, the kubectl this project ships with),
#              KUBERNETES_VALIDATE_VERSION (default 1.37.0).
# Exit status: 0 when everything passes, 1 on any failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

K8S_VERSION=${KUBERNETES_VERSION:-1.32.0}
KV_VERSION=${KUBERNETES_VALIDATE_VERSION:-1.37.0}
VENV="$ROOT/.venv-tools"

fail() { echo "FAIL: $*" >&2; exit 1; }

command -v kubectl >/dev/null || fail "kubectl not found (kubectl kustomize renders the manifests)"

if ! "$VENV/bin/python" -c 'import kubernetes_validate' 2>/dev/null; then
    echo "installing kubernetes-validate==$KV_VERSION into .venv-tools/"
    /usr/bin/python3 -m venv "$VENV" || fail "cannot create $VENV with /usr/bin/python3 -m venv"
    "$VENV/bin/pip" install --quiet "kubernetes-validate==$KV_VERSION" || fail "pip install kubernetes-validate failed"
fi

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# name|role|directory; role: base (a building block), overlay (installable), example.
targets=("base|base|manifests/base")
for dir in manifests/overlays/*/; do
    [[ -f "$dir/kustomization.yaml" ]] && targets+=("$(basename "$dir")|overlay|${dir%/}")
done
for dir in manifests/examples/*/; do
    [[ -f "$dir/kustomization.yaml" ]] && targets+=("example/$(basename "$dir")|example|${dir%/}")
done
(( ${#targets[@]} > 1 )) || fail "no overlays found under manifests/overlays"

specs=()
for target in "${targets[@]}"; do
    IFS='|' read -r name role dir <<<"$target"
    file="$OUT/${name//\//_}.yaml"
    if ! kubectl kustomize "$dir" >"$file" 2>"$OUT/err"; then
        cat "$OUT/err" >&2
        fail "kubectl kustomize $dir does not render"
    fi
    echo "rendered $dir ($(grep -c '^kind:' "$file") objects)"
    # Never in shipped manifests: a bypass of TLS verification or of authentication.
    if grep -n 'insecureSkipTLSVerify' "$file" >&2; then
        fail "$dir renders insecureSkipTLSVerify: the APIService must verify the adapter with caBundle"
    fi
    if grep -n -- '--insecure-local-mode' "$file" >&2; then
        fail "$dir renders --insecure-local-mode, which turns authentication off"
    fi
    specs+=("$name|$role|$file")
done

"$VENV/bin/python" - "$K8S_VERSION" "${specs[@]}" <<'PY'
import base64
import binascii
import re
import shutil
import subprocess
import sys

import yaml
import kubernetes_validate
from kubernetes_validate import utils as kv

# Custom resource kinds kubernetes-validate has no schema for: (group, kind) -> required spec paths.
CRD_KINDS = {
    ("cert-manager.io", "Certificate"): [("secretName",), ("issuerRef", "name")],
    ("cert-manager.io", "Issuer"): [],
    ("cert-manager.io", "ClusterIssuer"): [],
}
ISSUER_TYPES = ("selfSigned", "ca", "acme", "vault", "venafi")
INJECT = "cert-manager.io/inject-ca-from"

desired = sys.argv[1]
failures = []


def mm(version):
    return ".".join(version.lstrip("v").split(".")[:2])


supported = sorted({mm(v) for v in kv.all_versions()}, key=lambda v: tuple(map(int, v.split("."))))
if mm(desired) in supported:
    version = desired
else:
    version = supported[-1] + ".0"
    print(f"note: kubernetes-validate {kubernetes_validate.__version__} has no schemas for Kubernetes "
          f"{mm(desired)}; validating against the newest it supports, {mm(version)}")
print(f"validating with kubernetes-validate {kubernetes_validate.__version__}, strict, "
      f"Kubernetes {mm(version)}")


def group_of(api_version):
    return api_version.split("/")[0] if "/" in api_version else ""


def dig(obj, *path):
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def check_ca_bundle(where, value):
    """A caBundle must be base64 of one or more PEM certificates."""
    if not isinstance(value, str) or not value.strip():
        return "caBundle is empty"
    try:
        pem = base64.b64decode(re.sub(r"\s+", "", value), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError) as e:
        return f"caBundle is not base64 of a PEM file: {e}"
    if "-----BEGIN CERTIFICATE-----" not in pem:
        return "caBundle holds no PEM CERTIFICATE block"
    if shutil.which("openssl"):
        out = subprocess.run(["openssl", "x509", "-noout", "-subject"], input=pem, capture_output=True, text=True)
        if out.returncode != 0:
            return f"caBundle is not an X.509 certificate: {out.stderr.strip()}"
        return out.stdout.strip()
    return "PEM certificate"


for spec in sys.argv[2:]:
    name, role, path = spec.split("|", 2)
    with open(path) as f:
        objects = [o for o in yaml.safe_load_all(f) if o]
    kinds = {}       # kind -> {"count", "detail": set()}
    notes = []

    def note_kind(kind, api_version, detail):
        entry = kinds.setdefault(kind, {"api": api_version, "count": 0, "detail": []})
        entry["count"] += 1
        if detail and detail not in entry["detail"]:
            entry["detail"].append(detail)

    def bad(obj, message):
        failures.append(f"[{name}] {obj.get('kind')}/{dig(obj, 'metadata', 'name')}: {message}")

    certificates = {(dig(o, "metadata", "namespace"), dig(o, "metadata", "name")): o
                    for o in objects if o.get("kind") == "Certificate" and group_of(o.get("apiVersion", "")) == "cert-manager.io"}
    services = {(dig(o, "metadata", "namespace"), dig(o, "metadata", "name")): o
                for o in objects if o.get("kind") == "Service" and o.get("apiVersion") == "v1"}
    apiservices = {}
    mounted_secrets = set()
    injected_from = set()   # Certificates named by inject-ca-from

    for obj in objects:
        kind, api_version = obj.get("kind"), obj.get("apiVersion", "")
        if not kind or not api_version or not dig(obj, "metadata", "name"):
            failures.append(f"[{name}] an object without kind, apiVersion or metadata.name: {str(obj)[:120]}")
            continue
        crd = CRD_KINDS.get((group_of(api_version), kind))
        if crd is not None:
            # Explicit skip: kubernetes-validate knows only built-in kinds. Check the structure we rely on.
            for field in crd:
                if not dig(obj, "spec", *field):
                    bad(obj, f"spec.{'.'.join(field)} is missing")
            if kind.endswith("Issuer") and sum(t in (obj.get("spec") or {}) for t in ISSUER_TYPES) != 1:
                bad(obj, f"an Issuer needs exactly one of {', '.join(ISSUER_TYPES)}")
            note_kind(kind, api_version, None)
            continue
        try:
            kv.validate(obj, version, strict=True)
        except kv.ValidationError as e:
            where = ".".join(str(p) for p in e.path)
            bad(obj, f"does not validate against Kubernetes {e.version} (strict): {where}: {e.message}")
        except kv.SchemaNotFoundError as e:
            bad(obj, f"{e.message}; if this is a CRD kind, add it to CRD_KINDS in scripts/check-manifests.sh")
        detail = None

        if kind == "APIService" and group_of(api_version) == "apiregistration.k8s.io":
            spec_ = obj.get("spec") or {}
            apiservices[spec_.get("version")] = spec_
            if spec_.get("insecureSkipTLSVerify"):
                bad(obj, "insecureSkipTLSVerify is set")
            svc = spec_.get("service") or {}
            if (svc.get("namespace"), svc.get("name")) not in services:
                bad(obj, f"spec.service {svc.get('namespace')}/{svc.get('name')} is not rendered with it")
            ca, inject = spec_.get("caBundle"), dig(obj, "metadata", "annotations", INJECT)
            if ca is not None:
                result = check_ca_bundle(name, ca)
                if not result.startswith("subject") and result != "PEM certificate":
                    bad(obj, result)
                else:
                    detail = f"caBundle: {result}"
                    if "EXAMPLE" in result and not notes:
                        notes.append("the caBundle is the EXAMPLE CA committed in the overlay: replace "
                                     "ca.crt before installing (manifests/overlays/secret/README.md)")
            elif inject:
                ns, _, cert = inject.partition("/")
                if (ns, cert) not in certificates:
                    bad(obj, f"{INJECT}: {inject} names no Certificate rendered with it")
                else:
                    detail = f"caBundle injected by cert-manager from Certificate {inject}"
                    injected_from.add((ns, cert))
            elif role == "base":
                detail = "no caBundle in the base: an overlay supplies it (base is not installable alone)"
            else:
                bad(obj, f"neither a non-empty caBundle nor the {INJECT} annotation")

        if kind == "RoleBinding" and dig(obj, "roleRef", "name") == "extension-apiserver-authentication-reader":
            if dig(obj, "metadata", "namespace") != "kube-system":
                bad(obj, "the binding to extension-apiserver-authentication-reader must be in kube-system")

        if kind == "Deployment":
            for volume in dig(obj, "spec", "template", "spec", "volumes") or []:
                if dig(volume, "secret", "secretName"):
                    mounted_secrets.add(volume["secret"]["secretName"])

        note_kind(kind, api_version, detail)

    # The CA injected into the APIServices must be that of the certificate the adapter serves.
    for key in sorted(injected_from):
        secret = dig(certificates[key], "spec", "secretName")
        if secret not in mounted_secrets:
            failures.append(f"[{name}] Certificate {key[0]}/{key[1]} fills the caBundle, but no Deployment "
                            f"mounts its Secret {secret}")
    v2, v1 = apiservices.get("v1beta2"), apiservices.get("v1beta1")
    if v2 and v1 and not (v2.get("versionPriority", 0) > v1.get("versionPriority", 0)):
        failures.append(f"[{name}] v1beta2.custom.metrics.k8s.io must have a higher versionPriority than v1beta1")
    if role == "overlay" and not apiservices:
        failures.append(f"[{name}] an installable overlay without APIServices")

    print(f"{name} ({role}):")
    for kind, entry in kinds.items():
        key = (group_of(entry["api"]), kind)
        if key in CRD_KINDS:
            status = (f"SKIPPED by kubernetes-validate: CRD kind {entry['api']} has no built-in schema "
                      f"(structure checked here)")
        else:
            status = f"valid (strict, Kubernetes {mm(version)})"
        extra = "".join(f"; {d}" for d in entry["detail"])
        print(f"  {kind:<24} x{entry['count']:<2} {entry['api']:<30} {status}{extra}")
    for n in notes:
        print(f"  note: {n}")

if failures:
    print()
    for f in failures:
        print(f"FAIL: {f}")
    sys.exit(1)
PY

echo "OK: ${#targets[@]} kustomizations render, validate (kubernetes-validate strict, Kubernetes ${K8S_VERSION%.*}) and carry no insecureSkipTLSVerify; every overlay's APIServices have a CA"
