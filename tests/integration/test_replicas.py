#!/usr/bin/env python3
"""Two adapter replicas behind one address, one killed and restarted while HPAs keep asking.

As a Kubernetes Service spreads connections over an adapter Deployment, nginx's ``stream`` module passes
TLS connections through to two replicas (``tests/support/nginx.py``): TLS ends at each adapter, which
serve the same certificate (one ``--cert-dir``).  Both query Prometheus through
``tests/support/prometheus_fault_proxy.py`` (in mode ``pass``: it only counts) with the default
``--metrics-cache-ttl`` of 5 s.

HPA-like clients (three metric requests: two selections in team-a, one in team-b; two clients each, a new
connection per request, every 0.4 s, far more often than an HPA's 15 s, to load the cache) run for
``DURATION`` seconds.  A third of the way in, replica 2 is SIGKILLed; nginx sends new connections to
replica 1.  It is started again on a new port and, once ``/readyz`` answers, put back into nginx (a
reload, as an endpoint update would).  Then:

* no wrong answer: every 200 holds exactly the expected pods with the configured values;
* no failed request beyond the connections the kill cut (a reset or EOF on a request in flight to
  replica 2 at that instant): no error status at all;
* the query rate: for each (rule, namespace, metric selector), each replica sent at most one query per
  TTL (counted at the proxy by query text and time, and from each replica's own
  ``custom_metrics_adapter_prometheus_query_duration_seconds_count``).

Prints one measured line for docs/deployment.md.  ``/usr/bin/python3 -m unittest -v tests/integration/test_replicas.py``
"""

import http.client
import json
import math
import os
import signal
import socket
import ssl
import sys
import threading
import time
import unittest
import urllib.parse

from tests.support import nginx
from tests.support.e2e_stack import (
    GROUP, METRIC, Abort, Proc, Stack, adapter_bin, free_port, metric_sum, missing_tools, parse_quantity_milli,
    parse_metrics_text, wait_for)

TTL = 5.0
DURATION = 36.0
INTERVAL = 0.4
TOLERANCE = 2
QUERY_COUNT = "custom_metrics_adapter_prometheus_query_duration_seconds_count"


def _pod(ns, name, app, queue, compute, model="tensorrt_llm"):
    return {"namespace": ns, "name": name, "labels": {"app": app}, "models": [
        {"model": model, "version": "1", "queue_us_per_s": queue, "compute_us_per_s": compute}]}


PODS = {"pods": [
    _pod("team-a", "triton-0", "triton", 1500000, 1000000),
    _pod("team-a", "triton-1", "triton", 2500000, 1000000),
    _pod("team-a", "other-0", "other", 4000000, 1000000),
    _pod("team-b", "triton-0", "triton", 9000000, 1000000),
]}

#: (namespace, metric selector) -> the exact answer (pod -> milli value): one key of the query cache each.
HPAS = {
    ("team-a", None): {"triton-0": 1500, "triton-1": 2500},
    ("team-a", "model=tensorrt_llm"): {"triton-0": 1500, "triton-1": 2500},
    ("team-b", None): {"triton-0": 9000},
}
CLIENTS_PER_HPA = 2

STACK = None
NGINX = {}
REPLICAS = {}  # replica name -> Proc


def replica_argv(port):
    return [adapter_bin(), "--secure-port", str(port), "--bind-address", "127.0.0.1", "--cert-dir", STACK.certdir,
            "--kubeconfig", STACK.standin_kubeconfig, "--prometheus-url", STACK.prometheus_url,
            "--prometheus-query-timeout", "2s", "--log-level", "debug", f"--metrics-cache-ttl={TTL:g}s"]


def https(port, path, timeout=10):
    """(status, body) over a new TLS connection verified with the adapters' CA."""
    context = ssl.create_default_context(cafile=STACK.ca_file)
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=context)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {STACK.auth_token}"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def start_replica(name):
    port = free_port()
    proc = Proc(name, replica_argv(port), os.path.join(STACK.logdir, f"{name}.log"))
    proc.port = port
    REPLICAS[name] = proc

    def ready():
        if not proc.alive():
            raise Abort(f"{name} exited with {proc.popen.returncode}")
        return https(port, "/readyz", timeout=3)[0] == 200
    wait_for(ready, 60, interval=0.2, what=f"{name} /readyz")
    return proc


