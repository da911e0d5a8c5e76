#!/usr/bin/env python3
"""The chart's rules ConfigMap, given to the real binary with --config, serves its metrics end to end.

For three values files, ``helm template`` renders the chart; the test takes the ConfigMap's ``rules.yaml`` and
the Deployment's ``--metrics-relist-interval`` (shortened to 2s here so discovery does not wait 30 s to 1 m)
and restarts the real adapter of ``tests/support/e2e_stack.py``'s Stack (simulated Triton pods, a real
Prometheus, the Kubernetes API stand-in) with them:

* chart defaults: the built-in rule (the adapter's own format) serves pods/triton:queue_compute:ratio;
* ``ci/nvidia-triton-values.yaml`` (prometheus-community format, the NVIDIA pipeline's custom rule over the
  recorded ``triton:queue_compute:ratio``): Prometheus evaluates manifests/monitoring's PrometheusRule groups,
  the adapter discovers the series and serves the same numbers;
* a values file in the shape of prometheus-community's ``ci/external-rules-values.yaml`` over a Triton counter:
  external.metrics.k8s.io serves it.

Each value must be within 5 % of the ratio the simulated pods are configured with; pods outside the selector
never appear. Last, the binary is started with the exact flags each chart render gives the container: it must
accept them all (it then stops at the rules file path, which exists only in the pod).
"""

import glob
import os
import subprocess
import sys
import tempfile
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from charts import ADAPTER_CHART, named, render  # noqa: E402
from tests.support.e2e_stack import GROUP, Stack, adapter_bin, expected_milli, wait_for  # noqa: E402

NS = "triton"
METRIC = "triton:queue_compute:ratio"


def _model(queue, compute):
    return {"model": "tensorrt_llm", "version": "1", "queue_us_per_s": queue, "compute_us_per_s": compute}


PODS = {"pods": [
    {"namespace": NS, "name": "triton-0", "labels": {"app": "triton"}, "models": [_model(1500000, 1000000)]},
    {"namespace": NS, "name": "triton-1", "labels": {"app": "triton"}, "models": [_model(500000, 1000000)]},
    {"namespace": NS, "name": "other-0", "labels": {"app": "other"}, "models": [_model(4000000, 1000000)]},
]}
EXPECTED = {p["name"]: expected_milli(p) for p in PODS["pods"] if p["labels"]["app"] == "triton"}

EXTERNAL_VALUES = """\
rules:
  external:
  - seriesQuery: '{__name__=~"^nv_inference_queue_duration_us$",namespace!=""}'
    resources:
      template: <<.Resource>>
    name:
      matches: ""
      as: "triton_queue_us_per_second"
    metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (model)
"""


class ChartEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(PODS)
        cls.stack.start()
        cls.addClassCleanup(cls.stack.stop)
        cls.enable_recording_rules()

    @classmethod
    def enable_recording_rules(cls):
        """Prometheus with manifests/monitoring's recording rules (what the NVIDIA pipeline's rule reads)."""
        with open(os.path.join(REPO, "manifests", "monitoring", "prometheusrule.yaml"), encoding="utf-8") as f:
            groups = yaml.safe_load(f)["spec"]["groups"]
        for group in groups:
            group["interval"] = "1s"
        rules = os.path.join(cls.stack.workdir, "triton-rules.yml")
        with open(rules, "w", encoding="utf-8") as f:
            yaml.safe_dump({"groups": groups}, f)
        with open(cls.stack.prom_config, "a", encoding="utf-8") as f:
            f.write(f"rule_files: [{rules!r}]\n".replace("'", '"'))
        cls.stack.stop_prometheus()
        cls.stack.start_prometheus()

    def start_with_chart(self, values_text=None, values_file=None):
        files = []
        if values_text is not None:
            handle = tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=self.stack.workdir, delete=False)
            handle.write(values_text)
            handle.close()
            files.append(handle.name)
        if values_file is not None:
            files.append(values_file)
        _, objects = render(ADAPTER_CHART, values_files=files)
        rules = named(objects, "ConfigMap", "custom-metrics-adapter-rules")[0]["data"]["rules.yaml"]
        args = named(objects, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]["args"]
        path = os.path.join(self.stack.workdir, "rules.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(rules)
        extra = ["--config", path]
        if any(a.startswith("--metrics-relist-interval=") for a in args):
            extra += ["--metrics-relist-interval", "2s"]
        self.stack.restart_adapter(extra)
        return yaml.safe_load(rules)

    def assert_serves_the_ratio(self):
        def values():
            got = self.stack.values(NS, label_selector="app=triton")
            return got if got and set(got) == set(EXPECTED) and all(got.values()) else None
        got = wait_for(values, timeout=60, what=f"{METRIC} for triton-0 and triton-1")
        for pod, want in EXPECTED.items():
            self.assertAlmostEqual(got[pod], want, delta=want * 0.05, msg=f"{pod}: {got}")

    def test_a_chart_defaults(self):
        rules = self.start_with_chart()
        self.assertEqual([m["name"] for m in rules["metrics"]], [METRIC])
        self.assert_serves_the_ratio()

    def test_b_nvidia_pipeline_values(self):
        rules = self.start_with_chart(values_file=os.path.join(ADAPTER_CHART, "ci", "nvidia-triton-values.yaml"))
        self.assertEqual(list(rules), ["rules"])

        def discovered():
            status, doc = self.stack.get(f"/apis/{GROUP}/v1beta2")
            return status == 200 and sorted(r["name"] for r in doc["resources"])
        self.assertEqual(wait_for(discovered, timeout=60, what="discovery of the recorded series"),
                         ["namespaces/" + METRIC, "pods/" + METRIC])
        self.assert_serves_the_ratio()

    def test_c_external_rules_values(self):
        rules = self.start_with_chart(values_text=EXTERNAL_VALUES)
        self.assertEqual(list(rules), ["externalRules"])

        def items():
            status, doc = self.stack.get(f"/apis/external.metrics.k8s.io/v1beta1/namespaces/{NS}/"
                                         "triton_queue_us_per_second?labelSelector=model%3Dtensorrt_llm")
            return status == 200 and doc.get("items")
        got = wait_for(items, timeout=60, what="the external metric")
        self.assertEqual([i["metricLabels"] for i in got], [{"model": "tensorrt_llm"}])
        self.assertEqual(got[0]["metricName"], "triton_queue_us_per_second")


    def test_d_chart_flags_are_the_binarys(self):
        """The binary accepts every flag the chart renders: it gets past flag parsing and settings validation
        and stops only at the rules file, which exists in the pod but not here."""
        files = [None] + sorted(glob.glob(os.path.join(ADAPTER_CHART, "ci", "*.yaml")))
        for path in files:
            with self.subTest(values=path and os.path.basename(path)):
                _, objects = render(ADAPTER_CHART, values_files=[path] if path else [],
                                    sets=["adapter.requestTimeout=12s", "adapter.prometheusQueryTimeout=4s",
                                          "adapter.metricsCacheTTL=3s", "adapter.maxConcurrentPrometheusQueries=4",
                                          "extraArguments[0]=--prometheus-header=X-Scope-OrgID=tenant-a"])
                args = named(objects, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]["args"]
                done = subprocess.run([adapter_bin(), *args], capture_output=True, text=True, timeout=30)
                self.assertEqual(done.returncode, 2, done.stderr)
                self.assertNotIn("Unknown option", done.stderr)
                self.assertIn("error=--config /etc/adapter/rules.yaml:", done.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
