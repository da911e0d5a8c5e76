#!/usr/bin/env python3
"""The closed loop, shortened: real Triton replicas scale up under load and back down after it.

Runs ``scripts/closed_loop.py --profile short --sync-period 3s --scrape-interval 1s --stabilization 20s``:
PyTriton replicas (100 ms per request, one instance) behind nginx (least_conn), Prometheus scraping
each replica every second through file_sd, the Kubernetes API stand-in listing them as pods, the
adapter (15 s rate window), and ``custom-metrics-adapter hpa-controller`` deciding every 3 s from the
adapter's answer to the HPA's request and ``manifests/examples/triton-hpa/hpa.yaml`` (stabilization
20 s, policy periods 9 s). The load goes 1 -> 8 closed-loop clients and back to 0.

Then, from the run's ``run.json``, asserts that the replica count

* starts at 1 and rises under the load (8 clients need 4 replicas at the 1000m target);
* stays within minReplicas..maxReplicas (1..4) at all times, including replicas still starting;
* comes back to 1 after the load ended;
* never flaps: no scale-down followed by a scale-up, nor a scale-up followed by a scale-down, within the
  20 s stabilization window (the controller's decisions and the replicas started and stopped);

and that no request failed while replicas came and went, and the adapter never served a value for a
pod after it turned terminating.

A missing part (PyTriton, nginx, Prometheus, the adapter binary with ``hpa-controller``) is a
FAILURE, never a skip. About 2.5 minutes; run from the repository root::

    /usr/bin/python3 -m unittest tests/integration/test_closed_loop.py -v
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from tests.support.e2e_stack import REPO, adapter_bin, missing_tools
from tests.support.triton_stack import triton_problems

CLOSED_LOOP = os.path.join(REPO, "scripts", "closed_loop.py")
ARGS = ["--profile", "short", "--sync-period", "3s", "--scrape-interval", "1s", "--stabilization", "20s"]
STABILIZATION_S = 20.0
MIN_REPLICAS, MAX_REPLICAS = 1, 4
RUN_TIMEOUT_S = 420  # the run ends itself (~2.5 min); this only bounds a hung one
BACK_DOWN = "back at minReplicas after the load"


def say(text=""):
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def prerequisites():
    problems = missing_tools(need_kubectl=False, need_curl=False) + triton_problems()
    nginx = os.environ.get("NGINX_BIN") or shutil.which("nginx") or "/usr/sbin/nginx"
    if not (os.path.isfile(nginx) and os.access(nginx, os.X_OK)):
        problems.append(f"nginx not found at {nginx}: apt-get install -y --no-install-recommends nginx "
                        "(scripts/closed_loop.sh installs it)")
    if os.access(adapter_bin(), os.X_OK):
        res = subprocess.run([adapter_bin(), "hpa-controller", "--help"], capture_output=True, text=True,
                             timeout=60, stdin=subprocess.DEVNULL)
        if res.returncode != 0 or "--replicas-file" not in res.stdout + res.stderr:
            problems.append(f"{adapter_bin()} has no `hpa-controller` subcommand: rebuild it (swift build)")
    return problems


def reversals(changes, window):
    """Pairs of consecutive changes (t, direction) in opposite directions less than ``window`` apart."""
    return [(a, b) for a, b in zip(changes, changes[1:]) if a[1] != b[1] and b[0] - a[0] < window]


class ClosedLoopShortRun(unittest.TestCase):
    maxDiff = None
    result = None
    output = ""
    seconds = None

    @classmethod
    def setUpClass(cls):
        problems = prerequisites()
        if problems:
            raise AssertionError("closed-loop prerequisites missing (CI must install them; "
                                 "scripts/closed_loop.sh does):\n  " + "\n  ".join(problems))
        cls.out = tempfile.mkdtemp(prefix="cma-closed-loop-")
        argv = [sys.executable, CLOSED_LOOP, *ARGS, "--out", cls.out]
        say(f"\n  $ {' '.join(argv)}")
        started = time.monotonic()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                cwd=REPO, text=True)
        lines = []

        def pump():
            for line in proc.stdout:
                lines.append(line)
                say("  | " + line.rstrip("\n"))
        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            proc.wait(RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)  # closed_loop.py stops everything it started, then exits
            try:
                proc.wait(90)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        except BaseException:
            proc.send_signal(signal.SIGTERM)
            proc.wait(90)
            raise
        reader.join(10)
        proc.stdout.close()
        cls.seconds = time.monotonic() - started
        cls.output = "".join(lines)
        cls.returncode = proc.returncode
        path = os.path.join(cls.out, "run.json")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                cls.result = json.load(f)
        say(f"\n  closed loop: exit {proc.returncode} after {cls.seconds:.0f}s wall; results in {cls.out}")

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "out", None) and not os.environ.get("E2E_KEEP_TMP"):
            shutil.rmtree(cls.out, ignore_errors=True)

    def setUp(self):
        self.assertIsNotNone(self.result, f"no run.json; exit {self.returncode}; output:\n{self.output[-4000:]}")

    def syncs(self):
        return [s for s in self.result["syncs"] if not s.get("error")]

    def sync_t(self, s):
        """A sync's time on the run's clock, from the controller's own timestamp."""
        return s["time"] - self.result["t0_unix"]

    # -- tests ---------------------------------------------------------------------

    def test_a_the_run_ends_back_at_min_replicas(self):
        self.assertEqual(self.returncode, 0, self.output[-3000:])
        self.assertEqual(self.result["outcome"], BACK_DOWN, self.output[-3000:])
        controller = self.result["config"]["controller"]
        self.assertEqual(controller[:2], [adapter_bin(), "hpa-controller"], "the real Swift controller decides")
        self.assertGreaterEqual(len(self.syncs()), 20, "too few controller syncs with a value")

    def test_b_replicas_rise_from_one_under_load(self):
        syncs = self.syncs()
        self.assertEqual(syncs[0]["current"], MIN_REPLICAS, syncs[0])
        load_end = self.result["config"]["load_end_s"]
        ups = [s for s in syncs if s["desired"] > s["current"]]
        self.assertTrue(ups, "the controller never scaled up")
        self.assertLess(ups[0]["t"], load_end, f"first scale-up only after the load ended: {ups[0]}")
        self.assertGreater(ups[0]["average"], self.result["config"]["hpa"]["target_milli"], ups[0])
        peak = max(e["ready"] for e in self.result["events"] if e["t"] <= load_end)
        self.assertGreaterEqual(peak, 3, f"8 clients need 4 replicas; only {peak} were ready under load")

    def test_c_replicas_stay_within_min_and_max(self):
        for e in self.result["events"]:
            self.assertTrue(MIN_REPLICAS <= e["ready"] <= MAX_REPLICAS or e["event"] == "start" and e["t"] == 0,
                            f"ready replicas out of range: {e}")
            self.assertLessEqual(e["ready"] + e["starting"], MAX_REPLICAS, f"more than max requested: {e}")
        for s in self.result["syncs"]:
            self.assertTrue(MIN_REPLICAS <= s["current"] <= MAX_REPLICAS, s)
            self.assertTrue(MIN_REPLICAS <= s["desired"] <= MAX_REPLICAS, s)

    def test_d_replicas_come_back_down_after_the_load(self):
        load_end = self.result["config"]["load_end_s"]
        downs = [s for s in self.syncs() if s["desired"] < s["current"]]
        self.assertTrue(downs, "the controller never scaled down")
        self.assertTrue(all(s["t"] >= load_end for s in downs), f"scale-down under load: {downs}")
        self.assertEqual(self.result["events"][-1]["ready"], MIN_REPLICAS, self.result["events"][-1])
        self.assertEqual(self.syncs()[-1]["current"], MIN_REPLICAS, self.syncs()[-1])

    def test_e_no_flapping_within_the_stabilization_window(self):
        decisions = [(self.sync_t(s), "up" if s["desired"] > s["current"] else "down")
                     for s in self.syncs() if s["desired"] != s["current"]]
        self.assertEqual(reversals(decisions, STABILIZATION_S), [],
                         f"the controller reversed direction within {STABILIZATION_S:g}s: {decisions}")
        actions = [(e["t"], "up" if e["event"] == "start" else "down")
                   for e in self.result["events"] if e["event"] in ("start", "stop", "cancel") and e["t"] > 0]
        self.assertEqual(reversals(actions, STABILIZATION_S), [],
                         f"replicas started and stopped within {STABILIZATION_S:g}s: {actions}")
        self.assertEqual([e for e in self.result["events"] if e["event"] == "cancel"], [],
                         "a replica was stopped while still starting")

    def test_f_no_request_failed(self):
        final = [s for s in self.result["load"] if s.get("final")]
        self.assertTrue(final, "the load generator wrote no final status")
        self.assertGreater(final[-1]["total_ok"], 500, final[-1])
        self.assertEqual(final[-1]["total_failed"], 0, f"{final[-1]}; {self.result.get('load_summary')}")

    def test_g_no_value_for_a_terminating_pod(self):
        # The stand-in marks a pod terminating when its replica is told to stop; the adapter's pod cache
        # follows the watch, so any sync a second later must leave it out (the HPA averages every item).
        stops = {e["pod"]: e["t"] for e in self.result["events"] if e["event"] in ("stop", "cancel")}
        for s in self.syncs():
            for pod in s.get("values") or {}:
                if pod in stops:
                    self.assertLess(self.sync_t(s), stops[pod] + 1.0,
                                    f"{pod} turned terminating at {stops[pod]:.1f}s, still served at "
                                    f"{self.sync_t(s):.1f}s: {s}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
