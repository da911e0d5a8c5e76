#!/usr/bin/env python3
"""End-to-end test with REAL Triton: PyTriton on CPU -> real Prometheus -> adapter -> HPA's request.

Two real Triton Inference Servers (``scripts/triton_server.py``) serve a model whose every
execution takes a known 100 ms; one instance, no batching, so concurrent requests queue in
Triton.  Pod ``triton-saturated`` gets 4 closed-loop clients: each request waits for the three
ahead of it, queue ~ 3 x compute, ratio ~ 3000m.  Pod ``triton-light`` gets one request every
500 ms: it never queues, ratio ~ 0.  Prometheus scrapes both metrics ports every second (with the
``namespace``/``pod`` labels a PodMonitor adds); the Kubernetes API stand-in lists both pods; the
adapter serves ``triton:queue_compute:ratio`` from that Prometheus.

The value is read exactly as the HPA reads it, over HTTPS with a bearer token and through
``kubectl get --raw``, and compared with what Prometheus itself returns for the same expression at
the same instant (see ``assert_equals_prometheus`` for how "the same instant" is pinned down).

Needs PyTriton (``bash scripts/install-triton.sh`` makes ``.venv-triton``), prometheus, kubectl and
the adapter binary (``$ADAPTER_BIN`` or ``.build/debug/custom-metrics-adapter``).  A missing piece
is a FAILURE, never a skip.  About 35 s; run from the repository root::

    /usr/bin/python3 -m unittest tests/integration/test_triton.py -v
"""

import datetime
import json
import math
import signal
import sys
import time
import unittest
import urllib.request
from decimal import ROUND_HALF_UP, Decimal

from tests.support.e2e_stack import GROUP, METRIC, missing_tools, parse_quantity_milli, wait_for
from tests.support.triton_stack import TritonStack, triton_problems

NS = "triton-e2e"
SATURATED, LIGHT = "triton-saturated", "triton-light"
COMPUTE_MS = 100
SATURATED_CONCURRENCY = 4  # closed loop against one instance: queue ~ (4 - 1) x compute
LIGHT_RATE = 2.0  # requests per second, one at a time: 20% busy, never queues
TARGET_MILLI = 1000  # the HPA's averageValue
LIGHT_MAX_MILLI = 300
PODS = [
    {"namespace": NS, "name": SATURATED, "labels": {"app": "triton"}, "compute_ms": COMPUTE_MS},
    {"namespace": NS, "name": LIGHT, "labels": {"app": "triton"}, "compute_ms": COMPUTE_MS},
]

# The HPA's request, byte for byte: `*` percent-encoded, the scale target's selector as labelSelector.
HPA_PATH = f"/apis/{GROUP}/v1beta2/namespaces/{NS}/pods/%2A/{METRIC}?labelSelector=app%3Dtriton"
HPA_HEADERS = {"Accept": "application/vnd.kubernetes.protobuf, */*"}

# The metric's definition (BRIEF.md), written here independently of the adapter's rule.
PROMQL = (f'sum by (namespace, pod) (rate(nv_inference_queue_duration_us{{namespace="{NS}"}}[1m]))'
          f' / clamp_min(sum by (namespace, pod) (rate(nv_inference_compute_infer_duration_us{{namespace="{NS}"}}[1m])), 1)')

# A scrape's samples carry the scrape's START time but become visible to queries only when the
# scrape is appended (a few ms later).  A query made just after a scrape started may therefore not
# see a sample that a later query, evaluated at the same instant, does see.  The grid of instants
# we evaluate starts this much before the request, which covers that in-flight scrape.
SCRAPE_SLACK_S = 0.25


def say(text=""):
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def milli_candidates(sample):
    """The milli-units a value string from Prometheus rounds to (to the nearest; a tie allows both)."""
    exact = Decimal(float(sample)) * 1000  # the double the adapter multiplies, exactly
    via_double = Decimal(float(sample) * 1000)
    out = {int(exact.quantize(1, ROUND_HALF_UP)), int(via_double.quantize(1, ROUND_HALF_UP))}
    for value in (exact, via_double):
        if abs(value - value.to_integral_value(rounding="ROUND_FLOOR") - Decimal("0.5")) < Decimal("1e-6"):
            out.update({math.floor(value), math.ceil(value)})
    return out


