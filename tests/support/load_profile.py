#!/usr/bin/env python3
"""Load that follows a schedule: ramp up, hold, ramp down, against one Triton model over KServe v2 HTTP.

The schedule is a piecewise-linear curve given as ``TIME:VALUE`` points, e.g.
``0:1,60:1,180:8,360:8,420:0``: the value at any instant is interpolated linearly between the two
points around it, and the run ends at the last point's time (or on SIGTERM/SIGINT).  The value means:

* ``--mode concurrency`` (default): the number of clients in a closed loop.  Client ``i`` is active
  while ``i < round(value)``; an active client sends its next request as soon as the previous one
  answered (an LLM's users, each waiting for an answer, no think time).  With one model instance of
  compute time C per replica and N clients spread evenly over R replicas, a request waits about
  (N/R - 1) x C in Triton's queue: queue/compute ~ N/R - 1.
* ``--mode rate``: requests per second, arriving as a Poisson process (open loop).  At most
  ``--max-in-flight`` requests are outstanding; an arrival finding them all busy is counted as
  ``shed`` and not sent (the client side of an overloaded service).

Every request is ``POST /v2/models/<model>/infer`` with a one-element FP32 tensor ``x`` (what
``scripts/triton_server.py`` serves), over HTTP/1.1 keep-alive connections (one per client).  A
request that fails on a REUSED connection before any response byte (the server closed an idle
keep-alive connection, e.g. nginx reloading) is sent once more on a new connection and counted in
``retried``; every other failure is counted in ``failed``.

Every ``--status-interval`` seconds one JSON line is appended to ``--status-file`` (and at the end a
last one with ``"final": true``)::

    {"t": 12.0, "time": 1764420000.1, "mode": "concurrency", "target": 3.2, "active": 3,
     "in_flight": 3, "ok": 28, "failed": 0, "shed": 0, "retried": 0, "rps": 28.0,
     "mean_latency_ms": 104.2, "total_ok": 310, "total_failed": 0, "total_shed": 0}

(``ok``/``failed``/``shed``/``rps``/``mean_latency_ms`` over that interval; ``total_*`` since the start.)
At the end one summary line goes to stdout.  Exit status 0 when no request failed (shed ones are not
failures), 1 otherwise.  Standard library only::

    python3 -m tests.support.load_profile --url http://127.0.0.1:8080 --profile 0:1,30:8,90:8,100:0 \\
        --status-file /tmp/load.jsonl
"""

import argparse
import http.client
import json
import math
import random
import signal
import sys
import threading
import time
import urllib.parse

MAX_DURATION_S = 3 * 3600
MAX_CLIENTS = 512


def parse_profile(text):
    """``"0:1,60:8,120:0"`` -> [(0.0, 1.0), (60.0, 8.0), (120.0, 0.0)]; times strictly increasing from 0."""
    points = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        try:
            t, v = part.split(":")
            points.append((float(t), float(v)))
        except ValueError:
            raise ValueError(f"profile point {part!r} is not TIME:VALUE") from None
    if len(points) < 2:
        raise ValueError("a profile needs at least two TIME:VALUE points")
    if points[0][0] != 0:
        raise ValueError("a profile starts at time 0")
    for (t0, _), (t1, _) in zip(points, points[1:]):
        if t1 <= t0:
            raise ValueError(f"profile times must increase: {t0:g} then {t1:g}")
    for t, v in points:
        if not (math.isfinite(v) and v >= 0):
            raise ValueError(f"profile value at {t:g}s must be a finite number >= 0, got {v:g}")
    if points[-1][0] > MAX_DURATION_S:
        raise ValueError(f"a profile lasts at most {MAX_DURATION_S} s")
    return points


