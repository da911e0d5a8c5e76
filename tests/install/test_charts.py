#!/usr/bin/env python3
"""Both Helm charts with the real Helm (v3.17.2, scripts/install-helm.sh): lint, render, validate, refuse.

* ``helm lint --strict`` for both charts, with their defaults and with every values file the tests render;
* ``helm template`` of the adapter chart with its defaults, with each ci/*.yaml (prometheus-community's
  ``ci/default-values.yaml`` and ``ci/external-rules-values.yaml`` shapes, the NVIDIA Triton pipeline's adapter
  values, cert-manager) and with a tls.* file made here; of the Triton chart with its defaults and each
  ``values-<model>.yaml``. Every object passes kubernetes-validate --strict; nothing renders
  ``insecureSkipTLSVerify: true``; every APIService has a caBundle holding a certificate, or cert-manager's
  annotation naming a Certificate rendered with it; external.metrics.k8s.io only when asked; every cluster-scoped
  name starts with custom-metrics-adapter (also under another release name);
* refused values fail with the exact message (rules.resource, TP × PP ≠ gpu.count, …).
"""

import glob
import os
import subprocess
import sys
import tempfile
import unittest

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from charts import (ADAPTER_CHART, CLUSTER_SCOPED, TRITON_CHART, RenderError, named, pem_of_ca_bundle,  # noqa: E402
                    render, run_helm, validate)

ADAPTER_CI = sorted(glob.glob(os.path.join(ADAPTER_CHART, "ci", "*.yaml")))
TRITON_VALUES = sorted(glob.glob(os.path.join(TRITON_CHART, "values-*.yaml")))
INJECT = "cert-manager.io/inject-ca-from"


def make_tls(directory):
    """A CA and a serving certificate for custom-metrics-adapter.custom-metrics.svc, made with openssl."""
    def run(*argv):
        subprocess.run(argv, cwd=directory, check=True, capture_output=True, timeout=60)
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
        "-subj", "/CN=test-ca", "-addext", "basicConstraints=critical,CA:TRUE", "-keyout", "ca.key", "-out", "ca.crt")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-subj", "/CN=custom-metrics-adapter.custom-metrics.svc", "-keyout", "tls.key", "-out", "tls.csr")
    with open(os.path.join(directory, "ext"), "w") as f:
        f.write("subjectAltName=DNS:custom-metrics-adapter.custom-metrics.svc\n")
    run("openssl", "x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-extfile", "ext", "-out", "tls.crt")
    return [f"tls.ca={directory}/ca.crt", f"tls.certificate={directory}/tls.crt", f"tls.key={directory}/tls.key"]