class RealTritonEndToEnd(unittest.TestCase):
    maxDiff = None
    stack = None
    started = None
    served = []  # (how, {pod: milli}) for the closing report
    loads = {}
    logs_printed = False

    @classmethod
    def setUpClass(cls):
        cls.started = time.monotonic()
        problems = missing_tools(need_kubectl=True, need_curl=False) + triton_problems()
        if problems:
            raise AssertionError("real-Triton end-to-end prerequisites missing (CI must install them):\n  "
                                 + "\n  ".join(problems))
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            # A CI timeout's SIGTERM unwinds like Ctrl-C, so the stack's atexit hook stops the processes.
            signal.signal(signal.SIGTERM, cls._on_sigterm)
        cls.stack = TritonStack(PODS)
        cls.addClassCleanup(cls._stop_stack)
        try:
            cls.stack.start()
        except BaseException:
            say("\n" + cls.stack.log_tails(lines=30))
            raise
        say(f"\n  stack up in {time.monotonic() - cls.started:.1f}s: "
            + ", ".join(f"{n} http {i['http']} metrics {i['metrics']} pid {i['pid']}" for n, i in cls.stack.tritons.items())
            + f"; prometheus :{cls.stack.prom_port}; adapter :{cls.stack.adapter_port}")
        cls.stack.start_load(SATURATED, concurrency=SATURATED_CONCURRENCY)
        cls.stack.start_load(LIGHT, rate=LIGHT_RATE)
        cls.load_started = time.monotonic()
        # Warm-up: two scrapes with load behind them.  Not fatal here, so every test still reports.
        last = {}

        def settled():
            values = cls.stack.values(NS)
            last["values"] = values
            return values if values and set(values) == {SATURATED, LIGHT} and values[SATURATED] > TARGET_MILLI \
                and values[LIGHT] < LIGHT_MAX_MILLI else None
        try:
            values = wait_for(settled, 60, interval=0.5, what="saturated > 1000m and light < 300m")
            say(f"  first values {time.monotonic() - cls.load_started:.1f}s after the load started: {values}")
        except AssertionError as exc:
            say(f"\nWARNING: warm-up failed, value tests will fail: {exc}; last: {last.get('values')}")

    @classmethod
    def _stop_stack(cls):
        for pod in (SATURATED, LIGHT):
            cls.loads[pod] = cls.stack.stop_load(pod)
        stopping = time.monotonic()
        pids = cls.stack.pids()
        cls.stack.stop()
        say("\n  ==== real Triton end-to-end: values served by the adapter ====")
        for how, values in cls.served:
            say(f"  {how:<58} {SATURATED}={values.get(SATURATED)}m  {LIGHT}={values.get(LIGHT)}m")
        for pod in (SATURATED, LIGHT):
            say(f"  load {pod}: {cls.loads.get(pod)}")
        say(f"  stopped {len(pids)} processes by PID in {time.monotonic() - stopping:.1f}s "
            f"({', '.join(f'{n} {p}' for n, p in pids.items())})")
        say(f"  total {time.monotonic() - cls.started:.1f}s")

    @staticmethod
    def _on_sigterm(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    def run(self, result=None):
        """Print the stack's log tails after a failing or erroring test."""
        before = len(result.failures) + len(result.errors) if result is not None else 0
        outcome = super().run(result)
        if result is not None and len(result.failures) + len(result.errors) > before and self.stack:
            cls = type(self)
            tails = self.stack.log_tails(["adapter"], lines=15) if cls.logs_printed else self.stack.log_tails()
            cls.logs_printed = True
            say(f"\n==== logs after {self.id()} ====\n{tails}")
        return outcome

    # -- helpers -------------------------------------------------------------

    def hpa_get(self):
        """The HPA's request; returns the parsed MetricValueList."""
        status, _, body = self.stack.request("GET", HPA_PATH, HPA_HEADERS)
        self.assertEqual(status, 200, f"GET {HPA_PATH} -> {status}: {body[:500]!r}")
        return json.loads(body)

    def kubectl_get(self):
        rc, out, err = self.stack.kubectl_raw(HPA_PATH)
        self.assertEqual(rc, 0, f"kubectl get --raw {HPA_PATH} failed: {err}")
        return json.loads(out)

    def values_of(self, doc, context):
        self.assertEqual(doc.get("kind"), "MetricValueList", f"{context}: {doc}")
        items = doc.get("items") or []
        got = {it["describedObject"]["name"]: parse_quantity_milli(it["value"]) for it in items}
        self.assertEqual(sorted(got), sorted([SATURATED, LIGHT]), f"{context}: pods in the answer: {doc}")
        for it in items:
            self.assertEqual(it["describedObject"].get("namespace"), NS, f"{context}: {it}")
            name = it["metric"].get("name") if "metric" in it else it.get("metricName")  # v1beta2 / v1beta1
            self.assertEqual(name, METRIC, f"{context}: {it}")
        return got

    def assert_scaling_signal(self, values, context):
        self.assertGreater(values[SATURATED], TARGET_MILLI,
                           f"{context}: the saturated pod must read above the 1000m target: {values}")
        self.assertLess(values[LIGHT], LIGHT_MAX_MILLI,
                        f"{context}: the lightly loaded pod must read well below the target: {values}")

    def assert_equals_prometheus(self, fetch, context):
        """``fetch()`` (one adapter request) must serve what Prometheus gives at the query's instant.

        The adapter's instant query carries no ``time``: Prometheus evaluates it at its own clock, to
        the millisecond, and the adapter stamps each item with that sample time floored to the second
        (``timestamp``).  The adapter may also reuse an answer for a few seconds (identical queries
        share one Prometheus round trip), so the instant is not necessarily inside our request; the
        timestamp pins it down instead: it lies in [ts, ts + 1 s) and before our answer arrived (t1).
        We ask Prometheus for the same expression at EVERY millisecond of
        [ts - SCRAPE_SLACK_S, min(ts + 1 s, t1)] (a range query, step 1 ms) and require each served
        value to equal, rounded to the milli, the value at one of those instants: equality with one
        of a handful of values (a second holds at most one or two scrapes), not a tolerance.
        Returns (served values, Prometheus' values in that second, the sample time, its age in seconds).
        """
        doc = fetch()
        t1 = time.time()
        served = self.values_of(doc, context)
        stamps = {it["timestamp"] for it in doc["items"]}
        self.assertEqual(len(stamps), 1, f"{context}: one query answers every pod, yet timestamps differ: {doc}")
        ts = datetime.datetime.strptime(stamps.pop(), "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        age = t1 - ts
        self.assertTrue(-1 <= age <= 10, f"{context}: sample time {ts:.0f} is {age:.1f}s away from now ({t1:.3f})")
        start, end = ts - SCRAPE_SLACK_S, min(ts + 0.999, math.ceil(t1 * 1000) / 1000)
        data = self.stack.prom_query_range(PROMQL, start, end, 0.001)
        series = {s["metric"].get("pod"): [v for _, v in s["values"]] for s in data["result"]}
        distinct = {pod: sorted(set().union(*(milli_candidates(v) for v in vals))) for pod, vals in series.items()}
        for pod, milli in served.items():
            self.assertIn(pod, series, f"{context}: Prometheus has no value for {pod}: {data}")
            self.assertIn(milli, distinct[pod], f"{context}: {pod} served {milli}m, Prometheus gives "
                                                f"{distinct[pod]}m over [{start:.3f}, {end:.3f}] (step 1 ms)")
        return served, distinct, ts, age

    # -- tests -----------------------------------------------------------------

    def test_a_real_triton_counters_reach_prometheus_with_pod_labels(self):
        for pod, info in self.stack.tritons.items():
            with urllib.request.urlopen(f"http://127.0.0.1:{info['metrics']}/metrics", timeout=10) as resp:
                text = resp.read().decode()
            for name in ("nv_inference_queue_duration_us", "nv_inference_compute_infer_duration_us"):
                lines = [ln for ln in text.splitlines() if ln.startswith(name + "{")]
                self.assertTrue(any('model="slow_model"' in ln for ln in lines), f"{pod}: no {name}: {lines}")
        data = self.stack.prom_query(f'count by (namespace, pod) (nv_inference_queue_duration_us{{namespace="{NS}"}})')
        pods = sorted(s["metric"].get("pod") for s in data["result"])
        self.assertEqual(pods, sorted([SATURATED, LIGHT]), f"Prometheus series by pod: {data}")

    def test_b0_both_pods_work_and_compute_takes_the_known_time(self):
        # A 0m for the light pod must mean "computes but never queues", not "no traffic"; and each
        # execution must take the model's known time.  Read from Triton's own counters (what
        # Prometheus scrapes): absolute rates from Prometheus would be skewed while the 1m window is
        # still filling (rate() divides the extrapolated increase by the whole window), the ratio not.
        per_request = {}
        for pod, info in self.stack.tritons.items():
            with urllib.request.urlopen(f"http://127.0.0.1:{info['metrics']}/metrics", timeout=10) as resp:
                counters = {}
                for line in resp.read().decode().splitlines():
                    if line.startswith("nv_inference_") and 'model="slow_model"' in line:
                        counters[line.split("{", 1)[0]] = float(line.rsplit(" ", 1)[1])
            done = counters["nv_inference_request_success"]
            self.assertGreaterEqual(done, 10, f"{pod}: only {done:.0f} requests completed: {counters}")
            per_request[pod] = {"requests": int(done),
                                "queue_ms": round(counters["nv_inference_queue_duration_us"] / done / 1000, 1),
                                "compute_ms": round(counters["nv_inference_compute_infer_duration_us"] / done / 1000, 1)}
        say(f"\n    Triton's counters, per request: {per_request}")
        for pod, got in per_request.items():
            self.assertTrue(COMPUTE_MS * 0.95 <= got["compute_ms"] <= COMPUTE_MS * 2, f"{pod}: {got}")
        self.assertGreater(per_request[SATURATED]["queue_ms"], 1.5 * COMPUTE_MS, per_request)
        self.assertLess(per_request[LIGHT]["queue_ms"], 0.1 * COMPUTE_MS, per_request)

    def test_b_hpa_request_saturated_above_target_light_well_below(self):
        values = self.values_of(self.hpa_get(), "HPA request (v1beta2)")
        self.served.append(("HTTPS GET, HPA request (v1beta2)", values))
        say(f"\n    served: {values}")
        self.assert_scaling_signal(values, "HPA request")
        # The known compute time makes the value predictable: 4 clients, one instance -> ~3 x compute.
        expected = (SATURATED_CONCURRENCY - 1) * 1000
        self.assertTrue(0.6 * expected <= values[SATURATED] <= 1.4 * expected,
                        f"saturated pod: {values[SATURATED]}m, expected about {expected}m (queue ~ 3 x compute)")
        v1 = self.values_of(self.stack.get(HPA_PATH.replace("/v1beta2/", "/v1beta1/"))[1], "v1beta1")
        self.served.append(("HTTPS GET, same request on v1beta1", v1))
        self.assert_scaling_signal(v1, "v1beta1")

    def test_c_adapter_equals_prometheus_at_the_same_instant(self):
        # Poll until three different Prometheus answers (timestamps) were served, comparing every one.
        stamps, deadline, attempt = set(), time.monotonic() + 20, 0
        while len(stamps) < 3 and time.monotonic() < deadline:
            attempt += 1
            with self.subTest(attempt=attempt):
                served, distinct, ts, age = self.assert_equals_prometheus(self.hpa_get, f"HPA request #{attempt}")
                if ts not in stamps:
                    stamps.add(ts)
                    self.served.append((f"HTTPS GET #{attempt}, equal to Prometheus ({age:.1f}s old)", served))
                    say(f"\n    adapter {served}; Prometheus in that second {distinct}")
                self.assert_scaling_signal(served, "HPA request")
            time.sleep(1.0)
        self.assertGreaterEqual(len(stamps), 2, "the adapter kept serving one answer for 20 s")

    def test_d_kubectl_get_raw(self):
        served, distinct, _, age = self.assert_equals_prometheus(self.kubectl_get, "kubectl get --raw")
        self.served.append((f"kubectl get --raw, equal to Prometheus ({age:.1f}s old)", served))
        say(f"\n    kubectl {served}; Prometheus in that second {distinct}")
        self.assert_scaling_signal(served, "kubectl get --raw")


if __name__ == "__main__":
    unittest.main(verbosity=2)
