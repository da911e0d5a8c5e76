#!/usr/bin/env python3
"""Fault tests: what the HPA gets when Prometheus or the Kubernetes API misbehaves, and recovery.

One stack (e2e_stack.py) is shared by every test in this file: fake_triton, a real Prometheus
scraping it every second, ``tests/support/prometheus_fault_proxy.py`` between the adapter and that
Prometheus, the Kubernetes API stand-in and the adapter binary (``$ADAPTER_BIN`` or
``.build/debug/custom-metrics-adapter``).  Every fault is reversible, so each test injects one,
checks the exact answer (HTTP status and the whole ``Status`` object), checks that the adapter's
own ``/metrics`` counted it, ends the fault and checks that the adapter recovers by itself within
a bounded wait, without being restarted.

* ``PrometheusFaults``: slow, erroring, malformed, truncated, non-finite and matrix answers through
  ``tests/support/prometheus_fault_proxy.py``; Prometheus (and then its address) going away and back.
* ``KubernetesFaults``: the stand-in stopped and started again on its port (with versions going on
  from above the old ones, as a restarted kube-apiserver does), watches broken, 410 Expired in a
  watch stream and as an HTTP answer, lists answering 500 (on a relist and at the adapter's start).
* ``ValueCache``: with ``--metrics-cache-ttl``, an expired value is never served, a failure is never
  cached, and identical concurrent requests share one query.
* ``QueryLimits``: a burst over ``--max-concurrent-prometheus-queries`` against a slow Prometheus.

Most tests run with ``--metrics-cache-ttl=0s`` (no value reuse), so a failing query must fail the
very next request; the last two classes restart the adapter with the flags they test.  The review
caches (TokenReview/SubjectAccessReview) get a long TTL so that a stand-in outage exercises the pod
cache; an identity never seen before shows what happens when a review cannot be made.

Run from the repository root (standard library only, ~1 minute)::

    /usr/bin/python3 -m unittest tests/integration/test_faults.py -v

``ENGINE=victoriametrics`` runs the tests whose outcome depends on the engine against VictoriaMetrics
(vmagent, vmalert; see ``tests/support/victoria.py``): ``ENGINE_TESTS`` below.  The others inject their
fault in the proxy or the Kubernetes stand-in, so the engine behind them never changes what they see;
running them twice would only add minutes.
"""

import datetime
import json
import signal
import subprocess
import sys
import threading
import time
import unittest

from tests.support.e2e_stack import (
    GROUP, METRIC, Stack, adapter_bin, default_engine, metric_sum, missing_tools, parse_quantity_milli, wait_for)

NS = "team-a"
SELECTOR = "app=triton"
TOLERANCE = 2  # milli-units: counters are floored integers, scrapes jitter
QUERY_TIMEOUT = 2.0  # the stack's --prometheus-query-timeout
ERRORS = "custom_metrics_adapter_prometheus_query_errors_total"
DROPPED = "custom_metrics_adapter_dropped_values_total"
CACHE_LOOKUPS = "custom_metrics_adapter_query_cache_lookups_total"
REVIEW_CACHE_ARGS = ["--authentication-token-webhook-cache-ttl=10m", "--authorization-webhook-cache-authorized-ttl=10m"]
NO_CACHE_FLAG = "adapter lacks --metrics-cache-ttl"


def _pod(namespace, name, app, queue, compute):
    return {"namespace": namespace, "name": name, "labels": {"app": app}, "models": [
        {"model": "tensorrt_llm", "version": "1", "queue_us_per_s": queue, "compute_us_per_s": compute}]}


PODS = {"pods": [
    _pod(NS, "triton-0", "triton", 1500000, 1000000),   # 1500m
    _pod(NS, "triton-1", "triton", 2500000, 1000000),   # 2500m
    _pod(NS, "triton-2", "triton", 0, 0),               # 0
    # Exported by fake_triton from the start, but created in the stand-in only by a test.
    _pod(NS, "triton-3", "triton", 500000, 1000000),    # 500m
    _pod(NS, "other-0", "other", 4000000, 1000000),
    _pod("team-b", "triton-0", "triton", 9000000, 1000000),
]}
VALUES = {"triton-0": 1500, "triton-1": 2500, "triton-2": 0, "triton-3": 500}
BASE = {n: VALUES[n] for n in ("triton-0", "triton-1", "triton-2")}


