#!/usr/bin/env python3
"""`explain` and config reload against the real binary, real Prometheus and the Kubernetes API stand-in.

* ``custom-metrics-adapter explain <path> [server flags]`` prints the rule, the PromQL, Prometheus' timing,
  a verdict for every pod and the API's answer: each verdict kind is provoked and asserted literally.
* ``--config`` is re-read every ``--config-reload-interval``: a valid change shows in discovery without a
  restart, an invalid one is refused (gauge 0) while the previous rules keep serving.  The file sits in a
  ConfigMap volume updated as kubelet does (``tests/support/kubelet_volume.py``: ``..data`` swap).
* ``--pods-file`` (local mode) in a ConfigMap volume follows kubelet's updates.
"""

import os
import subprocess
import unittest

from tests.support.e2e_stack import GROUP, METRIC, Stack, adapter_bin, expected_milli, parse_quantity_milli, wait_for
from tests.support.kubelet_volume import KubeletVolume

NS = "team-a"
TOLERANCE = 2  # milli-units: counters are floored integers, scrapes jitter (as in test_end_to_end)


def _model(name, queue, compute):
    return {"model": name, "version": "1", "queue_us_per_s": queue, "compute_us_per_s": compute}


PODS = {"pods": [
    {"namespace": NS, "name": "triton-0", "labels": {"app": "triton"}, "models": [_model("tensorrt_llm", 1500000, 1000000)]},
    {"namespace": NS, "name": "triton-1", "labels": {"app": "triton"}, "models": [_model("tensorrt_llm", 2500000, 1000000)]},
    {"namespace": NS, "name": "other-0", "labels": {"app": "other"}, "models": [_model("tensorrt_llm", 4000000, 1000000)]},
]}

QUERY = "sum by (<<.GroupBy>>) (rate(nv_inference_queue_duration_us{<<.LabelMatchers>>}[<<.Window>>]))"


def config(names):
    return "metrics:\n" + "".join(f"  - name: {name}\n    query: \"{QUERY}\"\n" for name in names)


