#!/usr/bin/env python3
"""End-to-end test: simulated Triton pods -> real Prometheus -> adapter -> real clients.

One stack (see e2e_stack.py) is shared by the whole class: fake_triton, Prometheus 2.x scraping
it every second, the Kubernetes API stand-in (pods list+watch) and the adapter binary
(``$ADAPTER_BIN`` or ``.build/debug/custom-metrics-adapter``).  Clients: Python ``ssl``/``http.client``
(HTTP/1.1), ``kubectl get --raw`` (HTTP/2) and ``curl --http2`` / ``--http1.1``.

Run from the repository root (standard library only, ~1-2 minutes)::

    /usr/bin/python3 -m unittest tests/integration/test_end_to_end.py -v

``ENGINE=victoriametrics`` runs the same tests against VictoriaMetrics (vmagent scraping the same pods,
vmalert recording ``manifests/monitoring``'s rules, the store's default ``-search.latencyOffset=30s``),
so the first values take ~35 s instead of ~7 s.  Each engine's own answer is the expected value:
``test_l`` asks the engine directly, at the instant the adapter stamped, and the warm-up checks that
answer against the pods' configured rates.

Missing prometheus, kubectl or curl is a FAILURE, not a skip.  Test methods run in name
order: the ones that change pods (``test_y_``) and stop Prometheus (``test_z_``) run last and
restore the state they changed.
"""

import datetime
import json
import re
import signal
import sys
import time
import unittest

from tests.support.e2e_stack import (
    GROUP, METRIC, Stack, default_engine, expected_milli, missing_tools, parse_quantity_milli, wait_for)
from tests.support.victoria import vector

NS = "team-a"
TOLERANCE = 2  # milli-units: counters are floored integers, scrapes jitter
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
SELECTOR = "app=triton"


def _model(name, queue, compute):
    return {"model": name, "version": "1", "queue_us_per_s": queue, "compute_us_per_s": compute}


PODS = {"pods": [
    # Two models; summed ratio 1,500,100 / 1,900,000 (~790m); tensorrt_llm alone is 1500m.
    {"namespace": NS, "name": "triton-0", "labels": {"app": "triton"}, "models": [
        _model("ensemble", 100, 900000), _model("tensorrt_llm", 1500000, 1000000)]},
    # Saturated: 2,500,000 / 1,000,000 = 2500m (tensorrt_llm alone 2,400,000 / 900,000).
    {"namespace": NS, "name": "triton-1", "labels": {"app": "triton"}, "models": [
        _model("preprocessing", 100000, 100000), _model("tensorrt_llm", 2400000, 900000)]},
    # Idle: 0 / clamp_min(0, 1) = 0.
    {"namespace": NS, "name": "triton-2", "labels": {"app": "triton"}, "models": [
        _model("tensorrt_llm", 0, 0)]},
    # Same namespace, another app: the labelSelector must keep it out.
    {"namespace": NS, "name": "other-0", "labels": {"app": "other"}, "models": [
        _model("tensorrt_llm", 4000000, 1000000)]},
    # Same pod name in another namespace: must never show up in team-a answers.
    {"namespace": "team-b", "name": "triton-0", "labels": {"app": "triton"}, "models": [
        _model("tensorrt_llm", 9000000, 1000000)]},
]}

TRITON_A = {p["name"]: p for p in PODS["pods"] if p["namespace"] == NS and p["labels"]["app"] == "triton"}
EXPECTED = {name: expected_milli(pod) for name, pod in TRITON_A.items()}
EXPECTED_TRTLLM = {name: expected_milli(pod, "tensorrt_llm") for name, pod in TRITON_A.items()}


def strip_timestamps(doc):
    doc = json.loads(json.dumps(doc))
    for item in doc.get("items") or []:
        item.pop("timestamp", None)
    doc.get("items", []).sort(key=lambda it: it["describedObject"]["name"])
    return doc