class AdapterChart(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="cma-charts-")
        cls.tls_files = make_tls(cls.tmp.name)
        # name -> (values files, --set, --set-file, external expected)
        cls.cases = {"defaults": ([], [], [], False), "tls": ([], ["tls.enable=true"], cls.tls_files, False),
                     "existing secret": ([], ["adapter.existingTLSSecret=my-serving-cert"], cls.tls_files[:1], False)}
        for path in ADAPTER_CI:
            name = os.path.basename(path)
            cls.cases[name] = ([path], [], [], name == "external-rules-values.yaml")
        cls.renders = {name: render(ADAPTER_CHART, values_files=f, sets=s, set_files=sf)
                       for name, (f, s, sf, _) in cls.cases.items()}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_ci_files_are_there(self):
        self.assertEqual([os.path.basename(p) for p in ADAPTER_CI],
                         ["cert-manager-values.yaml", "default-values.yaml", "external-rules-values.yaml",
                          "networkpolicy-values.yaml", "nvidia-triton-values.yaml"])

    def test_lint_strict(self):
        for name, (files, sets, set_files, _) in self.cases.items():
            with self.subTest(values=name):
                args = ["lint", "--strict", ADAPTER_CHART]
                for f in files:
                    args += ["-f", f]
                for s in sets:
                    args += ["--set", s]
                for s in set_files:
                    args += ["--set-file", s]
                self.assertIn("1 chart(s) linted, 0 chart(s) failed", run_helm(*args))

    def test_every_object_validates_strictly(self):
        for name, (_, objects) in self.renders.items():
            with self.subTest(values=name):
                problems = [p for p in map(validate, objects) if p]
                self.assertEqual(problems, [])
                self.assertGreaterEqual(len(objects), 12)

    def test_no_insecure_skip_tls_verify(self):
        for name, (text, objects) in self.renders.items():
            with self.subTest(values=name):
                self.assertNotIn("insecureSkipTLSVerify", text)
                for api in named(objects, "APIService"):
                    self.assertNotIn("insecureSkipTLSVerify", api["spec"])

    def test_apiservices_carry_a_ca(self):
        for name, (_, objects) in self.renders.items():
            with self.subTest(values=name):
                certificates = {f"{c['metadata']['namespace']}/{c['metadata']['name']}" for c in named(objects, "Certificate")}
                apis = named(objects, "APIService")
                self.assertGreaterEqual(len(apis), 2)
                for api in apis:
                    inject = (api["metadata"].get("annotations") or {}).get(INJECT)
                    if name in ("cert-manager-values.yaml", "networkpolicy-values.yaml"):
                        self.assertEqual(inject, "custom-metrics/custom-metrics-adapter-tls")
                        self.assertIn(inject, certificates)
                        self.assertNotIn("caBundle", api["spec"])
                    else:
                        self.assertIsNone(inject)
                        self.assertIn("-----BEGIN CERTIFICATE-----", pem_of_ca_bundle(api["spec"]["caBundle"]))

    def test_generated_ca_signs_the_served_certificate(self):
        _, objects = self.renders["defaults"]
        secret = named(objects, "Secret", "custom-metrics-adapter-tls")[0]
        ca = pem_of_ca_bundle(named(objects, "APIService", "v1beta2.custom.metrics.k8s.io")[0]["spec"]["caBundle"])
        self.assertEqual(pem_of_ca_bundle(secret["data"]["ca.crt"]), ca)
        with tempfile.TemporaryDirectory() as d:
            for key, text in (("ca.crt", ca), ("tls.crt", pem_of_ca_bundle(secret["data"]["tls.crt"]))):
                with open(os.path.join(d, key), "w") as f:
                    f.write(text)
            done = subprocess.run(["openssl", "verify", "-CAfile", "ca.crt", "-purpose", "sslserver",
                                   "-verify_hostname", "custom-metrics-adapter.custom-metrics.svc", "tls.crt"],
                                  cwd=d, capture_output=True, text=True, timeout=30)
        self.assertEqual(done.stdout.strip(), "tls.crt: OK", done.stderr)

    def test_existing_secret_is_mounted_not_rendered(self):
        _, objects = self.renders["existing secret"]
        self.assertEqual(named(objects, "Secret"), [])
        volumes = named(objects, "Deployment")[0]["spec"]["template"]["spec"]["volumes"]
        self.assertIn({"name": "serving-cert", "secret": {"secretName": "my-serving-cert", "defaultMode": 288}}, volumes)

    def test_external_metrics_only_when_asked(self):
        for name, (_, _, _, expected) in self.cases.items():
            with self.subTest(values=name):
                _, objects = self.renders[name]
                names = sorted(a["metadata"]["name"] for a in named(objects, "APIService"))
                want = ["v1beta1.custom.metrics.k8s.io", "v1beta2.custom.metrics.k8s.io"]
                if expected:
                    want.insert(1, "v1beta1.external.metrics.k8s.io")
                self.assertEqual(names, want)
        _, objects = render(ADAPTER_CHART, sets=["adapter.externalMetrics.enabled=true"])
        self.assertEqual(len(named(objects, "APIService", "v1beta1.external.metrics.k8s.io")), 1)

    def test_cluster_scoped_names_carry_our_prefix(self):
        renders = dict(self.renders)
        renders["release prometheus-adapter"] = render(ADAPTER_CHART, release="prometheus-adapter", namespace="monitoring")
        for name, (_, objects) in renders.items():
            with self.subTest(values=name):
                for o in objects:
                    if o["kind"] in CLUSTER_SCOPED and o["kind"] != "APIService":
                        self.assertRegex(o["metadata"]["name"], r"^custom-metrics-adapter[:-]")
        _, objects = renders["release prometheus-adapter"]
        self.assertEqual(sorted(o["metadata"]["name"] for o in named(objects, "ClusterRoleBinding")),
                         ["custom-metrics-adapter-prometheus-adapter-custom-metrics-adapter:hpa-controller",
                          "custom-metrics-adapter-prometheus-adapter-custom-metrics-adapter:pod-reader",
                          "custom-metrics-adapter-prometheus-adapter-custom-metrics-adapter:system:auth-delegator"])

    def test_nvidia_values_give_these_flags(self):
        _, objects = self.renders["nvidia-triton-values.yaml"]
        args = named(objects, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]["args"]
        self.assertEqual(args, [
            "--secure-port=6443",
            "--tls-cert-file=/var/run/serving-cert/tls.crt",
            "--tls-private-key-file=/var/run/serving-cert/tls.key",
            "--config=/etc/adapter/rules.yaml",
            "--prometheus-url=http://kube-prometheus-stack-prometheus.monitoring.svc:9090",
            "--metrics-relist-interval=30s",
            "--authentication-token-webhook-cache-ttl=10s",
            "--authorization-webhook-cache-authorized-ttl=10s",
            "--authorization-webhook-cache-unauthorized-ttl=10s",
            "--authorization-always-allow-paths=/healthz,/readyz,/livez",
            "--shutdown-timeout=20s",
            "--v=4",
        ])

    def test_rules_file_formats(self):
        def rules_of(objects):
            return yaml.safe_load(named(objects, "ConfigMap", "custom-metrics-adapter-rules")[0]["data"]["rules.yaml"])
        self.assertEqual([m["name"] for m in rules_of(self.renders["defaults"][1])["metrics"]],
                         ["triton:queue_compute:ratio"])
        nvidia = rules_of(self.renders["nvidia-triton-values.yaml"][1])
        self.assertEqual(list(nvidia), ["rules"])
        self.assertEqual([r["name"]["as"] for r in nvidia["rules"]], ["triton:queue_compute:ratio"])
        external = rules_of(self.renders["external-rules-values.yaml"][1])
        self.assertEqual(list(external), ["externalRules"])
        _, objects = render(ADAPTER_CHART, sets=["rules.default=true"])
        self.assertEqual(len(rules_of(objects)["rules"]), 6)

    def test_existing_rules_configmap(self):
        _, objects = render(ADAPTER_CHART, sets=["rules.existing=my-rules", "adapter.externalMetrics.enabled=true"])
        self.assertEqual(named(objects, "ConfigMap"), [])
        pod = named(objects, "Deployment")[0]["spec"]["template"]["spec"]
        self.assertIn("--config=/etc/adapter/config.yaml", pod["containers"][0]["args"])
        self.assertEqual([v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v], ["my-rules"])


