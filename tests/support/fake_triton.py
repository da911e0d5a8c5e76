#!/usr/bin/env python3
"""Simulated Triton Inference Server metrics exporter for many pods at once.

One HTTP port serves Prometheus text exposition for every simulated pod at
``/pods/<namespace>/<pod>/metrics``.  Counters grow linearly with time
(value = rate x elapsed seconds, floored to integers like Triton's microsecond
counters), so tests can predict exact rates and ratios.

Optionally writes a Prometheus config and a file_sd target file in which each
pod is its own target (``__metrics_path__`` per pod) carrying ``namespace`` and
``pod`` target labels, so scraped series end up labelled like they would be by
Kubernetes service discovery.

Standard library only.  Usage::

    fake_triton.py --pods PODS.json --port 0 --port-file PATH \
        [--prometheus-config OUT.yml --sd-file OUT_SD.json --scrape-interval 1s] \
        [--verbose]
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
from urllib.parse import unquote, urlsplit

from tests.support.httpserver import LoopbackServer, serve_until_signal, write_atomic

# Exported counters in exposition order, with Triton's own HELP texts.
METRICS = (
    ("nv_inference_request_success",
     "Number of successful inference requests, all batch sizes"),
    ("nv_inference_count",
     "Number of inferences performed (does not include cached requests)"),
    ("nv_inference_exec_count",
     "Number of model executions performed (does not include cached requests)"),
    ("nv_inference_request_duration_us",
     "Cumulative inference request duration in microseconds (includes cached requests)"),
    ("nv_inference_queue_duration_us",
     "Cumulative inference queuing duration in microseconds (includes cached requests)"),
    ("nv_inference_compute_input_duration_us",
     "Cumulative compute input duration in microseconds (does not include cached requests)"),
    ("nv_inference_compute_infer_duration_us",
     "Cumulative compute inference duration in microseconds (does not include cached requests)"),
    ("nv_inference_compute_output_duration_us",
     "Cumulative inference compute output duration in microseconds (does not include cached requests)"),
)

# Header lines are constant: pre-render them once.
HEADERS = {name: f"# HELP {name} {text}\n# TYPE {name} counter\n" for name, text in METRICS}

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Elapsed time for pods present at startup is measured from here.
PROCESS_START = time.monotonic()


def log(msg):
    """Diagnostics go to stderr, prefixed so mixed test output stays readable."""
    print(f"fake_triton: {msg}", file=sys.stderr, flush=True)


def escape_label(value):
    """Escape a label value per the Prometheus text format."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def counter_rates(model):
    """Per-second growth of every exported counter for one model series.

    Queue and compute rates come from the pods file; the rest is derived:
    1 request/s (override with ``requests_per_s``), request duration =
    queue + compute, input/output compute = 1% of compute each.
    """
    queue = float(model.get("queue_us_per_s", 0))
    compute = float(model.get("compute_us_per_s", 0))
    requests = float(model.get("requests_per_s", 1))
    return {
        "nv_inference_request_success": requests,
        "nv_inference_count": requests,
        "nv_inference_exec_count": requests,
        "nv_inference_request_duration_us": queue + compute,
        "nv_inference_queue_duration_us": queue,
        "nv_inference_compute_input_duration_us": compute * 0.01,
        "nv_inference_compute_infer_duration_us": compute,
        "nv_inference_compute_output_duration_us": compute * 0.01,
    }


class Series:
    """Counters of one (model, version): value = base + rate * (now - since).

    ``base`` is zero unless the rates were changed by a reload; then current
    values are carried over so counters never go backwards (no fake resets).
    """

    __slots__ = ("labels", "rates", "base", "since")

    def __init__(self, model, version, rates, since):
        self.labels = f'{{model="{escape_label(model)}",version="{escape_label(version)}"}}'
        self.rates = rates
        self.base = dict.fromkeys(rates, 0.0)
        self.since = since

    def value(self, metric, now):
        """Exact (unfloored) counter value at monotonic time ``now``."""
        return self.base[metric] + self.rates[metric] * (now - self.since)

    def retune(self, rates, now):
        """Switch to new rates at ``now`` keeping the counters continuous."""
        if rates != self.rates:
            self.base = {m: self.value(m, now) for m in rates}
            self.rates = rates
            self.since = now


