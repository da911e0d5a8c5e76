#!/usr/bin/env bash
# Renders every kustomization under manifests/ and checks it offline:
#
#   * `kubectl kustomize` renders manifests/base, every manifests/overlays/*/, every kustomization under
#     manifests/examples/ (triton-hpa, loadbalancing/traefik, loadbalancing/nginx, …), manifests/triton/base,
#     every manifests/triton/overlays/*/, every topology component manifests/triton/components/*/ on top of the
#     Triton base, and manifests/monitoring;
#   * every adapter component manifests/components/*/ renders on top of manifests/base;
#   * no output contains insecureSkipTLSVerify or --insecure-local-mode;
#   * issue 18: the base and the overlays register no APIService for external.metrics.k8s.io (opt-in through
#     manifests/components/external-metrics, which example/external-metrics uses and must register); every
#     cluster-scoped object of an adapter rendering is named custom-metrics-adapter:… or custom-metrics-adapter-…
#     (APIServices are named by the API, <version>.<group>; the Namespace custom-metrics is the one exception);
#   * every APIService of an installable rendering (an overlay) has a non-empty caBundle that decodes to a
#     PEM certificate, or the cert-manager.io/inject-ca-from annotation naming a Certificate rendered with
#     it. The base is not installable alone (its APIServices get the CA from an overlay), which is printed;
#   * every object validates with PyPI kubernetes-validate in strict mode (unknown fields are errors).
#     CRD kinds it has no schema for (cert-manager, prometheus-operator, Traefik) are skipped by name
#     (CRD_KINDS below) with a printed note and get a structural check instead; any other kind without a
#     schema is a failure, never a silent pass;
#   * Triton: in every rendering with the Triton Deployment, GPUS_PER_POD and the nvidia.com/gpu request and
#     limit of every container equal TP_SIZE × PP_SIZE as declared in the ConfigMap triton-model, and the
#     rendered launch.sh, run with LAUNCH_DRY_RUN=1 and that ConfigMap's values, starts exactly TP × PP ranks
#     of which only rank 0 serves HTTP, gRPC and metrics on the container's named ports; the probes use
#     Triton's health endpoints; every overlay names exactly one topology component and sets no TP_SIZE,
#     PP_SIZE or GPUS_PER_POD itself (the component's values would silently win);
#   * the rendered build-engines.sh builds engines once per node cache: two concurrent runs on an empty cache
#     build once (flock), a third finds them, a leftover of a crashed build is cleaned (stub tools, no GPU);
#   * cross-references: the example HPA targets the Triton Deployment and asks for a metric the adapter's rules
#     serve; the ingress examples route to the Triton Service's http port; the PodMonitor selects the Triton
#     pods' metrics port; every Traefik middleware a route names is rendered with it;
#   * dashboards/*.json load as JSON; every panel (rows aside) has the ${datasource} datasource and targets with
#     an expression; triton:* series they query are recorded by the PrometheusRule; custom_metrics_adapter_*
#     series exist in Sources/.
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

# name|role|directory. Roles: base (the adapter's building block), overlay (the adapter, installable),
# example, triton-base, triton-overlay (installable), triton-component (a topology on top of the Triton base),
# monitoring.
targets=("base|base|manifests/base")
for dir in manifests/overlays/*/; do
    [[ -f "$dir/kustomization.yaml" ]] && targets+=("$(basename "$dir")|overlay|${dir%/}")
done
while IFS= read -r file; do
    dir=$(dirname "$file")
    targets+=("example/${dir#manifests/examples/}|example|$dir")
done < <(find manifests/examples -name kustomization.yaml | sort)
targets+=("triton/base|triton-base|manifests/triton/base")
for dir in manifests/triton/overlays/*/; do
    [[ -f "$dir/kustomization.yaml" ]] && targets+=("triton/$(basename "$dir")|triton-overlay|${dir%/}")
done
# A topology component cannot be rendered alone: render each one on top of the Triton base.
for dir in manifests/triton/components/*/; do
    [[ -f "$dir/kustomization.yaml" ]] || continue
    component=$(basename "$dir")
    wrapper="$OUT/components/$component"
    mkdir -p "$wrapper"
    up=$(realpath --relative-to="$wrapper" "$ROOT/manifests/triton")
    printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - %s/base\ncomponents:\n  - %s/components/%s\n' \
        "$up" "$up" "$component" >"$wrapper/kustomization.yaml"
    targets+=("triton/components/$component|triton-component|$wrapper")
done
# An adapter component (external-metrics, networkpolicy, cert-manager) on top of the adapter's base.
for dir in manifests/components/*/; do
    [[ -f "$dir/kustomization.yaml" ]] || continue
    component=$(basename "$dir")
    wrapper="$OUT/adapter-components/$component"
    mkdir -p "$wrapper"
    up=$(realpath --relative-to="$wrapper" "$ROOT/manifests")
    printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - %s/base\ncomponents:\n  - %s/components/%s\n' \
        "$up" "$up" "$component" >"$wrapper/kustomization.yaml"
    targets+=("components/$component|adapter-component|$wrapper")