class Refusals(unittest.TestCase):
    """Values that mean something this adapter does not do fail the install with the reason."""

    def refused(self, chart, *sets, files=()):
        with self.assertRaises(RenderError) as ctx:
            render(chart, release="r", namespace="n", sets=sets, values_files=files)
        return ctx.exception.message

    def test_rules_resource(self):
        self.assertEqual(self.refused(ADAPTER_CHART, "rules.resource.cpu.containerQuery=x"),
                         "rules.resource is refused: resource metrics (metrics.k8s.io, prometheus-adapter's "
                         "resourceRules) are metrics-server's API, which this adapter does not serve; remove "
                         "rules.resource and install metrics-server for kubectl top and CPU/memory autoscaling")

    def test_unknown_flag(self):
        self.assertEqual(self.refused(ADAPTER_CHART, "extraArguments[0]=--enable-unsafe-thing=true"),
                         "extraArguments: --enable-unsafe-thing=true is not a flag of custom-metrics-adapter "
                         "(custom-metrics-adapter --help lists them; docs/migrating-from-prometheus-adapter.md "
                         "maps prometheus-adapter's)")

    def test_insecure_local_mode(self):
        self.assertEqual(self.refused(ADAPTER_CHART, "extraArguments[0]=--insecure-local-mode"),
                         "extraArguments: --insecure-local-mode is refused: it serves every caller without "
                         "authentication or authorization")

    def test_no_service_account_token(self):
        self.assertEqual(self.refused(ADAPTER_CHART, "automountServiceAccountToken=false"),
                         "automountServiceAccountToken: false is refused: the adapter lists and watches pods and "
                         "makes TokenReviews and SubjectAccessReviews with its service account token")

    def test_tls_without_ca(self):
        self.assertEqual(self.refused(ADAPTER_CHART, "tls.enable=true"),
                         "tls.enable needs tls.ca (the CA that signed the certificate, for the APIServices' "
                         "caBundle), tls.certificate and tls.key (PEM)")

    def test_existing_secret_without_ca(self):
        self.assertEqual(self.refused(ADAPTER_CHART, "adapter.existingTLSSecret=mine"),
                         "adapter.existingTLSSecret needs tls.ca: the CA that signed the Secret's certificate, for "
                         "the APIServices' caBundle")

    def test_two_rule_formats(self):
        self.assertEqual(self.refused(ADAPTER_CHART, "rules.default=true", "adapter.metrics[0].name=a"),
                         "adapter.metrics cannot be combined with rules.default, rules.custom or rules.external: "
                         "one rules file is either the adapter's format (metrics:) or prometheus-adapter's "
                         "(rules:, externalRules:)")

    def test_unknown_top_level_key(self):
        with self.assertRaises(RenderError) as ctx:
            render(ADAPTER_CHART, sets=["psp.create=true"])
        self.assertIn("custom-metrics-adapter:\n- (root): Additional property psp is not allowed", ctx.exception.stderr)

    def test_tp_times_pp_is_not_the_gpu_count(self):
        files = [os.path.join(TRITON_CHART, "values-qwen2.5-32b.yaml")]
        self.assertEqual(self.refused(TRITON_CHART, "gpu.count=2", files=files),
                         "gpu.count is 2 but parallelism.tensor × parallelism.pipeline = 2 × 2 = 4: each pod "
                         "needs exactly TP × PP GPUs (one MPI rank per GPU); fix gpu.count or the parallelism")

    def test_gpu_resource_written_out(self):
        self.assertEqual(self.refused(TRITON_CHART, "serving.resources.limits.nvidia\\.com/gpu=2"),
                         "serving.resources.limits sets nvidia.com/gpu: the chart computes it as "
                         "parallelism.tensor × parallelism.pipeline (1); remove it")


