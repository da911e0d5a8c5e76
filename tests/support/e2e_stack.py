#!/usr/bin/env python3
"""End-to-end stack for custom-metrics-adapter: shared by the integration test and the demo.

``Stack`` starts, in a private temporary directory and bound to 127.0.0.1 only:

1. ``tests/support/fake_triton.py``: simulated Triton pods exporting ``nv_inference_*`` counters,
   plus a generated Prometheus config (1 s scrape, namespace/pod target labels);
2. a real Prometheus (``/usr/bin/prometheus`` or ``$PROMETHEUS_BIN``) on that config;
3. ``tests/support/kube_standin.py``: a Kubernetes API stand-in (pods list+watch) with the same pods,
   over HTTPS with its own CA, as kube-apiserver;
4. the adapter (``.build/debug/custom-metrics-adapter`` or ``$ADAPTER_BIN``) with
   ``--kubeconfig`` from the stand-in (``https://``, ``certificate-authority``, a token), a self-signed certificate in the temp dir, a free
   ``--secure-port`` and ``--prometheus-url`` pointing at that Prometheus, or, with
   ``Stack(..., prometheus_proxy=True)``, at ``tests/support/prometheus_fault_proxy.py`` placed in front
   of it (``proxy_mode()``, ``proxy_requests()``).

``Stack(..., engine="victoriametrics")`` replaces step 2 with VictoriaMetrics (``tests/support/victoria.py``):
the single-node store on the same ``prom_port``, ``vmagent`` scraping the same config into it and
``vmalert`` evaluating ``manifests/monitoring``'s recording rules; ``stop_prometheus``/``start_prometheus``
then stop and start the store (vmagent buffers meanwhile).  ``engine_query()`` asks the engine itself,
for the expected values.  The default engine is ``$ENGINE`` or ``prometheus``.

For fault tests, Prometheus (``stop_prometheus``/``start_prometheus``), the stand-in
(``stop_standin``/``start_standin``, same port) and the adapter (``restart_adapter``) can be
stopped and started again; ``adapter_metrics()`` parses the adapter's own ``/metrics``.

Every wait is bounded; every process runs in its own process group and is stopped by its PID
(SIGTERM, then SIGKILL) when the stack stops.  Logs stay in the temp dir (``logs/``);
``log_tails()`` returns their last lines for failure reports.

Standard library only.  Entry point for the demo (used by ``scripts/demo.sh``)::

    python3 -m tests.support.e2e_stack demo
"""

import atexit
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
from decimal import Decimal, InvalidOperation

from tests.support import REPO, module_argv
from tests.support import victoria

SCRIPTS = os.path.join(REPO, "scripts")

GROUP = "custom.metrics.k8s.io"
ENGINES = ("prometheus", "victoriametrics")
METRIC = "triton:queue_compute:ratio"


def adapter_bin():
    return os.environ.get("ADAPTER_BIN") or os.path.join(REPO, ".build", "debug", "custom-metrics-adapter")


def prometheus_bin():
    return os.environ.get("PROMETHEUS_BIN") or shutil.which("prometheus") or "/usr/bin/prometheus"


def kubectl_bin():
    return os.environ.get("KUBECTL_BIN") or shutil.which("kubectl") or "/usr/bin/kubectl"


def curl_bin():
    return os.environ.get("CURL_BIN") or shutil.which("curl") or "/usr/bin/curl"


def default_engine():
    """The engine the stacks use unless told: ``$ENGINE`` (``prometheus`` or ``victoriametrics``)."""
    engine = os.environ.get("ENGINE") or "prometheus"
    if engine not in ENGINES:
        raise ValueError(f"ENGINE={engine!r}: one of {', '.join(ENGINES)}")
    return engine


def missing_tools(need_kubectl=True, need_curl=True, engine="prometheus"):
    """Human-readable problems with the external tools; empty when all is there."""
    problems = victoria.missing() if engine == "victoriametrics" else []
    for what, path, hint in (
        ("adapter binary", adapter_bin(), "run `swift build` in the repository root or set ADAPTER_BIN"),
        ("prometheus", prometheus_bin(), "apt-get install -y --no-install-recommends prometheus"),
        ("kubectl", kubectl_bin() if need_kubectl else None, "install kubectl 1.32 (or set KUBECTL_BIN)"),
        ("curl", curl_bin() if need_curl else None, "apt-get install -y curl"),
    ):
        if path is None:
            continue
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            problems.append(f"{what} not found or not executable at {path}: {hint}")
    if need_curl and os.access(curl_bin(), os.X_OK):
        try:
            out = subprocess.run([curl_bin(), "-V"], capture_output=True, text=True, timeout=10).stdout
            if "HTTP2" not in out:
                problems.append(f"{curl_bin()} has no HTTP2 feature (curl -V); install a curl built with nghttp2")
        except (OSError, subprocess.SubprocessError) as exc:
            problems.append(f"cannot run {curl_bin()} -V: {exc}")
    return problems


