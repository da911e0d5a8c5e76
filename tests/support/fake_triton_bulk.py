#!/usr/bin/env python3
"""Simulated Triton metrics for many pods from ONE scrape target (benchmarks and soak).

``tests/support/fake_triton.py`` makes every pod its own Prometheus target, as a PodMonitor would; that
is faithful but 10,000 targets are too heavy for a 2-core machine.  This exporter serves every
pod's series at one ``/metrics`` path, each line carrying its own ``namespace`` and ``pod`` labels,
and writes a Prometheus config with ``honor_labels: true`` so those labels are kept as they are.
The series Prometheus stores are then the same as with one target per pod (same names and labels
as Kubernetes service discovery gives ``nv_inference_*`` series).

Only the two counters the Triton rule reads are exported (``nv_inference_queue_duration_us`` and
``nv_inference_compute_infer_duration_us``, per ``model``/``version``), plus
``nv_inference_request_success``: fewer samples per scrape means less background load on the
machine being measured.  Counters grow linearly: value = floor(rate x seconds since start).

The pods file (PODS.json, as for fake_triton.py) is re-read when it changes (checked at most once
a second), so pods can be added while running; a pod that disappears from it stops being exported
(Prometheus marks its series stale).

Standard library only.  Usage::

    fake_triton_bulk.py --pods PODS.json --port 0 --port-file PATH
        [--prometheus-config OUT.yml --scrape-interval 5s]
"""

import argparse
import json
import math
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from tests.support.httpserver import LoopbackServer, serve_until_signal, write_atomic

EXPORTED = (
    ("nv_inference_request_success", "Number of successful inference requests, all batch sizes",
     lambda m: float(m.get("requests_per_s", 1))),
    ("nv_inference_queue_duration_us",
     "Cumulative inference queuing duration in microseconds (includes cached requests)",
     lambda m: float(m.get("queue_us_per_s", 0))),
    ("nv_inference_compute_infer_duration_us",
     "Cumulative compute inference duration in microseconds (does not include cached requests)",
     lambda m: float(m.get("compute_us_per_s", 0))),
)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def log(msg):
    print(f"fake_triton_bulk: {msg}", file=sys.stderr, flush=True)


def escape_label(value):
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Registry:
    """Pods' series as (label text, [rate per exported metric], start time); reloaded on change."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.series = []  # [(labels, rates tuple, since)]
        self.known = {}  # (ns, pod, model, version) -> since: counters never restart
        self.signature = None
        self.last_check = -math.inf

    def _signature(self):
        st = os.stat(self.path)
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def load(self):
        signature = self._signature()
        with open(self.path, encoding="utf-8") as f:
            doc = json.load(f)
        now = time.monotonic()
        series = []
        for pod in doc.get("pods", []):
            ns, name = pod["namespace"], pod["name"]
            for m in pod.get("models", []):
                model, version = str(m["model"]), str(m.get("version", "1"))
                key = (ns, name, model, version)
                since = self.known.setdefault(key, now)
                labels = (f'{{model="{escape_label(model)}",version="{escape_label(version)}",'
                          f'namespace="{escape_label(ns)}",pod="{escape_label(name)}"}}')
                series.append((labels, tuple(rate(m) for _, _, rate in EXPORTED), since))
        with self.lock:
            self.series = series
            self.signature = signature
        return len(series)

    def maybe_reload(self):
        now = time.monotonic()
        if now - self.last_check < 1.0:
            return
        self.last_check = now
        try:
            if self._signature() != self.signature:
                count = self.load()
                log(f"reloaded {self.path}: {count} series per metric")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log(f"reload of {self.path} failed, keeping previous pods: {exc}")

    def render(self):
        with self.lock:
            series = self.series
        now = time.monotonic()
        out = []
        for index, (name, help_text, _) in enumerate(EXPORTED):
            out.append(f"# HELP {name} {help_text}\n# TYPE {name} counter\n")
            out.extend(f"{name}{labels} {math.floor(rates[index] * (now - since))}\n"
                       for labels, rates, since in series)
        return "".join(out).encode()


def prometheus_config(port, interval):
    """One static target; honor_labels keeps the exposition's namespace and pod labels."""
    return (
        "# Generated by tests/support/fake_triton_bulk.py\n"
        "global:\n"
        f"  scrape_interval: {interval}\n"
        f"  scrape_timeout: {interval}\n"
        f"  evaluation_interval: {interval}\n"
        "scrape_configs:\n"
        "  - job_name: triton-bulk\n"
        "    honor_labels: true\n"
        "    static_configs:\n"
        f"      - targets: [\"127.0.0.1:{port}\"]\n"
    )


def make_handler(registry):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "fake-triton-bulk/1"
        timeout = 120

        def do_GET(self):
            path = urlsplit(self.path).path
            if path == "/metrics":
                registry.maybe_reload()
                return self._send(200, registry.render(), CONTENT_TYPE)
            if path == "/healthz":
                return self._send(200, b"ok", "text/plain")
            self._send(404, b"404 page not found\n", "text/plain")

        def _send(self, code, body, content_type):
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            pass

    return Handler


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pods", required=True, help="PODS.json (namespace, name, models with rates)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 picks a free one")
    p.add_argument("--port-file", required=True, help="the port is written here once listening")
    p.add_argument("--prometheus-config", help="write a Prometheus config scraping this exporter here")
    p.add_argument("--scrape-interval", default="5s", help="Prometheus duration, e.g. 1s or 5s")
    args = p.parse_args(argv)
    if not re.fullmatch(r"[0-9]+(ms|s|m)", args.scrape_interval):
        p.error("--scrape-interval must look like 1s, 500ms, 1m")
    registry = Registry(args.pods)
    try:
        count = registry.load()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log(f"cannot read pods file {args.pods}: {exc}")
        return 2
    server = LoopbackServer(("127.0.0.1", args.port), make_handler(registry))
    port = server.server_address[1]
    if args.prometheus_config:
        write_atomic(args.prometheus_config, prometheus_config(port, args.scrape_interval))
    log(f"serving {count} series per metric on 127.0.0.1:{port}/metrics")
    return serve_until_signal(server, args.port_file, idle=registry.maybe_reload, tick=1.0)


if __name__ == "__main__":
    sys.exit(main())
