#!/usr/bin/env python3
"""Answers users found wrong with prometheus-adapter configs, against the real Prometheus and the real binary.

Each test failed before the one rule model (issue "One rule model"), and each expected value comes from
Prometheus itself: the same PromQL asked of Prometheus directly, at the sample's timestamp.

1. A rule whose ``resources`` map ``namespace`` serves ``namespaces/<ns>/metrics/<metric>`` (404 before).
2. An external rule with ``namespaced: false`` serves every series, whatever its namespace label (dropped).
3. ``describedObject`` of a ``replicasets.apps`` rule names ``ReplicaSet`` in ``apps/v1`` (``Replicaset, v1``).
4. ``replay --config`` reads a prometheus-adapter file (refused as "not read yet").
"""

import calendar
import json
import os
import subprocess
import sys
import time
import unittest
import urllib.parse
import urllib.request
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from tests.support.e2e_stack import GROUP, Stack, adapter_bin, parse_quantity_milli, wait_for  # noqa: E402


def _model(queue, compute):
    return [{"model": "tensorrt_llm", "version": "1", "queue_us_per_s": queue, "compute_us_per_s": compute}]


PODS = {"pods": [
    {"namespace": "team-a", "name": "triton-0", "labels": {"app": "triton"}, "models": _model(1500000, 1000000)},
    {"namespace": "team-a", "name": "triton-1", "labels": {"app": "triton"}, "models": _model(2500000, 1000000)},
    {"namespace": "team-b", "name": "triton-0", "labels": {"app": "triton"}, "models": _model(500000, 1000000)},
]}

ADAPTER_CONFIG = """\
rules:
  - seriesQuery: 'nv_inference_queue_duration_us{namespace!="",pod!=""}'
    resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
    name: {matches: "^(.*)_us$", as: "${1}_us_per_second"}
    metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)
externalRules:
  - seriesQuery: 'nv_inference_compute_infer_duration_us{namespace!=""}'
    resources: {namespaced: false, overrides: {namespace: {resource: namespace}}}
    name: {as: "compute_all_namespaces"}
    metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (namespace)
"""

NATIVE_CONFIG = """\
metrics:
  - name: queue:per_replicaset
    resource: replicasets.apps
    query: >-
      sum by (<<.GroupBy>>) (label_replace(rate(nv_inference_queue_duration_us{<<.LabelMatchers>>}[<<.Window>>]),
      "replicaset", "$1", "pod", "(.*)-[0-9]+"))
"""

HPA = """\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: triton, namespace: team-a}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: triton}
  minReplicas: 1
  maxReplicas: 4
  metrics:
    - type: Pods
      pods:
        metric: {name: nv_inference_queue_duration_us_per_second}
        target: {type: AverageValue, averageValue: "1M"}
"""


