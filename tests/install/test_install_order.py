#!/usr/bin/env python3
"""scripts/install.sh walks the safe install order against the stand-in world, with the real adapter.

The cluster side is tests/install/standin_kubectl.py (no kube-apiserver runs here): it records what is applied
and forwards every ``kubectl get --raw`` to the real adapter of tests/support/e2e_stack.py's Stack (real
Prometheus, Kubernetes API stand-in behind it). Checked:

* install: the APIServices are looked up first; the first apply sends no APIService; the rollout is awaited and
  /readyz read through the Service before the APIServices are applied; then they are awaited and discovery is
  read through them (the real adapter's answer lists pods/triton:queue_compute:ratio);
* an APIService backed by another Service (KEDA's external metrics) refuses the install before anything is
  applied, with the exact message;
* an adapter that does not answer /readyz never gets its APIServices registered;
* uninstall: the APIServices first (--ignore-not-found), then the rest; the Namespace stays;
* docs/install.md shows exactly the commands the script runs (its --print output).
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

from tests.support.e2e_stack import Stack  # noqa: E402

INSTALL = os.path.join(REPO, "scripts", "install.sh")
OVERLAY = "manifests/overlays/cert-manager"
PODS = {"pods": [{"namespace": "triton", "name": "triton-0", "labels": {"app": "triton"},
                  "models": [{"model": "tensorrt_llm", "version": "1", "queue_us_per_s": 1000, "compute_us_per_s": 1000}]}]}
KEDA = {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
        "metadata": {"name": "v1beta1.external.metrics.k8s.io"},
        "spec": {"group": "external.metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 100,
                 "versionPriority": 100, "service": {"namespace": "keda", "name": "keda-operator-metrics-apiserver"}}}


def printed(*args, timeout=None):
    env = dict(os.environ, **({"TIMEOUT": timeout} if timeout else {}))
    env.pop("TIMEOUT", None) if not timeout else None
    out = subprocess.run(["bash", INSTALL, "--print", *args], cwd=REPO, capture_output=True, text=True,
                         check=True, timeout=120, env=env).stdout
    return [line[2:] for line in out.splitlines() if line.startswith("+ ")]


class InstallOrder(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(PODS)
        cls.stack.start()
        cls.addClassCleanup(cls.stack.stop)

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="cma-install-")
        self.addCleanup(self.tmp.cleanup)
        self.world = os.path.join(self.tmp.name, "world.json")
        self.log = os.path.join(self.tmp.name, "kubectl.log")
        self.shim = os.path.join(self.tmp.name, "kubectl")
        with open(self.shim, "w") as f:
            f.write(f"#!/bin/sh\nexec {sys.executable} {os.path.join(HERE, 'standin_kubectl.py')} \"$@\"\n")
        os.chmod(self.shim, 0o755)
        self.set_world({})

    def set_world(self, objects):
        with open(self.world, "w") as f:
            json.dump({"objects": objects}, f)

    def objects(self):
        with open(self.world) as f:
            return json.load(f)["objects"]

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f]

    def run_script(self, *args, kubeconfig=None):
        env = dict(os.environ, KUBECTL=self.shim, STANDIN_WORLD=self.world, STANDIN_LOG=self.log, TIMEOUT="30s",
                   ADAPTER_KUBECONFIG=kubeconfig or self.stack.kubeconfig)
        return subprocess.run(["bash", INSTALL, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=180)

    def test_install_order(self):
        done = self.run_script("install", OVERLAY)
        self.assertEqual(done.returncode, 0, done.stderr + done.stdout)
        calls = [c["argv"] for c in self.calls()]
        shown = lambda argv: " ".join(a if not a.startswith(tempfile.gettempdir()) else os.path.basename(a) for a in argv)  # noqa: E731
        self.assertEqual([shown(["kubectl", *c]) for c in calls[1:]],
                         [line.replace("'", "") for line in printed("install", OVERLAY, timeout="30s")])
        applies = [c["applied"] for c in self.calls() if c["applied"] is not None]
        self.assertEqual(len(applies), 2)
        self.assertNotIn("APIService", applies[0])
        self.assertIn("Deployment", applies[0])
        self.assertEqual(applies[1], ["APIService", "APIService"])
        order = [c[0] if c[0] != "-n" else c[2] for c in calls]
        self.assertEqual(order, ["kustomize", "get", "get", "apply", "rollout", "get", "apply", "wait", "get"])
        self.assertIn("ok", done.stdout)
        self.assertIn('"name":"pods/triton:queue_compute:ratio"', done.stdout.replace(" ", ""))
        self.assertIn("APIService//v1beta2.custom.metrics.k8s.io", self.objects())

        done = self.run_script("uninstall", OVERLAY)
        self.assertEqual(done.returncode, 0, done.stderr)
        uninstall = [c["argv"] for c in self.calls()][len(calls):]
        self.assertEqual(uninstall[1], ["delete", "apiservice", "v1beta1.custom.metrics.k8s.io",
                                        "v1beta2.custom.metrics.k8s.io", "--ignore-not-found"])
        self.assertEqual(uninstall[2][0:2], ["delete", "-f"])
        self.assertEqual(list(self.objects()), ["Namespace//custom-metrics"])

    def test_refuses_an_apiservice_of_another_service(self):
        self.set_world({"APIService//v1beta1.external.metrics.k8s.io": KEDA})
        done = self.run_script("install", "manifests/examples/external-metrics")
        self.assertEqual(done.returncode, 2, done.stdout)
        self.assertIn("install: refused: APIService v1beta1.external.metrics.k8s.io is served by Service "
                      "keda/keda-operator-metrics-apiserver, not by custom-metrics/custom-metrics-adapter.",
                      done.stderr)
        self.assertEqual([c for c in self.calls() if c["argv"][0] == "apply"], [])
        self.assertEqual(list(self.objects()), ["APIService//v1beta1.external.metrics.k8s.io"])

    def test_take_over_moves_prometheus_adapters_apiservice_after_readyz(self):
        theirs = dict(KEDA, metadata={"name": "v1beta1.custom.metrics.k8s.io"},
                      spec=dict(KEDA["spec"], group="custom.metrics.k8s.io",
                                service={"namespace": "monitoring", "name": "prometheus-adapter"}))
        self.set_world({"APIService//v1beta1.custom.metrics.k8s.io": theirs})
        self.assertEqual(self.run_script("install", OVERLAY).returncode, 2)
        os.environ["TAKE_OVER"] = "1"
        try:
            done = self.run_script("install", OVERLAY)
        finally:
            os.environ.pop("TAKE_OVER")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("install: TAKE_OVER=1: APIService v1beta1.custom.metrics.k8s.io moves from Service "
                      "monitoring/prometheus-adapter to custom-metrics/custom-metrics-adapter once the adapter is ready",
                      done.stderr)
        self.assertEqual(self.objects()["APIService//v1beta1.custom.metrics.k8s.io"]["spec"]["service"],
                         {"name": "custom-metrics-adapter", "namespace": "custom-metrics", "port": 443})

    def test_no_apiservices_while_the_adapter_is_not_ready(self):
        broken = os.path.join(self.tmp.name, "unreachable.kubeconfig")
        with open(self.stack.kubeconfig) as f:
            text = f.read()
        with open(broken, "w") as f:
            f.write(text.replace(f"127.0.0.1:{self.stack.adapter_port}", "127.0.0.1:9"))
        done = self.run_script("install", OVERLAY, kubeconfig=broken)
        self.assertEqual(done.returncode, 1)
        self.assertEqual([k for k in self.objects() if k.startswith("APIService/")], [])
        self.assertNotIn(["wait"], [c["argv"][:1] for c in self.calls()])

    def test_docs_show_the_commands(self):
        with open(os.path.join(REPO, "docs", "install.md"), encoding="utf-8") as f:
            doc = f.read()
        for args in (("install", OVERLAY), ("uninstall", OVERLAY),
                     ("install", "--helm", "custom-metrics-adapter", "charts/custom-metrics-adapter",
                      "--namespace", "custom-metrics", "--create-namespace"),
                     ("uninstall", "--helm", "custom-metrics-adapter", "charts/custom-metrics-adapter",
                      "--namespace", "custom-metrics")):
            with self.subTest(args=" ".join(args)):
                block = "\n".join(printed(*args))
                self.assertIn("```sh\n" + block + "\n```", doc)


if __name__ == "__main__":
    unittest.main(verbosity=2)