class Tools(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(PODS)
        cls.stack.start()
        cls.addClassCleanup(cls.stack.stop)
        wait_for(lambda: len(cls.values()) == 2, timeout=60, what="values for triton-0 and triton-1")

    @classmethod
    def values(cls):
        status, doc = cls.stack.get(cls.stack.metric_path(NS) + "?labelSelector=app%3Dtriton")
        return {item["describedObject"]["name"]: item["value"] for item in (doc.get("items") or [])} if status == 200 else {}

    def explain(self, path, *extra):
        argv = [adapter_bin(), "explain", path, "--kubeconfig", self.stack.standin_kubeconfig,
                "--prometheus-url", f"http://127.0.0.1:{self.stack.prom_port}", *extra]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        return done.returncode, done.stdout

    def test_a_explain_a_selection(self):
        self.stack.apply_pod(NS, "triton-9", labels={"app": "triton"})  # exists in Kubernetes, never scraped
        self.stack.apply_pod(NS, "triton-8", labels={"app": "triton"}, deletionTimestamp="2026-11-29T00:00:00Z")
        try:
            path = f"/apis/{GROUP}/v1beta2/namespaces/{NS}/pods/*/{METRIC}?labelSelector=app%3Dtriton"
            code, out = self.explain(path)
            print("\n" + out)
            self.assertEqual(code, 0, out)
            lines = out.splitlines()
            self.assertEqual(lines[0], f"request:     {path}")
            self.assertEqual(lines[1], f"rule:        {METRIC} for pods (from built-in; window 60s, object label pod)")
            self.assertTrue(lines[2].startswith("promql:      sum by (namespace,pod) (rate(nv_inference_queue_duration_us{namespace=\"team-a\"}[1m]))"), lines[2])
            self.assertRegex(lines[3], r"^prometheus:  http://127\.0\.0\.1:\d+ answered in \d+\.\d ms$")
            verdicts = {line.split()[0]: line.split(None, 1)[1] for line in lines if line.startswith("  ")}
            self.assertEqual(verdicts["other-0"], "not selected: its labels do not match labelSelector")
            self.assertEqual(verdicts["triton-8"], "left out: the pod is terminating or finished (Running)")
            self.assertTrue(verdicts["triton-9"].startswith("left out: no series in Prometheus' answer"), verdicts["triton-9"])
            self.assertRegex(verdicts["triton-0"], r"^kept \d+m$")
            self.assertRegex(verdicts["triton-1"], r"^kept \d+m$")
            self.assertRegex(lines[-1], r"^answer:      200 MetricValueList with 2 items: triton-0=\d+m, triton-1=\d+m$")
            # The values are known (1500m and 2500m from the pods' rates): the verdicts and the answer carry them.
            answer = dict(item.split("=") for item in lines[-1].split(": ", 2)[2].split(", "))
            for pod in PODS["pods"][:2]:
                want = expected_milli(pod)
                kept = parse_quantity_milli(verdicts[pod["name"]].split()[1])
                self.assertLessEqual(abs(kept - want), TOLERANCE, f"{pod['name']}: {verdicts[pod['name']]}, want {want}m")
                self.assertEqual(parse_quantity_milli(answer[pod["name"]]), kept, lines[-1])
        finally:
            self.stack.delete_pod(NS, "triton-9")
            self.stack.delete_pod(NS, "triton-8")

    def test_b_explain_an_unknown_metric(self):
        code, out = self.explain(f"/apis/{GROUP}/v1beta2/namespaces/{NS}/pods/*/triton:queue_ratio")
        self.assertEqual(code, 1, out)
        self.assertIn(f"rules:       built-in serves pods/{METRIC}", out)
        self.assertTrue(out.rstrip().endswith(
            "answer:      404 NotFound: the server could not find the metric triton:queue_ratio for pods"), out)

    def test_c_explain_a_metric_selector_that_matches_nothing(self):
        code, out = self.explain(f"/apis/{GROUP}/v1beta2/namespaces/{NS}/pods/%2A/{METRIC}"
                                 "?labelSelector=app%3Dtriton&metricLabelSelector=model%3Densemble")
        self.assertEqual(code, 0, out)
        self.assertIn('model="ensemble"', out)
        self.assertIn("answer:      200 MetricValueList with 0 items", out)
        self.assertIn('"no metrics returned"', out)

    def test_d_explain_a_malformed_path(self):
        code, out = self.explain(f"/apis/{GROUP}/v1beta2/namespaces/Team-A/pods/*/{METRIC}")
        self.assertEqual(code, 1, out)
        self.assertIn('answer:  400 BadRequest: invalid namespace "Team-A"', out)

    def test_e_config_reload(self):
        volume = KubeletVolume(os.path.join(self.stack.workdir, "rules-configmap"),
                               {"rules.yaml": config(["triton:queue:rate"])})
        path = volume.path("rules.yaml")
        self.stack.restart_adapter(["--config", path, "--config-reload-interval", "500ms"])

        def served():
            status, doc = self.stack.get(f"/apis/{GROUP}/v1beta2")
            return sorted(r["name"] for r in doc.get("resources") or []) if status == 200 else None

        def reload_gauge():
            text = self.stack.get("/metrics")[1]
            for line in text.splitlines():
                if line.startswith("custom_metrics_adapter_config_last_reload_successful"):
                    return float(line.split()[-1])
            return None

        self.assertEqual(served(), ["pods/triton:queue:rate"])
        volume.update({"rules.yaml": config(["triton:queue:rate", "triton:queue:rate2"])})  # kubelet's ..data swap
        wait_for(lambda: served() == ["pods/triton:queue:rate", "pods/triton:queue:rate2"], timeout=10, what="the new rule in discovery")
        self.assertEqual(reload_gauge(), 1.0)

        volume.update({"rules.yaml": "metrics:\n  - name: broken\n"})
        wait_for(lambda: reload_gauge() == 0.0, timeout=10, what="the refused reload in /metrics")
        self.assertEqual(served(), ["pods/triton:queue:rate", "pods/triton:queue:rate2"])
        status, doc = self.stack.get(self.stack.metric_path(NS, metric="triton:queue:rate2") + "?labelSelector=app%3Dtriton")
        self.assertEqual(status, 200, doc)
        self.assertEqual(sorted(i["describedObject"]["name"] for i in doc["items"]), ["triton-0", "triton-1"])
        log = self.stack.log_tails(["adapter"], lines=200)
        self.assertIn("configuration changed but is invalid; still serving the previous rules", log)

        volume.update({"rules.yaml": config(["triton:queue:rate"])})
        wait_for(lambda: served() == ["pods/triton:queue:rate"], timeout=10, what="the fixed config")
        self.assertEqual(reload_gauge(), 1.0)

    def test_e2_pods_file_in_a_configmap_volume_follows_updates(self):
        # The pods file's own symlink never changes on a kubelet update, only what it resolves to:
        # a reader keyed on the link's attributes keeps serving the old pods.
        # EXPECTED TO FAIL on the baseline binary (PodsFile compares attributesOfItem of the link);
        # fixed in Sources/KubernetesClient/PodsFile.swift on this branch.
        both = "pods:\n  - {namespace: team-a, name: triton-0, labels: {app: triton}}\n" \
               "  - {namespace: team-a, name: triton-1, labels: {app: triton}}\n"
        volume = KubeletVolume(os.path.join(self.stack.workdir, "pods-configmap"), {"pods.yaml": both})
        self.stack.restart_adapter(["--pods-file", volume.path("pods.yaml"), "--insecure-local-mode"])
        try:
            wait_for(lambda: sorted(self.values()) == ["triton-0", "triton-1"], timeout=30,
                     what="both pods of the pods file")
            volume.update({"pods.yaml": "pods:\n  - {namespace: team-a, name: triton-1, labels: {app: triton}}\n"})
            wait_for(lambda: sorted(self.values()) == ["triton-1"], timeout=15,
                     what="the pods file update (triton-0 removed) to be served")
        finally:
            self.stack.restart_adapter([])

    def test_f_external_metrics(self):
        path = os.path.join(self.stack.workdir, "external.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(config(["triton:queue:rate"]) + (
                "  - name: triton:queue:total\n"
                "    resource: external\n"
                "    query: \"sum by (<<.GroupBy>>, model) (rate(nv_inference_queue_duration_us{<<.LabelMatchers>>}[<<.Window>>]))\"\n"))
        self.stack.restart_adapter(["--config", path])
        base = "/apis/external.metrics.k8s.io"
        status, doc = self.stack.get(base)
        self.assertEqual((status, doc["kind"], doc["preferredVersion"]["groupVersion"]),
                         (200, "APIGroup", "external.metrics.k8s.io/v1beta1"), doc)
        status, doc = self.stack.get(base + "/v1beta1")
        self.assertEqual(status, 200, doc)
        self.assertEqual(doc["groupVersion"], "external.metrics.k8s.io/v1beta1")
        self.assertEqual(doc["resources"], [{"name": "triton:queue:total", "singularName": "", "namespaced": True,
                                             "kind": "ExternalMetricValueList", "verbs": ["get"]}])
        # The external rule is not a custom metric.
        status, doc = self.stack.get(f"/apis/{GROUP}/v1beta2")
        self.assertEqual([r["name"] for r in doc["resources"]], ["pods/triton:queue:rate"])

        status, doc = self.stack.get(base + f"/v1beta1/namespaces/{NS}/triton:queue:total?labelSelector=model%3Dtensorrt_llm")
        self.assertEqual(status, 200, doc)
        self.assertEqual((doc["kind"], doc["apiVersion"]), ("ExternalMetricValueList", "external.metrics.k8s.io/v1beta1"))
        self.assertEqual(len(doc["items"]), 1, doc)
        item = doc["items"][0]
        self.assertEqual(item["metricName"], "triton:queue:total")
        self.assertEqual(item["metricLabels"], {"namespace": NS, "model": "tensorrt_llm"})
        self.assertEqual(item["window"], 60)
        self.assertRegex(item["timestamp"], r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
        served = float(item["value"].rstrip("kMm")) * {"k": 1e3, "M": 1e6, "m": 1e-3}.get(item["value"][-1], 1)
        self.assertGreater(served, 0)

        status, doc = self.stack.get(base + f"/v1beta1/namespaces/{NS}/triton:queue:unknown")
        self.assertEqual((status, doc["reason"], doc["message"]),
                         (404, "NotFound", "the server could not find the external metric triton:queue:unknown"), doc)
        status, doc = self.stack.get(base + f"/v1beta1/namespaces/{NS}/triton:queue:total?labelSelector=model+in+(")
        self.assertEqual((status, doc["reason"]), (400, "BadRequest"), doc)

    def test_g_prometheus_adapter_config(self):
        path = os.path.join(self.stack.workdir, "prometheus-adapter.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(PROMETHEUS_ADAPTER_CONFIG)
        self.stack.restart_adapter(["--config", path, "--metrics-relist-interval", "2s"])
        status, doc = self.stack.get(f"/apis/{GROUP}/v1beta2")
        self.assertEqual(status, 200, doc)
        self.assertEqual(sorted(r["name"] for r in doc["resources"]),
                         ["namespaces/nv_inference_queue_duration_us_per_second", "pods/nv_inference_queue_duration_us_per_second"])
        status, doc = self.stack.get(self.stack.metric_path(NS, metric="nv_inference_queue_duration_us_per_second")
                                     + "?labelSelector=app%3Dtriton")
        self.assertEqual(status, 200, doc)
        values = {i["describedObject"]["name"]: i["value"] for i in doc["items"]}
        self.assertEqual(sorted(values), ["triton-0", "triton-1"], doc)

        def number(text):
            return float(text[:-1]) * {"k": 1e3, "M": 1e6, "m": 1e-3}[text[-1]] if text[-1] in "kMm" else float(text)
        self.assertGreater(number(values["triton-1"]), number(values["triton-0"]))

        status, doc = self.stack.get("/apis/external.metrics.k8s.io/v1beta1")
        self.assertEqual([r["name"] for r in doc["resources"]], ["triton_queue_total"])
        status, doc = self.stack.get(f"/apis/external.metrics.k8s.io/v1beta1/namespaces/{NS}/triton_queue_total"
                                     "?labelSelector=model%3Dtensorrt_llm")
        self.assertEqual(status, 200, doc)
        self.assertEqual([i["metricLabels"] for i in doc["items"]], [{"model": "tensorrt_llm"}])

        code, out = self.explain(f"/apis/{GROUP}/v1beta2/namespaces/{NS}/pods/*/nv_inference_queue_duration_us_per_second"
                                 "?labelSelector=app%3Dtriton", "--config", path)
        self.assertEqual(code, 0, out)
        self.assertIn('promql:      sum(rate(nv_inference_queue_duration_us{namespace="team-a"}[1m])) by (pod)', out)
        self.assertIn("answer:      200 MetricValueList with 2 items", out)


# prometheus-adapter's own format, as its users have it (the NVIDIA Triton autoscaling example's shape).
PROMETHEUS_ADAPTER_CONFIG = """\
rules:
  - seriesQuery: 'nv_inference_queue_duration_us{namespace!="",pod!=""}'
    resources:
      overrides:
        namespace: {resource: "namespace"}
        pod: {resource: "pod"}
    name:
      matches: "^(.*)_us$"
      as: "${1}_us_per_second"
    metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)'
externalRules:
  - seriesQuery: 'nv_inference_queue_duration_us{namespace!=""}'
    resources:
      overrides:
        namespace: {resource: "namespace"}
    name:
      as: "triton_queue_total"
    metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (model)'
"""


if __name__ == "__main__":
    unittest.main(verbosity=2)