class RuleAnswers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(PODS)
        cls.stack.start()
        cls.addClassCleanup(cls.stack.stop)
        cls.adapter_config = cls.write("prometheus-adapter.yaml", ADAPTER_CONFIG)
        cls.native_config = cls.write("native.yaml", NATIVE_CONFIG)
        # Wait until Prometheus has two samples of every series, so rate() answers for each.
        wait_for(lambda: len(cls.prometheus('rate(nv_inference_queue_duration_us[1m])')) == 3, timeout=60,
                 what="rates for all three pods in Prometheus")

    @classmethod
    def write(cls, name, text):
        path = os.path.join(cls.stack.workdir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    @classmethod
    def prometheus(cls, promql, at=None):
        form = {"query": promql}
        if at is not None:
            form["time"] = str(at)
        body = urllib.parse.urlencode(form).encode()
        with urllib.request.urlopen(f"{cls.stack.prometheus_url}/api/v1/query", data=body, timeout=10) as response:
            doc = json.load(response)
        assert doc["status"] == "success", doc
        return doc["data"]["result"]

    @classmethod
    def candidates(cls, promql, at):
        """Prometheus' own values for `promql` in the second `at` (RFC 3339) names, rounded to the milli.

        The adapter stamps an item with its sample time floored to the second, so the instant Prometheus
        evaluated lies in [at, at + 1 s): every millisecond of it is asked for (a range query, step 1 ms)
        and the served value must equal one of the few values found there, not fall within a tolerance.
        """
        start = calendar.timegm(time.strptime(at, "%Y-%m-%dT%H:%M:%SZ"))
        form = urllib.parse.urlencode({"query": promql, "start": start, "end": start + 0.999, "step": 0.001}).encode()
        with urllib.request.urlopen(f"{cls.stack.prometheus_url}/api/v1/query_range", data=form, timeout=10) as response:
            doc = json.load(response)
        assert doc["status"] == "success", doc
        found = {}
        for series in doc["data"]["result"]:
            key = tuple(sorted(series["metric"].items()))
            for _, value in series["values"]:
                scaled = Decimal(value) * 1000
                found.setdefault(key, set()).update(
                    {int(scaled.quantize(Decimal(1), ROUND_HALF_UP)), int(scaled.quantize(Decimal(1), ROUND_HALF_EVEN))})
        return found

    def test_a_namespace_metric_is_served(self):
        self.stack.restart_adapter(["--config", self.adapter_config, "--metrics-relist-interval", "2s"])
        path = f"/apis/{GROUP}/v1beta1/namespaces/team-a/metrics/nv_inference_queue_duration_us_per_second"
        status, doc = self.stack.get(path)
        self.assertEqual(status, 200, doc)
        self.assertEqual(doc["kind"], "MetricValueList")
        self.assertEqual(len(doc["items"]), 1, doc)
        item = doc["items"][0]
        self.assertEqual(item["describedObject"], {"kind": "Namespace", "name": "team-a", "apiVersion": "v1"})
        self.assertEqual(item["metricName"], "nv_inference_queue_duration_us_per_second")
        expected = self.candidates(
            'sum(rate(nv_inference_queue_duration_us{namespace="team-a"}[1m])) by (namespace)', item["timestamp"])
        self.assertIn(parse_quantity_milli(item["value"]), expected[(("namespace", "team-a"),)], doc)
        # The same through v1beta2.
        status, doc = self.stack.get(path.replace("v1beta1", "v1beta2"))
        self.assertEqual((status, doc["items"][0]["describedObject"]["kind"]), (200, "Namespace"), doc)

    def test_b_external_rule_without_namespace_serves_every_series(self):
        self.stack.restart_adapter(["--config", self.adapter_config, "--metrics-relist-interval", "2s"])
        status, doc = self.stack.get("/apis/external.metrics.k8s.io/v1beta1/namespaces/team-a/compute_all_namespaces")
        self.assertEqual(status, 200, doc)
        served = {item["metricLabels"]["namespace"]: item for item in doc["items"]}
        self.assertEqual(sorted(served), ["team-a", "team-b"], doc)
        for namespace, item in served.items():
            expected = self.candidates(
                "sum(rate(nv_inference_compute_infer_duration_us[1m])) by (namespace)", item["timestamp"])
            self.assertIn(parse_quantity_milli(item["value"]), expected[(("namespace", namespace),)], item)

    def test_c_replicasets_are_described_as_replicasets(self):
        self.stack.restart_adapter(["--config", self.native_config])
        status, doc = self.stack.get(f"/apis/{GROUP}/v1beta2/namespaces/team-a/replicasets.apps/%2A/queue:per_replicaset")
        self.assertEqual(status, 200, doc)
        self.assertEqual([i["describedObject"] for i in doc["items"]],
                         [{"kind": "ReplicaSet", "namespace": "team-a", "name": "triton", "apiVersion": "apps/v1"}])

    def test_d_replay_reads_a_prometheus_adapter_config(self):
        hpa = self.write("hpa.yaml", HPA)
        argv = [adapter_bin(), "replay", "--prometheus-url", self.stack.prometheus_url, "--config", self.adapter_config,
                "--hpa", hpa, "--namespace", "team-a", "--start", "now-30s", "--step", "5s", "--all-rows",
                "--output", os.path.join(self.stack.workdir, "replay.svg")]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertTrue(done.stdout.startswith("TIME (UTC)  PODS RECORDED"), done.stdout)
        summary = [line for line in done.stdout.splitlines() if line.startswith("syncs: ")]
        self.assertEqual(len(summary), 1, done.stdout)
        # Two team-a pods recorded: the rule came from discovery over the real series.
        recorded = {line.split()[1] for line in done.stdout.splitlines()[1:] if line[:2].isdigit()}
        self.assertIn("2", recorded, done.stdout)
        self.assertTrue(recorded <= {"0", "2"}, done.stdout)


if __name__ == "__main__":
    unittest.main()
