#!/usr/bin/env bash
# Installs (or uninstalls) the adapter in the safe order, so that no APIService ever points at pods that are
# not serving: an unavailable custom.metrics.k8s.io APIService stops every custom-metrics HPA in the cluster,
# degrades discovery (kubectl prints errors for every command) and can block namespace deletion.
#
#   scripts/install.sh install   manifests/overlays/cert-manager           (a kustomization)
#   scripts/install.sh install   --helm RELEASE CHART [helm flags…]        (e.g. -n custom-metrics -f values.yaml)
#   scripts/install.sh uninstall manifests/overlays/cert-manager
#   scripts/install.sh uninstall --helm RELEASE CHART [helm flags…]
#   scripts/install.sh --print install|uninstall …    prints the commands instead of running them
#
# install:
#   1. render (kubectl kustomize, or helm template) and split the APIServices from everything else;
#   2. refuse when an APIService we would register already exists and another Service backs it (KEDA's
#      v1beta1.external.metrics.k8s.io, prometheus-adapter's custom.metrics.k8s.io): nothing is applied;
#   3. apply everything but the APIServices (Helm: upgrade --install with adapter.registerAPIServices=false);
#   4. wait for the rollout, then GET /readyz through the Service (the API server's service proxy);
#   5. register the APIServices, wait until they are Available, and read discovery through them. If they do not
#      become Available, they are deleted again and the install fails: the cluster is left as it was before.
#      Helm, when the release exists already (an upgrade): one `helm upgrade`, then the same waits, since
#      rendering the APIServices away for a first step would delete the ones in use.
# uninstall: the APIServices first (--ignore-not-found), then the rest. The Namespace is kept: it may hold other
# objects (delete it yourself when it is empty).
#
# docs/install.md shows these commands; tests/install/test_install_order.py runs this script against the
# Kubernetes API stand-in with the real adapter and checks the order and that the docs show the same commands.
#
# Environment: KUBECTL (default kubectl), HELM (default .tools/helm, else helm on PATH), TIMEOUT (default 300s),
#              TAKE_OVER=1: take APIServices another Service backs instead of refusing (replacing
#              prometheus-adapter by moving its APIServices: docs/migrating-from-prometheus-adapter.md, path B).
# Exit status: 0 done; 1 a step failed; 2 refused (an APIService belongs to another Service) or bad usage.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KUBECTL=${KUBECTL:-kubectl}
HELM=${HELM:-$([[ -x $ROOT/.tools/helm ]] && echo "$ROOT/.tools/helm" || echo helm)}
TIMEOUT=${TIMEOUT:-300s}

print_only=false
if [[ ${1:-} == --print ]]; then print_only=true; shift; fi
action=${1:-}
shift || true
mode=kustomize
if [[ ${1:-} == --helm ]]; then
    mode=helm
    release=${2:?"--helm needs RELEASE and CHART"}
    chart=${3:?"--helm needs RELEASE and CHART"}
    shift 3
    helm_args=("$@")
else
    kustomization=${1:?"usage: scripts/install.sh [--print] install|uninstall (KUSTOMIZATION | --helm RELEASE CHART [helm flags…])"}
