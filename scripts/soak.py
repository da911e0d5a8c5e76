#!/usr/bin/env python3
"""Soak test: the adapter under steady HPA-like load with pod churn and a Prometheus restart.

Starts on 127.0.0.1, in a temp dir: tests/support/fake_triton_bulk.py (series for a pool of simulated
pods, one scrape target), a real Prometheus, the Kubernetes API stand-in and the adapter
($ADAPTER_BIN; scripts/soak.sh builds a release one).  Then, for --duration (default 10m):

* HPA-like clients (--clients, default 4) each request the HPA's
  ``pods/*/triton:queue_compute:ratio?labelSelector=app=triton`` (v1beta2 and v1beta1) every
  100 ms to 1 s, and now and then one pod by name; one more client does the same over HTTP/2
  (curl --http2) every 2 s; a discovery client asks ``/apis/custom.metrics.k8s.io/v1beta2`` and
  ``/readyz`` every second;
* pod churn: every --churn-interval (default 3 s) a pod is created, deleted, or marked
  terminating (deletionTimestamp) in the stand-in, between 10 and 30 live pods; the deleted and
  terminating pods' series stay in Prometheus, as they do for a while in a real cluster, and two
  live pods have no series at all, and another app's pods share the namespace;
* Prometheus is stopped in the middle for --prometheus-down (default 30 s) and started again.

Every answer is checked.  A wrong answer is: an item for a pod that was not live (deleted,
terminating) at any time from --watch-grace (default 2 s) before the request was sent until its
answer came; an item for another app's pod or a pod without series; a value off the simulated
ratio by more than 2%; any value answered once Prometheus had been down for longer than the cache
TTL (+1 s); discovery or /readyz not 200; a malformed body.  Errors (e.g. 503 while Prometheus is
down) are counted by kind and are not wrong answers.

Exit status: 0 when there was no wrong answer, the adapter kept running, answers came back after
the Prometheus restart, VmRSS grew by at most --max-rss-growth-mib between the start sample (after
warm-up) and the end, and VmHWM stayed within --max-rss-mib; 1 otherwise; 2 on a setup problem.
"""

import argparse
import collections
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "bench"))

import benchlib as bl  # noqa: E402

NAMESPACE = "soak"
POOL = 30  # triton-00 .. triton-29 have series; 10..30 of them exist at any time
MIN_LIVE, MAX_LIVE = 10, 30
NO_SERIES = ("triton-noseries-0", "triton-noseries-1")  # live, labelled app=triton, no series
OTHER_APP = ("embedder-0", "embedder-1")  # series and live, but app=embedder
VALUE_TOLERANCE = 0.02
TTL_SLACK = 1.0


def parse_duration(text):
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 10m, 90s, 600)")
    return float(m.group(1)) * {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600}[m.group(2)]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=parse_duration, default=600.0, help="how long to run (default 10m)")
    p.add_argument("--clients", type=int, default=4, help="HPA-like HTTP/1.1 clients (default 4)")
    p.add_argument("--churn-interval", type=parse_duration, default=3.0, help="pod churn period (default 3s)")
    p.add_argument("--prometheus-down", type=parse_duration, default=30.0,
                   help="how long Prometheus stays stopped in the middle (default 30s)")
    p.add_argument("--cache-ttl", type=parse_duration, default=5.0,
                   help="--metrics-cache-ttl given to the adapter (default 5s)")
    p.add_argument("--watch-grace", type=parse_duration, default=2.0,
                   help="how long a pod change may take to reach the adapter's cache (default 2s)")
    p.add_argument("--max-rss-growth-mib", type=float, default=16.0,
                   help="allowed VmRSS growth from the start sample to the end (default 16 MiB)")
    p.add_argument("--max-rss-mib", type=float, default=128.0,
                   help="allowed VmHWM, the Deployment's memory limit (default 128 MiB)")
    p.add_argument("--seed", type=int, default=1, help="random seed for churn and client timing")
    p.add_argument("--json", help="also write the report as JSON here")
    args = p.parse_args(argv)
    if not 20 <= args.duration <= 24 * 3600:
        p.error("--duration must be between 20s and 24h")
    if not 1 <= args.clients <= 64:
        p.error("--clients must be 1..64")
    if args.prometheus_down >= args.duration / 2:
        p.error("--prometheus-down must be shorter than half of --duration")
    return args


