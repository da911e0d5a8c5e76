#!/usr/bin/env python3
"""kubectl for tests/install/test_install_order.py: the cluster side of the install, as far as it runs here.

No kube-apiserver can run on these machines, so this stands in for the commands scripts/install.sh sends:

* ``kustomize DIR`` runs the real kubectl;
* ``apply -f F`` / ``delete -f F`` / ``delete apiservice N… --ignore-not-found`` record the objects in a JSON
  world file (``$STANDIN_WORLD``: {"objects": {"Kind/namespace/name": object}}); an apply replaces an existing
  object, as kubectl apply does (the refusal to take another adapter's APIService is install.sh's);
* ``get apiservice N --ignore-not-found -o jsonpath=…`` answers ``namespace/name`` of its Service from the world;
* ``rollout status deployment/D`` succeeds only when that Deployment was applied;
* ``wait --for=condition=Available apiservice/N…`` succeeds only when each is in the world and the adapter's
  /readyz answers (the aggregator's availability check);
* ``get --raw PATH`` is sent to the REAL adapter with the real kubectl (``$ADAPTER_KUBECONFIG``): the service
  proxy prefix ``/api/v1/namespaces/NS/services/https:SVC:https/proxy`` is removed first (as the API server's
  proxy does), and an /apis/ path needs the APIService in the world (as the aggregator would).

Every invocation is appended to ``$STANDIN_LOG``, one JSON object per line: argv, and the kinds an apply sent.
"""

import json
import os
import re
import subprocess
import sys

import yaml

REAL = os.environ.get("REAL_KUBECTL", "kubectl")
WORLD = os.environ["STANDIN_WORLD"]


def load():
    with open(WORLD, encoding="utf-8") as f:
        return json.load(f)


def save(world):
    with open(WORLD, "w", encoding="utf-8") as f:
        json.dump(world, f, indent=1)


def key(obj):
    return f"{obj['kind']}/{obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}"


def objects_of(path):
    with open(path, encoding="utf-8") as f:
        return [o for o in yaml.safe_load_all(f) if o]


def main(argv):
    applied = [o["kind"] for o in objects_of(argv[2])] if argv[:2] == ["apply", "-f"] else None
    with open(os.environ["STANDIN_LOG"], "a", encoding="utf-8") as f:
        f.write(json.dumps({"argv": argv, "applied": applied}) + "\n")
    world = load()
    objs = world.setdefault("objects", {})
    if argv[:1] == ["kustomize"]:
        return subprocess.call([REAL, *argv])
    if argv[:2] == ["apply", "-f"]:
        for o in objects_of(argv[2]):
            objs[key(o)] = o  # as kubectl apply does: an existing object (an APIService too) is replaced
            print(f"{o['kind'].lower()}/{o['metadata']['name']} configured")
        save(world)
        return 0
    if argv[:1] == ["delete"]:
        if argv[1] == "-f":
            names = [key(o) for o in objects_of(argv[2])]
        else:
            names = [f"APIService//{n}" for n in argv[2:] if not n.startswith("--")]
        for k in names:
            if objs.pop(k, None) is not None:
                print(f"{k} deleted")
        save(world)
        return 0
    if argv[:2] == ["get", "apiservice"]:
        o = objs.get(f"APIService//{argv[2]}")
        if o:
            print(f"{o['spec']['service']['namespace']}/{o['spec']['service']['name']}", end="")
        return 0
    if len(argv) >= 4 and argv[0] == "-n" and argv[2:4] == ["rollout", "status"]:
        name = argv[4].split("/", 1)[1]
        if f"Deployment/{argv[1]}/{name}" not in objs:
            print(f'Error from server (NotFound): deployments.apps "{name}" not found', file=sys.stderr)
            return 1
        print(f'deployment "{name}" successfully rolled out')
        return 0
    if argv[:1] == ["wait"]:
        for a in argv[1:]:
            if a.startswith("apiservice/") and f"APIService//{a.split('/', 1)[1]}" not in objs:
                print(f"Error from server (NotFound): {a} not found", file=sys.stderr)
                return 1
        if raw("/readyz") != 0:
            return 1
        for a in argv[1:]:
            if a.startswith("apiservice/"):
                print(f"{a} condition met")
        return 0
    if argv[:2] == ["get", "--raw"]:
        path = argv[2]
        m = re.match(r"^/api/v1/namespaces/([^/]+)/services/https:([^:/]+):https/proxy(/.*)$", path)
        if m:
            if f"Service/{m.group(1)}/{m.group(2)}" not in objs:
                print(f'Error from server (NotFound): services "{m.group(2)}" not found', file=sys.stderr)
                return 1
            return raw(m.group(3))
        group_version = "/".join(path.split("/")[2:4])
        group, _, version = group_version.partition("/")
        if path.startswith("/apis/") and f"APIService//{version}.{group}" not in objs:
            print("Error from server (NotFound): the server could not find the requested resource", file=sys.stderr)
            return 1
        return raw(path)
    print(f"stand-in kubectl: not supported: {argv}", file=sys.stderr)
    return 3


def raw(path):
    return subprocess.call([REAL, "--kubeconfig", os.environ["ADAPTER_KUBECONFIG"], "get", "--raw", path],
                           timeout=60)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