done
targets+=("monitoring|monitoring|manifests/monitoring")
(( ${#targets[@]} > 1 )) || fail "no overlays found under manifests/overlays"

specs=()
for target in "${targets[@]}"; do
    IFS='|' read -r name role dir <<<"$target"
    file="$OUT/${name//\//_}.yaml"
    if ! kubectl kustomize "$dir" >"$file" 2>"$OUT/err"; then
        cat "$OUT/err" >&2
        fail "kubectl kustomize $dir does not render"
    fi
    shown=$dir
    [[ $role == triton-component ]] && shown="manifests/triton/base + manifests/triton/components/${name##*/}"
    [[ $role == adapter-component ]] && shown="manifests/base + manifests/components/${name##*/}"
    echo "rendered $shown ($(grep -c '^kind:' "$file") objects)"
    # Never in shipped manifests: a bypass of TLS verification or of authentication.
    if grep -n 'insecureSkipTLSVerify' "$file" >&2; then
        fail "$dir renders insecureSkipTLSVerify: the APIService must verify the adapter with caBundle"
    fi
    if grep -n -- '--insecure-local-mode' "$file" >&2; then
        fail "$dir renders --insecure-local-mode, which turns authentication off"
    fi
    specs+=("$name|$role|$file|$dir")
done

"$VENV/bin/python" - "$K8S_VERSION" "$ROOT" "$OUT" "${specs[@]}" <<'PY'
import base64
import binascii
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml
import kubernetes_validate
from kubernetes_validate import utils as kv

# Custom resource kinds kubernetes-validate has no schema for: (group, kind) -> required spec paths.
# Each also gets a kind-specific structural check in check_crd() below.
CRD_KINDS = {
    ("cert-manager.io", "Certificate"): [("secretName",), ("issuerRef", "name")],
    ("cert-manager.io", "Issuer"): [],
    ("cert-manager.io", "ClusterIssuer"): [],
    ("monitoring.coreos.com", "PodMonitor"): [("selector",), ("podMetricsEndpoints",)],
    ("monitoring.coreos.com", "ServiceMonitor"): [("selector",), ("endpoints",)],
    ("monitoring.coreos.com", "PrometheusRule"): [("groups",)],
    ("traefik.io", "IngressRoute"): [("routes",)],
    ("traefik.io", "Middleware"): [],
    ("traefik.io", "TraefikService"): [],
    ("traefik.io", "ServersTransport"): [],
}
ISSUER_TYPES = ("selfSigned", "ca", "acme", "vault", "venafi")
INJECT = "cert-manager.io/inject-ca-from"
DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
TRAEFIK_STRATEGIES = {"wrr", "p2c", "hrw", "leasttime", "RoundRobin"}
TRAEFIK_MIDDLEWARE_TYPES = {
    "addPrefix", "basicAuth", "buffering", "chain", "circuitBreaker", "compress", "contentType", "digestAuth",
    "errors", "forwardAuth", "grpcWeb", "headers", "ipAllowList", "inFlightReq", "passTLSClientCert",
    "plugin", "rateLimit", "redirectRegex", "redirectScheme", "replacePath", "replacePathRegex", "retry",
    "stripPrefix", "stripPrefixRegex",
}
GPU = "nvidia.com/gpu"
CLUSTER_SCOPED_KINDS = {"Namespace", "ClusterRole", "ClusterRoleBinding", "APIService", "PriorityClass",
                        "CustomResourceDefinition", "ValidatingWebhookConfiguration",
                        "MutatingWebhookConfiguration", "ClusterIssuer", "StorageClass", "PersistentVolume"}

desired, root, workdir = sys.argv[1:4]
failures = []
rendered = {}    # target name -> (role, objects)


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


def named(objects, kind, name=None, namespace=None):
    return [o for o in objects if o.get("kind") == kind
            and (name is None or dig(o, "metadata", "name") == name)
            and (namespace is None or dig(o, "metadata", "namespace") == namespace)]


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


def check_crd(obj, bad):
    """Structure of the custom resources we ship, beyond the required fields. Returns a detail or None."""
    kind, spec = obj["kind"], obj.get("spec") or {}
    if kind.endswith("Issuer") and group_of(obj["apiVersion"]) == "cert-manager.io":
        if sum(t in spec for t in ISSUER_TYPES) != 1:
            bad(obj, f"an Issuer needs exactly one of {', '.join(ISSUER_TYPES)}")
    elif kind == "PodMonitor":
        if not (spec.get("selector") or {}).get("matchLabels") and not (spec.get("selector") or {}).get("matchExpressions"):
            bad(obj, "spec.selector selects every pod")
        for i, ep in enumerate(spec.get("podMetricsEndpoints") or []):
            if not (ep.get("port") or ep.get("portNumber")):
                bad(obj, f"podMetricsEndpoints[{i}] names no port")
            for key in ("interval", "scrapeTimeout"):
                if key in ep and not DURATION.match(str(ep[key])):
                    bad(obj, f"podMetricsEndpoints[{i}].{key} {ep[key]!r} is not a Prometheus duration")
        return ", ".join(f"scrapes port {ep.get('port')} {ep.get('path', '/metrics')} every {ep.get('interval', 'default')}"
                         for ep in spec.get("podMetricsEndpoints") or [])
    elif kind == "ServiceMonitor":
        for i, ep in enumerate(spec.get("endpoints") or []):
            if not ep.get("port"):
                bad(obj, f"endpoints[{i}] names no port")
            if dig(ep, "tlsConfig", "insecureSkipVerify"):
                bad(obj, f"endpoints[{i}] skips TLS verification")
            if ep.get("scheme") == "https" and not dig(ep, "tlsConfig", "ca"):
                bad(obj, f"endpoints[{i}] scrapes https without a CA")
    elif kind == "PrometheusRule":
        records = []
        for gi, group in enumerate(spec.get("groups") or []):
            if not group.get("name"):
                bad(obj, f"groups[{gi}] has no name")
            if "interval" in group and not DURATION.match(str(group["interval"])):
                bad(obj, f"groups[{gi}].interval {group['interval']!r} is not a Prometheus duration")
            if not group.get("rules"):
                bad(obj, f"groups[{gi}] has no rules")
            for ri, rule in enumerate(group.get("rules") or []):
                if ("record" in rule) == ("alert" in rule):
                    bad(obj, f"groups[{gi}].rules[{ri}] needs exactly one of record and alert")
                if not str(rule.get("expr") or "").strip():
                    bad(obj, f"groups[{gi}].rules[{ri}] has no expr")
                if "record" in rule:
                    if not METRIC_NAME.match(rule["record"]):
                        bad(obj, f"groups[{gi}].rules[{ri}]: {rule['record']!r} is not a metric name")
                    records.append(rule["record"])
        return (f"{len(records)} recording rule(s) in {len(spec.get('groups') or [])} group(s), "
                f"interval {', '.join(str(g.get('interval', 'default')) for g in spec.get('groups') or [])}; "
                f"PromQL checked by scripts/check-rules.sh")
    elif kind == "IngressRoute":
        for ri, route in enumerate(spec.get("routes") or []):
            if not route.get("match"):
                bad(obj, f"routes[{ri}] has no match rule")
            if not route.get("services"):
                bad(obj, f"routes[{ri}] has no services")
            for si, svc in enumerate(route.get("services") or []):
                if not svc.get("name"):
                    bad(obj, f"routes[{ri}].services[{si}] has no name")
                if svc.get("strategy") and svc["strategy"] not in TRAEFIK_STRATEGIES:
                    bad(obj, f"routes[{ri}].services[{si}].strategy {svc['strategy']!r} is not one of "
                             f"{', '.join(sorted(TRAEFIK_STRATEGIES))}")
        return "; ".join(f"{s.get('name')}:{s.get('port')} strategy {s.get('strategy', 'wrr (default)')}"
                         for r in spec.get("routes") or [] for s in r.get("services") or [])
    elif kind == "Middleware" and group_of(obj["apiVersion"]) == "traefik.io":
        types = [k for k in spec if k in TRAEFIK_MIDDLEWARE_TYPES]
        unknown = [k for k in spec if k not in TRAEFIK_MIDDLEWARE_TYPES]
        if len(types) != 1 or unknown:
            bad(obj, f"a Middleware needs exactly one known type (got {', '.join(spec) or 'none'})")
        return f"type {', '.join(types)}"
    return None


def as_int(value):
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def check_triton(name, objects, bad_name):
    """TP × PP consistency of a rendering with the Triton Deployment. Returns a detail line."""
    deployments = named(objects, "Deployment", "triton")
    if len(deployments) != 1:
        bad_name("expected exactly one Deployment triton")
        return None
    dep = deployments[0]
    pod = dig(dep, "spec", "template", "spec") or {}
    containers = {c["name"]: c for c in pod.get("containers") or []}
    init = {c["name"]: c for c in pod.get("initContainers") or []}
    triton = containers.get("triton")
    if triton is None or "build-engines" not in init:
        bad_name("Deployment triton needs container triton and init container build-engines")
        return None
    refs = [e["configMapRef"]["name"] for e in triton.get("envFrom") or [] if e.get("configMapRef")]
    values_cm = [o for o in named(objects, "ConfigMap") if dig(o, "metadata", "name") in refs
                 and "TP_SIZE" in (o.get("data") or {})]
    if len(values_cm) != 1:
        bad_name("container triton must read exactly one ConfigMap with TP_SIZE (envFrom)")
        return None
    values = values_cm[0]["data"]
    tp, pp, gpus = as_int(values.get("TP_SIZE")), as_int(values.get("PP_SIZE")), as_int(values.get("GPUS_PER_POD"))
    if not tp or not pp or tp < 1 or pp < 1:
        bad_name(f"TP_SIZE {values.get('TP_SIZE')!r} and PP_SIZE {values.get('PP_SIZE')!r} must be positive integers")
        return None
    world = tp * pp
    if gpus != world:
        bad_name(f"GPUS_PER_POD is {values.get('GPUS_PER_POD')!r} but TP_SIZE × PP_SIZE = {tp} × {pp} = {world}")
    for cname, container in list(containers.items()) + list(init.items()):
        for part in ("requests", "limits"):
            got = as_int(dig(container, "resources", part, GPU))
            if got != world:
                bad_name(f"container {cname}: resources.{part}[{GPU}] is "
                         f"{dig(container, 'resources', part, GPU)!r}, expected TP × PP = {world}")
    for cname in containers.keys() | init.keys():
        c = containers.get(cname) or init.get(cname)
        if not any(dig(e, "configMapRef", "name") in refs for e in c.get("envFrom") or []):
            bad_name(f"container {cname} does not read the ConfigMap with TP_SIZE and PP_SIZE")

    # Probes on Triton's health endpoints, on the named http port.
    expected_probes = {"readinessProbe": "/v2/health/ready", "livenessProbe": "/v2/health/live",
                       "startupProbe": "/v2/health/live"}
    for probe, path in expected_probes.items():
        got = dig(triton, probe, "httpGet")
        if not got or got.get("path") != path or got.get("port") != "http":
            bad_name(f"container triton: {probe} must be httpGet {path} on port http, got {got!r}")
    ports = {p.get("name"): p.get("containerPort") for p in triton.get("ports") or []}
    if ports != {"http": 8000, "grpc": 8001, "metrics": 8002}:
        bad_name(f"container triton must name its ports http 8000, grpc 8001, metrics 8002; got {ports}")

    # The launch command, as the rendered script builds it from the rendered values.
    scripts_volume = next((v for v in pod.get("volumes") or [] if v.get("name") == "scripts"), None)
    scripts_cm = named(objects, "ConfigMap", dig(scripts_volume, "configMap", "name"))
    launch = dig(scripts_cm[0], "data", "launch.sh") if scripts_cm else None
    if not launch:
        bad_name("no launch.sh in the ConfigMap mounted as volume scripts")
        return None
    env = {"PATH": os.environ["PATH"], "LAUNCH_DRY_RUN": "1"}
    env.update({k: str(v) for k, v in values.items()})
    env.update({e["name"]: e["value"] for e in triton.get("env") or [] if "value" in e})
    run = subprocess.run(["bash", "-c", launch, "launch.sh"], env=env, capture_output=True, text=True, timeout=30)
    if run.returncode != 0:
        bad_name(f"launch.sh (dry run) failed: {run.stderr.strip()}")
        return None
    argv = run.stdout.splitlines()
    if argv[0] == "tritonserver":
        ranks = [argv]
    elif argv[0] == "mpirun":
        ranks, current = [], []
        for arg in argv[2:]:        # after mpirun --allow-run-as-root
            if arg == ":":
                ranks.append(current)
                current = []
            else:
                current.append(arg)
        ranks.append(current)
        for i, rank in enumerate(ranks):
            if rank[:3] != ["-n", "1", "tritonserver"]:
                bad_name(f"launch.sh rank {i} is not `-n 1 tritonserver …`: {' '.join(rank[:4])}")
        if world == 1:
            bad_name("launch.sh uses mpirun although TP × PP = 1")
    else:
        bad_name(f"launch.sh runs neither tritonserver nor mpirun: {argv[0]}")
        return None
    if len(ranks) != world:
        bad_name(f"launch.sh starts {len(ranks)} rank(s), expected TP × PP = {world}")
    serving = {f"--http-port={ports.get('http')}", f"--grpc-port={ports.get('grpc')}", f"--metrics-port={ports.get('metrics')}"}
    if not serving <= set(ranks[0]):
        bad_name(f"rank 0 must serve on the container's ports: {' '.join(sorted(serving - set(ranks[0])))} missing")
    for i, rank in enumerate(ranks[1:], start=1):
        off = {"--allow-http=false", "--allow-grpc=false", "--allow-metrics=false"}
        if not off <= set(rank) or any(a.startswith(("--http-port", "--grpc-port", "--metrics-port")) for a in rank):
            bad_name(f"rank {i} must open no endpoint (--allow-http/grpc/metrics=false, no ports)")
    return (f"TP {tp} × PP {pp} = {world}: {GPU} request = limit = {world} in "
            f"{len(containers) + len(init)} containers; launch.sh starts {len(ranks)} "
            f"{'MPI ranks, only rank 0 serving' if world > 1 else 'tritonserver, no MPI'}")


ENGINE_TEST_STUBS = {
    # python3 stand-in: snapshot_download (stdin script), convert_checkpoint.py, fill_template.py.
    "python": r'''
import os, pathlib, sys
args = sys.argv[1:]
def record(line):
    with open(os.environ["STUB_LOG"], "a") as f:
        f.write(line + "\n")
if args[0] == "-":
    sys.stdin.read()
    repo, revision, dest = args[1:4]
    record(f"download {repo}@{revision}")
    d = pathlib.Path(dest); d.mkdir(parents=True, exist_ok=True)
    for n, text in (("config.json", "{}"), ("tokenizer.json", "{}"), ("model.safetensors", "weights")):
        (d / n).write_text(text)
elif args[0].endswith("convert_checkpoint.py"):
    record("convert " + " ".join(args[1:]))
    out = pathlib.Path(args[args.index("--output_dir") + 1]); out.mkdir(parents=True)
    (out / "config.json").write_text("{}")
elif args[0].endswith("fill_template.py"):
    path = args[args.index("-i") + 1]
    text = open(path).read()
    for pair in args[-1].split(","):
        key, _, value = pair.partition(":")
        text = text.replace("${" + key + "}", value)
    open(path, "w").write(text)
else:
    sys.exit("stub python: unexpected " + " ".join(args))
''',
    # trtllm-build stand-in: one rank<i>.engine per worker; with STUB_RELEASE set, it holds the build (and so
    # the lock) until that file exists, so that the test can start a second pod while the first one builds.
    "trtllm-build": r'''
import os, pathlib, sys, time
args = sys.argv[1:]
with open(os.environ["STUB_LOG"], "a") as f:
    f.write("build " + " ".join(args) + "\n")
release, deadline = os.environ.get("STUB_RELEASE"), time.time() + 60
while release and not os.path.exists(release) and time.time() < deadline:
    time.sleep(0.05)
out = pathlib.Path(args[args.index("--output_dir") + 1]); out.mkdir(parents=True)
for rank in range(int(args[args.index("--workers") + 1])):
    (out / f"rank{rank}.engine").write_text("engine")
(out / "config.json").write_text("{}")
''',
}


def check_engine_cache(objects):
    """Runs the rendered build-engines.sh with stub tools: builds once per key per node, waits, cleans up."""
    dep = named(objects, "Deployment", "triton")[0]
    pod = dep["spec"]["template"]["spec"]
    init = next(c for c in pod["initContainers"] if c["name"] == "build-engines")
    refs = [e["configMapRef"]["name"] for e in init.get("envFrom") or []]
    values = next(o["data"] for o in named(objects, "ConfigMap") if o["metadata"]["name"] in refs)
    scripts_volume = next(v for v in pod["volumes"] if v["name"] == "scripts")
    script = named(objects, "ConfigMap", scripts_volume["configMap"]["name"])[0]["data"]["build-engines.sh"]
    problems, notes = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for stub, code in ENGINE_TEST_STUBS.items():
            with open(os.path.join(tmp, stub), "w") as f:
                f.write(f"#!{sys.executable}\n{code}")
            os.chmod(os.path.join(tmp, stub), 0o755)
        with open(os.path.join(tmp, "build-engines.sh"), "w") as f:
            f.write(script)
        src = os.path.join(tmp, "trtllm-src")
        for path in (values["CONVERT_SCRIPT"], values["FILL_TEMPLATE"]):
            os.makedirs(os.path.dirname(os.path.join(src, path)), exist_ok=True)
            open(os.path.join(src, path), "w").close()
        for model in ("ensemble", "preprocessing", "postprocessing", "tensorrt_llm", "tensorrt_llm_bls"):
            d = os.path.join(src, values["TRITON_TEMPLATES"], model)
            os.makedirs(d)
            with open(os.path.join(d, "config.pbtxt"), "w") as f:
                f.write('name: "%s"\nengine_dir: "${engine_dir}"\ntokenizer_dir: "${tokenizer_dir}"\n' % model)
        cache, log = os.path.join(tmp, "node-cache"), os.path.join(tmp, "calls.log")
        open(log, "w").close()

        def start(pod_name, **extra):
            env = {"PATH": os.environ["PATH"], "HOME": tmp, "STUB_RELEASE": ""}
            env.update({k: str(v) for k, v in values.items()})
            env.update(MODEL_NAME="test-model", HF_MODEL_ID="example/test-model", ENGINE_CACHE=cache,
                       MODEL_REPO=os.path.join(tmp, pod_name, "models"), POD_NAME=pod_name,
                       PYTHON=os.path.join(tmp, "python"), TRTLLM_BUILD=os.path.join(tmp, "trtllm-build"),
                       TRTLLM_SRC=src, GPU_ARCH="sm90", TRTLLM_VERSION="0.0.0-test",
                       GPU_COUNT=str(int(values["TP_SIZE"]) * int(values["PP_SIZE"])), STUB_LOG=log)
            env.update(extra)
            err = open(os.path.join(tmp, f"{pod_name}.log"), "w")
            proc = subprocess.Popen(["bash", os.path.join(tmp, "build-engines.sh")], env=env,
                                    stdout=subprocess.DEVNULL, stderr=err, text=True)
            proc.log = err.name
            return proc

        def finish(proc, what):
            proc.wait(timeout=120)
            err = open(proc.log).read()
            if proc.returncode != 0:
                problems.append(f"{what}: exit {proc.returncode}: {err.strip()[-400:]}")
            return err

        def wait_for(path, text, what):
            deadline = time.time() + 60
            while time.time() < deadline:
                if os.path.exists(path) and text in open(path).read():
                    return True
                time.sleep(0.05)
            problems.append(f"timed out waiting for {what}")
            return False

        def builds():
            return sum(1 for line in open(log) if line.startswith("build "))

        # 1. Two pods on a node without engines: the second starts while the first builds (its build is held
        #    until the second pod reports waiting), waits on the lock, then reuses the engines.
        release = os.path.join(tmp, "release-build")
        first = start("pod-a", STUB_RELEASE=release)
        wait_for(log, "build ", "pod-a to start building")
        second = start("pod-b", STUB_RELEASE=release)
        waited = wait_for(second.log, "waiting for it", "pod-b to wait for pod-a's build (flock)")
        open(release, "w").close()
        finish(first, "pod-a")
        finish(second, "pod-b")
        if builds() != 1:
            problems.append(f"two concurrent pods built {builds()} time(s), expected 1")
        if not waited:
            problems.append("the second pod did not wait for the first one's build (flock)")
        keys = glob.glob(os.path.join(cache, "test-model", "*", "*", ".complete"))
        if len(keys) != 1:
            problems.append(f"expected one complete engine directory, found {len(keys)}")
        else:
            key_dir = os.path.dirname(keys[0])
            for pod_name in ("pod-a", "pod-b"):
                config = os.path.join(tmp, pod_name, "models", "tensorrt_llm", "config.pbtxt")
                cfg = open(config).read() if os.path.exists(config) else "(no model repository written)"
                if f'engine_dir: "{key_dir}/engines"' not in cfg:
                    problems.append(f"{pod_name}'s model repository does not point at {key_dir}/engines: {cfg!r}")
            engines = glob.glob(os.path.join(key_dir, "engines", "rank*.engine"))
            if len(engines) != int(values["GPUS_PER_POD"]):
                problems.append(f"{len(engines)} engines built, expected {values['GPUS_PER_POD']}")
            if os.path.exists(os.path.join(key_dir, "tokenizer", "model.safetensors")):
                problems.append("the weights were copied into the tokenizer directory")
            notes.append(f"key {os.path.relpath(key_dir, cache)}")
        if os.path.isdir(os.path.join(cache, ".tmp")) and os.listdir(os.path.join(cache, ".tmp")):
            problems.append(f"temporary build directories left behind: {os.listdir(os.path.join(cache, '.tmp'))}")

        # 2. A third pod (a scale-up onto the same node) finds the engines and does not build.
        finish(start("pod-c"), "pod-c")
        if builds() != 1:
            problems.append("a pod on a node that has the engines built them again")

        # 3. Other build options are another key; a crashed build's temporary directory is removed.
        finish(start("pod-d", MAX_BATCH_SIZE="8"), "pod-d")
        if builds() != 2:
            problems.append("a different MAX_BATCH_SIZE did not build new engines")
        new_keys = sorted(glob.glob(os.path.join(cache, "test-model", "*", "*", ".complete")))
        stale = None
        if len(new_keys) == 2:
            newest = max(new_keys, key=os.path.getmtime)
            name = os.path.relpath(os.path.dirname(newest), cache).replace("/", "_")
            # Pretend that build had crashed: remove it, leave a temporary directory, build again.
            shutil.rmtree(os.path.dirname(newest))
            stale = os.path.join(cache, ".tmp", f"{name}.build-crashed")
            os.makedirs(os.path.join(stale, "work"))
            finish(start("pod-e", MAX_BATCH_SIZE="8"), "pod-e")
            if os.path.exists(stale):
                problems.append("a crashed build's temporary directory was not removed")
            if not os.path.exists(newest):
                problems.append("the engines were not rebuilt after a crashed build")
        else:
            problems.append(f"expected two engine keys after changing MAX_BATCH_SIZE, found {len(new_keys)}")
    return problems, notes


def check_dashboard(path, records, sources_text):
    problems = []
    try:
        with open(path) as f:
            dashboard = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        return [f"does not load as JSON: {e}"], None
    variables = {v.get("name"): v for v in dig(dashboard, "templating", "list") or []}
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        problems.append("needs a datasource variable `datasource` of type prometheus")
    if "namespace" not in variables:
        problems.append("needs a `namespace` variable")
    panels = [p for p in dashboard.get("panels") or [] for p in [p] + (p.get("panels") or [])]
    queries = 0
    for p in panels:
        if p.get("type") == "row":
            continue
        where = f"panel {p.get('id')} {p.get('title')!r}"
        if dig(p, "datasource", "uid") != "${datasource}":
            problems.append(f"{where}: datasource is not ${{datasource}}")
        targets = p.get("targets") or []
        if not targets:
            problems.append(f"{where}: no targets")
        for t in targets:
            if not str(t.get("expr") or "").strip():
                problems.append(f"{where}: target {t.get('refId')} has no expr")
            if dig(t, "datasource", "uid") != "${datasource}":
                problems.append(f"{where}: target {t.get('refId')} datasource is not ${{datasource}}")
            expr = t.get("expr") or ""
            queries += 1
            for series in set(re.findall(r"\btriton:[a-z0-9_]+:[a-z0-9_]+", expr)):
                if series not in records:
                    problems.append(f"{where}: {series} is not recorded by manifests/monitoring's PrometheusRule")
            for series in set(re.findall(r"\bcustom_metrics_adapter_[a-z0-9_]+", expr)):
                base = re.sub(r"_(bucket|sum|count)$", "", series)
                if f'"{base}"' not in sources_text:
                    problems.append(f"{where}: {series}: no metric {base} in Sources/")
    return problems, (f"{sum(1 for p in panels if p.get('type') != 'row')} panels, {queries} queries, "
                      f"schemaVersion {dashboard.get('schemaVersion')}")


for spec in sys.argv[4:]:
    name, role, path, source_dir = spec.split("|", 3)
    with open(path) as f:
        objects = [o for o in yaml.safe_load_all(f) if o]
    rendered[name] = (role, objects)
    kinds = {}       # kind -> {"count", "detail": set()}
    notes = []

    def note_kind(kind, api_version, detail):
        entry = kinds.setdefault(kind, {"api": api_version, "count": 0, "detail": []})
        entry["count"] += 1
        if detail and detail not in entry["detail"]:
            entry["detail"].append(detail)

    def bad(obj, message):
        failures.append(f"[{name}] {obj.get('kind')}/{dig(obj, 'metadata', 'name')}: {message}")

    def bad_name(message):
        failures.append(f"[{name}] {message}")

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
            note_kind(kind, api_version, check_crd(obj, bad))
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
            elif role in ("base", "adapter-component"):
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

        if kind == "Deployment" and role.startswith("triton"):
            detail = check_triton(name, objects, bad_name)

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
    # Issue 18: external.metrics.k8s.io only when asked for; our prefix on every cluster-scoped name.
    external = named(objects, "APIService", "v1beta1.external.metrics.k8s.io")
    if role in ("base", "overlay") and external:
        failures.append(f"[{name}] registers v1beta1.external.metrics.k8s.io without being asked: it is opt-in "
                        f"(manifests/components/external-metrics), since KEDA may own it")
    if name == "example/external-metrics" and not external:
        failures.append(f"[{name}] asks for external metrics but registers no v1beta1.external.metrics.k8s.io")
    adapter_rendering = role in ("base", "overlay", "adapter-component") or any(
        dig(o, "metadata", "name") == "custom-metrics-adapter" and o.get("kind") == "Deployment" for o in objects)
    if adapter_rendering:
        cluster_scoped = [o for o in objects if o.get("kind") in CLUSTER_SCOPED_KINDS]
        for o in cluster_scoped:
            n = dig(o, "metadata", "name")
            if o["kind"] == "APIService" or (o["kind"] == "Namespace" and n == "custom-metrics"):
                continue
            if not n.startswith(("custom-metrics-adapter:", "custom-metrics-adapter-")):
                failures.append(f"[{name}] {o['kind']}/{n}: cluster-scoped names must start with "
                                f"custom-metrics-adapter: or custom-metrics-adapter- (no collision with another install)")
        notes.append(f"{len(cluster_scoped)} cluster-scoped object(s), each named custom-metrics-adapter… "
                     f"(APIServices and the Namespace aside); external.metrics.k8s.io "
                     f"{'registered' if external else 'not registered'}")
    if role.startswith("triton") and not named(objects, "Deployment", "triton"):
        failures.append(f"[{name}] renders no Deployment triton")
    if role == "triton-base":
        notes.append("not installable alone: MODEL_NAME and HF_MODEL_ID are empty; an overlay names the model")
    if role == "triton-overlay":
        # Kustomize applies components after the overlay's own generators, so a TP_SIZE literal here would be
        # silently replaced by the topology component's: the topology is chosen only by naming a component.
        with open(os.path.join(source_dir, "kustomization.yaml")) as f:
            kustomization = yaml.safe_load(f) or {}
        for generator in kustomization.get("configMapGenerator") or []:
            for literal in generator.get("literals") or []:
                if str(literal).split("=", 1)[0] in ("TP_SIZE", "PP_SIZE", "GPUS_PER_POD"):
                    failures.append(f"[{name}] sets {literal} itself: choose the topology with a component "
                                    f"(../../components/tp<TP>-pp<PP>), which would override this literal")
        topology = [c for c in kustomization.get("components") or [] if "/components/tp" in c]
        if len(topology) != 1:
            failures.append(f"[{name}] must name exactly one topology component, names {topology}")

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

# ---- Across renderings -------------------------------------------------------------------------------------
print("cross-checks:")
triton_objects = rendered.get("triton/base", (None, []))[1]
triton_deployment = (named(triton_objects, "Deployment", "triton") or [None])[0]
triton_service = (named(triton_objects, "Service", "triton") or [None])[0]
triton_ns = dig(triton_deployment, "metadata", "namespace")
pod_labels = dig(triton_deployment, "spec", "template", "metadata", "labels") or {}
adapter_rules = yaml.safe_load(dig((named(rendered.get("base", (None, []))[1], "ConfigMap",
                                          "custom-metrics-adapter-rules") or [{}])[0], "data", "rules.yaml") or "{}") or {}
served = {(r.get("resource"), r.get("name")) for r in adapter_rules.get("metrics") or []}
service_ports = {p.get("name") for p in dig(triton_service, "spec", "ports") or []}

for name, (role, objects) in rendered.items():
    for hpa in named(objects, "HorizontalPodAutoscaler"):
        ref = dig(hpa, "spec", "scaleTargetRef") or {}
        where = f"[{name}] HorizontalPodAutoscaler/{hpa['metadata']['name']}"
        if (ref.get("kind"), ref.get("name"), dig(hpa, "metadata", "namespace")) != ("Deployment", "triton", triton_ns):
            failures.append(f"{where}: scaleTargetRef {ref.get('kind')}/{ref.get('name')} in "
                            f"{dig(hpa, 'metadata', 'namespace')} is not manifests/triton's Deployment triton in {triton_ns}")
        for m in dig(hpa, "spec", "metrics") or []:
            if m.get("type") == "Pods":
                metric = dig(m, "pods", "metric", "name")
                if ("pods", metric) not in served:
                    failures.append(f"{where}: metric {metric} is not served for pods by the adapter's rules "
                                    f"(manifests/base/configmap.yaml serves {sorted(n for _, n in served)})")
                selector = dig(m, "pods", "metric", "selector", "matchLabels") or {}
                print(f"  {where}: scales Deployment triton on pods/{metric} "
                      f"(served by the adapter's rules), metricLabelSelector {selector or 'none'}, "
                      f"target {dig(m, 'pods', 'target', 'averageValue')}")
    for ingress in named(objects, "Ingress"):
        for rule in dig(ingress, "spec", "rules") or []:
            for p in dig(rule, "http", "paths") or []:
                svc = dig(p, "backend", "service") or {}
                if svc.get("name") != "triton" or dig(svc, "port", "name") not in service_ports:
                    failures.append(f"[{name}] Ingress/{ingress['metadata']['name']}: backend "
                                    f"{svc.get('name')}:{dig(svc, 'port', 'name')} is not the Triton Service's port")
                else:
                    print(f"  [{name}] Ingress/{ingress['metadata']['name']} → Service triton port {dig(svc, 'port', 'name')}")
    middlewares = {(dig(m, "metadata", "namespace"), dig(m, "metadata", "name")) for m in named(objects, "Middleware")}
    for route in named(objects, "IngressRoute"):
        ns = dig(route, "metadata", "namespace")
        for r in dig(route, "spec", "routes") or []:
            for mw in r.get("middlewares") or []:
                if (mw.get("namespace", ns), mw.get("name")) not in middlewares:
                    failures.append(f"[{name}] IngressRoute/{route['metadata']['name']}: middleware "
                                    f"{mw.get('name')} is not rendered with it")
            for svc in r.get("services") or []:
                if svc.get("name") != "triton" or svc.get("port") not in service_ports:
                    failures.append(f"[{name}] IngressRoute/{route['metadata']['name']}: service "
                                    f"{svc.get('name')}:{svc.get('port')} is not the Triton Service's port")
                else:
                    print(f"  [{name}] IngressRoute/{route['metadata']['name']} → Service triton port "
                          f"{svc.get('port')}, strategy {svc.get('strategy', 'wrr')}")
    for pm in named(objects, "PodMonitor"):
        selector = dig(pm, "spec", "selector", "matchLabels") or {}
        if not selector or any(pod_labels.get(k) != v for k, v in selector.items()):
            failures.append(f"[{name}] PodMonitor/{pm['metadata']['name']}: selector {selector} does not match "
                            f"the Triton pods' labels {pod_labels}")
        for ep in dig(pm, "spec", "podMetricsEndpoints") or []:
            ports = [p.get("name") for c in dig(triton_deployment, "spec", "template", "spec", "containers") or []
                     for p in c.get("ports") or []]
            if ep.get("port") not in ports:
                failures.append(f"[{name}] PodMonitor/{pm['metadata']['name']}: port {ep.get('port')} is not a "
                                f"Triton container port ({ports})")
        print(f"  [{name}] PodMonitor/{pm['metadata']['name']} selects the Triton pods ({selector}), port "
              f"{', '.join(str(ep.get('port')) for ep in dig(pm, 'spec', 'podMetricsEndpoints') or [])}")

# The engine cache protocol of the rendered build-engines.sh.
if triton_deployment:
    problems, cache_notes = check_engine_cache(triton_objects)
    for p in problems:
        failures.append(f"[triton/base] build-engines.sh: {p}")
    if not problems:
        print("  [triton/base] build-engines.sh with stub tools: 2 concurrent pods on an empty node cache build "
              "once (the second waits on the flock), a third reuses, other options build a new key, a crashed "
              f"build's leftovers are removed ({'; '.join(cache_notes)})")
else:
    failures.append("[triton/base] no Deployment triton: cannot check build-engines.sh")

# Dashboards.
records = {r["record"] for o in named(rendered.get("monitoring", (None, []))[1], "PrometheusRule")
           for g in dig(o, "spec", "groups") or [] for r in g.get("rules") or [] if "record" in r}
sources_text = "".join(open(p, encoding="utf-8").read()
                       for p in glob.glob(os.path.join(root, "Sources", "**", "*.swift"), recursive=True))
dashboards = sorted(glob.glob(os.path.join(root, "dashboards", "*.json")))
if not dashboards:
    failures.append("no dashboards/*.json")
for path in dashboards:
    problems, summary = check_dashboard(path, records, sources_text)
    rel = os.path.relpath(path, root)
    for p in problems:
        failures.append(f"[{rel}] {p}")
    if summary:
        print(f"  {rel}: loads; {summary}; every panel uses ${{datasource}} and has targets; triton:* series "
              f"are recorded rules; custom_metrics_adapter_* series exist in Sources/")

if failures:
    print()
    for f in failures:
        print(f"FAIL: {f}")
    sys.exit(1)
PY

echo "OK: ${#targets[@]} kustomizations render, validate (kubernetes-validate strict, Kubernetes ${K8S_VERSION%.*}, CRD kinds structurally) and carry no insecureSkipTLSVerify; every overlay's APIServices have a CA; every Triton rendering requests TP × PP GPUs and launches TP × PP ranks"