def pool_name(i):
    return f"triton-{i:02d}"


def expected_milli(name):
    """The simulated ratio of a pool pod (benchlib.triton_pod), in milli-units."""
    i = int(name.rsplit("-", 1)[1])
    return round(1000 * 50_000 * (1 + i % 50) / 1_000_000)


class PodHistory:
    """When each pod was live (exists, not terminating), as the stand-in acknowledged it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.changes = collections.defaultdict(list)  # name -> [(time, live)]

    def set(self, name, live, when):
        with self.lock:
            self.changes[name].append((when, live))

    def live_now(self):
        with self.lock:
            return {n for n, ch in self.changes.items() if ch and ch[-1][1]}

    def state(self, name):
        with self.lock:
            ch = self.changes.get(name)
            return ch[-1][1] if ch else None

    def live_for(self, name, now):
        """Seconds ``name`` has been live without a break at ``now``, or None if it is not live."""
        with self.lock:
            ch = self.changes.get(name)
            return now - ch[-1][0] if ch and ch[-1][1] else None

    def live_between(self, name, t0, t1):
        """Whether ``name`` was live at any moment of [t0, t1]."""
        with self.lock:
            ch = list(self.changes.get(name, ()))
        live = False
        for when, state in ch:
            if when <= t0:
                live = state
            elif when <= t1:
                if state or live:
                    return True
            else:
                break
        return live


class Report:
    """Counters and wrong answers, shared by all client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = collections.Counter()  # endpoint -> count
        self.answers = collections.Counter()  # (endpoint, "200 OK" / "503 ServiceUnavailable" ...) -> count
        self.latency = collections.defaultdict(list)  # (endpoint, kind) -> seconds
        self.first_error_at = None  # monotonic time of the first metric answer that was not 200
        self.wrong = collections.Counter()  # kind -> count
        self.wrong_examples = []
        self.notes = collections.Counter()  # non-fatal observations
        self.last_ok = {}  # endpoint -> time of last 200 with items

    def answer(self, endpoint, kind, seconds=None, sent=None):
        with self.lock:
            self.requests[endpoint] += 1
            self.answers[(endpoint, kind)] += 1
            if seconds is not None:
                self.latency[(endpoint, kind)].append(seconds)
            if sent is not None and endpoint.startswith("metric") and not kind.startswith(("200", "404")) \
                    and self.first_error_at is None:
                self.first_error_at = sent

    def bad(self, kind, detail):
        with self.lock:
            self.wrong[kind] += 1
            if len(self.wrong_examples) < 20:
                self.wrong_examples.append(f"{time.strftime('%H:%M:%S')} {kind}: {detail}")

    def note(self, kind):
        with self.lock:
            self.notes[kind] += 1