def value_at(points, t):
    """The schedule's value at ``t`` seconds (linear between points; the end values outside)."""
    if t <= points[0][0]:
        return points[0][1]
    for (t0, v0), (t1, v1) in zip(points, points[1:]):
        if t <= t1:
            return v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    return points[-1][1]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True, help="base URL of Triton or of a load balancer in front, http://HOST:PORT")
    p.add_argument("--model", default="slow_model", help="model name (default slow_model)")
    p.add_argument("--profile", required=True, help="TIME:VALUE points, e.g. 0:1,60:1,180:8,360:8,420:0")
    p.add_argument("--mode", choices=("concurrency", "rate"), default="concurrency",
                   help="VALUE is closed-loop clients (default) or Poisson requests per second")
    p.add_argument("--max-in-flight", type=int, default=64, help="rate mode: outstanding requests at most")
    p.add_argument("--timeout", type=float, default=30.0, help="per-request timeout in seconds (default 30)")
    p.add_argument("--status-file", help="append one JSON status line per --status-interval here")
    p.add_argument("--status-interval", type=float, default=1.0, help="seconds between status lines (default 1)")
    p.add_argument("--seed", type=int, help="random seed for rate mode's arrivals")
    args = p.parse_args(argv)
    try:
        args.points = parse_profile(args.profile)
    except ValueError as exc:
        p.error(f"--profile: {exc}")
    peak = max(v for _, v in args.points)
    if args.mode == "concurrency" and round(peak) > MAX_CLIENTS:
        p.error(f"--profile: at most {MAX_CLIENTS} clients")
    if not 1 <= args.max_in_flight <= MAX_CLIENTS:
        p.error(f"--max-in-flight must be in 1..{MAX_CLIENTS}")
    if args.timeout <= 0 or args.status_interval <= 0:
        p.error("--timeout and --status-interval must be > 0")
    url = urllib.parse.urlsplit(args.url)
    if url.scheme != "http" or not url.hostname:
        p.error(f"--url must be http://HOST:PORT, got {args.url!r}")
    args.host, args.port = url.hostname, url.port or 80
    return args


class Stats:
    """Counters since the start and since the last status line (thread-safe)."""

    FIELDS = ("ok", "failed", "shed", "retried")

    def __init__(self):
        self.lock = threading.Lock()
        self.total = dict.fromkeys(self.FIELDS, 0)
        self.window = dict.fromkeys(self.FIELDS, 0)
        self.latency_sum = self.window_latency_sum = 0.0
        self.latency_max = 0.0
        self.in_flight = 0
        self.errors = {}

    def add(self, field, latency=None, error=None):
        with self.lock:
            self.total[field] += 1
            self.window[field] += 1
            if latency is not None:
                self.latency_sum += latency
                self.window_latency_sum += latency
                self.latency_max = max(self.latency_max, latency)
            if error is not None:
                self.errors[error] = self.errors.get(error, 0) + 1

    def flight(self, delta):
        with self.lock:
            self.in_flight += delta

    def take_window(self):
        with self.lock:
            window, latency = self.window, self.window_latency_sum
            self.window, self.window_latency_sum = dict.fromkeys(self.FIELDS, 0), 0.0
            return window, latency, self.in_flight, dict(self.total)


class Client:
    """One keep-alive connection; ``infer()`` sends one request and records the outcome."""

    def __init__(self, args, path, body, stats):
        self.args, self.path, self.body, self.stats = args, path, body, stats
        self.conn = None
        self.reused = False

    def close(self):
        if self.conn is not None:
            self.conn.close()
        self.conn, self.reused = None, False

    def _send_once(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.args.host, self.args.port, timeout=self.args.timeout)
            self.reused = False
        reused = self.reused
        try:
            self.conn.request("POST", self.path, body=self.body, headers={"Content-Type": "application/json"})
            resp = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
            self.close()
            if reused:
                return "retry", exc
            raise
        data = resp.read()
        self.reused = True
        if resp.will_close:
            self.close()
        return resp.status, data

    def infer(self):
        self.stats.flight(+1)
        started = time.monotonic()
        try:
            status, data = self._send_once()
            if status == "retry":
                self.stats.add("retried")
                status, data = self._send_once()
            if status == 200:
                self.stats.add("ok", latency=time.monotonic() - started)
            else:
                self.stats.add("failed", error=f"HTTP {status}: {data[:120].decode('utf-8', 'replace')}")
                return False
            return True
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            self.stats.add("failed", error=f"{type(exc).__name__}: {exc}")
            return False
        finally:
            self.stats.flight(-1)


def closed_loop_client(index, client, points, started, end, stop):
    """Client ``index``: send back to back while the schedule has more than ``index`` clients."""
    try:
        while not stop.is_set():
            now = time.monotonic()
            if now >= end:
                return
            if index < round(value_at(points, now - started)):
                if not client.infer():
                    stop.wait(0.2)  # do not spin on a refusing server
            else:
                client.close()  # an idle client holds no connection, as a user who left
                stop.wait(0.05)
    finally:
        client.close()


