"""Shared pieces of scripts/bench.py and scripts/soak.py.

``BulkStack`` is the end-to-end stack of ``tests/support/e2e_stack.py`` (real Prometheus, the
Kubernetes API stand-in, the adapter) with ``tests/support/fake_triton_bulk.py`` in place of
``tests/support/fake_triton.py``: every simulated pod's series come from one scrape target, so 10,000
pods cost one scrape instead of 10,000.  The stand-in may list fewer pods than have series (the
benchmark adds pods later; the soak deletes pods whose series stay in Prometheus on purpose).

Also here: more adapter processes on the same stack, keep-alive HTTPS/HTTP clients that time each
request, RSS from ``/proc``, percentiles, and the machine description.

Standard library only.  Every wait is bounded; processes are stopped by PID.
"""

import http.client
import json
import os
import platform
import re
import ssl
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)  # the test-support package lives under tests/support

from tests.support import e2e_stack, module_argv  # noqa: E402  (after the path tweak)
from tests.support.e2e_stack import Abort, Proc, Stack, free_port, wait_for  # noqa: E402,F401

GROUP = e2e_stack.GROUP
METRIC = e2e_stack.METRIC
TOKEN = Stack.auth_token
DISCOVERY_PATH = f"/apis/{GROUP}/v1beta2"


def triton_pod(namespace, name, index, labels=None):
    """One simulated pod (PODS.json shape): one tensorrt_llm model, ratio 0.05 .. 2.5 by index."""
    queue = 50_000 * (1 + index % 50)
    return {"namespace": namespace, "name": name, "labels": labels or {"app": "triton"},
            "models": [{"model": "tensorrt_llm", "version": "1", "queue_us_per_s": queue,
                        "compute_us_per_s": 1_000_000}]}


def metric_path(namespace, label_selector="app=triton", version="v1beta2"):
    return (f"/apis/{GROUP}/{version}/namespaces/{namespace}/pods/%2A/{METRIC}"
            f"?labelSelector={urllib.parse.quote(label_selector, safe='')}")


def triton_promql(namespace):
    """The PromQL the built-in rule sends for one namespace (checked against the adapter's debug log)."""
    ns = namespace.replace("\\", "\\\\").replace('"', '\\"')
    return (f'sum by (namespace,pod) (rate(nv_inference_queue_duration_us{{namespace="{ns}"}}[1m]))'
            f' / clamp_min(sum by (namespace,pod) (rate(nv_inference_compute_infer_duration_us'
            f'{{namespace="{ns}"}}[1m])), 1)')


class BulkStack(Stack):
    """The e2e stack with one bulk exporter for the series of ``series_pods``.

    ``pods`` (a PODS.json document) go to the Kubernetes stand-in; ``series_pods`` (default: the
    same) to the exporter.  ``scrape_interval`` is Prometheus' (one target, so it can stay short).
    """

    def __init__(self, pods, series_pods=None, scrape_interval="2s", **kwargs):
        super().__init__(pods, **kwargs)
        self.series_pods = series_pods if series_pods is not None else pods
        self.scrape_interval = scrape_interval
        self.series_file = os.path.join(self.workdir, "series-pods.json")
        self.extra = {}  # name -> (Proc, port): more adapters on the same stack

    def _start_fake_triton(self):
        with open(self.series_file, "w", encoding="utf-8") as f:
            json.dump(self.series_pods, f)
        port_file = os.path.join(self.workdir, "fake_triton.port")
        proc = self._spawn("fake_triton", [
            *module_argv("fake_triton_bulk"), "--pods", self.series_file, "--port", "0",
            "--port-file", port_file, "--prometheus-config", self.prom_config,
            "--scrape-interval", self.scrape_interval])
        self.triton_port = self._wait_port_file(proc, port_file, 30)

    def adapter_argv(self, port, log_level="info", extra_args=(), binary=None):
        """The argv of an adapter on this stack (as e2e_stack starts it), on ``port``."""
        return [binary or e2e_stack.adapter_bin(), "--secure-port", str(port), "--bind-address", "127.0.0.1",
                "--cert-dir", self.certdir, "--kubeconfig", self.standin_kubeconfig,
                "--prometheus-url", f"http://127.0.0.1:{self.prom_port}", "--prometheus-query-timeout", "5s",
                "--log-level", log_level, *extra_args]

    def start_extra_adapter(self, name, extra_args=(), log_level="info", timeout=60, wrapper=(), interval=0.005,
                            binary=None):
        """Start one more adapter (same certificate, kubeconfig, Prometheus); wait for /readyz.

        ``wrapper`` goes before the adapter's argv (``valgrind --tool=callgrind ...``), ``binary`` replaces
        $ADAPTER_BIN (a copy of it); ``interval`` is how often /readyz is polled. Returns (Proc, port,
        seconds from spawn to the first 200 on /readyz).
        """
        port = free_port()
        argv = [*wrapper, *self.adapter_argv(port, log_level, extra_args, binary)]
        started = time.perf_counter()
        proc = Proc(name, argv, os.path.join(self.logdir, f"{name}.log"))
        self.extra[name] = (proc, port)
        ready = wait_ready(proc, port, self._context(), timeout, interval)
        return proc, port, ready - started

    def stop_extra_adapter(self, name):
        entry = self.extra.pop(name, None)
        if entry is not None:
            entry[0].stop()

    def stop(self):
        for name in list(self.extra):
            self.stop_extra_adapter(name)
        super().stop()

    def ssl_context(self):
        return self._context()

    def standin_client(self):
        return self.standin_connection(timeout=30)

    def standin_ssl_context(self):
        """Trusts the stand-in's CA (it serves HTTPS, as kube-apiserver does)."""
        return ssl.create_default_context(cafile=self.standin_ca_file)