fi
[[ $action == install || $action == uninstall ]] || { echo "usage: scripts/install.sh [--print] install|uninstall …" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Prints a command as the docs show it (temporary files by their base name), then runs it unless --print.
run() {
    local shown=() a
    for a in "$@"; do
        if [[ $a == "$HELM" ]]; then shown+=(helm); else shown+=("${a//$work\//}"); fi
    done
    echo "+ ${shown[*]}"
    $print_only || "$@"
}

# Splits a multi-document YAML file into apiservices.yaml and objects.yaml (everything else) in $work.
split_render() {
    awk -v dir="$work" '
        function flush() { if (doc != "") { print doc > (dir "/" (api ? "apiservices.yaml" : "objects.yaml")); print "---" > (dir "/" (api ? "apiservices.yaml" : "objects.yaml")) } doc = ""; api = 0 }
        /^---/ { flush(); next }
        /^kind: APIService[ \t]*$/ { api = 1 }
        { doc = doc $0 "\n" }
        END { flush() }
    ' "$1"
    touch "$work/apiservices.yaml" "$work/objects.yaml"
}

apiservice_names() { awk '/^kind: APIService/ { api = 1 } /^---/ { api = 0 } api && /^  name: / { print $2 }' "$work/apiservices.yaml"; }

render() {
    if [[ $mode == kustomize ]]; then
        $KUBECTL kustomize "$kustomization" >"$work/render.yaml"
    else
        "$HELM" template "$release" "$chart" "${helm_args[@]}" >"$work/render.yaml"
    fi
    split_render "$work/render.yaml"
    deployment=$(awk '/^kind: Deployment/ { d = 1 } d && /^  name: / { print $2; exit }' "$work/objects.yaml")
    namespace=$(awk '/^kind: Deployment/ { d = 1 } d && /^  namespace: / { print $2; exit }' "$work/objects.yaml")
    service=$(awk '/^kind: APIService/ { a = 1 } a && /^    name: / { print $2; exit }' "$work/apiservices.yaml")
    [[ -n $deployment && -n $namespace ]] || { echo "install: the rendering has no Deployment" >&2; exit 1; }
    service=${service:-$deployment}
}

precheck() {
    local name owner
    for name in $(apiservice_names); do
        echo "+ $KUBECTL get apiservice $name --ignore-not-found -o jsonpath='{.spec.service.namespace}/{.spec.service.name}'"
        $print_only && continue
        owner=$($KUBECTL get apiservice "$name" --ignore-not-found -o jsonpath='{.spec.service.namespace}/{.spec.service.name}')
        echo "  ${owner:-(not found)}"
        if [[ -n $owner && $owner != "/" && $owner != "$namespace/$service" ]]; then
            if [[ ${TAKE_OVER:-} == 1 ]]; then
                echo "install: TAKE_OVER=1: APIService $name moves from Service $owner to $namespace/$service once the adapter is ready" >&2
                continue
            fi
            echo "install: refused: APIService $name is served by Service $owner, not by $namespace/$service." >&2
            echo "  If that adapter should keep it, do not register ours (for external metrics: leave out" >&2
            echo "  components/external-metrics, or adapter.externalMetrics.enabled=false and no rules.external)." >&2
            echo "  If ours replaces it, remove the other adapter's APIService first: $KUBECTL delete apiservice $name" >&2
            exit 2
        fi
    done
}

wait_ready() {
    run "$KUBECTL" -n "$namespace" rollout status "deployment/$deployment" --timeout="$TIMEOUT"
    run "$KUBECTL" get --raw "/api/v1/namespaces/$namespace/services/https:$service:https/proxy/readyz"
    $print_only || echo
}

register() {
    if [[ $mode == kustomize ]]; then
        run "$KUBECTL" apply -f "$work/apiservices.yaml"
    else
        run "$HELM" upgrade "$release" "$chart" "${helm_args[@]}" --set adapter.registerAPIServices=true
    fi
    register_wait remove
}

# Waits until the APIServices are Available and reads discovery through them. On failure, with `remove` (a
# first install) they are deleted again; on an upgrade they stay (helm rollback restores the previous release).
register_wait() {
    local names
    names=$(apiservice_names | tr '\n' ' ')
    # shellcheck disable=SC2086
    if ! run "$KUBECTL" wait --for=condition=Available --timeout="$TIMEOUT" $(printf 'apiservice/%s ' $names); then
        if [[ ${1:-} != remove ]]; then
            echo "install: the APIServices did not become Available after the upgrade: helm rollback $release --namespace $namespace" >&2
            exit 1
        fi
        echo "install: the APIServices did not become Available: removing them again (the adapter stays installed)" >&2
        # shellcheck disable=SC2086
        run "$KUBECTL" delete apiservice $names --ignore-not-found
        exit 1
    fi
    run "$KUBECTL" get --raw /apis/custom.metrics.k8s.io/v1beta2
    $print_only || echo
}

install() {
    render
    precheck
    if [[ $mode == helm ]] && ! $print_only && "$HELM" status "$release" --namespace "$namespace" >/dev/null 2>&1; then
        # An upgrade: the release's APIServices exist and keep pointing at the Service while the Deployment
        # rolls (maxUnavailable 0). Rendering them away for a first step would delete them: one step instead.
        run "$HELM" upgrade "$release" "$chart" "${helm_args[@]}"
        wait_ready
        register_wait
        echo "upgraded: $namespace/$deployment"
        return
    fi
    if [[ $mode == kustomize ]]; then
        run "$KUBECTL" apply -f "$work/objects.yaml"
    else
        run "$HELM" upgrade --install "$release" "$chart" "${helm_args[@]}" --set adapter.registerAPIServices=false
    fi
    wait_ready
    register
    echo "installed: $namespace/$deployment, APIServices $(apiservice_names | tr '\n' ' ')"
}

uninstall() {
    render
    # shellcheck disable=SC2046
    run "$KUBECTL" delete apiservice $(apiservice_names) --ignore-not-found
    if [[ $mode == kustomize ]]; then
        awk 'BEGIN { RS = "---\n" } !/\nkind: Namespace\n/ && !/^kind: Namespace\n/ && NF { printf "%s---\n", $0 }' \
            "$work/objects.yaml" >"$work/objects-without-namespace.yaml"
        run "$KUBECTL" delete -f "$work/objects-without-namespace.yaml" --ignore-not-found
    else
        run "$HELM" uninstall "$release" --namespace "$namespace"
    fi
    echo "uninstalled: APIServices first, then $namespace/$deployment (the Namespace is kept)"
}

"$action"
