#!/usr/bin/env python3
"""The two numbers that drifted between the docs, the manifests and the binary stay tied to one source.

* The memory request: the source is manifests/base/deployment.yaml (the chart's default is compared with it
  by test_chart_matches_kustomize.py). Every "request … NNMi" / "NNMi request" in README.md and docs/*.md must
  quote it, except sentences that say they describe an earlier measurement ("when this was measured",
  "first run").
* The 429 wait: the source is the binary's own ``--help`` (``$ADAPTER_BIN``). Its text for
  ``--max-concurrent-prometheus-queries`` must say the wait is ``--request-timeout minus
  --prometheus-query-timeout`` (what AdapterSettings computes), and every doc sentence about that wait must say
  "`--request-timeout` minus `--prometheus-query-timeout`", never "within `--request-timeout`" alone.
* The minimum Kubernetes version: both charts' kubeVersion and docs/install.md say 1.27.
"""

import glob
import os
import re
import subprocess
import sys
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

from tests.support.e2e_stack import adapter_bin  # noqa: E402

DOCS = [os.path.join(REPO, "README.md")] + sorted(glob.glob(os.path.join(REPO, "docs", "*.md")))
HISTORICAL = ("when this was measured", "first run")
WAIT = "`--request-timeout` minus `--prometheus-query-timeout`"


def sentences(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for paragraph in re.split(r"\n\s*\n", text):
        rows = [line for line in paragraph.splitlines() if line.lstrip().startswith("|")]
        yield from rows  # a table row is one unit: its cells belong together
        prose = "\n".join(line for line in paragraph.splitlines() if not line.lstrip().startswith("|"))
        yield from re.split(r"(?<=[.;])\s+", " ".join(prose.split()))


class DocsAgree(unittest.TestCase):
    def test_memory_request(self):
        with open(os.path.join(REPO, "manifests", "base", "deployment.yaml"), encoding="utf-8") as f:
            deployment = yaml.safe_load(f)
        source = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"]
        self.assertEqual(source, "64Mi")
        quoted = re.compile(r"request(?:s|ed)?\b[^.;|]{0,40}?\b(\d+) ?Mi\b|\b(\d+) ?Mi(?:B)? (?:memory )?request")
        found = 0
        for path in DOCS:
            for sentence in sentences(path):
                if any(h in sentence for h in HISTORICAL):
                    continue
                for m in quoted.finditer(sentence):
                    found += 1
                    self.assertEqual(f"{m.group(1) or m.group(2)}Mi", source,
                                     f"{os.path.relpath(path, REPO)}: {sentence!r}")
        self.assertGreaterEqual(found, 2)

    def test_429_wait_in_the_binary_help(self):
        done = subprocess.run([adapter_bin(), "--help"], capture_output=True, text=True, timeout=30)
        text = " ".join(done.stdout.split())
        m = re.search(r"--max-concurrent-prometheus-queries <[^>]*>\s+(.*?)\(default: 8\)", text)
        self.assertIsNotNone(m, text[:2000])
        self.assertIn("--request-timeout minus --prometheus-query-timeout", m.group(1))

    def test_config_help_names_both_formats(self):
        """configuration.md: --config reads the adapter's `metrics:` list or prometheus-adapter's `rules:` and
        `externalRules:`; the binary's --help must say so (it named only `metrics:`)."""
        done = subprocess.run([adapter_bin(), "--help"], capture_output=True, text=True, timeout=30)
        text = " ".join(done.stdout.split())
        m = re.search(r"--config <config> (.*?) --config-reload-interval", text)
        self.assertIsNotNone(m, text[:2000])
        for key in ("metrics:", "rules:", "externalRules:"):
            self.assertIn(key, m.group(1))

    def test_429_wait_in_the_docs(self):
        found = 0
        for path in DOCS:
            for sentence in sentences(path):
                if "429" in sentence or "too many Prometheus queries" in sentence or "waits for a slot" in sentence:
                    if "--request-timeout" in sentence:
                        found += 1
                        self.assertIn(WAIT, sentence, f"{os.path.relpath(path, REPO)}: {sentence!r}")
        self.assertGreaterEqual(found, 2)

    def test_minimum_kubernetes_version(self):
        for chart in ("custom-metrics-adapter", "triton"):
            with open(os.path.join(REPO, "charts", chart, "Chart.yaml"), encoding="utf-8") as f:
                self.assertEqual(yaml.safe_load(f)["kubeVersion"], ">=1.27.0-0")
        with open(os.path.join(REPO, "docs", "install.md"), encoding="utf-8") as f:
            self.assertIn("**Kubernetes 1.27 or later.**", f.read())


if __name__ == "__main__":
    unittest.main(verbosity=2)