class RateDispatcher:
    """Poisson arrivals at the schedule's rate, handed to idle clients; none idle -> shed."""

    def __init__(self, clients, points, started, end, stop, stats, rng):
        self.points, self.started, self.end, self.stop, self.stats, self.rng = points, started, end, stop, stats, rng
        self.idle = list(clients)
        self.cond = threading.Condition()
        self.threads = []

    def _run_one(self, client):
        try:
            client.infer()
        finally:
            with self.cond:
                self.idle.append(client)

    def run(self):
        # Thinning (Lewis & Shedler): candidates at the peak rate, kept with probability rate(t)/peak.
        peak = max(v for _, v in self.points)
        if peak <= 0:
            self.stop.wait(max(0.0, self.end - time.monotonic()))
            return
        when = time.monotonic()
        while not self.stop.is_set():
            when += self.rng.expovariate(peak)
            if when >= self.end or self.stop.wait(max(0.0, when - time.monotonic())):
                break
            if self.rng.random() * peak > value_at(self.points, when - self.started):
                continue
            with self.cond:
                client = self.idle.pop() if self.idle else None
            if client is None:
                self.stats.add("shed")
                continue
            t = threading.Thread(target=self._run_one, args=(client,), daemon=True)
            t.start()
            self.threads = [x for x in self.threads if x.is_alive()] + [t]

    def join(self, timeout):
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        with self.cond:
            for client in self.idle:
                client.close()


def status_line(args, started, last, stats, final=False):
    now = time.monotonic()
    window, latency, in_flight, total = stats.take_window()
    seconds = max(now - last, 1e-6)
    target = value_at(args.points, now - started)
    doc = {"t": round(now - started, 2), "time": round(time.time(), 3), "mode": args.mode,
           "target": round(target, 3),
           "active": min(round(target), MAX_CLIENTS) if args.mode == "concurrency" else None,
           "in_flight": in_flight, **window, "rps": round(window["ok"] / seconds, 2),
           "mean_latency_ms": round(1000 * latency / window["ok"], 1) if window["ok"] else None,
           **{f"total_{k}": v for k, v in total.items()}}
    if final:
        doc["final"] = True
    return doc, now


def main(argv=None):
    args = parse_args(argv)
    path = f"/v2/models/{urllib.parse.quote(args.model, safe='')}/infer"
    body = json.dumps({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1.0]}]}).encode()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    stats = Stats()
    started = time.monotonic()
    end = started + args.points[-1][0]
    status = open(args.status_file, "a", encoding="utf-8") if args.status_file else None
    if args.mode == "concurrency":
        n = max(1, round(max(v for _, v in args.points)))
        threads = [threading.Thread(target=closed_loop_client, daemon=True, name=f"client-{i}",
                                    args=(i, Client(args, path, body, stats), args.points, started, end, stop))
                   for i in range(n)]
        dispatcher = None
    else:
        clients = [Client(args, path, body, stats) for _ in range(args.max_in_flight)]
        dispatcher = RateDispatcher(clients, args.points, started, end, stop, stats, random.Random(args.seed))
        threads = [threading.Thread(target=dispatcher.run, daemon=True, name="dispatcher")]
    for t in threads:
        t.start()

    last = started
    next_status = started + args.status_interval
    # Wake up often so signals are handled promptly; bounded by the schedule's end.
    while not stop.is_set() and time.monotonic() < end:
        stop.wait(min(0.2, max(0.0, next_status - time.monotonic())))
        if status is not None and time.monotonic() >= next_status:
            doc, last = status_line(args, started, last, stats)
            status.write(json.dumps(doc) + "\n")
            status.flush()
            next_status += args.status_interval
    stop.set()
    for t in threads:
        t.join(args.timeout + 1.0)
    if dispatcher is not None:
        dispatcher.join(args.timeout + 1.0)
    doc, _ = status_line(args, started, last, stats, final=True)
    if status is not None:
        status.write(json.dumps(doc) + "\n")
        status.close()
    with stats.lock:
        total, errors = dict(stats.total), dict(stats.errors)
        mean = round(1000 * stats.latency_sum / total["ok"], 1) if total["ok"] else None
        worst = round(1000 * stats.latency_max, 1) if total["ok"] else None
    print(f"sent={total['ok'] + total['failed']} ok={total['ok']} failed={total['failed']} shed={total['shed']} "
          f"retried={total['retried']} seconds={time.monotonic() - started:.1f} mean_latency_ms={mean} "
          f"max_latency_ms={worst} mode={args.mode} target=http://{args.host}:{args.port}{path}", flush=True)
    for error, count in sorted(errors.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  {count} x {error}", flush=True)
    return 0 if total["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
