#!/usr/bin/env python3
"""Multi-tenant stores: the adapter reads only its tenant's series, by header and by credentials.

Large fleets put one horizontally scaled store behind the adapter and tell tenants apart either by a
header (Mimir, Cortex and Thanos read ``X-Scope-OrgID``) or by credentials (vmauth maps each user's
bearer token or basic auth to a tenant; Debian's vmauth 1.79.5 cannot route on a header).  Both are
built here from real parts, on 127.0.0.1:

* store A: ``Stack(engine="victoriametrics")`` (fake_triton, VictoriaMetrics, vmagent, vmalert), plus
  the Kubernetes stand-in and the adapter;
* store B: a second fake_triton and VictoriaMetrics scraping it.  Its pods have the SAME namespace and
  names as A's with other values, one pod (``triton-5``) only B has series for, and one metric name
  (``tenantb_only_queue_duration_us``) only B has: so a leak shows as a wrong value, an extra pod or an
  extra metric in discovery, never as nothing;
* nginx routing on ``X-Scope-OrgID`` with ``map`` (no header 401, unknown tenant 403);
* vmauth routing bearer tokens ``token-a``/``token-b`` and basic-auth users ``user-a``/``user-b`` to A/B
  (no credentials 401, unknown ones 400 in 1.79.5).

The adapter runs with a prometheus-adapter ``--config`` (``rules:``), so metric names are found with
``/api/v1/series`` (``--metrics-relist-interval=2s``) and discovery itself is under test.  Expected
values are each store's own answer to the adapter's query.  A refused credential (401 from vmauth, 403
from the router) must give the client the authentication ``Status`` and the log ``error.kind=unauthorized``.

Both stores run with ``-search.latencyOffset=1s``: the 30 s default only delays the first values (see
test_end_to_end with ENGINE=victoriametrics and docs/engines.md); it changes nothing about tenancy.

    /usr/bin/python3 -m unittest -v tests/integration/test_tenancy.py
"""

import json
import os
import re
import signal
import sys
import time
import unittest

from tests.support import module_argv
from tests.support import nginx, victoria
from tests.support.e2e_stack import (
    GROUP, Abort, Proc, Stack, free_port, missing_tools, parse_quantity_milli, wait_for)

NS = "team-a"
SELECTOR = "app=triton"
METRIC = "nv_inference_queue_duration_per_second"
B_ONLY = "tenantb_only_queue_duration_per_second"
TOLERANCE_MILLI = 2000  # values are in microseconds per second (1500000 = "1500k"): 2 us/s of scrape jitter


def _pod(name, queue, compute=1000000):
    return {"namespace": NS, "name": name, "labels": {"app": "triton"}, "models": [
        {"model": "tensorrt_llm", "version": "1", "queue_us_per_s": queue, "compute_us_per_s": compute}]}


PODS_A = {"pods": [_pod("triton-0", 1500000), _pod("triton-1", 500000)]}
PODS_B = {"pods": [_pod("triton-0", 9000000), _pod("triton-1", 7000000), _pod("triton-5", 3000000)]}

RULES = """\
rules:
- seriesQuery: '{__name__=~"nv_inference_queue_duration_us|tenantb_only_queue_duration_us",namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: namespace}
      pod: {resource: pod}
  name:
    matches: "^(.*)_us$"
    as: "${1}_per_second"
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)'
"""

BUILT_IN = "triton:queue_compute:ratio"  # the built-in rule: a query without discovery first
AUTH_FAILED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "code": 500,
               "reason": "InternalError",
               "message": f"unable to fetch metric {BUILT_IN}: Prometheus refused the adapter's credentials "
                          "(authentication towards Prometheus failed)"}

RECORD_START = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4} ")

STACK = None
EXTRA = {}  # name -> Proc: store B, its fake_triton, nginx, vmauth


