#!/usr/bin/env python3
"""Bounded load generator for a Triton model over the KServe v2 HTTP/JSON protocol.

Each of ``--concurrency`` workers keeps one HTTP/1.1 keep-alive connection and sends
``POST /v2/models/<model>/infer`` with a one-element FP32 tensor ``x`` (what
``scripts/triton_server.py`` serves).  Two shapes of load:

* closed loop (default): every worker sends its next request as soon as the previous one
  answered, so ``--concurrency N`` keeps N requests in Triton at all times (saturation when
  N exceeds the model's instances);
* paced (``--rate R``): requests start on a fixed schedule of R per second in total, spread over
  the workers; a worker that falls behind sends late rather than in a burst.

The run ends after ``--duration`` seconds, after ``--requests`` requests, or on SIGTERM/SIGINT,
whichever comes first; a request still in flight then gets at most ``--timeout`` seconds.  At the
end it prints one line ``sent=N ok=N failed=N ...`` and, with ``--json``, a JSON object instead.
Exit status: 0 if at least one request succeeded and none failed, 1 otherwise.

Standard library only.  Target: ``--url http://127.0.0.1:PORT`` or ``--port-file`` as written by
triton_server.py (its ``http`` port; the model name is read from it too)::

    python3 scripts/triton_load.py --port-file /tmp/t.json --concurrency 4 --duration 30
    python3 scripts/triton_load.py --url http://127.0.0.1:8000 --model slow_model --rate 2 --duration 30
"""

import argparse
import http.client
import json
import signal
import sys
import threading
import time
import urllib.parse


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="Triton HTTP base URL, e.g. http://127.0.0.1:8000")
    target.add_argument("--port-file", help="triton_server.py port file (JSON with 'http' and 'model')")
    p.add_argument("--model", help="model name (default: from --port-file, else slow_model)")
    p.add_argument("--concurrency", type=int, default=1, help="parallel workers/connections (default 1)")
    p.add_argument("--rate", type=float, help="total requests per second (paced); default: closed loop")
    p.add_argument("--duration", type=float, default=10.0, help="seconds to run (default 10, at most 3600)")
    p.add_argument("--requests", type=int, help="stop after this many requests")
    p.add_argument("--timeout", type=float, default=10.0, help="per-request timeout in seconds (default 10)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = p.parse_args(argv)
    if args.concurrency < 1:
        p.error("--concurrency must be >= 1")
    if args.rate is not None and args.rate <= 0:
        p.error("--rate must be > 0")
    if not 0 < args.duration <= 3600:
        p.error("--duration must be in (0, 3600]")
    if args.requests is not None and args.requests < 1:
        p.error("--requests must be >= 1")
    return args


def resolve_target(args):
    """(host, port, model) from --url/--model or --port-file."""
    if args.port_file:
        with open(args.port_file, encoding="utf-8") as f:
            info = json.load(f)
        return info.get("address", "127.0.0.1"), int(info["http"]), args.model or info.get("model", "slow_model")
    url = urllib.parse.urlsplit(args.url)
    if url.scheme != "http" or not url.hostname:
        raise SystemExit(f"--url must be http://HOST:PORT, got {args.url!r}")
    return url.hostname, url.port or 80, args.model or "slow_model"


class Counters:
    """Thread-safe request counters and latency sum."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sent = self.ok = self.failed = 0
        self.latency_sum = 0.0
        self.latency_max = 0.0
        self.errors = {}

    def take_ticket(self, limit):
        """Reserve one request; False when ``limit`` requests were already sent."""
        with self.lock:
            if limit is not None and self.sent >= limit:
                return False
            self.sent += 1
            return True

    def record(self, ok, latency, error=None):
        with self.lock:
            if ok:
                self.ok += 1
                self.latency_sum += latency
                self.latency_max = max(self.latency_max, latency)
            else:
                self.failed += 1
                self.errors[error] = self.errors.get(error, 0) + 1


class Pacer:
    """Hands out start times t0 + k / rate, one per request, across all workers."""

    def __init__(self, rate, start):
        self.interval = 1.0 / rate
        self.next = start
        self.lock = threading.Lock()

    def slot(self):
        with self.lock:
            when = self.next
            self.next += self.interval
            return when


def worker(host, port, path, body, args, deadline, stop, counters, pacer):
    conn = None
    try:
        while not stop.is_set():
            if pacer is not None:
                when = pacer.slot()
                if when >= deadline or stop.wait(max(0.0, when - time.monotonic())):
                    return
            if time.monotonic() >= deadline or not counters.take_ticket(args.requests):
                return
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=args.timeout)
            started = time.monotonic()
            try:
                conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                data = resp.read()
                if resp.status == 200:
                    counters.record(True, time.monotonic() - started)
                else:
                    counters.record(False, 0.0, f"HTTP {resp.status}: {data[:200].decode('utf-8', 'replace')}")
            except (OSError, http.client.HTTPException) as exc:
                counters.record(False, 0.0, f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = None
                stop.wait(0.1)  # do not spin on a dead server
    finally:
        if conn is not None:
            conn.close()


def main(argv=None):
    args = parse_args(argv)
    host, port, model = resolve_target(args)
    path = f"/v2/models/{urllib.parse.quote(model, safe='')}/infer"
    body = json.dumps({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1.0]}]}).encode()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    counters = Counters()
    started = time.monotonic()
    deadline = started + args.duration
    pacer = Pacer(args.rate, started) if args.rate else None
    threads = [threading.Thread(target=worker, name=f"load-{i}", daemon=True,
                                args=(host, port, path, body, args, deadline, stop, counters, pacer))
               for i in range(args.concurrency)]
    for t in threads:
        t.start()
    # Wake up regularly so that signals are handled promptly on the main thread.
    while not stop.wait(0.2) and time.monotonic() < deadline and any(t.is_alive() for t in threads):
        pass
    stop.set()
    for t in threads:
        t.join(args.timeout + 1.0)
    elapsed = time.monotonic() - started

    with counters.lock:
        summary = {
            "target": f"http://{host}:{port}{path}", "concurrency": args.concurrency, "rate": args.rate,
            "seconds": round(elapsed, 2), "sent": counters.sent, "ok": counters.ok, "failed": counters.failed,
            "mean_latency_ms": round(1000 * counters.latency_sum / counters.ok, 1) if counters.ok else None,
            "max_latency_ms": round(1000 * counters.latency_max, 1) if counters.ok else None,
            "errors": dict(sorted(counters.errors.items(), key=lambda kv: -kv[1])[:5]),
        }
    if args.json:
        print(json.dumps(summary), flush=True)
    else:
        line = (f"sent={summary['sent']} ok={summary['ok']} failed={summary['failed']} "
                f"seconds={summary['seconds']} mean_latency_ms={summary['mean_latency_ms']} "
                f"max_latency_ms={summary['max_latency_ms']} concurrency={args.concurrency} "
                f"rate={args.rate if args.rate else 'closed-loop'} target={summary['target']}")
        print(line, flush=True)
        for error, count in summary["errors"].items():
            print(f"  {count} x {error}", flush=True)
    return 0 if counters.ok > 0 and counters.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