class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.history = PodHistory()
        self.report = Report()
        self.stop_event = threading.Event()
        self.prom_down_since = None  # monotonic time Prometheus' process had exited
        self.prom_restart_at = None  # monotonic time we began starting it again
        self.prom_up_again = None  # monotonic time it answered /-/ready again
        self.prom_events = {}
        self.rss = []  # (t, VmRSS KiB, VmHWM KiB)
        pool = [bl.triton_pod(NAMESPACE, pool_name(i), i) for i in range(POOL)]
        others = [bl.triton_pod(NAMESPACE, n, 7, labels={"app": "embedder"}) for n in OTHER_APP]
        initial_live = [p for p in pool[:20]]
        no_series = [{"namespace": NAMESPACE, "name": n, "labels": {"app": "triton"}} for n in NO_SERIES]
        self.stack = bl.BulkStack({"pods": initial_live + no_series + others}, {"pods": pool + others},
                                  scrape_interval="2s", log_level="info",
                                  adapter_args=self.adapter_args())
        self.t0 = None

    def adapter_args(self):
        if bl.adapter_has_flag("--metrics-cache-ttl"):
            return [f"--metrics-cache-ttl={self.args.cache_ttl:g}s"]
        bl.say("soak: WARNING: this adapter has no --metrics-cache-ttl; assuming no value cache")
        self.args.cache_ttl = 0.0
        return []

    def now(self):
        return time.monotonic()

    # -- checks ----------------------------------------------------------------------------------

    def check_items(self, endpoint, doc, sent, received, version, single=None):
        items = doc.get("items")
        if doc.get("kind") != "MetricValueList" or not isinstance(items, list):
            self.report.bad("malformed body", f"{endpoint}: {json.dumps(doc)[:200]}")
            return
        down, back = self.prom_down_since, self.prom_restart_at
        if items and down is not None and sent > down + self.args.cache_ttl + TTL_SLACK and (
                back is None or sent < back):
            self.report.bad("value while Prometheus was down beyond the cache TTL",
                            f"{endpoint}: {len(items)} items, sent {sent - down:.1f}s after Prometheus stopped")
        for item in items:
            try:
                name = item["describedObject"]["name"]
                value = bl.e2e_stack.parse_quantity_milli(item["value"])
                metric = item["metric"]["name"] if version == "v1beta2" else item["metricName"]
                if metric != bl.METRIC or item["describedObject"]["namespace"] != NAMESPACE:
                    raise KeyError("metric or namespace")
                if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", item["timestamp"]):
                    raise KeyError("timestamp")
            except (KeyError, TypeError, ValueError) as exc:
                self.report.bad("malformed item", f"{endpoint}: {exc}: {json.dumps(item)[:200]}")
                continue
            if single is not None and name != single:
                self.report.bad("item for another pod", f"{endpoint}: asked {single}, got {name}")
            elif name in OTHER_APP:
                self.report.bad("item for another app's pod", f"{endpoint}: {name}")
            elif name in NO_SERIES:
                self.report.bad("item for a pod without series", f"{endpoint}: {name}")
            elif not name.startswith("triton-") or self.history.state(name) is None:
                self.report.bad("item for an unknown pod", f"{endpoint}: {name}")
            elif not self.history.live_between(name, sent - self.args.watch_grace, received):
                self.report.bad("item for a deleted or terminating pod",
                                f"{endpoint}: {name} (not live from {self.args.watch_grace:g}s before the request)")
            else:
                want = expected_milli(name)
                if abs(value - want) > max(2, VALUE_TOLERANCE * want):
                    self.report.bad("wrong value", f"{endpoint}: {name} = {item['value']}, want ~{want}m")
        if items:
            self.report.last_ok[endpoint] = received
        if single is None and self.prometheus_steady(sent):
            names = {it.get("describedObject", {}).get("name") for it in items if isinstance(it, dict)}
            for name in self.history.live_now():
                if name.startswith("triton-") and name not in NO_SERIES and name not in names \
                        and (self.history.live_for(name, sent) or 0) >= 5.0:
                    self.report.note("live pod (5 s or more) missing from a list")

    def prometheus_steady(self, t):
        """Prometheus was up, and had been for 15 s, at ``t`` (missing values are then worth noting)."""
        if self.prom_down_since is None:
            return True
        return self.prom_up_again is not None and t > self.prom_up_again + 15.0

    def status_kind(self, status, body):
        reason = ""
        if status == 200:
            return "200 OK"
        try:
            doc = json.loads(body)
            if isinstance(doc, dict) and doc.get("kind") == "Status":
                reason = doc.get("reason", "")
        except ValueError:
            reason = "non-JSON"
        return f"{status} {reason}".strip()

    # -- workers ---------------------------------------------------------------------------------

    def hpa_client(self, index, deadline):
        rng = random.Random(self.args.seed * 1000 + index)
        client = bl.KeepAliveClient(self.stack.adapter_port, self.stack.ssl_context(), bl.TOKEN, timeout=20)
        while not self.stop_event.is_set() and self.now() < deadline:
            version = "v1beta2" if rng.random() < 0.75 else "v1beta1"
            single = None
            if rng.random() < 0.15:
                single = pool_name(rng.randrange(POOL))
                path = (f"/apis/{bl.GROUP}/{version}/namespaces/{NAMESPACE}/pods/{single}/{bl.METRIC}")
                endpoint = "metric (one pod)"
            else:
                path = bl.metric_path(NAMESPACE, version=version)
                endpoint = "metric (pods/*, app=triton)"
            sent = self.now()
            try:
                status, body, _ = client.get(path)
            except (OSError, http.client.HTTPException) as exc:
                self.report.answer(endpoint, f"transport error {type(exc).__name__}")
                self.stop_event.wait(0.5)
                continue
            received = self.now()
            kind = self.status_kind(status, body)
            self.report.answer(endpoint, kind, received - sent, sent)
            if status == 200:
                try:
                    doc = json.loads(body)
                except ValueError:
                    self.report.bad("malformed body", f"{endpoint}: not JSON")
                else:
                    self.check_items(endpoint, doc, sent, received, version, single)
            elif single is not None and status == 404:
                if (self.history.live_for(single, sent) or 0) >= 5.0 and self.prometheus_steady(sent):
                    self.report.note("404 for a pod live for 5 s or more")
            self.stop_event.wait(rng.uniform(0.1, 1.0))
        client.close()

    def http2_client(self, deadline):
        """curl --http2 every 2 s: the protocol the kube-aggregator speaks."""
        url = self.stack.base_url + bl.metric_path(NAMESPACE)
        endpoint = "metric over HTTP/2 (curl)"
        while not self.stop_event.is_set() and self.now() < deadline:
            sent = self.now()
            try:
                res = subprocess.run([bl.e2e_stack.curl_bin(), "--http2", "-sS", "--max-time", "15",
                                      "--cacert", self.stack.ca_file, "-H", f"Authorization: Bearer {bl.TOKEN}",
                                      "-w", "\n%{http_version} %{http_code}", url],
                                     capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
            except (OSError, subprocess.SubprocessError) as exc:
                self.report.answer(endpoint, f"curl failed {type(exc).__name__}")
                self.stop_event.wait(2)
                continue
            received = self.now()
            body, _, trailer = res.stdout.rpartition("\n")
            parts = trailer.split()
            if res.returncode != 0 or len(parts) != 2:
                self.report.answer(endpoint, f"curl exit {res.returncode}")
            else:
                version, status = parts[0], int(parts[1])
                if version != "2":
                    self.report.bad("not HTTP/2", f"curl negotiated HTTP/{version}")
                self.report.answer(endpoint, self.status_kind(status, body), received - sent, sent)
                if status == 200:
                    try:
                        self.check_items(endpoint, json.loads(body), sent, received, "v1beta2")
                    except ValueError:
                        self.report.bad("malformed body", f"{endpoint}: not JSON")
            self.stop_event.wait(2)

    def discovery_client(self, deadline):
        client = bl.KeepAliveClient(self.stack.adapter_port, self.stack.ssl_context(), bl.TOKEN, timeout=10)
        while not self.stop_event.is_set() and self.now() < deadline:
            for endpoint, path in (("discovery", bl.DISCOVERY_PATH), ("readyz", "/readyz")):
                try:
                    status, body, elapsed = client.get(path)
                except (OSError, http.client.HTTPException) as exc:
                    self.report.answer(endpoint, f"transport error {type(exc).__name__}")
                    self.report.bad(f"{endpoint} failed", f"{type(exc).__name__}: {exc}")
                    continue
                self.report.answer(endpoint, self.status_kind(status, body), elapsed)
                if status != 200:
                    self.report.bad(f"{endpoint} not 200", f"HTTP {status}")
                elif endpoint == "discovery":
                    try:
                        doc = json.loads(body)
                        names = [r["name"] for r in doc["resources"]]
                        if doc.get("kind") != "APIResourceList" or f"pods/{bl.METRIC}" not in names:
                            raise ValueError(names)
                    except (ValueError, KeyError, TypeError) as exc:
                        self.report.bad("discovery malformed", str(exc)[:200])
                    if elapsed > 1.0:
                        self.report.note("discovery slower than 1 s")
            self.stop_event.wait(1.0)
        client.close()

    def churn(self, deadline):
        counts = collections.Counter()
        terminating = []
        while not self.stop_event.wait(self.args.churn_interval) and self.now() < deadline:
            live = sorted(n for n in self.history.live_now() if n.startswith("triton-") and n not in NO_SERIES)
            absent = [pool_name(i) for i in range(POOL)
                      if self.history.state(pool_name(i)) is not True and pool_name(i) not in terminating]
            choices = []
            if len(live) > MIN_LIVE:
                choices += ["delete", "terminate"]
            if len(live) < MAX_LIVE and absent:
                choices += ["create", "create"]
            if terminating:
                choices.append("finish")
            if not choices:
                continue
            action = self.rng.choice(choices)
            try:
                if action == "create":
                    # Live from before the request: the adapter may see the pod as soon as the stand-in has it.
                    name = self.rng.choice(absent)
                    self.history.set(name, True, self.now())
                    self.stack.apply_pod(NAMESPACE, name, labels={"app": "triton"})
                elif action == "delete":
                    name = self.rng.choice(live)
                    self.stack.delete_pod(NAMESPACE, name)
                    self.history.set(name, False, self.now())
                elif action == "terminate":
                    name = self.rng.choice(live)
                    self.stack.apply_pod(NAMESPACE, name, deletionTimestamp="2026-01-01T00:00:00Z")
                    self.history.set(name, False, self.now())
                    terminating.append(name)
                else:
                    name = terminating.pop(0)
                    self.stack.delete_pod(NAMESPACE, name)
                counts[action] += 1
            except (AssertionError, OSError) as exc:
                self.report.note(f"churn {action} failed: {exc}"[:120])
        self.churn_counts = counts

    def sample_rss(self, deadline):
        pid = self.stack.procs["adapter"].pid
        while not self.stop_event.is_set() and self.now() < deadline:
            rss, hwm = bl.rss_kib(pid)
            if rss is None:
                return
            self.rss.append((self.now() - self.t0, rss, hwm))
            self.stop_event.wait(1.0)

    def prometheus_outage(self, start_at, deadline):
        if self.stop_event.wait(max(0.0, start_at - self.now())):
            return
        self.prom_events["stop_requested"] = self.now() - self.t0
        self.stack.stop_prometheus()
        self.prom_down_since = self.now()
        self.prom_events["stopped"] = self.prom_down_since - self.t0
        with self.report.lock:
            self.report.first_error_at = None  # errors before the outage do not count here
        if self.stop_event.wait(self.args.prometheus_down):
            return
        self.prom_restart_at = self.now()
        self.stack.start_prometheus(timeout=120)
        self.prom_up_again = self.now()
        self.prom_events["ready_again"] = self.prom_up_again - self.t0
        # When did the HPA's request get values again?
        while not self.stop_event.is_set() and self.now() < deadline:
            ok = self.report.last_ok.get("metric (pods/*, app=triton)")
            if ok is not None and ok > self.prom_up_again:
                self.prom_events["values_again"] = ok - self.t0
                return
            self.stop_event.wait(0.2)

    # -- run -------------------------------------------------------------------------------------

    def run(self):
        args = self.args
        self.stack.__enter__()
        started = self.now()
        for i in range(POOL):  # the pool is known from the start; absent pods are not live
            self.history.set(pool_name(i), False, started - 7200)
        for pod in self.stack.pods["pods"]:
            live = not pod.get("deletionTimestamp")
            self.history.set(pod["name"], live, started - 3600)
        # Wait for every initial pod with series to have a value.
        want = {p["name"] for p in self.stack.pods["pods"] if p["name"].startswith("triton-")} - set(NO_SERIES)
        bl.wait_for(lambda: set((self.stack.values(NAMESPACE) or {})) == want, 60, 0.5,
                    what="values for the initial pods")
        self.t0 = self.now()
        deadline = self.t0 + args.duration
        bl.say(f"==> soak for {args.duration:g}s: {args.clients} HPA-like clients + HTTP/2 + discovery, churn every "
               f"{args.churn_interval:g}s, Prometheus stopped for {args.prometheus_down:g}s at "
               f"{args.duration / 2:.0f}s; adapter pid {self.stack.procs['adapter'].pid}, cache TTL "
               f"{args.cache_ttl:g}s")
        workers = [threading.Thread(target=self.hpa_client, args=(i, deadline), name=f"hpa-{i}")
                   for i in range(args.clients)]
        workers += [threading.Thread(target=self.http2_client, args=(deadline,), name="http2"),
                    threading.Thread(target=self.discovery_client, args=(deadline,), name="discovery"),
                    threading.Thread(target=self.churn, args=(deadline,), name="churn"),
                    threading.Thread(target=self.sample_rss, args=(deadline,), name="rss"),
                    threading.Thread(target=self.prometheus_outage, args=(self.t0 + args.duration / 2, deadline),
                                     name="prometheus")]
        for w in workers:
            w.start()
        last_print = self.now()
        while self.now() < deadline and not self.stop_event.is_set():
            time.sleep(min(1.0, max(0.0, deadline - self.now())))
            if not self.stack.procs["adapter"].alive():
                self.report.bad("adapter exited", f"exit code {self.stack.procs['adapter'].popen.returncode}")
                break
            if self.now() - last_print >= 60:
                last_print = self.now()
                with self.report.lock:
                    total, wrong = sum(self.report.requests.values()), sum(self.report.wrong.values())
                rss = self.rss[-1][1] / 1024 if self.rss else float("nan")
                bl.say(f"    t={self.now() - self.t0:4.0f}s requests {total} wrong {wrong} VmRSS {rss:.1f} MiB")
        self.stop_event.set()
        for w in workers:
            w.join(timeout=60)
        self.elapsed = self.now() - self.t0
        self.alive_at_end = self.stack.procs["adapter"].alive()

    def summary(self):
        args, rep = self.args, self.report
        out = {"duration_s": round(self.elapsed, 1), "clients": args.clients, "cache_ttl_s": args.cache_ttl,
               "requests_total": sum(rep.requests.values()), "requests": dict(rep.requests),
               "answers": {f"{e} | {k}": n for (e, k), n in sorted(rep.answers.items())},
               "wrong": dict(rep.wrong), "wrong_examples": rep.wrong_examples, "notes": dict(rep.notes),
               "churn": dict(getattr(self, "churn_counts", {})),
               "prometheus": {k: round(v, 1) for k, v in self.prom_events.items()}}
        if self.report.first_error_at is not None and self.prom_down_since is not None:
            out["prometheus"]["first_error"] = round(self.report.first_error_at - self.t0, 1)
        out["latency_ms"] = {f"{e} | {k}": {"n": len(v), "p50": round(1000 * bl.percentile(v, 50), 1),
                                            "p99": round(1000 * bl.percentile(v, 99), 1),
                                            "max": round(1000 * max(v), 1)}
                             for (e, k), v in sorted(rep.latency.items()) if v}

        def at(fraction):
            target = fraction * self.elapsed
            return min(self.rss, key=lambda s: abs(s[0] - target)) if self.rss else (0, 0, 0)
        start_t = max(20.0, 0.1 * self.elapsed)
        start = min(self.rss, key=lambda s: abs(s[0] - start_t)) if self.rss else (0, 0, 0)
        middle = at(0.5) if self.rss else (0, 0, 0)
        stopped = self.prom_events.get("stop_requested")
        if stopped is not None and self.rss:
            middle = min(self.rss, key=lambda s: abs(s[0] - (stopped - 1)))
        end = self.rss[-1] if self.rss else (0, 0, 0)
        out["rss_mib"] = {name: {"t_s": round(s[0]), "VmRSS": round(s[1] / 1024, 1), "VmHWM": round(s[2] / 1024, 1)}
                          for name, s in (("start", start), ("middle", middle), ("end", end))}
        growth = (end[1] - start[1]) / 1024
        hwm = max((s[2] for s in self.rss), default=0) / 1024
        out["rss_growth_mib"] = round(growth, 1)
        failures = []
        if rep.wrong:
            failures.append(f"{sum(rep.wrong.values())} wrong answers")
        if not self.alive_at_end:
            failures.append("the adapter exited")
        if growth > args.max_rss_growth_mib:
            failures.append(f"VmRSS grew {growth:.1f} MiB (bound {args.max_rss_growth_mib:g})")
        if hwm > args.max_rss_mib:
            failures.append(f"VmHWM {hwm:.1f} MiB over {args.max_rss_mib:g}")
        if "ready_again" in self.prom_events and "values_again" not in self.prom_events:
            failures.append("no values after Prometheus came back")
        if not self.rss:
            failures.append("no RSS samples")
        out["failures"] = failures
        out["result"] = "PASS" if not failures else "FAIL"
        return out


def print_summary(s, args):
    say = bl.say
    say()
    say(f"soak: {s['duration_s']:.0f}s, {s['clients']} HPA-like clients (+ HTTP/2, discovery), cache TTL "
        f"{s['cache_ttl_s']:g}s")
    say(f"requests: {s['requests_total']} total  " + ", ".join(f"{k} {v}" for k, v in sorted(s["requests"].items())))
    say("answers by kind:                                                  count    p50 ms    p99 ms    max ms")
    for key, n in s["answers"].items():
        lat = s["latency_ms"].get(key)
        timing = f"{lat['p50']:>9.1f} {lat['p99']:>9.1f} {lat['max']:>9.1f}" if lat else ""
        say(f"  {key:<62} {n:>7} {timing}")
    p = s["prometheus"]
    if p:
        say("prometheus: stopped at {:.1f}s (exited at {:.1f}s), first metric error at {}, ready again at {:.1f}s, "
            "values again at {}".format(
                p.get("stop_requested", float("nan")), p.get("stopped", float("nan")),
                f"{p['first_error']:.1f}s" if "first_error" in p else "none",
                p.get("ready_again", float("nan")), f"{p['values_again']:.1f}s" if "values_again" in p else "never"))
    c = s["churn"]
    say(f"pod churn: {c.get('create', 0)} created, {c.get('delete', 0)} deleted, {c.get('terminate', 0)} marked "
        f"terminating (then {c.get('finish', 0)} deleted); live pods kept between {MIN_LIVE} and {MAX_LIVE}")
    r = s["rss_mib"]
    say("RSS: " + ", ".join(f"{k} (t={v['t_s']}s) VmRSS {v['VmRSS']:.1f} MiB VmHWM {v['VmHWM']:.1f} MiB"
                            for k, v in r.items()))
    say(f"RSS growth start->end: {s['rss_growth_mib']:+.1f} MiB (bound {args.max_rss_growth_mib:g} MiB; "
        f"VmHWM bound {args.max_rss_mib:g} MiB)")
    if s["notes"]:
        say("notes (not failures): " + ", ".join(f"{k}: {v}" for k, v in s["notes"].items()))
    say(f"wrong answers: {sum(s['wrong'].values())}" + (" (" + ", ".join(f"{k}: {v}" for k, v in s["wrong"].items())
                                                         + ")" if s["wrong"] else ""))
    for example in s["wrong_examples"]:
        say(f"  {example}")
    say(f"result: {s['result']}" + (" (" + "; ".join(s["failures"]) + ")" if s["failures"] else ""))


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    problems = bl.e2e_stack.missing_tools(need_kubectl=False, need_curl=True)
    if problems:
        bl.say("soak: cannot start:\n  " + "\n  ".join(problems))
        return 2
    soak = Soak(args)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)
    try:
        soak.run()
    except KeyboardInterrupt:
        soak.stop_event.set()
        bl.say("\nsoak: interrupted")
        soak.stack.stop()
        return 130
    except (RuntimeError, AssertionError, OSError) as exc:
        soak.stop_event.set()
        bl.say(f"\nsoak: setup or run failed: {exc}")
        bl.say(soak.stack.log_tails(lines=15))
        soak.stack.stop()
        return 2
    summary = soak.summary()
    if summary["result"] != "PASS":
        bl.say(soak.stack.log_tails(["adapter"], lines=20))
    soak.stack.stop()
    print_summary(summary, args)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2)
            f.write("\n")
    return 0 if summary["result"] == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