def b_scrape_config(sd_file):
    """Store B scrapes its pods twice: as they are, and once more renamed to a metric only B has."""
    return (
        "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: triton\n    file_sd_configs: [{{files: [{json.dumps(sd_file)}]}}]\n"
        f"  - job_name: tenant-b-only\n    file_sd_configs: [{{files: [{json.dumps(sd_file)}]}}]\n"
        "    metric_relabel_configs:\n"
        "      - {source_labels: [__name__], regex: nv_inference_queue_duration_us, action: keep}\n"
        "      - {source_labels: [__name__], regex: nv_inference_(.*), target_label: __name__,"
        " replacement: tenantb_only_$1}\n")


def spawn(name, argv):
    proc = Proc(name, argv, os.path.join(STACK.logdir, f"{name}.log"))
    EXTRA[name] = proc
    return proc


def wait_port_file(proc, path):
    def ready():
        if not proc.alive():
            raise Abort(f"{proc.name} exited with {proc.popen.returncode}")
        with open(path, encoding="utf-8") as f:
            return int(f.read().strip())
    return wait_for(ready, 20, what=f"{proc.name} port file")


def start_store_b():
    workdir = os.path.join(STACK.workdir, "tenant-b")
    os.makedirs(workdir, exist_ok=True)
    pods, sd, port_file = (os.path.join(workdir, n) for n in ("pods.json", "targets.json", "triton.port"))
    with open(pods, "w", encoding="utf-8") as f:
        json.dump(PODS_B, f)
    triton = spawn("fake_triton_b", [*module_argv("fake_triton"), "--pods", pods, "--port", "0",
                                     "--port-file", port_file, "--prometheus-config",
                                     os.path.join(workdir, "unused.yml"), "--sd-file", sd])
    wait_port_file(triton, port_file)
    config = os.path.join(workdir, "scrape.yml")
    with open(config, "w", encoding="utf-8") as f:
        f.write(b_scrape_config(sd))
    port = free_port()
    store = spawn("store_b", victoria.store_argv(port, os.path.join(workdir, "data"), "1s")
                  + [f"-promscrape.config={config}", "-promscrape.fileSDCheckInterval=1s"])
    wait_for(lambda: store.alive() and victoria.healthy(port), 30, what="store B /health")
    return port


def stop_extra():
    for name in list(EXTRA):
        EXTRA.pop(name).stop()


def setUpModule():
    global STACK
    problems = missing_tools(need_kubectl=False, need_curl=False, engine="victoriametrics") + nginx.missing()
    if problems:
        raise AssertionError("tenancy prerequisites missing (CI must install them):\n  " + "\n  ".join(problems))
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda s, _f: (_ for _ in ()).throw(KeyboardInterrupt(f"signal {s}")))
    STACK = Stack(PODS_A, engine="victoriametrics", latency_offset="1s")
    try:
        STACK.start()
        rules = os.path.join(STACK.workdir, "rules.yaml")
        with open(rules, "w", encoding="utf-8") as f:
            f.write(RULES)
        STACK.rules_file = rules
        STACK.store_b = start_store_b()
        STACK.router_dir = os.path.join(STACK.workdir, "router")
        STACK.router_port = free_port()
        router = spawn("router", nginx.argv(STACK.router_dir, nginx.tenant_router_conf(
            STACK.router_dir, STACK.router_port, {"tenant-a": STACK.prom_port, "tenant-b": STACK.store_b})))
        wait_for(lambda: router.alive() and os.path.exists(os.path.join(STACK.router_dir, "nginx.pid")), 10,
                 what="nginx router")
        STACK.vmauth_port = free_port()
        config = victoria.write_vmauth_config(os.path.join(STACK.workdir, "vmauth.json"), [
            {"bearer_token": "token-a", "url_prefix": f"http://127.0.0.1:{STACK.prom_port}"},
            {"bearer_token": "token-b", "url_prefix": f"http://127.0.0.1:{STACK.store_b}"},
            {"username": "user-a", "password": "password-a", "url_prefix": f"http://127.0.0.1:{STACK.prom_port}"},
            {"username": "user-b", "password": "password-b", "url_prefix": f"http://127.0.0.1:{STACK.store_b}"}])
        vmauth = spawn("vmauth", victoria.vmauth_argv(STACK.vmauth_port, config))
        wait_for(lambda: vmauth.alive() and victoria.healthy(STACK.vmauth_port), 20, what="vmauth /health")
        STACK.apply_pod(NS, "triton-5", labels={"app": "triton"})  # a pod only B has series for
        # Both stores have B's metric names and rates before any adapter asks.
        wait_for(lambda: len(own_answer("b", "tenantb_only_queue_duration_us")) == 3
                 and len(own_answer("a")) == 2, 60, interval=0.5, what="series in both stores")
    except BaseException:
        sys.stderr.write("\n" + STACK.log_tails() + "\n")
        stop_extra()
        STACK.stop()
        raise