def _status_and_body(resp):
    """A control endpoint's answer: (status, parsed JSON), or (status, text) when it is not JSON."""
    raw = resp.read()
    try:
        return resp.status, json.loads(raw)
    except ValueError:
        return resp.status, raw.decode("utf-8", "replace")


def free_port():
    """A currently free TCP port on 127.0.0.1 (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Abort(RuntimeError):
    """Raised by a ``wait_for`` predicate to stop waiting at once (e.g. the process died)."""


def wait_for(predicate, timeout, interval=0.2, what="condition"):
    """Call ``predicate`` until it returns something truthy; return that value.

    Raises AssertionError (a unittest failure) after ``timeout`` seconds, quoting the
    last value or exception seen.  An ``Abort`` raised by the predicate propagates at once.
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            value = predicate()
            if value:
                return value
            last = value
        except Abort:
            raise
        except Exception as exc:  # noqa: BLE001 - keep polling; report the last error
            last = exc
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


def parse_quantity_milli(text):
    """A Kubernetes quantity (``1500m``, ``2``, ``1k``, ``250m``, ``1e3``) in milli-units (exact int)."""
    suffixes = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
                "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
                "P": Decimal("1e15"), "E": Decimal("1e18"),
                "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30), "Ti": Decimal(2**40),
                "Pi": Decimal(2**50), "Ei": Decimal(2**60)}
    if not isinstance(text, str) or not text:
        raise ValueError(f"not a quantity: {text!r}")
    number, suffix = text, ""
    for s in sorted(suffixes, key=len, reverse=True):
        if s and text.endswith(s):
            number, suffix = text[: -len(s)], s
            break
    try:
        value = Decimal(number) * suffixes[suffix] * 1000
    except InvalidOperation:
        raise ValueError(f"not a quantity: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a finite quantity: {text!r}")
    return int(value.to_integral_value())


_SAMPLE_RE = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
_LABEL_RE = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics_text(text):
    """Prometheus text exposition as {(name, ((label, value), ...sorted)): float}."""
    samples = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE_RE.match(line)
        if not m:
            continue
        labels = tuple(sorted((k, v.replace('\\"', '"').replace("\\\\", "\\"))
                              for k, v in _LABEL_RE.findall(m.group(2) or "")))
        try:
            samples[(m.group(1), labels)] = float(m.group(3))
        except ValueError:
            continue
    return samples