def wait_ready(proc, port, context, timeout, interval=0.005):
    """Poll ``GET /readyz`` over HTTPS until 200; return the perf_counter() time it answered."""
    deadline = time.perf_counter() + timeout
    while True:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}: see {proc.log_path}")
        try:
            conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=2, context=context)
            try:
                conn.request("GET", "/readyz")
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    return time.perf_counter()
            finally:
                conn.close()
        except (OSError, http.client.HTTPException):
            pass
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{proc.name}: no 200 on /readyz within {timeout}s: see {proc.log_path}")
        time.sleep(interval)


class KeepAliveClient:
    """One persistent HTTP/1.1 connection (TLS when ``context`` is given) that times each request.

    ``request`` returns (status, body bytes, seconds from sending to the last body byte); a broken
    connection is reopened once per request.
    """

    def __init__(self, port, context=None, token=None, timeout=30):
        self.port, self.context, self.timeout = port, context, timeout
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.conn = None

    def _connect(self):
        if self.context is not None:
            self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=self.timeout,
                                                    context=self.context)
        else:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        self.conn.connect()

    def request(self, method, path, body=None, headers=None):
        all_headers = dict(self.headers, **(headers or {}))
        for attempt in (1, 2):
            if self.conn is None:
                self._connect()
            try:
                started = time.perf_counter()
                self.conn.request(method, path, body=body, headers=all_headers)
                resp = self.conn.getresponse()
                data = resp.read()
                elapsed = time.perf_counter() - started
                if resp.getheader("Connection", "").lower() == "close":
                    self.close()
                return resp.status, data, elapsed
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def get(self, path):
        return self.request("GET", path)

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
        self.conn = None


def prometheus_form(promql, timeout_ms=5000):
    """The form body the adapter POSTs to /api/v1/query."""
    return f"query={urllib.parse.quote_plus(promql)}&timeout={timeout_ms}ms"


def rss_kib(pid):
    """(VmRSS, VmHWM) of a process in KiB, from /proc/<pid>/status; (None, None) if it is gone."""
    values = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    values[key] = int(value.split()[0])
    except OSError:
        return None, None
    return values.get("VmRSS"), values.get("VmHWM")


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


def machine_info():
    """What the numbers were measured on."""
    info = {"nproc": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            text = f.read()
        model = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
        info["cpu_model"] = model.group(1).strip() if model else "unknown"
        mhz = re.search(r"^cpu MHz\s*:\s*(.+)$", text, re.M)
        info["cpu_mhz"] = mhz.group(1).strip() if mhz else None
    except OSError:
        info["cpu_model"] = "unknown"
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            total = re.search(r"^MemTotal:\s*(\d+) kB", f.read(), re.M)
        info["memory_gib"] = round(int(total.group(1)) / 2**20, 1) if total else None
    except OSError:
        info["memory_gib"] = None
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            info["loadavg_at_start"] = f.read().split()[:3]
    except OSError:
        pass
    return info


def tool_version(argv):
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
        text = (res.stdout + res.stderr).strip().splitlines()
        return text[0] if text else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def adapter_has_flag(flag):
    """Whether the adapter binary's --help lists ``flag``."""
    try:
        res = subprocess.run([e2e_stack.adapter_bin(), "--help"], capture_output=True, text=True, timeout=30,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return False
    return flag in res.stdout + res.stderr


def adapter_commit():
    """Which source the adapter was built from: $ADAPTER_COMMIT, else the work tree's commit (+dirty)."""
    if os.environ.get("ADAPTER_COMMIT"):
        return os.environ["ADAPTER_COMMIT"]
    try:
        res = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty", "--exclude", "*"],
                             capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
        return res.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def say(text=""):
    print(text, flush=True)