def tearDownModule():
    stop_extra()
    if STACK is not None:
        STACK.stop()


def own_answer(tenant, series="nv_inference_queue_duration_us"):
    """{pod: milli value} from the tenant's store itself, for the adapter rule's query."""
    port = STACK.prom_port if tenant == "a" else STACK.store_b
    doc = victoria.query(port, f'sum(rate({series}{{namespace="{NS}"}}[1m])) by (pod)')
    return {r["metric"]["pod"]: round(1000 * float(r["value"][1])) for r in doc["data"]["result"]}


def write_token(name, token):
    path = os.path.join(STACK.workdir, f"{name}.token")
    with open(path, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return path


def adapter_with(url, *args, discovery=True):
    """Restart the adapter against ``url`` with these Prometheus flags and the discovery config (or the
    built-in rule, whose metric is known without asking the store)."""
    STACK.upstream_url = url
    config = ["--config", STACK.rules_file, "--metrics-relist-interval=2s"] if discovery else []
    STACK.restart_adapter([*config, "--metrics-cache-ttl=0s", *args])


def discovered():
    status, doc = STACK.get(f"/apis/{GROUP}/v1beta2")
    if status != 200:
        return None
    return sorted(r["name"] for r in doc.get("resources") or [])


def served(metric=METRIC):
    status, doc = STACK.get(STACK.metric_path(NS, metric=metric, label_selector=SELECTOR))
    if status != 200:
        return status, doc
    return status, {it["describedObject"]["name"]: parse_quantity_milli(it["value"]) for it in doc["items"]}


class Tenancy(unittest.TestCase):
    maxDiff = None

    def run(self, result=None):
        before = len(result.failures) + len(result.errors) if result is not None else 0
        outcome = super().run(result)
        if result is not None and len(result.failures) + len(result.errors) > before and STACK:
            sys.stderr.write(f"\n==== logs after {self.id()} ====\n"
                             f"{STACK.log_tails(['adapter'], lines=25)}\n")
        return outcome

    def assert_tenant(self, tenant):
        """Discovery, values and pods are exactly the tenant's own store's, the other's never."""
        want = {"pods/" + METRIC, "namespaces/" + METRIC}
        if tenant == "b":
            want |= {"pods/" + B_ONLY, "namespaces/" + B_ONLY}
        names = wait_for(lambda: (lambda d: d if d and set(d) >= {"pods/" + METRIC} else None)(discovered()),
                         20, interval=0.5, what="discovery from /api/v1/series")
        self.assertEqual(set(names), want, f"tenant {tenant}: discovery")
        status, got = served()
        self.assertEqual(status, 200, got)
        expected = own_answer(tenant)
        self.assertEqual(sorted(got), sorted(expected), f"tenant {tenant}: pods with a value")
        for pod, value in expected.items():
            self.assertLessEqual(abs(got[pod] - value), TOLERANCE_MILLI, f"{pod}: {got} vs the store's {expected}")
        status, doc = served(B_ONLY)
        if tenant == "a":
            self.assertEqual(status, 404, f"tenant-b's metric through tenant-a: {doc}")
            self.assertEqual(doc.get("reason"), "NotFound", doc)
        else:
            self.assertEqual(status, 200, doc)

    def requests_logged_by(self, since):
        return [f for f in nginx.access_log(STACK.router_dir) if float(f[0]) >= since]

    def test_a_header_routes_to_tenant_a_only(self):
        since = time.time()
        adapter_with(f"http://127.0.0.1:{STACK.router_port}", "--prometheus-header", "X-Scope-OrgID=tenant-a")
        self.assert_tenant("a")
        seen = self.requests_logged_by(since)
        self.assertTrue(any(f[3] == "/api/v1/series" for f in seen), f"no discovery through the router: {seen}")
        self.assertTrue(any(f[3] == "/api/v1/query" for f in seen), seen)
        self.assertEqual({f[1] for f in seen}, {"tenant-a"}, f"every request carried tenant-a: {seen}")
        self.assertEqual({f[4] for f in seen}, {"200"}, seen)

    def test_b_header_tenant_b_sees_its_own(self):
        """The control: the same router and config with tenant-b's id serve B's values and B's metric."""
        adapter_with(f"http://127.0.0.1:{STACK.router_port}", "--prometheus-header", "X-Scope-OrgID=tenant-b")
        self.assert_tenant("b")

    def test_c_token_routes_to_tenant_a_only(self):
        adapter_with(f"http://127.0.0.1:{STACK.vmauth_port}", "--prometheus-token-file", write_token("a", "token-a"))
        self.assert_tenant("a")

    def test_c_basic_auth_routes_to_tenant_a_only(self):
        adapter_with(f"http://127.0.0.1:{STACK.vmauth_port}", "--prometheus-username", "user-a",
                     "--prometheus-password-file", write_token("password-a", "password-a"))
        self.assert_tenant("a")

    @staticmethod
    def log_records():
        """The running adapter's log records (after the stack's last ``=== … starting:`` line), a record's
        continuation lines joined to it (an upstream body quoted in ``error.detail`` may hold a newline)."""
        records = []
        with open(os.path.join(STACK.logdir, "adapter.log"), encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("=== ") and " starting: " in line:
                    records = []
                elif RECORD_START.match(line) or not records:
                    records.append(line.rstrip("\n"))
                else:
                    records[-1] += "\\n" + line.rstrip("\n")
        return records

    def assert_refused(self, context):
        """The refusal reaches the client as the authentication Status, and the log says so."""
        status, doc = served(BUILT_IN)
        self.assertEqual((status, doc), (500, AUTH_FAILED), context)

        def logged():
            return [r for r in self.log_records()
                    if "prometheus query failed" in r and "error.kind=unauthorized" in r]
        wait_for(logged, 5, what="the log record for the refused credential")
        # Discovery keeps answering (it never empties on a failed listing).
        self.assertEqual(STACK.get(f"/apis/{GROUP}/v1beta2")[0], 200)

    def test_d_no_credentials_is_an_authentication_failure(self):
        adapter_with(f"http://127.0.0.1:{STACK.vmauth_port}", discovery=False)
        self.assert_refused("vmauth 401 (no Authorization header)")

    def test_d_unknown_token_is_rejected_and_never_logged(self):
        """vmauth 1.79.5 answers a token it does not know with 400 (not 401) and quotes the token in the
        body: the adapter reports a rejected query (it cannot tell this 400 from a bad query) and keeps
        the body, hence the token, out of the log and the answer."""
        adapter_with(f"http://127.0.0.1:{STACK.vmauth_port}", "--prometheus-token-file",
                     write_token("wrong", "token-nobody-knows"), discovery=False)
        status, doc = served(BUILT_IN)
        self.assertEqual((status, doc), (500, {**AUTH_FAILED, "message": f"unable to fetch metric {BUILT_IN}: "
                                                                         "Prometheus rejected the query"}))
        records = wait_for(lambda: [r for r in self.log_records() if "prometheus query failed" in r], 5,
                           what="the log record of the failed query")
        self.assertIn("error.kind=rejected", records[0])
        self.assertNotIn("token-nobody-knows", "\n".join(self.log_records()), "the credential reached the log")

    def test_e_unknown_tenant_is_an_authentication_failure(self):
        adapter_with(f"http://127.0.0.1:{STACK.router_port}", "--prometheus-header", "X-Scope-OrgID=tenant-c",
                     discovery=False)
        self.assert_refused("router 403")


if __name__ == "__main__":
    unittest.main(verbosity=2)