def write_balancer():
    """(Re)write nginx's config over the running replicas; reload a running nginx (SIGHUP)."""
    ports = [p.port for p in REPLICAS.values() if p.alive()]
    text = nginx.tcp_balancer_conf(NGINX["dir"], NGINX["port"], ports)
    argv = nginx.argv(NGINX["dir"], text)
    if "proc" in NGINX:
        os.kill(NGINX["proc"].pid, signal.SIGHUP)
    return argv


def setUpModule():
    global STACK
    problems = missing_tools(need_kubectl=False, need_curl=False) + nginx.missing(stream=True)
    if problems:
        raise AssertionError("replica-test prerequisites missing:\n  " + "\n  ".join(problems))
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda s, _f: (_ for _ in ()).throw(KeyboardInterrupt(f"signal {s}")))
    # The stack's own adapter makes the certificate; the replicas are started here and share it.
    STACK = Stack(PODS, prometheus_proxy=True, engine="prometheus", log_level="info")
    try:
        STACK.start()
        STACK.procs.pop("adapter").stop()
        start_replica("replica-1")
        start_replica("replica-2")
        NGINX["dir"] = os.path.join(STACK.workdir, "balancer")
        NGINX["port"] = free_port()
        NGINX["proc"] = Proc("balancer", write_balancer(), os.path.join(STACK.logdir, "balancer.log"))
        wait_for(lambda: NGINX["proc"].alive() and https(NGINX["port"], "/readyz", 3)[0] == 200, 10,
                 what="nginx pass-through")
        # Each replica on its own port, not through the balancer: a replica whose first query came before
        # Prometheus had two samples of every series keeps that partial answer for a TTL, and a wait through
        # nginx can be satisfied by the other replica (found in CI: 11 answers without team-b's pod).
        for name, proc in REPLICAS.items():
            for (ns, sel), want in HPAS.items():
                wait_for(lambda: answer(ns, sel, port=proc.port) == want, 45, interval=0.5,
                         what=f"{name}: values in {ns} {sel}")
    except BaseException:
        sys.stderr.write("\n" + STACK.log_tails(["replica-1", "replica-2", "prometheus", "standin"]) + "\n")
        tearDownModule()
        raise


def tearDownModule():
    for proc in [NGINX.pop("proc", None), *REPLICAS.values()]:
        if proc is not None:
            proc.stop()
    REPLICAS.clear()
    if STACK is not None:
        STACK.stop()


def path(ns, selector):
    return STACK.metric_path(ns, label_selector="app=triton", metric_label_selector=selector)


def decode(body):
    doc = json.loads(body)
    return {it["describedObject"]["name"]: parse_quantity_milli(it["value"]) for it in doc["items"]}


def answer(ns, selector, port=None):
    status, body = https(port or NGINX["port"], path(ns, selector))
    return decode(body) if status == 200 else None


def close_enough(got, want):
    return sorted(got) == sorted(want) and all(abs(got[p] - want[p]) <= TOLERANCE for p in want)