DEFAULT_CACHE_TTL = 5.0
ENGINE = default_engine()
#: First values: two scrapes with Prometheus; VictoriaMetrics evaluates instant queries 30 s back.
WARM_UP = 45 if ENGINE == "prometheus" else 75

#: The built-in rule's PromQL for namespace NS (what the adapter sends; the adapter log shows it).
def engine_promql(model=None):
    matchers = f'namespace="{NS}"' + (f',model="{model}"' if model else "")
    return (f"sum by (namespace,pod) (rate(nv_inference_queue_duration_us{{{matchers}}}[1m])) / clamp_min("
            f"sum by (namespace,pod) (rate(nv_inference_compute_infer_duration_us{{{matchers}}}[1m])), 1)")


class EndToEnd(unittest.TestCase):
    maxDiff = None
    stack = None
    logs_printed = False

    @classmethod
    def setUpClass(cls):
        problems = missing_tools(need_kubectl=True, need_curl=True, engine=ENGINE)
        if problems:
            raise AssertionError("end-to-end prerequisites missing (CI must install them):\n  "
                                 + "\n  ".join(problems))
        # Sanity of the test data itself: the three pods must have distinct, meaningful values.
        assert EXPECTED["triton-0"] == round(1000 * 1500100 / 1900000), EXPECTED
        assert EXPECTED["triton-1"] > 2000 and EXPECTED["triton-2"] == 0, EXPECTED
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            # A CI timeout's SIGTERM unwinds like Ctrl-C, so the stack's atexit hook stops the processes.
            signal.signal(signal.SIGTERM, cls._on_sigterm)
        cls.stack = Stack(PODS)
        cls.addClassCleanup(cls.stack.stop)
        try:
            cls.stack.start()
        except BaseException:
            sys.stderr.write("\n" + cls.stack.log_tails() + "\n")
            raise
        # Warm-up: first values need two scrapes (~7 s).  Not fatal here, so that every test
        # still runs and reports what it sees (discovery, errors, HTTP/2 do not need values).
        try:
            cls.wait_values(EXPECTED, timeout=WARM_UP)
        except AssertionError as exc:
            sys.stderr.write(f"\nWARNING: warm-up failed, value tests will fail: {exc}\n")

    @staticmethod
    def _on_sigterm(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    @classmethod
    def wait_values(cls, expected, timeout, **kw):
        """Wait until the adapter serves exactly ``expected`` (names, values within tolerance)."""
        last = {}

        def ok():
            status, doc = cls.stack.get(cls.stack.metric_path(NS, label_selector=SELECTOR, **kw))
            last["answer"] = (status, doc)
            if status != 200 or not isinstance(doc, dict):
                return None
            got = {it["describedObject"]["name"]: parse_quantity_milli(it["value"]) for it in doc.get("items") or []}
            if set(got) == set(expected) and all(abs(got[n] - expected[n]) <= TOLERANCE for n in expected):
                return got
            last["answer"] = got
            return None
        try:
            return wait_for(ok, timeout, interval=0.5, what=f"values {expected} for {NS} {SELECTOR}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last answer: {last.get('answer')!r}") from None

    def run(self, result=None):
        """Print the stack's log tails after a failing or erroring test."""
        before = len(result.failures) + len(result.errors) if result is not None else 0
        outcome = super().run(result)
        if result is not None and len(result.failures) + len(result.errors) > before and self.stack:
            cls = type(self)
            # Every log once (first failure), then only the adapter's latest lines.
            tails = self.stack.log_tails(["adapter"], lines=15) if cls.logs_printed else self.stack.log_tails()
            cls.logs_printed = True
            sys.stderr.write(f"\n==== logs after {self.id()} ====\n{tails}\n")
        return outcome

    # -- helpers -------------------------------------------------------------

    def get_ok(self, path, headers=None):
        status, doc = self.stack.get(path, headers)
        self.assertEqual(status, 200, f"GET {path} -> {status}: {doc}")
        self.assertIsInstance(doc, dict, f"GET {path}: not a JSON object: {doc!r}")
        return doc

    def list_path(self, version="v1beta2", pod="%2A", label_selector=SELECTOR, metric_label_selector=None):
        return self.stack.metric_path(NS, pod=pod, version=version, label_selector=label_selector,
                                      metric_label_selector=metric_label_selector)

    def assert_values(self, doc, expected, context=""):
        got = {it["describedObject"]["name"]: parse_quantity_milli(it["value"]) for it in doc.get("items") or []}
        self.assertEqual(sorted(got), sorted(expected), f"{context}: pods in the answer: {doc}")
        for name, want in expected.items():
            self.assertLessEqual(abs(got[name] - want), TOLERANCE,
                                 f"{context}: {name} = {got[name]}m, want {want}m ± {TOLERANCE}")
        for it in doc.get("items") or []:
            self.assertEqual(it["describedObject"].get("namespace"), NS, f"{context}: {it}")

    def assert_status(self, status, doc, code, reasons, context):
        self.assertEqual(status, code, f"{context}: {doc}")
        self.assertIsInstance(doc, dict, f"{context}: not JSON: {doc!r}")
        self.assertEqual(doc.get("kind"), "Status", f"{context}: {doc}")
        self.assertEqual(doc.get("apiVersion"), "v1", f"{context}: {doc}")
        self.assertEqual(doc.get("status"), "Failure", f"{context}: {doc}")
        self.assertIn(doc.get("reason"), reasons, f"{context}: {doc}")
        self.assertEqual(doc.get("code"), code, f"{context}: {doc}")
        self.assertIsInstance(doc.get("message"), str, f"{context}: {doc}")
        self.assertNotIn("items", doc, f"{context}: a failure must carry no values: {doc}")

    def assert_timestamp(self, item):
        ts = item.get("timestamp")
        self.assertRegex(ts or "", TIMESTAMP_RE, f"timestamp not RFC 3339 UTC to the second: {item}")
        when = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
        skew = abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds())
        self.assertLess(skew, 120, f"timestamp {ts} is {skew:.0f}s away from now")

    # -- the metric ------------------------------------------------------------

    def test_a_v1beta2_list_by_label_selector(self):
        doc = self.get_ok(self.list_path("v1beta2"))
        self.assertEqual(doc.get("kind"), "MetricValueList")
        self.assertEqual(doc.get("apiVersion"), f"{GROUP}/v1beta2")
        self.assert_values(doc, EXPECTED, "v1beta2 pods/*")
        for it in doc["items"]:
            for key in ("describedObject", "metric", "timestamp", "windowSeconds", "value"):
                self.assertIn(key, it, f"v1beta2 item lacks {key}: {it}")
            self.assertNotIn("metricName", it)
            self.assertNotIn("window", it)
            obj = it["describedObject"]
            self.assertEqual({k: obj.get(k) for k in ("kind", "namespace", "name", "apiVersion")},
                             {"kind": "Pod", "namespace": NS, "name": obj["name"], "apiVersion": "v1"})
            self.assertEqual(it["metric"].get("name"), METRIC)
            self.assertEqual(it["windowSeconds"], 60)
            self.assertIsInstance(it["value"], str)
            self.assert_timestamp(it)

    def test_b_v1beta1_list_by_label_selector(self):
        doc = self.get_ok(self.list_path("v1beta1"))
        self.assertEqual(doc.get("kind"), "MetricValueList")
        self.assertEqual(doc.get("apiVersion"), f"{GROUP}/v1beta1")
        self.assert_values(doc, EXPECTED, "v1beta1 pods/*")
        for it in doc["items"]:
            self.assertEqual(it.get("metricName"), METRIC, it)
            self.assertEqual(it.get("window"), 60, it)
            self.assertIn("selector", it, it)
            self.assertIsNone(it["selector"], it)
            self.assertNotIn("metric", it)
            self.assertNotIn("windowSeconds", it)
            obj = it["describedObject"]
            self.assertEqual({k: obj.get(k) for k in ("kind", "namespace", "name", "apiVersion")},
                             {"kind": "Pod", "namespace": NS, "name": obj["name"], "apiVersion": "v1"})
            self.assert_timestamp(it)

    def test_c_by_pod_name(self):
        for version in ("v1beta2", "v1beta1"):
            doc = self.get_ok(self.stack.metric_path(NS, pod="triton-1", version=version))
            self.assertEqual(doc.get("kind"), "MetricValueList")
            self.assertEqual(len(doc.get("items") or []), 1, doc)
            self.assert_values(doc, {"triton-1": EXPECTED["triton-1"]}, f"{version} pods/triton-1")

    def test_d_metric_label_selector(self):
        doc = self.get_ok(self.list_path("v1beta2", metric_label_selector="model=tensorrt_llm"))
        self.assert_values(doc, EXPECTED_TRTLLM, "v1beta2 metricLabelSelector=model=tensorrt_llm")
        self.assertNotEqual(EXPECTED_TRTLLM["triton-0"], EXPECTED["triton-0"])  # the selector matters
        for it in doc["items"]:
            self.assertEqual(it["metric"].get("selector"), {"matchLabels": {"model": "tensorrt_llm"}}, it)
        doc1 = self.get_ok(self.list_path("v1beta1", metric_label_selector="model=tensorrt_llm"))
        self.assert_values(doc1, EXPECTED_TRTLLM, "v1beta1 metricLabelSelector=model=tensorrt_llm")

    def test_e_percent_encoding_star_and_plus(self):
        base = f"/apis/{GROUP}/v1beta2/namespaces/{NS}/pods"
        variants = [
            f"{base}/%2A/{METRIC}?labelSelector=app%3Dtriton",
            f"{base}/*/{METRIC}?labelSelector=app%3Dtriton",
            f"{base}/*/{METRIC}?labelSelector=app=triton",
            f"{base}/%2a/{METRIC}?labelSelector=app%3Dtriton",
            f"{base}/%2A/{METRIC}?labelSelector=app+in+(triton)",
            f"{base}/*/{METRIC}?labelSelector=app+in+%28triton%29",
            f"{base}/%2A/{METRIC}?labelSelector=app%20in%20%28triton%29",
            f"{base}/%2A/{METRIC}?labelSelector=app+notin+(other),app",
        ]
        for path in variants:
            with self.subTest(path=path):
                self.assert_values(self.get_ok(path), EXPECTED, path)

    # -- discovery, negotiation, errors ----------------------------------------------

    def test_f_discovery(self):
        for version in ("v1beta2", "v1beta1"):
            doc = self.get_ok(f"/apis/{GROUP}/{version}")
            self.assertEqual(doc.get("kind"), "APIResourceList", doc)
            self.assertEqual(doc.get("apiVersion"), "v1", doc)
            self.assertEqual(doc.get("groupVersion"), f"{GROUP}/{version}", doc)
            found = [r for r in doc.get("resources") or [] if r.get("name") == f"pods/{METRIC}"]
            self.assertEqual(len(found), 1, f"{version} discovery lacks pods/{METRIC}: {doc}")
            self.assertIs(found[0].get("namespaced"), True, found[0])
            self.assertEqual(found[0].get("kind"), "MetricValueList", found[0])
            self.assertEqual(found[0].get("verbs"), ["get"], found[0])

    def test_g_protobuf_accept_gets_json(self):
        headers = {"Accept": "application/vnd.kubernetes.protobuf, */*"}
        for path in (self.list_path("v1beta2"), f"/apis/{GROUP}/v1beta2"):
            with self.subTest(path=path):
                status, resp_headers, body = self.stack.request("GET", path, headers)
                self.assertEqual(status, 200, body[:500])
                self.assertIn("application/json", resp_headers.get("content-type", ""), resp_headers)
                doc = json.loads(body)
                if "items" in doc:
                    self.assert_values(doc, EXPECTED, "protobuf-first Accept")

    def test_h_errors_are_status_objects(self):
        status, doc = self.stack.get(self.stack.metric_path(NS, metric="no:such:metric", label_selector=SELECTOR))
        self.assert_status(status, doc, 404, ("NotFound",), "unknown metric")
        self.assertIn("could not find the metric", doc["message"])
        for query in ("labelSelector=app+in+(", "labelSelector=app%20in%20%28",
                      "labelSelector=app%3Dtriton&metricLabelSelector=model+in+("):
            path = f"/apis/{GROUP}/v1beta2/namespaces/{NS}/pods/%2A/{METRIC}?{query}"
            with self.subTest(query=query):
                status, doc = self.stack.get(path)
                self.assert_status(status, doc, 400, ("BadRequest",), f"malformed selector {query}")

    def test_i_kubectl_matches_direct_get(self):
        paths = [self.list_path(v) for v in ("v1beta2", "v1beta1")]
        paths.append(self.list_path("v1beta2", metric_label_selector="model=tensorrt_llm"))
        for path in paths:
            with self.subTest(path=path):
                rc, out, err = self.stack.kubectl_raw(path)
                self.assertEqual(rc, 0, f"kubectl get --raw {path} failed: {err}")
                via_kubectl = strip_timestamps(json.loads(out))
                via_python = strip_timestamps(self.get_ok(path))
                # Values may move by a milli between two evaluations: compare them with tolerance.
                for a, b in zip(via_kubectl.get("items", []), via_python.get("items", [])):
                    self.assertLessEqual(abs(parse_quantity_milli(a.pop("value"))
                                             - parse_quantity_milli(b.pop("value"))), TOLERANCE)
                self.assertEqual(via_kubectl, via_python)
        rc, out, err = self.stack.kubectl_raw(f"/apis/{GROUP}/v1beta2")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out), self.get_ok(f"/apis/{GROUP}/v1beta2"))

    def test_j_http2_and_http11(self):
        path = self.list_path("v1beta2")
        self.assertEqual(self.stack.curl_http_version(path, http2=True), ("2", 200))
        self.assertEqual(self.stack.curl_http_version(path, http2=False), ("1.1", 200))
        self.assertEqual(self.stack.curl_http_version("/readyz", http2=True), ("2", 200))

    def test_k_own_metrics_and_health(self):
        status, text = self.stack.get("/metrics")
        self.assertEqual(status, 200)
        self.assertIsInstance(text, str)
        self.assertIn("custom_metrics_adapter_requests_total", text)
        self.assertIn("custom_metrics_adapter_prometheus_query_duration_seconds", text)
        for path in ("/livez", "/readyz", "/healthz"):
            with self.subTest(path=path):
                status, body = self.stack.get(path)
                self.assertEqual((status, str(body).strip()), (200, "ok"))

    def test_l_values_are_the_engines_own_answer(self):
        """Each served value is what the engine itself answers for the adapter's query at the stamped instant."""
        for model in (None, "tensorrt_llm"):
            with self.subTest(engine=ENGINE, model=model):
                # The stamp is the query's instant floored to the second. Right after the first scrapes the
                # engine may have had its second sample only within that second, so at the floored instant
                # it has no rate yet: then take a later answer (the cached one expires after 5 s).
                for attempt in range(3):
                    doc = self.get_ok(self.list_path("v1beta2", metric_label_selector=model and f"model={model}"))
                    stamped = {it["timestamp"] for it in doc["items"]}
                    self.assertEqual(len(stamped), 1, f"one query, one instant: {doc}")
                    at = datetime.datetime.strptime(stamped.pop(), "%Y-%m-%dT%H:%M:%SZ").replace(
                        tzinfo=datetime.timezone.utc).timestamp()
                    answer = vector(self.stack.engine_query(engine_promql(model), at=at))
                    engine = {pod: round(1000 * value) for (ns, pod), (_, value) in answer.items()
                              if pod in TRITON_A}
                    if engine or attempt == 2:
                        break
                    time.sleep(5.5)
                # The adapter sampled at its own instant (to the millisecond), the timestamp is to the second:
                # one scrape's worth of counter flooring apart at most.
                self.assert_values(doc, engine, f"{ENGINE}'s own answer at {at:.0f}")
                self.assert_values(doc, EXPECTED_TRTLLM if model else EXPECTED, "the pods' configured rates")

    # -- pods come and go (runs late: it changes the stand-in, then restores it) ------------

    def test_y_pods_deleted_terminating_and_new(self):
        stack = self.stack
        try:
            # A new pod without any series: created BEFORE the deletion below, so once the
            # deletion is visible the adapter has seen this pod too (watch events are ordered).
            stack.apply_pod(NS, "triton-9", labels={"app": "triton"})
            # The v1beta1 answer is kept now (its query result stays fresh for 5 s) ...
            self.assert_values(self.get_ok(self.list_path("v1beta1")), EXPECTED, "v1beta1 before delete")
            stack.delete_pod(NS, "triton-2")
            without_2 = {n: v for n, v in EXPECTED.items() if n != "triton-2"}
            self.wait_values(without_2, timeout=15)
            # ... and once the v1beta2 answer shows the pod cache saw the deletion, the kept v1beta1 answer
            # must not be served any more, even within its query's TTL.
            self.assert_values(self.get_ok(self.list_path("v1beta1")), without_2, "v1beta1 after delete")

            stack.apply_pod(NS, "triton-1", deletionTimestamp="2026-01-01T00:00:00Z")
            only_0 = {"triton-0": EXPECTED["triton-0"]}
            self.wait_values(only_0, timeout=15)
        finally:
            stack.apply_pod(NS, "triton-1", deletionTimestamp=None)
            stack.apply_pod(NS, "triton-2", labels={"app": "triton"})
            stack.standin("DELETE", f"/_control/pods/{NS}/triton-9")
        self.wait_values(EXPECTED, timeout=15)

    # -- Prometheus outage (runs last) -----------------------------------------------------

    def test_z_prometheus_down_then_back(self):
        stack = self.stack
        prom_address = f"127.0.0.1:{stack.prom_port}"
        stack.stop_prometheus()
        stopped = time.monotonic()
        try:
            # An answer is reused for at most the cache TTL (the adapter's default, 5 s) after its query
            # was sent, which was before Prometheus stopped: past that, no value may be served.
            time.sleep(max(0.0, DEFAULT_CACHE_TTL + 0.5 - (time.monotonic() - stopped)))
            for path in (self.list_path("v1beta2"), self.list_path("v1beta1"),
                         stack.metric_path(NS, pod="triton-1")):
                with self.subTest(path=path):
                    started = time.monotonic()
                    status, doc = stack.get(path)
                    took = time.monotonic() - started
                    self.assertIn(status, (500, 503), f"Prometheus is down, yet {path} -> {status}: {doc}")
                    self.assert_status(status, doc, status, ("ServiceUnavailable", "InternalError"),
                                       "Prometheus down")
                    self.assertNotIn(prom_address, doc["message"], "backend address leaked into the message")
                    # Budget: a refused connection fails at once; even a query that ran into the 2 s
                    # query timeout answers by ~2.1 s; 6 s is that with a 3x margin for a loaded machine.
                    self.assertLess(took, 6, f"answer took {took:.1f}s with a 2s query timeout")
            doc = self.get_ok(f"/apis/{GROUP}/v1beta2")
            self.assertTrue(any(r.get("name") == f"pods/{METRIC}" for r in doc.get("resources") or []), doc)
            self.assertEqual(stack.get("/readyz")[0], 200)
            status, text = stack.get("/metrics")
            self.assertEqual(status, 200)
            self.assertIn("custom_metrics_adapter_prometheus_query_errors_total", text)
        finally:
            stack.start_prometheus()
        self.wait_values(EXPECTED, timeout=60)


if __name__ == "__main__":
    unittest.main(verbosity=2)
