"""Rendering helpers shared by the tests in tests/install/ (this folder only).

``helm()`` is the binary scripts/install-helm.sh extracted into .tools/ (or ``$HELM``); ``render()`` runs
``helm template`` and returns the objects; ``validate()`` checks one object with kubernetes-validate in strict
mode, skipping the custom resource kinds it has no schema for (cert-manager, prometheus-operator) by name.
"""

import base64
import os
import subprocess

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
ADAPTER_CHART = os.path.join(REPO, "charts", "custom-metrics-adapter")
TRITON_CHART = os.path.join(REPO, "charts", "triton")
KUBERNETES_VERSION = os.environ.get("KUBERNETES_VERSION", "1.32.0")

# Kinds kubernetes-validate has no schema for: skipped by name, structure checked by the tests that use them.
CRD_KINDS = {("cert-manager.io", "Certificate"), ("cert-manager.io", "Issuer"),
             ("monitoring.coreos.com", "PodMonitor"), ("monitoring.coreos.com", "PrometheusRule")}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "APIService", "PriorityClass",
                  "CustomResourceDefinition", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}


def helm():
    path = os.environ.get("HELM") or os.path.join(REPO, ".tools", "helm")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"no helm at {path}: run scripts/install-helm.sh")
    return path


class RenderError(Exception):
    """helm failed; ``message`` is the text after "execution error at (…): " when there is one."""

    def __init__(self, stderr):
        super().__init__(stderr)
        self.stderr = stderr
        line = next((l for l in stderr.splitlines() if l.startswith("Error:")), stderr.strip())
        self.message = line.split("): ", 1)[1] if "execution error at (" in line else line[len("Error: "):]


def run_helm(*args, timeout=120):
    done = subprocess.run([helm(), *args], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RenderError(done.stderr)
    return done.stdout


def render(chart, release="custom-metrics-adapter", namespace="custom-metrics", values_files=(), sets=(),
           set_files=()):
    args = ["template", release, chart, "--namespace", namespace, "--kube-version", KUBERNETES_VERSION]
    for f in values_files:
        args += ["-f", f]
    for s in sets:
        args += ["--set", s]
    for s in set_files:
        args += ["--set-file", s]
    text = run_helm(*args)
    return text, [o for o in yaml.safe_load_all(text) if o]


def group_of(api_version):
    return api_version.split("/")[0] if "/" in api_version else ""


def validate(obj):
    """None when valid (or a skipped CRD kind), else the problem as text."""
    from kubernetes_validate import utils as kv  # noqa: imported late: only the venv has it

    if (group_of(obj["apiVersion"]), obj["kind"]) in CRD_KINDS:
        return None
    try:
        kv.validate(obj, KUBERNETES_VERSION, strict=True)
    except kv.ValidationError as e:
        return f"{obj['kind']}/{obj['metadata']['name']}: {'.'.join(str(p) for p in e.path)}: {e.message}"
    except kv.SchemaNotFoundError as e:
        return f"{obj['kind']}/{obj['metadata']['name']}: {e.message}"
    return None


def named(objects, kind, name=None):
    return [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]


def pem_of_ca_bundle(value):
    return base64.b64decode(value).decode("ascii")