class TritonChart(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.renders = {"defaults": render(TRITON_CHART, release="triton", namespace="triton")}
        for path in TRITON_VALUES:
            cls.renders[os.path.basename(path)] = render(TRITON_CHART, release="triton", namespace="triton",
                                                         values_files=[path])

    def test_model_files(self):
        self.assertEqual(sorted(self.renders), ["defaults", "values-llama-3-8b.yaml", "values-llama-3.1-70b.yaml",
                                                "values-llama-3.2-1b.yaml", "values-qwen2.5-32b.yaml"])

    def test_lint_strict(self):
        for path in [None] + TRITON_VALUES:
            with self.subTest(values=path and os.path.basename(path)):
                args = ["lint", "--strict", TRITON_CHART] + (["-f", path] if path else [])
                self.assertIn("1 chart(s) linted, 0 chart(s) failed", run_helm(*args))

    def test_validates_strictly(self):
        for name, (text, objects) in self.renders.items():
            with self.subTest(values=name):
                self.assertEqual([p for p in map(validate, objects) if p], [])
                self.assertNotIn("insecureSkipTLSVerify", text)
                self.assertEqual(sorted(o["kind"] for o in objects),
                                 ["ConfigMap", "ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PodMonitor",
                                  "Service"])

    def test_gpus_are_tp_times_pp_and_launch_starts_that_many_ranks(self):
        expected = {"defaults": (1, 1), "values-llama-3-8b.yaml": (1, 1), "values-llama-3.1-70b.yaml": (4, 1),
                    "values-llama-3.2-1b.yaml": (1, 1), "values-qwen2.5-32b.yaml": (2, 2)}
        for name, (_, objects) in self.renders.items():
            with self.subTest(values=name):
                tp, pp = expected[name]
                model = named(objects, "ConfigMap", "triton-model")[0]["data"]
                self.assertEqual((model["TP_SIZE"], model["PP_SIZE"], model["GPUS_PER_POD"]),
                                 (str(tp), str(pp), str(tp * pp)))
                pod = named(objects, "Deployment")[0]["spec"]["template"]["spec"]
                for c in pod["initContainers"] + pod["containers"]:
                    self.assertEqual((c["resources"]["requests"]["nvidia.com/gpu"], c["resources"]["limits"]["nvidia.com/gpu"]),
                                     (str(tp * pp), str(tp * pp)), c["name"])
                launch = named(objects, "ConfigMap", "triton-scripts")[0]["data"]["launch.sh"]
                env = {"PATH": os.environ["PATH"], "LAUNCH_DRY_RUN": "1", **model}
                out = subprocess.run(["bash", "-c", launch, "launch.sh"], env=env, capture_output=True, text=True,
                                     timeout=30, check=True).stdout.splitlines()
                self.assertEqual(out.count("tritonserver"), tp * pp)
                self.assertEqual(out.count("--http-port=8000"), 1)

    def test_scripts_are_the_kustomize_ones(self):
        _, objects = self.renders["defaults"]
        scripts = named(objects, "ConfigMap", "triton-scripts")[0]["data"]
        for name in ("build-engines.sh", "launch.sh"):
            with open(os.path.join(os.path.dirname(TRITON_CHART), "..", "manifests", "triton", "base", "scripts", name)) as f:
                self.assertEqual(scripts[name], f.read(), f"charts/triton/files/{name} differs from manifests/triton")

    def test_hpa_podmonitor_and_rule_switch(self):
        _, objects = self.renders["values-llama-3.1-70b.yaml"]
        hpa = named(objects, "HorizontalPodAutoscaler")[0]["spec"]
        self.assertEqual(hpa["metrics"][0]["pods"]["metric"],
                         {"name": "triton:queue_compute:ratio", "selector": {"matchLabels": {"model": "tensorrt_llm"}}})
        self.assertEqual(hpa["metrics"][0]["pods"]["target"], {"type": "AverageValue", "averageValue": "1000m"})
        self.assertEqual(hpa["behavior"]["scaleDown"]["stabilizationWindowSeconds"], 300)
        pm = named(objects, "PodMonitor")[0]["spec"]
        self.assertEqual(pm["podMetricsEndpoints"][0]["interval"], "6s")
        self.assertEqual(pm["selector"]["matchLabels"], named(objects, "Deployment")[0]["spec"]["selector"]["matchLabels"])
        _, objects = render(TRITON_CHART, release="triton", namespace="triton", sets=["prometheusRule.enabled=true"])
        self.assertEqual(len(named(objects, "PrometheusRule")), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