def prefix(detail):
    return f"unable to fetch metric {METRIC}: {detail}"


UNREACHABLE = (503, "ServiceUnavailable", prefix("Prometheus is unreachable"), "unreachable")
TIMED_OUT = (503, "ServiceUnavailable", prefix("the Prometheus query timed out"), "timeout")
REJECTED = (500, "InternalError", prefix("Prometheus rejected the query"), "rejected")
UNUSABLE = (500, "InternalError", prefix("Prometheus sent an answer that could not be used"), "malformedResponse")
NOT_SYNCED = (503, "ServiceUnavailable", "the pod cache has not synced with the Kubernetes API yet")

STACK = None
_HELP = None
ENGINE = default_engine()
#: First values: two scrapes with Prometheus; VictoriaMetrics evaluates instant queries 30 s back.
WARM_UP = 45 if ENGINE == "prometheus" else 75
#: The tests that see the engine's own answers or its absence: a value passed through (slow but in
#: time, NaN/Inf rewritten into the engine's vector), the engine stopped and started again, and the
#: value cache and query sharing over real answers (team-b's value included).
ENGINE_TESTS = (
    "PrometheusFaults.test_a_slow_but_within_the_query_timeout_is_served",
    "PrometheusFaults.test_f_nan_and_infinities_are_left_out_negatives_are_served",
    "PrometheusFaults.test_g_prometheus_stopped_then_restarted",
    "ValueCache.test_a_value_older_than_the_ttl_is_never_served",
    "ValueCache.test_b_concurrent_identical_requests_share_one_query",
)


def load_tests(loader, standard_tests, _pattern):
    """Every test with Prometheus; with another engine, only ``ENGINE_TESTS``."""
    if ENGINE == "prometheus":
        return standard_tests
    suite = unittest.TestSuite()
    module = sys.modules[__name__]
    for name in ENGINE_TESTS:
        suite.addTests(loader.loadTestsFromName(name, module))
    return suite


def adapter_help():
    global _HELP
    if _HELP is None:
        _HELP = subprocess.run([adapter_bin(), "--help"], capture_output=True, text=True, timeout=30,
                               stdin=subprocess.DEVNULL).stdout
    return _HELP


def has_cache_flag():
    return "--metrics-cache-ttl" in adapter_help()


def adapter_args(cache_ttl="0s"):
    return REVIEW_CACHE_ARGS + ([f"--metrics-cache-ttl={cache_ttl}"] if has_cache_flag() else [])