def metric_sum(samples, name, **labels):
    """Sum of every sample of ``name`` whose labels include ``labels`` (0 when there is none)."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


def expected_milli(pod, model=None):
    """The ratio the adapter should serve for one PODS.json pod, in milli-units.

    sum(queue rates) / clamp_min(sum(compute rates), 1) over the pod's models (or one model).
    """
    models = [m for m in pod.get("models", []) if model is None or m["model"] == model]
    queue = sum(float(m.get("queue_us_per_s", 0)) for m in models)
    compute = sum(float(m.get("compute_us_per_s", 0)) for m in models)
    return round(1000 * queue / max(compute, 1.0))


def _tail(path, lines):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode("utf-8", "replace")
    except OSError as exc:
        return f"(cannot read {path}: {exc})"
    return "\n".join(data.splitlines()[-lines:])


class Proc:
    """One child process in its own process group, logging to a file."""

    def __init__(self, name, argv, log_path, env=None):
        self.name, self.argv, self.log_path = name, argv, log_path
        self.log = open(log_path, "ab")
        self.log.write(f"\n=== {time.strftime('%H:%M:%S')} starting: {' '.join(argv)}\n".encode())
        self.log.flush()
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                                      start_new_session=True, env=env, cwd=REPO)

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def stop(self, timeout=10.0):
        """SIGTERM to our process group, then SIGKILL after ``timeout``; always reaps."""
        try:
            if self.popen.poll() is None:
                try:
                    os.killpg(self.popen.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    self.popen.wait(timeout)
                except subprocess.TimeoutExpired:
                    try:
                        os.killpg(self.popen.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    self.popen.wait(5)
        finally:
            self.log.close()
        return self.popen.returncode


class Stack:
    """fake_triton + Prometheus + Kubernetes stand-in + adapter, in a temp dir.

    ``pods`` is a PODS.json document (``{"pods": [...]}``).  Pods are given to both
    fake_triton (series) and the stand-in (Kubernetes objects with their labels).
    """

    def __init__(self, pods, workdir=None, log_level="debug", keep_workdir=None, adapter_args=(),
                 prometheus_proxy=False, engine=None, latency_offset=victoria.DEFAULT_LATENCY_OFFSET):
        self.engine = engine or default_engine()
        if self.engine not in ENGINES:
            raise ValueError(f"engine {self.engine!r}: one of {', '.join(ENGINES)}")
        self.latency_offset = latency_offset
        #: When set, the adapter's ``--prometheus-url`` (a router or vmauth in front of the engine) instead
        #: of the engine or the fault proxy; takes effect at the next (re)start of the adapter.
        self.upstream_url = None
        self.pods = pods
        self.log_level = log_level
        self.adapter_args = list(adapter_args)
        self.prometheus_proxy = prometheus_proxy
        self.proxy_port = None
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="cma-e2e-")
        self.keep_workdir = keep_workdir if keep_workdir is not None else bool(os.environ.get("E2E_KEEP_TMP"))
        self.logdir = os.path.join(self.workdir, "logs")
        self.certdir = os.path.join(self.workdir, "certs")
        self.promdata = os.path.join(self.workdir, "prometheus-data")
        for d in (self.logdir, self.certdir, self.promdata):
            os.makedirs(d, exist_ok=True)
        self.pods_file = os.path.join(self.workdir, "pods.json")
        self.prom_config = os.path.join(self.workdir, "prometheus.yml")
        self.sd_file = os.path.join(self.workdir, "targets.json")
        self.standin_kubeconfig = os.path.join(self.workdir, "standin.kubeconfig")
        self.standin_cert_kubeconfig = os.path.join(self.workdir, "standin-cert.kubeconfig")
        self.pki_dir = os.path.join(self.workdir, "pki")
        self.kubeconfig = os.path.join(self.workdir, "adapter.kubeconfig")
        self.procs = {}
        self.triton_port = self.prom_port = self.standin_port = self.adapter_port = None
        self._ssl = None

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        problems = missing_tools(need_kubectl=False, need_curl=False, engine=self.engine)
        if problems:
            raise RuntimeError("cannot start the e2e stack:\n  " + "\n  ".join(problems))
        with open(self.pods_file, "w", encoding="utf-8") as f:
            json.dump(self.pods, f, indent=2)
        atexit.register(self.stop)  # safety net if the caller never reaches stop()
        self._start_fake_triton()
        self.prom_port = free_port()
        self.start_prometheus()
        if self.prometheus_proxy:
            self._start_proxy()
        self._start_standin()
        self._start_adapter()
        self.write_kubeconfig()

    def stop(self):
        """Stop every process we started (adapter first), by PID; remove the temp dir. Idempotent."""
        atexit.unregister(self.stop)
        for name in ("adapter", "prometheus_proxy", "standin", "vmalert", "vmagent", "victoria-metrics", "prometheus",
                     "fake_triton"):
            proc = self.procs.pop(name, None)
            if proc is not None:
                proc.stop()
        if self._own_workdir and not self.keep_workdir and os.path.isdir(self.workdir):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def pids(self):
        return {name: p.pid for name, p in self.procs.items() if p.alive()}

    def _spawn(self, name, argv):
        proc = Proc(name, argv, os.path.join(self.logdir, f"{name}.log"))
        self.procs[name] = proc
        return proc

    def _wait_port_file(self, proc, path, timeout):
        def ready():
            if not proc.alive():
                raise Abort(f"{proc.name} exited with {proc.popen.returncode}")
            try:
                with open(path, encoding="utf-8") as f:
                    return int(f.read().strip())
            except (OSError, ValueError):
                return None
        try:
            return wait_for(ready, timeout, what=f"{proc.name} port file")
        except (AssertionError, RuntimeError) as exc:
            raise RuntimeError(f"{exc}\n{self.log_tails([proc.name])}") from None

    def _start_fake_triton(self):
        port_file = os.path.join(self.workdir, "fake_triton.port")
        proc = self._spawn("fake_triton", [
            *module_argv("fake_triton"), "--pods", self.pods_file, "--port", "0", "--port-file", port_file,
            "--prometheus-config", self.prom_config, "--sd-file", self.sd_file, "--scrape-interval", "1s"])
        self.triton_port = self._wait_port_file(proc, port_file, 20)

    @property
    def engine_proc(self):
        """The name of the engine's query process in ``procs`` and ``logs/``."""
        return "victoria-metrics" if self.engine == "victoriametrics" else "prometheus"

    def start_prometheus(self, timeout=60):
        """(Re)start the engine on the same port and storage dir; wait until it is ready."""
        if self.engine == "victoriametrics":
            return self._start_victoria(timeout)
        if "prometheus" in self.procs and self.procs["prometheus"].alive():
            return
        proc = self._spawn("prometheus", [
            prometheus_bin(), f"--config.file={self.prom_config}", f"--storage.tsdb.path={self.promdata}",
            f"--web.listen-address=127.0.0.1:{self.prom_port}", "--log.level=warn"])

        def ready():
            if not proc.alive():
                raise Abort(f"prometheus exited with {proc.popen.returncode}")
            return self._http_get_plain(self.prom_port, "/-/ready")[0] == 200
        try:
            wait_for(ready, timeout, interval=0.25, what="prometheus /-/ready")
        except (AssertionError, RuntimeError) as exc:
            raise RuntimeError(f"{exc}\n{self.log_tails(['prometheus'])}") from None

    def stop_prometheus(self):
        proc = self.procs.pop(self.engine_proc, None)
        if proc is not None:
            proc.stop()

    def _start_victoria(self, timeout):
        """The store on ``prom_port`` (again after a stop); vmagent and vmalert the first time."""
        def wait_healthy(proc, port):
            def ready():
                if not proc.alive():
                    raise Abort(f"{proc.name} exited with {proc.popen.returncode}")
                return victoria.healthy(port)
            try:
                wait_for(ready, timeout, interval=0.25, what=f"{proc.name} /health")
            except (AssertionError, RuntimeError) as exc:
                raise RuntimeError(f"{exc}\n{self.log_tails([proc.name])}") from None
        if not ("victoria-metrics" in self.procs and self.procs["victoria-metrics"].alive()):
            proc = self._spawn("victoria-metrics", victoria.store_argv(self.prom_port, self.promdata,
                                                                       self.latency_offset))
            wait_healthy(proc, self.prom_port)
        store = f"http://127.0.0.1:{self.prom_port}"
        if "vmagent" not in self.procs:
            port = free_port()
            proc = self._spawn("vmagent", victoria.vmagent_argv(port, self.prom_config, store,
                                                                os.path.join(self.workdir, "vmagent-buffer")))
            wait_healthy(proc, port)
        if "vmalert" not in self.procs:
            port = free_port()
            rules = victoria.write_rules(os.path.join(self.workdir, "vmalert-rules.yml"))
            proc = self._spawn("vmalert", victoria.vmalert_argv(port, rules, store))
            wait_healthy(proc, port)

    def engine_query(self, promql, at=None, nocache=False):
        """An instant query sent to the engine itself (not through the proxy): the decoded answer."""
        return victoria.query(self.prom_port, promql, at=at, nocache=nocache)

    def _start_proxy(self):
        """Start the fault proxy in mode ``pass``; once it has a port, again on that same port."""
        port_file = os.path.join(self.workdir, "prometheus_proxy.port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        proc = self._spawn("prometheus_proxy", [
            *module_argv("prometheus_fault_proxy"), "--upstream", f"http://127.0.0.1:{self.prom_port}",
            "--port", str(self.proxy_port or 0), "--port-file", port_file])
        self.proxy_port = self._wait_port_file(proc, port_file, 20)

    def stop_proxy(self):
        """Stop the fault proxy: the adapter's Prometheus address then refuses connections."""
        proc = self.procs.pop("prometheus_proxy", None)
        if proc is not None:
            proc.stop()

    def start_proxy(self):
        """Start the fault proxy again on its port (mode ``pass``, request count zero)."""
        if "prometheus_proxy" in self.procs and self.procs["prometheus_proxy"].alive():
            return
        self._start_proxy()

    def _start_standin(self, first_rv=None, pods_file=None):
        """Start the stand-in; once it has a port, again on that same port (a restart)."""
        port_file = os.path.join(self.workdir, "standin.port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        argv = [*module_argv("kube_standin"), "--port", str(self.standin_port or 0), "--port-file", port_file,
                "--pods", pods_file or self.pods_file, "--kubeconfig-out", self.standin_kubeconfig,
                "--pki-dir", self.pki_dir, "--cert-kubeconfig-out", self.standin_cert_kubeconfig]
        if first_rv is not None:
            argv += ["--first-rv", str(first_rv)]
        proc = self._spawn("standin", argv)
        self.standin_port = self._wait_port_file(proc, port_file, 20)

    def stop_standin(self):
        """Stop the stand-in (by PID); returns the resourceVersion it had reached, or None."""
        try:
            rv = self.standin_resource_version()
        except (OSError, ValueError, KeyError):
            rv = None
        proc = self.procs.pop("standin", None)
        if proc is not None:
            proc.stop()
        return rv

    def start_standin(self, first_rv=None, pods=None):
        """Start the stand-in again on the same port.

        ``first_rv``: the resourceVersion it starts from.  Pass one above the old stand-in's (see
        ``stop_standin``) to act like a restarted kube-apiserver: versions stay monotonic and a
        watch from an older one gets 410 Expired.  ``pods``: a PODS.json document to start with
        instead of the stack's (fake_triton keeps exporting the stack's pods).
        """
        if "standin" in self.procs and self.procs["standin"].alive():
            return
        pods_file = None
        if pods is not None:
            pods_file = os.path.join(self.workdir, "standin-pods.json")
            with open(pods_file, "w", encoding="utf-8") as f:
                json.dump(pods, f, indent=2)
        self._start_standin(first_rv=first_rv, pods_file=pods_file)

    def standin_resource_version(self):
        """The stand-in's current resourceVersion, from a one-item pod list (int)."""
        conn = self.standin_connection(timeout=5)
        try:
            conn.request("GET", "/api/v1/pods?limit=1", headers={"Authorization": f"Bearer {self.standin_token()}"})
            resp = conn.getresponse()
            return int(json.loads(resp.read())["metadata"]["resourceVersion"])
        finally:
            conn.close()

    def restart_adapter(self, adapter_args=None, timeout=60, wait_path="/readyz"):
        """Stop the adapter and start it again (same certificate, new port), optionally with new args.

        Waits for ``wait_path`` to answer 200: ``/livez`` when the pod cache is not meant to sync."""
        proc = self.procs.pop("adapter", None)
        if proc is not None:
            proc.stop()
        if adapter_args is not None:
            self.adapter_args = list(adapter_args)
        self._start_adapter(timeout=timeout, wait_path=wait_path)
        self.write_kubeconfig()

    @property
    def prometheus_url(self):
        """Where the adapter sends queries: ``upstream_url``, else the fault proxy when there is one, else the engine."""
        if self.upstream_url:
            return self.upstream_url
        return f"http://127.0.0.1:{self.proxy_port if self.prometheus_proxy else self.prom_port}"

    def _start_adapter(self, timeout=60, wait_path="/readyz"):
        self.adapter_port = free_port()
        proc = self._spawn("adapter", [
            adapter_bin(), "--secure-port", str(self.adapter_port), "--bind-address", "127.0.0.1",
            "--cert-dir", self.certdir, "--kubeconfig", self.standin_kubeconfig,
            "--prometheus-url", self.prometheus_url, "--prometheus-query-timeout", "2s",
            "--log-level", self.log_level, *self.adapter_args])

        def ready():
            if not proc.alive():
                raise Abort(f"adapter exited with {proc.popen.returncode}")
            if not os.path.exists(self.ca_file):
                return False
            return self.request("GET", wait_path, token=None)[0] == 200
        try:
            wait_for(ready, timeout, interval=0.25, what=f"adapter {wait_path} over HTTPS")
        except (AssertionError, RuntimeError) as exc:
            raise RuntimeError(f"{exc}\n{self.log_tails(['adapter'])}") from None

    # -- clients -----------------------------------------------------------

    @property
    def ca_file(self):
        return os.path.join(self.certdir, "ca.crt")

    @property
    def base_url(self):
        return f"https://127.0.0.1:{self.adapter_port}"

    def _context(self):
        if self._ssl is None:
            self._ssl = ssl.create_default_context(cafile=self.ca_file)
        return self._ssl

    #: The bearer token requests carry unless told otherwise: the stand-in's admin token, which its
    #: TokenReview knows and its SubjectAccessReview policy allows (group system:masters).
    auth_token = "standin-token"

    def request(self, method, path, headers=None, timeout=15, token=...):
        """One HTTPS request (HTTP/1.1, CA = the adapter's generated ca.crt): (status, headers, body bytes).

        ``token`` defaults to ``auth_token``; ``None`` sends no Authorization header.
        """
        headers = dict(headers or {})
        token = self.auth_token if token is ... else token
        if token is not None and not any(k.lower() == "authorization" for k in headers):
            headers["Authorization"] = f"Bearer {token}"
        conn = http.client.HTTPSConnection("127.0.0.1", self.adapter_port, timeout=timeout, context=self._context())
        try:
            conn.request(method, path, headers=headers)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def get(self, path, headers=None, token=...):
        """GET over HTTPS: (status, parsed JSON) or (status, text) when the body is not JSON."""
        status, _, body = self.request("GET", path, headers, token=token)
        text = body.decode("utf-8", "replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def metric_path(self, namespace, pod="%2A", version="v1beta2", metric=METRIC, label_selector=None,
                    metric_label_selector=None):
        path = f"/apis/{GROUP}/{version}/namespaces/{namespace}/pods/{pod}/{metric}"
        query = []
        if label_selector is not None:
            query.append("labelSelector=" + urllib.parse.quote(label_selector, safe=""))
        if metric_label_selector is not None:
            query.append("metricLabelSelector=" + urllib.parse.quote(metric_label_selector, safe=""))
        return path + ("?" + "&".join(query) if query else "")

    def values(self, namespace, label_selector="app=triton", version="v1beta2", metric_label_selector=None):
        """{pod name: milli value} from the adapter, or None when it does not answer 200."""
        status, doc = self.get(self.metric_path(namespace, version=version, label_selector=label_selector,
                                                metric_label_selector=metric_label_selector))
        if status != 200 or not isinstance(doc, dict):
            return None
        return {it["describedObject"]["name"]: parse_quantity_milli(it["value"]) for it in doc.get("items") or []}

    def standin_token(self):
        """The bearer token of the stand-in's kubeconfig (the one credential of this fake cluster)."""
        with open(self.standin_kubeconfig, encoding="utf-8") as f:
            for line in f:
                if line.strip().startswith("token:"):
                    return line.split(":", 1)[1].strip()
        return None

    def write_kubeconfig(self, path=None):
        """A kubeconfig for kubectl talking to the adapter (CA = the generated ca.crt).

        The user carries the stand-in's bearer token, which the adapter authenticates with a
        TokenReview against the stand-in and authorizes with a SubjectAccessReview.
        """
        path = path or self.kubeconfig
        token = self.standin_token() or "e2e-test-token"
        text = (
            "apiVersion: v1\n"
            "kind: Config\n"
            "clusters:\n"
            "- name: custom-metrics-adapter\n"
            "  cluster:\n"
            f"    server: {self.base_url}\n"
            f"    certificate-authority: {self.ca_file}\n"
            "users:\n"
            "- name: e2e\n"
            "  user:\n"
            f"    token: {token}\n"
            "contexts:\n"
            "- name: custom-metrics-adapter\n"
            "  context:\n"
            "    cluster: custom-metrics-adapter\n"
            "    user: e2e\n"
            "current-context: custom-metrics-adapter\n"
        )
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def kubectl_raw(self, path, timeout=30):
        """``kubectl --kubeconfig F get --raw PATH``: (returncode, stdout, stderr)."""
        cache = os.path.join(self.workdir, "kube-cache")
        res = subprocess.run([kubectl_bin(), "--kubeconfig", self.kubeconfig, "--cache-dir", cache,
                              "get", "--raw", path], capture_output=True, text=True, timeout=timeout,
                             stdin=subprocess.DEVNULL)
        return res.returncode, res.stdout, res.stderr

    def curl_http_version(self, path, http2=True, timeout=30):
        """The HTTP version curl negotiated (``2`` or ``1.1``) and the status code, via -w."""
        res = subprocess.run([curl_bin(), "--http2" if http2 else "--http1.1", "-sS", "--max-time", "20",
                              "--cacert", self.ca_file, "-o", os.devnull,
                              "-H", f"Authorization: Bearer {self.auth_token}",
                              "-w", "%{http_version} %{http_code}", self.base_url + path],
                             capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if res.returncode != 0:
            raise AssertionError(f"curl failed ({res.returncode}): {res.stderr.strip()}")
        version, code = res.stdout.split()
        return version, int(code)

    # -- Kubernetes stand-in control ----------------------------------------

    @property
    def standin_ca_file(self):
        """The CA that signs the stand-in's serving certificate (what a pod's ``ca.crt`` holds)."""
        return os.path.join(self.pki_dir, "apiserver-ca.crt")

    def standin_connection(self, timeout=10):
        """An HTTPS connection to the stand-in that verifies it against its CA."""
        context = ssl.create_default_context(cafile=self.standin_ca_file)
        return http.client.HTTPSConnection("127.0.0.1", self.standin_port, timeout=timeout, context=context)

    def standin(self, method, path, body=None):
        """A /_control request to the stand-in: (status, parsed JSON)."""
        conn = self.standin_connection()
        try:
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
            return _status_and_body(conn.getresponse())
        finally:
            conn.close()

    def apply_pod(self, namespace, name, labels=None, **fields):
        spec = {"namespace": namespace, "name": name, **fields}
        if labels is not None:
            spec["labels"] = labels
        status, doc = self.standin("POST", "/_control/pods", spec)
        if status != 200:
            raise AssertionError(f"stand-in refused pod {spec}: {status} {doc}")
        return doc

    def delete_pod(self, namespace, name):
        status, doc = self.standin("DELETE", f"/_control/pods/{namespace}/{name}")
        if status != 200:
            raise AssertionError(f"stand-in could not delete {namespace}/{name}: {status} {doc}")
        return doc

    def compact(self):
        return self.standin("POST", "/_control/compact", {})

    def break_watches(self):
        return self.standin("POST", "/_control/break-watches", {})

    def fail_requests(self, status, count=1, verb=None):
        """Fail the stand-in's next ``count`` pod list/watch requests (-1: until reset; verb: only list/watch)."""
        body = {"status": status, "count": count}
        if verb is not None:
            body["verb"] = verb
        return self.standin("POST", "/_control/fail", body)

    # -- Prometheus fault proxy control ---------------------------------------

    def proxy(self, method, path, body=None):
        """A /_control request to the fault proxy: (status, parsed JSON or text)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.proxy_port, timeout=10)
        try:
            conn.request(method, path, body=body.encode() if isinstance(body, str) else body)
            return _status_and_body(conn.getresponse())
        finally:
            conn.close()

    def proxy_mode(self, mode):
        """Switch the fault proxy (``pass``, ``delay:3``, ``status:500:html``, ...; see the script)."""
        status, doc = self.proxy("POST", "/_control/mode", mode)
        if status != 200:
            raise AssertionError(f"fault proxy refused mode {mode!r}: {status} {doc}")
        return doc

    def proxy_requests(self, reset=False):
        """{"count": queries seen, "queries": [...]} from the fault proxy; ``reset`` zeroes it."""
        status, doc = self.proxy("DELETE" if reset else "GET", "/_control/requests")
        if status != 200:
            raise AssertionError(f"fault proxy /_control/requests: {status} {doc}")
        return doc

    # -- the adapter's own metrics ------------------------------------------------

    def adapter_metrics(self):
        """The adapter's /metrics as {(name, ((label, value), ...sorted)): float}."""
        status, text = self.get("/metrics")
        if status != 200 or not isinstance(text, str):
            raise AssertionError(f"/metrics -> {status}: {text!r}")
        return parse_metrics_text(text)

    # -- diagnostics -------------------------------------------------------

    @staticmethod
    def _http_get_plain(port, path):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read()
        except OSError:
            return 0, b""
        finally:
            conn.close()

    def log_tails(self, names=None, lines=40):
        names = names or ["adapter", "prometheus", "victoria-metrics", "vmagent", "vmalert", "standin", "fake_triton"]
        out = []
        for name in names:
            path = os.path.join(self.logdir, f"{name}.log")
            if os.path.exists(path):
                out.append(f"----- last {lines} lines of {path} -----\n{_tail(path, lines)}")
        return "\n".join(out)


# ---------------------------------------------------------------------------
# Demo (scripts/demo.sh)

DEMO_NAMESPACE = "triton"


def demo_pods():
    """Three Triton pods with very different loads, several models each, plus another app's pod."""
    def model(name, queue, compute):
        return {"model": name, "version": "1", "queue_us_per_s": queue, "compute_us_per_s": compute}
    triton = {"app": "triton"}
    return {"pods": [
        {"namespace": DEMO_NAMESPACE, "name": "triton-0", "labels": triton, "models": [   # idle: 0.05
            model("preprocessing", 1000, 40000), model("tensorrt_llm", 8500, 150000),
            model("postprocessing", 500, 10000)]},
        {"namespace": DEMO_NAMESPACE, "name": "triton-1", "labels": triton, "models": [   # balanced: 0.9
            model("preprocessing", 20000, 100000), model("tensorrt_llm", 850000, 850000),
            model("postprocessing", 30000, 50000)]},
        {"namespace": DEMO_NAMESPACE, "name": "triton-2", "labels": triton, "models": [   # saturated: 2.5
            model("preprocessing", 100000, 100000), model("tensorrt_llm", 2300000, 850000),
            model("postprocessing", 100000, 50000)]},
        {"namespace": DEMO_NAMESPACE, "name": "embedder-0", "labels": {"app": "embedder"}, "models": [  # 5.0
            model("embedder", 5000000, 1000000)]},
    ]}


def _say(text=""):
    try:
        print(text, flush=True)
    except (BrokenPipeError, ValueError):  # output closed (e.g. piped into head): keep cleaning up
        pass


def _run_shown(command, env):
    """Echo a shell command exactly, then run it with bash and show its output."""
    _say(f"$ {command}")
    res = subprocess.run(["bash", "-o", "pipefail", "-c", command], env=env, capture_output=True, text=True,
                         timeout=60, stdin=subprocess.DEVNULL)
    _say(res.stdout.rstrip("\n"))
    if res.stderr:
        _say(res.stderr.rstrip("\n"))
    _say()
    if res.returncode != 0:
        raise RuntimeError(f"command failed with exit code {res.returncode}: {command}")
    return res.stdout


def hpa_decision(milli_values, current, target_milli=1000, min_replicas=1, max_replicas=4, tolerance=0.1):
    """What the HPA controller computes for a Pods metric (autoscaling/v2, averageValue)."""
    average = sum(milli_values) // len(milli_values)
    ratio = average / target_milli
    if abs(ratio - 1.0) <= tolerance:
        desired = current
    else:
        desired = math.ceil(ratio * current)
    return average, ratio, max(min_replicas, min(max_replicas, desired))


def demo(keep=False):
    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    problems = missing_tools(need_kubectl=True, need_curl=False)
    if problems:
        _say("demo: cannot start:\n  " + "\n  ".join(problems))
        return 1
    pods = demo_pods()
    selector = "app=triton"
    triton_pods = sorted(p["name"] for p in pods["pods"] if p["labels"].get("app") == "triton")
    stack = Stack(pods, log_level="info", keep_workdir=keep)
    started = time.monotonic()
    try:
        _say("==> Starting simulated Triton pods, Prometheus, the Kubernetes API stand-in and the adapter")
        stack.__enter__()
        _say(f"    adapter     https://127.0.0.1:{stack.adapter_port}  (pid {stack.procs['adapter'].pid}, "
             f"certificate from {stack.ca_file})")
        _say(f"    prometheus  http://127.0.0.1:{stack.prom_port}  (pid {stack.procs['prometheus'].pid})")
        _say(f"    kube API    https://127.0.0.1:{stack.standin_port}  (stand-in, pid {stack.procs['standin'].pid})")
        _say(f"    triton pods http://127.0.0.1:{stack.triton_port}/pods/<ns>/<pod>/metrics "
             f"(pid {stack.procs['fake_triton'].pid})")
        _say()
        _say("    simulated pods (namespace/name, labels, sum of queue / sum of compute over their models):")
        for p in pods["pods"]:
            labels = ",".join(f"{k}={v}" for k, v in p["labels"].items())
            models = ", ".join(m["model"] for m in p["models"])
            _say(f"      {p['namespace']}/{p['name']:<11} {labels:<13} expected {expected_milli(p) / 1000:.3f}"
                 f"  ({models})")
        _say()
        _say("==> Waiting for Prometheus to scrape twice and the adapter to serve values ...")
        last = {}

        def all_values():
            status, doc = stack.get(stack.metric_path(DEMO_NAMESPACE, label_selector=selector))
            last["answer"] = f"HTTP {status}: {json.dumps(doc) if isinstance(doc, dict) else doc}"
            names = sorted(it["describedObject"]["name"] for it in doc.get("items") or []) \
                if status == 200 and isinstance(doc, dict) else None
            return names == triton_pods
        try:
            wait_for(all_values, 45, interval=0.5, what="a value for every triton pod")
        except AssertionError as exc:
            raise RuntimeError(f"{exc}\n    the adapter's last answer: {last.get('answer')}") from None
        _say(f"    values served {time.monotonic() - started:.1f}s after the start")
        _say()

        env = dict(os.environ, KUBECONFIG=stack.kubeconfig)
        _say("==> kubectl, the real Kubernetes client, against the adapter (HTTP/2, TLS verified with its CA)")
        _say(f"$ export KUBECONFIG={stack.kubeconfig}")
        _say()
        _say("--- API discovery: what the kube-aggregator and the HPA see")
        _run_shown(f"kubectl get --raw /apis/{GROUP}/v1beta2 | python3 -m json.tool", env)
        request = stack.metric_path(DEMO_NAMESPACE, label_selector=selector)
        _say("--- The HPA's request: every pod of the Deployment (label selector app=triton)")
        out = _run_shown(f"kubectl get --raw '{request}' | python3 -m json.tool", env)
        doc = json.loads(out)
        items = sorted(doc.get("items") or [], key=lambda it: it["describedObject"]["name"])
        if not items:
            raise RuntimeError("the adapter returned no items")

        _say("--- Per pod")
        _say(f"    {'POD':<12} {'VALUE':>8} {'AS RATIO':>9}   TIMESTAMP")
        milli = []
        for it in items:
            m = parse_quantity_milli(it["value"])
            milli.append(m)
            _say(f"    {it['describedObject']['name']:<12} {it['value']:>8} {m / 1000:>9.3f}   {it['timestamp']}")
        other = [p["name"] for p in pods["pods"] if p["labels"].get("app") != "triton"]
        _say(f"    (not listed: {', '.join(other)}, another app in the same namespace: "
             "the label selector keeps it out of the average)")
        _say()
        current = len(items)
        average, ratio, desired = hpa_decision(milli, current)
        _say("--- What the HPA computes (type: Pods, target averageValue 1000m, minReplicas 1, maxReplicas 4)")
        _say(f"    average = ({' + '.join(str(m) for m in milli)}) / {current} = {average}m   (integer division)")
        _say(f"    ratio   = {average}m / 1000m = {ratio:.3f}")
        if abs(ratio - 1.0) <= 0.1:
            _say(f"    |ratio - 1| = {abs(ratio - 1):.3f} <= 0.1 tolerance: no change, stays at {current} replicas")
        else:
            _say(f"    |ratio - 1| = {abs(ratio - 1):.3f} > 0.1 tolerance: desired = ceil({ratio:.3f} x {current}) = "
                 f"{math.ceil(ratio * current)}, clamped to 1..4 = {desired}")
            verb = "scale up" if desired > current else ("scale down" if desired < current else "stay")
            _say(f"    => {verb}: {current} -> {desired} replicas")
        _say()
        _say(f"==> Done in {time.monotonic() - started:.1f}s. Logs: {stack.logdir}"
             + ("" if keep else " (removed on exit)"))
        if keep:
            _say()
            _say("DEMO_KEEP=1: everything keeps running. PIDs:")
            for name, pid in stack.pids().items():
                _say(f"    {name:<12} {pid}")
            _say(f"    kubeconfig   {stack.kubeconfig}")
            _say(f"  try: KUBECONFIG={stack.kubeconfig} kubectl get --raw '{request}'")
            _say("Press Ctrl-C to stop.")
            while True:
                time.sleep(3600)
        return 0
    except KeyboardInterrupt:
        _say("\n==> Interrupted")
        return 130
    except (AssertionError, RuntimeError, OSError, ValueError, subprocess.SubprocessError) as exc:
        _say(f"\ndemo FAILED: {exc}\n")
        _say(stack.log_tails(["adapter"], lines=20))
        _say(stack.log_tails(["prometheus", "standin", "fake_triton"], lines=10))
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        pids = ", ".join(f"{n} {p}" for n, p in stack.pids().items())
        stack.stop()
        _say(f"==> Stopped the processes the demo started ({pids or 'none running'})")
        if keep:
            _say(f"    (work dir kept: {stack.workdir})")


def main(argv):
    if len(argv) >= 2 and argv[1] == "demo":
        return demo(keep=os.environ.get("DEMO_KEEP") == "1")
    print(f"usage: {argv[0]} demo", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
