#!/usr/bin/env python3
"""One source of truth: the adapter chart's default render is the kustomize base, object by object.

Chosen over rendering the base from the chart because the base is what kustomize users read and patch: its
comments explain each field, and a Helm render would replace them with Helm's labels and a generated
certificate. So both stay hand-written and this test fails on any drift:

* ``helm template custom-metrics-adapter charts/custom-metrics-adapter -n custom-metrics`` (defaults) holds
  exactly the objects of ``kubectl kustomize manifests/base`` (kind, namespace, name), except the Namespace
  (``helm install --create-namespace`` makes it) and the serving-certificate Secret (the chart makes one; the
  overlays take it from cert-manager or from you);
* each pair is equal field by field after removing only what Helm adds by design: its standard labels
  (metadata.labels, and app.kubernetes.io/instance in selectors) and the caBundle of the generated CA. The
  rules file is compared as parsed YAML;
* with ``certManager.enabled=true`` the chart equals ``manifests/overlays/cert-manager`` the same way,
  Issuers, Certificates and the cainjector annotations included; with external metrics or the NetworkPolicies
  turned on, ``manifests/examples/external-metrics`` and ``manifests/examples/networkpolicy``.
"""

import copy
import os
import subprocess
import sys
import unittest

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from charts import ADAPTER_CHART, REPO, render  # noqa: E402

HELM_ONLY_LABEL = "app.kubernetes.io/instance"


def kustomize(path):
    out = subprocess.run(["kubectl", "kustomize", os.path.join(REPO, path)], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    return [o for o in yaml.safe_load_all(out) if o]


def key(obj):
    return (obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])


def strip_instance(node):
    if isinstance(node, dict):
        return {k: strip_instance(v) for k, v in node.items()
                if not (k == HELM_ONLY_LABEL and v == "custom-metrics-adapter")}
    if isinstance(node, list):
        return [strip_instance(v) for v in node]
    return node


def normalize(obj):
    obj = copy.deepcopy(obj)
    obj["metadata"].pop("labels", None)
    if obj["kind"] == "APIService":
        obj["spec"].pop("caBundle", None)
    if obj["kind"] == "ConfigMap" and "rules.yaml" in obj.get("data", {}):
        obj["data"]["rules.yaml"] = yaml.safe_load(obj["data"]["rules.yaml"])
    return strip_instance(obj)


class ChartMatchesKustomize(unittest.TestCase):
    def compare(self, kustomization, sets, set_files=()):
        _, chart = render(ADAPTER_CHART, sets=sets, set_files=set_files)
        base = kustomize(kustomization)
        skipped = {("Namespace", None, "custom-metrics"), ("Secret", "custom-metrics", "custom-metrics-adapter-tls")}
        chart_objects = {key(o): o for o in chart if key(o) not in skipped}
        base_objects = {key(o): o for o in base if key(o) not in skipped}
        self.assertEqual(sorted(chart_objects, key=str), sorted(base_objects, key=str),
                         f"the chart and {kustomization} render different objects")
        for k in sorted(base_objects, key=str):
            with self.subTest(object="/".join(p for p in k if p)):
                self.maxDiff = None
                self.assertEqual(normalize(chart_objects[k]), normalize(base_objects[k]))
        return len(base_objects)

    def test_defaults_are_the_base(self):
        self.assertEqual(self.compare("manifests/base", []), 13)

    def test_cert_manager_is_the_overlay(self):
        self.assertEqual(self.compare("manifests/overlays/cert-manager", ["certManager.enabled=true"]), 17)

    def test_existing_secret_is_the_secret_overlay(self):
        ca = os.path.join(REPO, "manifests", "overlays", "secret", "ca.crt")
        self.assertEqual(self.compare("manifests/overlays/secret", ["adapter.existingTLSSecret=custom-metrics-adapter-tls"],
                                      [f"tls.ca={ca}"]), 13)
        _, chart = render(ADAPTER_CHART, sets=["adapter.existingTLSSecret=custom-metrics-adapter-tls"],
                          set_files=[f"tls.ca={ca}"])
        bundles = {o["metadata"]["name"]: o["spec"]["caBundle"].replace("\n", "")
                   for o in chart if o["kind"] == "APIService"}
        overlay = {o["metadata"]["name"]: o["spec"]["caBundle"].replace("\n", "")
                   for o in kustomize("manifests/overlays/secret") if o["kind"] == "APIService"}
        self.assertEqual(bundles, overlay)

    def test_external_metrics_is_the_component(self):
        self.assertEqual(self.compare("manifests/examples/external-metrics",
                                      ["certManager.enabled=true", "adapter.externalMetrics.enabled=true"]), 18)

    def test_networkpolicy_is_the_component(self):
        self.assertEqual(self.compare("manifests/examples/networkpolicy",
                                      ["certManager.enabled=true", "adapter.networkPolicy.enabled=true"]), 19)


if __name__ == "__main__":
    unittest.main(verbosity=2)