class Replicas(unittest.TestCase):
    maxDiff = None

    @staticmethod
    def diagnosis(bad, began):
        """What the replicas logged about queries, pods and dropped values, to tell which one answered wrong."""
        lines = [f"{len(bad)} bad answers at " + ", ".join(f"{r[0] - began:.1f}s {r[1]} {r[2]}" for r in bad[:20])]
        wanted = ("prometheus query", "left out", "pods listed", "pod list", "watch", "error")
        for name in ("replica-1", "replica-2"):
            path = os.path.join(STACK.logdir, f"{name}.log")
            if not os.path.exists(path):
                continue
            with open(path, errors="replace") as f:
                picked = [line.rstrip() for line in f if any(w in line for w in wanted)]
            lines.append(f"----- {name}: last {min(60, len(picked))} of {len(picked)} lines about queries and pods -----")
            lines.extend(picked[-60:])
        return "\n".join(lines) + "\n"

    def test_a_kill_and_restart_a_replica_under_hpa_load(self):
        STACK.proxy_requests(reset=True)
        counts_before = {n: metric_sum(self.own_metrics(p.port), QUERY_COUNT) for n, p in REPLICAS.items()}
        results = []  # (time, key, outcome, detail)
        lock = threading.Lock()
        stop = threading.Event()

        def client(key):
            ns, sel = key
            while not stop.is_set():
                started = time.monotonic()
                try:
                    status, body = https(NGINX["port"], path(ns, sel), timeout=10)
                    if status != 200:
                        outcome, detail = "status", (status, body[:300])
                    elif close_enough(decode(body), HPAS[key]):
                        outcome, detail = "ok", None
                    else:
                        outcome, detail = "wrong", decode(body)
                except (ConnectionError, http.client.RemoteDisconnected, ssl.SSLError, socket.timeout) as exc:
                    outcome, detail = "cut", repr(exc)
                with lock:
                    results.append((started, key, outcome, detail))
                stop.wait(max(0.0, INTERVAL - (time.monotonic() - started)))

        threads = [threading.Thread(target=client, args=(key,), daemon=True)
                   for key in HPAS for _ in range(CLIENTS_PER_HPA)]
        began = time.monotonic()
        for t in threads:
            t.start()
        stop.wait(DURATION / 3)
        # Replica 2 dies at once (OOM kill, node loss): in-flight connections are cut.
        killed_at = time.monotonic()
        os.killpg(REPLICAS["replica-2"].pid, signal.SIGKILL)
        REPLICAS.pop("replica-2").stop()  # reaped; its counter died with it (the proxy counted its queries)
        stop.wait(5)
        # A new pod: new port, put behind the balancer once ready (an endpoint update).
        restarted_at = time.monotonic()
        start_replica("replica-2")
        write_balancer()
        ready_at = time.monotonic()
        stop.wait(max(0.0, DURATION - (time.monotonic() - began)))
        stop.set()
        for t in threads:
            t.join(15)
        elapsed = time.monotonic() - began
        seen = STACK.proxy_requests()
        counts_after = {n: metric_sum(self.own_metrics(p.port), QUERY_COUNT) for n, p in REPLICAS.items()}

        outcomes = {}
        for _, _, outcome, _ in results:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        report = (f"{len(results)} requests in {elapsed:.0f}s: {outcomes}; replica-2 killed at "
                  f"{killed_at - began:.1f}s, restarted {restarted_at - began:.1f}s, back at {ready_at - began:.1f}s")
        sys.stderr.write(f"\n{report}\n")
        bad = [r for r in results if r[2] in ("wrong", "status")]
        if bad:
            sys.stderr.write(self.diagnosis(bad, began))
        self.assertEqual([r for r in results if r[2] == "wrong"], [], f"wrong answers; {report}")
        self.assertEqual([r for r in results if r[2] == "status"], [], f"error statuses; {report}")
        # Only requests that were in flight when replica 2 died may have been cut.
        cut = [r for r in results if r[2] == "cut"]
        for started, key, _, detail in cut:
            self.assertLess(abs(started - killed_at), 10 + INTERVAL, f"a cut request away from the kill: {detail}")
        self.assertLessEqual(len(cut), len(threads), f"more cut requests than connections in flight: {cut}")
        self.assertGreater(outcomes.get("ok", 0), 0.9 * len(results), report)

        # The query rate, at the proxy: per key, at most one query per TTL from each replica lifetime
        # (the restarted replica starts with an empty cache), i.e. for a window of length w,
        # at most (replicas alive) x (w / TTL + 1).
        queries = [q for q in seen["queries"] if q["path"].endswith("/api/v1/query")]
        self.assertLess(seen["count"], 200, "the proxy keeps the last 200 queries: the run sent more")
        per_key = {}
        for q in queries:
            per_key.setdefault(q["query"], []).append(q["time"])
        self.assertEqual(len(per_key), len(HPAS), f"one query text per HPA key: {sorted(per_key)}")
        lifetimes = 3  # replica-1 all along, replica-2 before the kill, replica-2 after the restart
        bound = math.floor(elapsed / TTL) * 2 + lifetimes
        for text, times in per_key.items():
            self.assertLessEqual(len(times), bound, f"{text}: {len(times)} queries in {elapsed:.0f}s")
        # And from replica 1's own counter (it lived through the whole run).
        sent_1 = counts_after["replica-1"] - counts_before["replica-1"]
        self.assertLessEqual(sent_1, len(HPAS) * (math.floor(elapsed / TTL) + 1),
                             f"replica-1 sent {sent_1} queries for {len(HPAS)} keys in {elapsed:.0f}s, TTL {TTL:g}s")
        rate = len(queries) / elapsed
        sys.stderr.write(
            f"measured: {len(HPAS)} HPA keys x {CLIENTS_PER_HPA} clients every {INTERVAL:g}s "
            f"({len(results) / elapsed:.1f} requests/s) across 2 replicas, TTL {TTL:g}s: {len(queries)} queries "
            f"in {elapsed:.0f}s = {rate:.2f}/s at the engine (bound {len(HPAS)} x 2 / {TTL:g}s = "
            f"{len(HPAS) * 2 / TTL:.2f}/s); replica-1 alone {sent_1} ({sent_1 / elapsed:.2f}/s)\n")
        self.assertLessEqual(rate, len(HPAS) * 2 / TTL + lifetimes * len(HPAS) / elapsed, report)

    def test_b_many_hpas_in_one_namespace_share_one_query_per_replica(self):
        """HPAs at the real 15 s sync period, all on one metric in one namespace (each its own Deployment's
        labelSelector): the pods are selected by the adapter, so they share one query key, and the engine
        sees at most one query per TTL per replica however many HPAs there are."""
        hpas, sync, duration = 24, 15.0, 30.0
        selectors = [f"app=triton,hpa!=h{i}" for i in range(hpas)]  # distinct selectors, the same pods
        want = HPAS[("team-a", None)]
        STACK.proxy_requests(reset=True)
        results, lock = [], threading.Lock()
        began = time.monotonic()

        def hpa(i):
            time.sleep(i * sync / hpas)  # syncs spread over the period, as independent controllers are
            while True:
                started = time.monotonic()
                if started - began >= duration:
                    break
                p = STACK.metric_path("team-a", label_selector=selectors[i])
                try:
                    status, body = https(NGINX["port"], p)
                    outcome = "ok" if status == 200 and close_enough(decode(body), want) else (status, body[:200])
                except OSError as exc:
                    outcome = repr(exc)
                with lock:
                    results.append(outcome)
                if started + sync - began >= duration:
                    break
                time.sleep(max(0.0, sync - (time.monotonic() - started)))
        threads = [threading.Thread(target=hpa, args=(i,), daemon=True) for i in range(hpas)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(duration + 20)
        elapsed = time.monotonic() - began
        queries = [q for q in STACK.proxy_requests()["queries"] if q["path"].endswith("/api/v1/query")]
        self.assertEqual([r for r in results if r != "ok"], [], "every HPA request answered right")
        replicas = len(REPLICAS)
        bound = replicas * (math.floor(elapsed / TTL) + 1)
        sys.stderr.write(f"\nmeasured: {hpas} HPAs (one namespace, one metric, sync {sync:g}s) across {replicas} "
                         f"replicas, TTL {TTL:g}s: {len(results)} requests ({len(results) / elapsed:.2f}/s), "
                         f"{len(queries)} queries in {elapsed:.0f}s = {len(queries) / elapsed:.2f}/s at the engine "
                         f"(bound {bound}; without sharing {len(results)})\n")
        self.assertLessEqual(len(queries), bound, f"{len(queries)} queries for {len(results)} requests")

    @staticmethod
    def own_metrics(port):
        status, body = https(port, "/metrics")
        if status != 200:
            raise AssertionError(f"/metrics on :{port} -> {status}")
        return parse_metrics_text(body.decode())


if __name__ == "__main__":
    unittest.main(verbosity=2)