def read_pods_file(path):
    """Parse PODS.json into {(namespace, name): [(model, version, rates), ...]}."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    pods = {}
    for pod in doc.get("pods", []):
        ns, name = pod["namespace"], pod["name"]
        if not (isinstance(ns, str) and isinstance(name, str) and ns and name):
            raise ValueError(f"pod needs non-empty string namespace and name: {pod!r}")
        models = []
        for m in pod.get("models", []):
            models.append((str(m["model"]), str(m.get("version", "1")), counter_rates(m)))
        pods[(ns, name)] = models
    return pods


class PodRegistry:
    """Simulated pods and their counters, reloaded when the pods file changes."""

    def __init__(self, path, on_change=None):
        self.path = path
        self.on_change = on_change  # called with sorted pod keys after each load
        self.lock = threading.Lock()
        self.check_lock = threading.Lock()  # one reload check at a time
        self.pods = {}  # (ns, name) -> {(model, version): Series}
        self.signature = None
        self.last_check = -math.inf

    def _file_signature(self):
        st = os.stat(self.path)
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def load(self, since):
        """(Re)read the pods file; new pods/series start from zero at ``since``."""
        signature = self._file_signature()
        parsed = read_pods_file(self.path)
        now = time.monotonic()
        with self.lock:
            old = self.pods
            new = {}
            for key, models in parsed.items():
                old_series = old.get(key, {})
                series = {}
                for model, version, rates in models:
                    s = old_series.get((model, version))
                    if s is None:
                        s = Series(model, version, rates, since if key not in old else now)
                    else:
                        s.retune(rates, now)
                    series[(model, version)] = s
                new[key] = series
            self.pods = new
            self.signature = signature
        if self.on_change:
            self.on_change(sorted(new))

    def maybe_reload(self):
        """Reload if the file changed; checks at most once per second."""
        now = time.monotonic()
        if now - self.last_check < 1.0 or not self.check_lock.acquire(blocking=False):
            return
        try:
            self.last_check = now
            try:
                if self._file_signature() == self.signature:
                    return
                self.load(since=time.monotonic())
            except (OSError, ValueError, KeyError, TypeError) as exc:
                # A half-written or broken file: keep serving the old state and retry.
                log(f"reload of {self.path} failed, keeping previous pods: {exc}")
        finally:
            self.check_lock.release()

    def render(self, ns, name):
        """Exposition text for one pod, or None if the pod is unknown."""
        with self.lock:
            series = self.pods.get((ns, name))
            if series is None:
                return None
            series = list(series.values())
        now = time.monotonic()
        out = []
        for metric, _ in METRICS:
            out.append(HEADERS[metric])
            for s in series:
                out.append(f"{metric}{s.labels} {math.floor(s.value(metric, now))}\n")
        return "".join(out)


def sd_targets(port, keys):
    """file_sd entries: one target per pod, path and labels set per pod."""
    return [
        {
            "targets": [f"127.0.0.1:{port}"],
            "labels": {
                "__metrics_path__": f"/pods/{ns}/{name}/metrics",
                "namespace": ns,
                "pod": name,
            },
        }
        for ns, name in keys
    ]


def prometheus_config(sd_path, interval):
    """Prometheus config scraping the file_sd targets.

    honor_labels stays false so target labels (namespace, pod) win; the
    exposition never carries those names, so nothing is renamed to exported_*.
    scrape_timeout is set explicitly because it must not exceed the interval.
    Paths are emitted as JSON strings, which are valid YAML scalars.
    """
    return (
        "# Generated by tests/support/fake_triton.py\n"
        "global:\n"
        f"  scrape_interval: {interval}\n"
        f"  scrape_timeout: {interval}\n"
        f"  evaluation_interval: {interval}\n"
        "scrape_configs:\n"
        "  - job_name: triton\n"
        "    honor_labels: false\n"
        "    file_sd_configs:\n"
        f"      - files: [{json.dumps(os.path.abspath(sd_path))}]\n"
        "        refresh_interval: 1s\n"
    )


def make_handler(registry, verbose):
    """Request handler class bound to one registry."""

    class TritonMetricsHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: Prometheus reuses connections
        server_version = "fake-triton/1"
        timeout = 120  # drop idle keep-alive connections eventually

        def do_GET(self):
            path = urlsplit(self.path).path
            if path == "/healthz":
                return self._send(200, "ok", "text/plain; charset=utf-8")
            parts = path.split("/")
            if len(parts) == 5 and parts[0] == "" and parts[1] == "pods" and parts[4] == "metrics":
                registry.maybe_reload()
                text = registry.render(unquote(parts[2]), unquote(parts[3]))
                if text is not None:
                    return self._send(200, text, CONTENT_TYPE)
            self._send(404, "404 page not found\n", "text/plain; charset=utf-8")

        def _send(self, code, text, content_type):
            body = text.encode("utf-8")
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            if verbose:
                super().log_message(fmt, *args)

    return TritonMetricsHandler


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pods", required=True, help="PODS.json with namespaces, pods and model rates")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 picks a free one")
    p.add_argument("--port-file", required=True, help="actual port is written here once listening")
    p.add_argument("--prometheus-config", help="write a Prometheus config here (needs --sd-file)")
    p.add_argument("--sd-file", help="write file_sd targets here; rewritten on pods changes")
    p.add_argument("--scrape-interval", default="1s", help="Prometheus duration, e.g. 1s or 15s")
    p.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = p.parse_args(argv)
    if args.prometheus_config and not args.sd_file:
        p.error("--prometheus-config needs --sd-file")
    if not re.fullmatch(r"[0-9]+(ms|s|m|h)", args.scrape_interval):
        p.error("--scrape-interval must look like 1s, 500ms, 1m")
    return args


def main(argv=None):
    args = parse_args(argv)
    port_holder = {}

    def write_sd(keys):
        # Before the server is bound the port is unknown; main writes it once bound.
        if args.sd_file and "port" in port_holder:
            entries = sd_targets(port_holder["port"], keys)
            write_atomic(args.sd_file, "[\n" + ",\n".join(map(json.dumps, entries)) + "\n]\n")

    registry = PodRegistry(args.pods, on_change=write_sd)
    try:
        registry.load(since=PROCESS_START)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log(f"cannot read pods file {args.pods}: {exc}")
        return 2

    server = LoopbackServer(("127.0.0.1", args.port), make_handler(registry, args.verbose), queue_size=1024)
    port_holder["port"] = server.server_address[1]
    with registry.lock:
        keys = sorted(registry.pods)
    write_sd(keys)
    if args.prometheus_config:
        write_atomic(args.prometheus_config, prometheus_config(args.sd_file, args.scrape_interval))
    # The port file is written last: its presence means everything is ready.  The main thread
    # doubles as the pods-file poller so the SD file follows the pods file even when nothing scrapes.
    return serve_until_signal(server, args.port_file, idle=registry.maybe_reload, tick=1.0)


if __name__ == "__main__":
    sys.exit(main())