def status_doc(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def _on_sigterm(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def setUpModule():
    global STACK
    problems = missing_tools(need_kubectl=False, need_curl=False, engine=ENGINE)
    if problems:
        raise AssertionError("fault-test prerequisites missing (CI must install them):\n  " + "\n  ".join(problems))
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)  # a CI timeout unwinds, so atexit stops the stack
    STACK = Stack(PODS, prometheus_proxy=True, adapter_args=adapter_args())
    try:
        STACK.start()
        STACK.delete_pod(NS, "triton-3")
        wait_values(BASE, timeout=WARM_UP)
    except BaseException:
        sys.stderr.write("\n" + STACK.log_tails() + "\n")
        STACK.stop()
        raise


def tearDownModule():
    if STACK is not None:
        STACK.stop()


def metric_path(pod="%2A", version="v1beta2", namespace=NS, metric_label_selector=None):
    return STACK.metric_path(namespace, pod=pod, version=version,
                             label_selector=SELECTOR if pod == "%2A" else None,
                             metric_label_selector=metric_label_selector)


#: What the HPA asks (v1beta2 and v1beta1 lists) and a single pod: all three run the same query.
PATHS = (lambda: metric_path(), lambda: metric_path(version="v1beta1"), lambda: metric_path(pod="triton-1"))


def served(doc):
    return {it["describedObject"]["name"]: parse_quantity_milli(it["value"]) for it in doc.get("items") or []}


def wait_values(expected, timeout, namespace=NS):
    """Wait until the adapter serves exactly ``expected`` (pod names, values within tolerance)."""
    last = {}

    def ok():
        status, doc = STACK.get(metric_path(namespace=namespace))
        last["answer"] = (status, doc)
        if status != 200 or not isinstance(doc, dict):
            return None
        got = served(doc)
        if set(got) == set(expected) and all(abs(got[n] - expected[n]) <= TOLERANCE for n in expected):
            return doc
        return None
    try:
        return wait_for(ok, timeout, interval=0.25, what=f"values {expected} in {namespace}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last answer: {last.get('answer')!r}") from None


def epoch(timestamp):
    when = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ")
    return when.replace(tzinfo=datetime.timezone.utc).timestamp()


def ensure_adapter(cache_ttl):
    """Restart the adapter if it does not run with this value-cache TTL; wait for its values."""
    args = adapter_args(cache_ttl)
    if STACK.adapter_args != args:
        STACK.restart_adapter(args)
        wait_values(BASE, timeout=20)


class FaultCase(unittest.TestCase):
    maxDiff = None
    logs_printed = False

    def setUp(self):
        self.adapter_pid = STACK.procs["adapter"].pid

    def run(self, result=None):
        """Print the stack's log tails after a failing or erroring test."""
        before = len(result.failures) + len(result.errors) if result is not None else 0
        outcome = super().run(result)
        if result is not None and len(result.failures) + len(result.errors) > before and STACK:
            tails = STACK.log_tails(["adapter"], lines=15) if FaultCase.logs_printed else STACK.log_tails()
            FaultCase.logs_printed = True
            sys.stderr.write(f"\n==== logs after {self.id()} ====\n{tails}\n")
        return outcome

    def assert_failure(self, path, code, reason, message, token=..., within=None):
        """The exact answer: HTTP ``code`` and the whole Status object, no values.

        ``within`` is a budget, not a benchmark: an immediate failure (proxy answers at once) takes
        10-100 ms on this loaded 2-core machine, so 1.5 s is a >10x margin that still tells "answered
        the failure" from "waited for a timeout" (the query timeout is 2 s); timeouts get
        QUERY_TIMEOUT + 1 s, the TokenReview timeout case 8 s.
        """
        started = time.monotonic()
        status, doc = STACK.get(path, token=token)
        took = time.monotonic() - started
        self.assertEqual((status, doc), (code, status_doc(code, reason, message)), f"GET {path}")
        if within is not None:
            self.assertLess(took, within, f"GET {path} took {took:.2f}s")

    def assert_fresh(self, doc, not_before, context):
        """Values from a query made after ``not_before`` (wall clock), not an older answer."""
        for it in doc.get("items") or []:
            self.assertGreaterEqual(epoch(it["timestamp"]), int(not_before),
                                    f"{context}: value older than the end of the fault: {it}")

    def assert_recovers(self, fault_started, context, timeout=None):
        """Values are back (and new), from the same adapter process: at once with no value cache,
        else within ``timeout``."""
        adapter = STACK.procs.get("adapter")
        self.assertTrue(adapter is not None and adapter.alive(), f"{context}: the adapter is not running")
        self.assertEqual(adapter.pid, self.adapter_pid, f"{context}: the adapter was restarted")
        if timeout is None:
            status, doc = STACK.get(metric_path())
            self.assertEqual(status, 200, f"{context}: first request after the fault ended: {doc}")
            got = served(doc)
            self.assertEqual(sorted(got), sorted(BASE), f"{context}: {doc}")
            for name, want in BASE.items():
                self.assertLessEqual(abs(got[name] - want), TOLERANCE, f"{context}: {doc}")
        else:
            doc = wait_values(BASE, timeout)
        self.assert_fresh(doc, fault_started, context)


class PrometheusFaults(FaultCase):
    """Prometheus errs, stalls, lies or goes away: never a value, always the same Status, then recovery."""

    @classmethod
    def setUpClass(cls):
        STACK.proxy_mode("pass")
        ensure_adapter("0s")

    def tearDown(self):
        STACK.start_prometheus()
        STACK.start_proxy()
        STACK.proxy_mode("pass")

    def check_fault(self, mode, code, reason, message, kind, within=1.5):
        """Inject ``mode``; every path answers the exact Status (within ``within`` seconds), each failed
        query is counted once, and the next request after the fault gets new values."""
        fault_started = time.time()
        before = STACK.adapter_metrics()
        STACK.proxy_requests(reset=True)
        STACK.proxy_mode(mode)
        try:
            for path in PATHS:
                self.assert_failure(path(), code, reason, message, within=within)
            seen = STACK.proxy_requests()["count"]
            after = STACK.adapter_metrics()
        finally:
            STACK.proxy_mode("pass")
        self.assertEqual(seen, len(PATHS), f"{mode}: queries that reached the proxy")
        self.assertEqual(metric_sum(after, ERRORS, kind=kind) - metric_sum(before, ERRORS, kind=kind), len(PATHS),
                         f"{mode}: {ERRORS}{{kind={kind!r}}} must count each failed query")
        self.assertEqual(metric_sum(after, ERRORS) - metric_sum(before, ERRORS), len(PATHS),
                         f"{mode}: failed queries counted under another kind too")
        self.assert_recovers(fault_started, mode)

    def test_a_slow_but_within_the_query_timeout_is_served(self):
        STACK.proxy_mode(f"delay:{QUERY_TIMEOUT * 0.6:g}")
        started = time.monotonic()
        status, doc = STACK.get(metric_path())
        self.assertEqual(status, 200, doc)
        self.assertEqual(sorted(served(doc)), sorted(BASE), doc)
        self.assertGreaterEqual(time.monotonic() - started, QUERY_TIMEOUT * 0.6)

    def test_b_slower_than_the_query_timeout(self):
        # Answers after the timeout (2 s), well before the proxy would (3.5 s).
        self.check_fault("delay:3.5", *TIMED_OUT, within=QUERY_TIMEOUT + 1.0)

    def test_c_error_answers(self):
        cases = [
            # Prometheus' own error envelope.
            ("status:500:envelope", REJECTED),
            ("status:400:envelope", REJECTED),            # bad_data
            ("status:422:envelope", REJECTED),            # execution error
            ("status:503:envelope:timeout", TIMED_OUT),   # errorType timeout
            # A 503 is "try again later" whatever its body: a Prometheus that is not ready yet, or a
            # Thanos/Mimir whose store is unavailable, answers the envelope with errorType "unavailable".
            ("status:503:envelope", UNREACHABLE),
            # Not Prometheus speaking: a proxy or load balancer in front of it.
            ("status:503:html", UNREACHABLE),
            ("status:502:empty", UNREACHABLE),
            # An HTTP 500 is a server failure; an HTML body does not make it an unusable *answer*.
            ("status:500:html", REJECTED),
        ]
        for mode, expected in cases:
            with self.subTest(mode=mode):
                self.check_fault(mode, *expected)

    def test_d_unusable_answers(self):
        for mode in ("malformed", "matrix", "nodata", "status:200:html"):
            with self.subTest(mode=mode):
                self.check_fault(mode, *UNUSABLE)

    def test_e_truncated_body(self):
        # Content-Length promises more than arrives before the connection closes: a transport failure.
        self.check_fault("truncated", *UNREACHABLE)

    def test_f_nan_and_infinities_are_left_out_negatives_are_served(self):
        cases = [
            # (pod -> value Prometheus sends, pod -> quantity served, reason -> dropped per query)
            ({"triton-0": "NaN", "triton-1": "+Inf", "triton-2": "-0.5"}, {"triton-2": "-500m"},
             {"nan": 1, "inf": 1}),
            ({"triton-0": "-Inf", "triton-1": "-2", "triton-2": "NaN"}, {"triton-1": "-2"}, {"nan": 1, "inf": 1}),
            ({"triton-0": "-0.0004", "triton-1": "1234.5678", "triton-2": "-1000000"},
             {"triton-0": "0", "triton-1": "1234568m", "triton-2": "-1M"}, {}),
            ({"triton-0": "NaN", "triton-1": "NaN", "triton-2": "NaN"}, {}, {"nan": 3}),
        ]
        for values, expected, dropped in cases:
            with self.subTest(values=values):
                before = STACK.adapter_metrics()
                STACK.proxy_mode("values:" + json.dumps(values))
                try:
                    for version in ("v1beta2", "v1beta1"):
                        status, doc = STACK.get(metric_path(version=version))
                        self.assertEqual(status, 200, doc)
                        self.assertEqual(doc.get("kind"), "MetricValueList", doc)
                        got = {it["describedObject"]["name"]: it["value"] for it in doc["items"]}
                        self.assertEqual(got, expected, f"{version}: {doc}")
                    after = STACK.adapter_metrics()
                finally:
                    STACK.proxy_mode("pass")
                for reason in ("nan", "inf"):
                    delta = metric_sum(after, DROPPED, metric=METRIC, reason=reason) \
                        - metric_sum(before, DROPPED, metric=METRIC, reason=reason)
                    self.assertEqual(delta, 2 * dropped.get(reason, 0), f"{DROPPED}{{reason={reason!r}}}")
                self.assertEqual(metric_sum(after, DROPPED) - metric_sum(before, DROPPED),
                                 2 * sum(dropped.values()), f"{DROPPED}: counted under another reason")

        STACK.proxy_mode('values:{"triton-0": "NaN"}')
        try:
            self.assert_failure(metric_path(pod="triton-0"), 404, "NotFound",
                                f'the server could not find the metric {METRIC} for pods "triton-0" in namespace '
                                f'"{NS}": Prometheus has no finite value for it')
        finally:
            STACK.proxy_mode("pass")
        self.assert_recovers(time.time() - 1, "after rewritten values")

    def test_g_prometheus_stopped_then_restarted(self):
        fault_started = time.time()
        before = STACK.adapter_metrics()
        STACK.stop_prometheus()
        try:
            # The proxy's connection to Prometheus is refused; it resets the adapter's connection.
            for path in PATHS:
                self.assert_failure(path(), *UNREACHABLE[:3], within=1.5)
            # Nothing listens at the adapter's --prometheus-url any more: connection refused.  (The
            # adapter retries connecting until the query timeout, so this answer takes that long.)
            STACK.stop_proxy()
            for path in PATHS:
                self.assert_failure(path(), *UNREACHABLE[:3], within=QUERY_TIMEOUT + 1.0)
            after = STACK.adapter_metrics()
            self.assertEqual(metric_sum(after, ERRORS, kind="unreachable")
                             - metric_sum(before, ERRORS, kind="unreachable"), 2 * len(PATHS))
            # Discovery and readiness do not follow Prometheus.
            status, doc = STACK.get(f"/apis/{GROUP}/v1beta2")
            self.assertEqual(status, 200, doc)
            self.assertIn(f"pods/{METRIC}", [r.get("name") for r in doc.get("resources") or []], doc)
            status, body = STACK.get("/readyz")
            self.assertEqual((status, str(body).strip()), (200, "ok"))
            STACK.start_proxy()
            for path in PATHS:
                self.assert_failure(path(), *UNREACHABLE[:3], within=QUERY_TIMEOUT + 1.0)
        finally:
            STACK.start_proxy()
            STACK.start_prometheus()
        self.assert_recovers(fault_started, "Prometheus restarted", timeout=30)


class KubernetesFaults(FaultCase):
    """The pod list+watch breaks: the adapter keeps its last pods, then relists or resumes by itself."""

    @classmethod
    def setUpClass(cls):
        STACK.proxy_mode("pass")
        ensure_adapter("0s")

    def tearDown(self):
        """Whatever the test did: the stand-in up, no injected failure, triton-0..2 served."""
        STACK.start_standin()
        STACK.fail_requests(0)
        for name in ("triton-0", "triton-1", "triton-2"):
            STACK.apply_pod(NS, name, labels={"app": "triton"})
        STACK.standin("DELETE", f"/_control/pods/{NS}/triton-3")
        wait_values(BASE, timeout=20)

    def standin_requests_since(self, since, kind):
        """The stand-in's logged pod ``list`` or ``watch`` requests made after ``since`` (wall clock)."""
        status, entries = STACK.standin("GET", "/_control/requests")
        self.assertEqual(status, 200, entries)
        out = []
        for e in entries:
            if e["time"] < since or not e["path"].startswith("/api/v1/pods?"):
                continue
            if ("watch=1" in e["path"]) == (kind == "watch"):
                out.append(e["path"])
        return out

    def break_watch_and_fail_rewatches(self, status=503):
        """Break the adapter's open watch and fail its watch requests from then on with ``status``.

        Retried until a watch was open to break (after a relist the adapter may still be
        between its list and its watch).
        """
        def broken():
            STACK.fail_requests(status, -1, verb="watch")
            code, doc = STACK.break_watches()
            self.assertEqual(code, 200, doc)
            if doc["broken"] >= 1:
                return True
            STACK.fail_requests(0)
            return False
        wait_for(broken, 20, interval=0.5, what="an open watch to break")

    def test_a_standin_stopped_then_started_on_the_same_port(self):
        wait_values(BASE, timeout=5)
        rv = STACK.stop_standin()
        self.assertIsNotNone(rv, "could not read the stand-in's resourceVersion")
        try:
            # The pods known before the outage are still served (the caller's review is cached) ...
            status, doc = STACK.get(metric_path())
            self.assertEqual((status, sorted(served(doc)) if status == 200 else doc), (200, sorted(BASE)))
            # ... but an identity the adapter has never seen cannot be reviewed (after the
            # TokenReview's own timeout).
            self.assert_failure(metric_path(), 503, "ServiceUnavailable", "authentication is temporarily unavailable",
                                token="hpa-token", within=8)
        finally:
            # Restarted like kube-apiserver: versions go on from above the old ones, so the adapter's
            # watch gets 410 and it relists. triton-2 went away meanwhile.
            pods = {"pods": [p for p in PODS["pods"] if (p["namespace"], p["name"]) not in
                             ((NS, "triton-2"), (NS, "triton-3"))]}
            STACK.start_standin(first_rv=rv + 100 if rv else None, pods=pods)
        wait_values({n: v for n, v in BASE.items() if n != "triton-2"}, timeout=20)
        status, doc = STACK.get(metric_path(), token="hpa-token")
        self.assertEqual(status, 200, doc)
        # The body, not only the status: the identity the restarted API reviewed gets today's pods.
        self.assertEqual(sorted(served(doc)), sorted(n for n in BASE if n != "triton-2"), doc)

    def test_b_watch_broken_while_pods_are_deleted(self):
        since = time.time()
        try:
            self.break_watch_and_fail_rewatches(503)
            STACK.delete_pod(NS, "triton-1")
            # The adapter tried to watch again and got the 503.
            wait_for(lambda: self.standin_requests_since(since, "watch"), 10, what="a watch retry")
            status, doc = STACK.get(metric_path())
            self.assertEqual(status, 200, f"the last known pods are served while the watch is down: {doc}")
            # The deletion happened after the watch broke: the adapter cannot know it yet, and serves
            # exactly the pods it last knew (triton-1 included).
            self.assertEqual(sorted(served(doc)), sorted(BASE), doc)
        finally:
            STACK.fail_requests(0)
        wait_values({n: v for n, v in BASE.items() if n != "triton-1"}, timeout=20)

    def test_c_watch_410_after_compaction_then_list_500(self):
        since = time.time()
        try:
            self.break_watch_and_fail_rewatches(503)
            STACK.apply_pod(NS, "triton-3", labels={"app": "triton"})
            STACK.delete_pod(NS, "triton-0")
            STACK.compact()
            # The next watch resumes from a compacted version (410 Expired), and the relist fails.
            STACK.fail_requests(500, -1, verb="list")
            wait_for(lambda: self.standin_requests_since(since, "list"), 20, what="a relist after the 410")
            status, doc = STACK.get(metric_path())
            self.assertEqual((status, sorted(served(doc)) if status == 200 else doc), (200, sorted(BASE)),
                             "while the relist fails, the last known pods are served")
        finally:
            STACK.fail_requests(0)
        wait_values({n: VALUES[n] for n in ("triton-1", "triton-2", "triton-3")}, timeout=20)

    def test_d_watch_answers_http_410(self):
        since = time.time()
        try:
            self.break_watch_and_fail_rewatches(503)
            STACK.apply_pod(NS, "triton-3", labels={"app": "triton"})
            STACK.fail_requests(410, 1, verb="watch")  # the next watch: HTTP 410, not an event in a stream
            wait_for(lambda: self.standin_requests_since(since, "list"), 20, what="a relist after HTTP 410")
        finally:
            STACK.fail_requests(0)
        wait_values(VALUES, timeout=15)

    def test_e_list_answers_500_at_start(self):
        since = time.time()
        STACK.fail_requests(500, -1, verb="list")
        try:
            STACK.restart_adapter(wait_path="/livez")
            wait_for(lambda: self.standin_requests_since(since, "list"), 10, what="the adapter's first list")
            for path in PATHS:
                self.assert_failure(path(), *NOT_SYNCED, within=5)
            # Not ready until the first list: the Service sends it nothing that would be a 503 anyway.
            status, _, body = STACK.request("GET", "/readyz", token=None)
            self.assertEqual((status, body.decode().strip()),
                             (503, "not ready: the pod cache has not listed the pods of the Kubernetes API yet"))
        finally:
            STACK.fail_requests(0)
        wait_for(lambda: STACK.request("GET", "/readyz", token=None)[0] == 200, 20, what="/readyz after the first list")
        wait_values(BASE, timeout=20)


class ValueCache(FaultCase):
    """--metrics-cache-ttl: never an expired value, never a cached failure, one query per key at a time."""

    def setUp(self):
        if not has_cache_flag():
            self.fail(NO_CACHE_FLAG)
        STACK.proxy_mode("pass")
        super().setUp()

    @classmethod
    def tearDownClass(cls):
        STACK.proxy_mode("pass")
        if has_cache_flag():
            ensure_adapter("0s")

    def test_a_value_older_than_the_ttl_is_never_served(self):
        ttl = 2.0
        ensure_adapter(f"{ttl:g}s")
        status, doc = STACK.get(metric_path())
        answered = time.monotonic()
        self.assertEqual(status, 200, doc)
        cached = {it["describedObject"]["name"]: (it["timestamp"], it["value"]) for it in doc["items"]}
        self.assertEqual(sorted(cached), sorted(BASE))
        fault_started = time.time()
        STACK.proxy_mode("status:500:envelope")
        answers = []
        try:
            while True:
                elapsed = time.monotonic() - answered
                status, doc = STACK.get(metric_path())
                answers.append((round(elapsed, 2), status))
                if status == 200:
                    got = {it["describedObject"]["name"]: (it["timestamp"], it["value"]) for it in doc["items"]}
                    self.assertEqual(got, cached, f"{elapsed:.2f}s after the cached answer: only it may be served")
                    self.assertLess(elapsed, ttl, f"{elapsed:.2f}s after the cached answer, older than the TTL")
                else:
                    self.assertEqual((status, doc), (500, status_doc(*REJECTED[:3])), f"{elapsed:.2f}s")
                if elapsed > ttl + 0.5:
                    break
                time.sleep(0.2)
        finally:
            STACK.proxy_mode("pass")
        self.assertEqual(answers[-1][1], 500, f"answers after the TTL: {answers}")
        # The cache did serve: the first request after the fault (well inside the 2 s TTL: it follows the
        # cached answer by one proxy mode switch, ~10-100 ms here) got the cached answer. Without this,
        # an adapter that caches nothing would pass.
        self.assertEqual(answers[0][1], 200, f"the first answer inside the TTL did not come from the cache: {answers}")
        self.assertLess(answers[0][0], ttl, answers)
        # Failures are not cached: the first request after the fault gets a new value.
        status, doc = STACK.get(metric_path())
        self.assertEqual(status, 200, doc)
        self.assertEqual(sorted(served(doc)), sorted(BASE), doc)
        self.assert_fresh(doc, fault_started, "after the fault")

    @staticmethod
    def concurrent_gets(paths):
        """GET every path at once (one thread and connection each); [(status, doc)] in order."""
        results = [None] * len(paths)
        barrier = threading.Barrier(len(paths))

        def one(i, path):
            barrier.wait(10)
            results[i] = STACK.get(path)
        threads = [threading.Thread(target=one, args=(i, p), daemon=True) for i, p in enumerate(paths)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        return results

    def test_b_concurrent_identical_requests_share_one_query(self):
        ensure_adapter("5s")
        STACK.get(f"/apis/{GROUP}/v1beta2")  # reviews cached before the burst
        # A query in flight for 1 s: requests arriving meanwhile must wait for it, not send their own.
        STACK.proxy_mode("delay:1")
        try:
            # A metric selector no earlier request used: nothing cached for this query yet.
            fresh = "model=tensorrt_llm,version=1"
            before = STACK.adapter_metrics()
            STACK.proxy_requests(reset=True)
            results = self.concurrent_gets([metric_path(metric_label_selector=fresh)] * 20)
            seen = STACK.proxy_requests()
            after = STACK.adapter_metrics()
            self.assertEqual([s for s, _ in results], [200] * 20, results)
            self.assertEqual(len({json.dumps(d, sort_keys=True) for _, d in results}), 1,
                             "identical requests sharing one query get identical answers")
            self.assertEqual(sorted(served(results[0][1])), sorted(BASE), results[0])
            self.assertEqual(seen["count"], 1, f"queries that reached Prometheus: {seen['queries']}")
            lookups = {r: metric_sum(after, CACHE_LOOKUPS, result=r) - metric_sum(before, CACHE_LOOKUPS, result=r)
                       for r in ("miss", "hit", "coalesced")}
            self.assertEqual((lookups["miss"], lookups["hit"] + lookups["coalesced"]), (1, 19), lookups)

            # Two namespaces are two queries, however many requests ask for each.
            other = "model=tensorrt_llm,version!=2"
            STACK.proxy_requests(reset=True)
            paths = [metric_path(namespace=ns, metric_label_selector=other) for ns in ("team-a", "team-b")] * 10
            results = self.concurrent_gets(paths)
            seen = STACK.proxy_requests()
            self.assertEqual([s for s, _ in results], [200] * 20, results)
            self.assertEqual(sorted(served(results[1][1])), ["triton-0"], results[1])
            self.assertLessEqual(abs(served(results[1][1])["triton-0"] - 9000), TOLERANCE, results[1])
            self.assertEqual(seen["count"], 2, f"queries that reached Prometheus: {seen['queries']}")
            self.assertEqual(sorted('namespace="team-a"' in q["query"] for q in seen["queries"]), [False, True],
                             seen["queries"])
        finally:
            STACK.proxy_mode("pass")


class QueryLimits(FaultCase):
    """--max-concurrent-prometheus-queries and --request-timeout: a slow Prometheus and a burst."""

    @classmethod
    def tearDownClass(cls):
        STACK.proxy_mode("pass")
        ensure_adapter("0s")

    def test_a_burst_over_the_query_limit_is_told_to_back_off(self):
        for flag in ("--max-concurrent-prometheus-queries", "--request-timeout", "--metrics-cache-ttl"):
            if flag not in adapter_help():
                self.fail(f"adapter lacks {flag}")
        request_timeout = QUERY_TIMEOUT + 1.0
        args = adapter_args("0s") + ["--max-concurrent-prometheus-queries=1", f"--request-timeout={request_timeout:g}s"]
        STACK.restart_adapter(args)
        self.adapter_pid = STACK.procs["adapter"].pid
        wait_values(BASE, timeout=20)
        STACK.get(f"/apis/{GROUP}/v1beta2")  # reviews cached before the burst
        # Four different queries at once, one slot, and a Prometheus slower than the query timeout:
        # one query runs and times out, the next gets the slot only when that one is over, and the
        # others never get a slot before their requests' time is up.
        paths = [metric_path(metric_label_selector=f"version!=x{i}") for i in range(4)]
        STACK.proxy_requests(reset=True)
        STACK.proxy_mode(f"delay:{QUERY_TIMEOUT + 0.5:g}")
        try:
            started = time.monotonic()
            results = ValueCache.concurrent_gets(paths)
            took = time.monotonic() - started
        finally:
            STACK.proxy_mode("pass")
        seen = STACK.proxy_requests()
        self.assertLess(took, request_timeout + 1.0, f"the burst took {took:.1f}s: {results}")
        # One at a time: each query was sent once the previous one had timed out.
        sent = sorted(q["time"] for q in seen["queries"])
        self.assertLessEqual(len(sent), 2, seen)
        self.assertGreaterEqual(len(sent), 1, f"no query reached Prometheus: {seen}")
        for earlier, later in zip(sent, sent[1:]):
            self.assertGreaterEqual(later - earlier, QUERY_TIMEOUT - 0.2, f"queries overlapped: {seen}")
        timed_out = (503, status_doc(*TIMED_OUT[:3]))
        over_time = (503, status_doc(503, "ServiceUnavailable",
                                     f"the request did not complete within {request_timeout:g}s; retry later"))
        back_off = (429, status_doc(429, "TooManyRequests",
                                    prefix("too many Prometheus queries are waiting; retry later")))
        for result in results:
            self.assertIn(result, (timed_out, over_time, back_off), results)
        self.assertEqual(results.count(timed_out), 1, results)
        # A request that never got a query slot is told to back off, not that it was slow.
        self.assertGreaterEqual(results.count(back_off), 1, [r[1].get("message") for r in results])
        # The limit ends with the burst: values again, without restarting the adapter.
        # The last queued query is over when the proxy holds none (an event, not a fixed sleep).
        wait_for(lambda: STACK.proxy_requests()["in_flight"] == 0, QUERY_TIMEOUT + 10, interval=0.1,
                 what="the proxy to hold no query")
        self.assert_recovers(time.time() - 1, "after the burst")


if __name__ == "__main__":
    unittest.main(verbosity=2)
