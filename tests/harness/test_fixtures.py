#!/usr/bin/env python3
"""Self-test for tests/support/fake_triton.py and tests/support/kube_standin.py.

Run from the repository root::

    /usr/bin/python3 -m unittest tests/harness/test_fixtures.py -v

Each fixture runs as a subprocess on a free port.  If /usr/bin/prometheus
exists, one test also scrapes fake_triton with the generated config and checks
rates and label sets through the Prometheus HTTP API.  The stand-in's PKI is
checked with the openssl CLI.  Every wait is bounded.
"""

import calendar
import http.client
import json
import os
import random
import re
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
from urllib.parse import quote, urlencode

from tests.support import REPO, module_argv

FAKE_TRITON = "fake_triton"  # modules of tests/support, run with python3 -m
KUBE_STANDIN = "kube_standin"
# port -> SSLContext trusting that stand-in's CA: the stand-in serves HTTPS only, as kube-apiserver.
TLS_CONTEXTS = {}
PROMETHEUS = "/usr/bin/prometheus"
TOKEN = "standin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

TWO_MODEL_POD = {
    "namespace": "team-a", "name": "triton-0",
    "models": [
        {"model": "ensemble", "version": "1", "queue_us_per_s": 100, "compute_us_per_s": 900000},
        {"model": "tensorrt_llm", "version": "1", "queue_us_per_s": 1500000, "compute_us_per_s": 1000000},
    ],
}
ONE_MODEL_POD = {
    "namespace": "team-b", "name": "triton-1",
    "models": [{"model": "ensemble", "version": "2", "queue_us_per_s": 5000, "compute_us_per_s": 250000}],
}
METRIC_NAMES = [
    "nv_inference_request_success", "nv_inference_count", "nv_inference_exec_count",
    "nv_inference_request_duration_us", "nv_inference_queue_duration_us",
    "nv_inference_compute_input_duration_us", "nv_inference_compute_infer_duration_us",
    "nv_inference_compute_output_duration_us",
]
EXPIRED_CONTINUE = {
    "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
    "message": "The provided continue parameter is too old to display a consistent list result. "
               "You can start a new list without the continue parameter, or use the continue "
               "token in this response to retrieve the remainder of the results.",
    "reason": "Expired", "code": 410,
}
UNAUTHORIZED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "Unauthorized", "reason": "Unauthorized", "code": 401}
HPA_USER = "system:serviceaccount:kube-system:horizontal-pod-autoscaler"
TOKENREVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews"
SARS = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
AUTH_CM = "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication"
PKI_STEMS = ("apiserver-ca", "apiserver", "client-ca", "admin-client", "front-proxy-ca", "front-proxy-client",
             "not-allowed-client", "rogue-ca", "rogue-client")


# ---------------------------------------------------------------------------
# Helpers


def write_json_atomic(path, doc):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f)
    os.replace(tmp, path)


def read_text(path):
    with open(path) as f:
        return f.read()


def read_json(path):
    with open(path) as f:
        return json.load(f)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_fixture(module, args, workdir, name, wait=20.0):
    """Start a fixture (a tests/support module) with --port 0 and return (process, port) once it is ready.

    A stand-in also gets a kubeconfig (unless the test passes one); the CA named in it is trusted for
    that port from then on (``TLS_CONTEXTS``).  ``wait`` covers the stand-in's PKI generation (nine
    openssl key+certificate pairs, ~1-3 s on a loaded 2-core machine) with a wide margin.
    """
    port_file = os.path.join(workdir, f"{name}.port")
    args = list(args)
    kubeconfig = None
    if module == KUBE_STANDIN:
        if "--kubeconfig-out" not in args:
            args += ["--kubeconfig-out", os.path.join(workdir, f"{name}.kubeconfig")]
        kubeconfig = args[args.index("--kubeconfig-out") + 1]
    stderr = open(os.path.join(workdir, f"{name}.stderr"), "w")
    proc = subprocess.Popen([*module_argv(module), "--port", "0", "--port-file", port_file, *args],
                            stdout=subprocess.DEVNULL, stderr=stderr, cwd=REPO)
    stderr.close()
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}: "
                               + read_text(os.path.join(workdir, f"{name}.stderr")))
        if os.path.exists(port_file):
            port = int(read_text(port_file))
            if kubeconfig is not None:
                TLS_CONTEXTS[port] = ssl.create_default_context(cafile=kubeconfig_ca(kubeconfig))
            return proc, port
        time.sleep(0.05)
    stop_process(proc)
    raise RuntimeError(f"{name} did not write its port file within {wait}s")


def kubeconfig_ca(path):
    """The ``certificate-authority`` file a kubeconfig names."""
    for line in read_text(path).splitlines():
        if line.strip().startswith("certificate-authority:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{path} names no certificate-authority")


def stop_process(proc, wait=10.0):
    """SIGTERM the process we started (by PID), SIGKILL if it lingers; return its exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode


def connection(port, timeout=5.0, context=None):
    """HTTPS to a stand-in (verified against its CA), plain HTTP to anything else."""
    context = context or TLS_CONTEXTS.get(port)
    if context is not None:
        return http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=context)
    return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)


def request(port, method, path, body=None, headers=None, timeout=5.0, context=None):
    """One HTTP(S) request (bytes bodies go as-is); returns (status, headers dict, body bytes)."""
    conn = connection(port, timeout, context)
    try:
        data = None if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs = dict(headers or {})
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def get_json(port, path, headers=AUTH):
    status, _, body = request(port, "GET", path, headers=headers)
    return status, json.loads(body)


def run_openssl(*args):
    """(exit code, stdout + stderr) of one openssl CLI call, bounded in time."""
    proc = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=30)
    return proc.returncode, proc.stdout + proc.stderr


def parse_exposition(text):
    """Parse Triton-style exposition into (helps, types, {(metric, model, version): int})."""
    helps, types, samples = {}, {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, text_ = line[7:].partition(" ")
            assert name not in helps, f"duplicate HELP for {name}"
            helps[name] = text_
        elif line.startswith("# TYPE "):
            name, kind = line[7:].split(" ")
            assert name not in types, f"duplicate TYPE for {name}"
            types[name] = kind
        elif line:
            m = re.fullmatch(r'([a-z_]+)\{model="([^"]*)",version="([^"]*)"\} ([0-9]+)', line)
            assert m, f"bad sample line {line!r}"
            assert m.group(1) in types, f"sample before TYPE: {line!r}"
            samples[(m.group(1), m.group(2), m.group(3))] = int(m.group(4))
    return helps, types, samples


class WatchStream:
    """Raw-socket chunked reader, so a clean end (0-chunk) and an abrupt close differ."""

    def __init__(self, port, path, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if port in TLS_CONTEXTS:
            self.sock = TLS_CONTEXTS[port].wrap_socket(self.sock, server_hostname="127.0.0.1")
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                           f"Authorization: Bearer {TOKEN}\r\nAccept: application/json\r\n\r\n").encode())
        self.f = self.sock.makefile("rb")
        self.status = int(self.f.readline().split()[1])
        self.headers = {}
        while True:
            line = self.f.readline()
            if line in (b"\r\n", b""):
                break
            key, _, value = line.decode().partition(":")
            self.headers[key.strip().lower()] = value.strip()
        self.ended = None  # "clean" after the terminating chunk, "abrupt" on EOF mid-stream

    def next_event(self, timeout=5.0):
        """Next event dict, or None once the stream has ended (see ``ended``)."""
        self.sock.settimeout(timeout)
        size_line = self.f.readline()
        if not size_line.endswith(b"\r\n"):
            self.ended = "abrupt"
            return None
        size = int(size_line.strip(), 16)
        if size == 0:
            self.f.readline()
            self.ended = "clean"
            return None
        data = self.f.read(size + 2)
        if len(data) != size + 2:
            self.ended = "abrupt"
            return None
        assert data.endswith(b"\n\r\n"), "each chunk must be one JSON line"
        return json.loads(data[:-2])

    def events_until_end(self, within=5.0):
        """All remaining events; fails (timeout) if the stream does not end in time."""
        events, deadline = [], time.monotonic() + within
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("watch did not end in time")
            ev = self.next_event(timeout=remaining)
            if ev is None:
                return events
            events.append(ev)

    def close(self):
        self.f.close()
        self.sock.close()


# ---------------------------------------------------------------------------
# fake_triton


class FakeTritonTest(unittest.TestCase):
    """Exposition format, rates and generated Prometheus files."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.pods_file = os.path.join(d, "pods.json")
        cls.sd_file = os.path.join(d, "sd.json")
        cls.prom_file = os.path.join(d, "prometheus.yml")
        write_json_atomic(cls.pods_file, {"pods": [TWO_MODEL_POD, ONE_MODEL_POD]})
        cls.proc, cls.port = start_fixture(
            FAKE_TRITON, ["--pods", cls.pods_file, "--prometheus-config", cls.prom_file,
                          "--sd-file", cls.sd_file, "--scrape-interval", "1s"], d, "triton")

    @classmethod
    def tearDownClass(cls):
        stop_process(cls.proc)
        cls.tmp.cleanup()

    def scrape(self, path="/pods/team-a/triton-0/metrics"):
        status, headers, body = request(self.port, "GET", path)
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"))
        return parse_exposition(body.decode())

    def test_exposition_format(self):
        helps, types, samples = self.scrape()
        self.assertEqual(list(types), METRIC_NAMES)
        self.assertEqual(set(types.values()), {"counter"})
        self.assertEqual(list(helps), METRIC_NAMES)
        for metric in METRIC_NAMES:
            for model in ("ensemble", "tensorrt_llm"):
                self.assertIn((metric, model, "1"), samples)
        self.assertEqual(len(samples), 16)
        _, _, other = self.scrape("/pods/team-b/triton-1/metrics")
        self.assertEqual({(m, v) for _, m, v in other}, {("ensemble", "2")})

    def test_counters_grow_at_configured_rate(self):
        a1 = time.monotonic()
        _, _, s1 = self.scrape()
        b1 = time.monotonic()
        time.sleep(1.0)
        a2 = time.monotonic()
        _, _, s2 = self.scrape()
        b2 = time.monotonic()
        rates = {
            ("nv_inference_queue_duration_us", "ensemble"): 100,
            ("nv_inference_compute_infer_duration_us", "ensemble"): 900000,
            ("nv_inference_queue_duration_us", "tensorrt_llm"): 1500000,
            ("nv_inference_compute_infer_duration_us", "tensorrt_llm"): 1000000,
            ("nv_inference_request_duration_us", "tensorrt_llm"): 2500000,
            ("nv_inference_compute_input_duration_us", "tensorrt_llm"): 10000,
            ("nv_inference_request_success", "ensemble"): 1,
        }
        for (metric, model), rate in rates.items():
            delta = s2[(metric, model, "1")] - s1[(metric, model, "1")]
            # Sample times are only known to lie within [a, b]; floors add +-1.
            low, high = rate * (a2 - b1) - 2, rate * (b2 - a1) + 2
            self.assertTrue(low <= delta <= high, f"{metric}/{model}: {delta} not in [{low}, {high}]")

    def test_derived_counters_consistent(self):
        _, _, s = self.scrape()
        for model in ("ensemble", "tensorrt_llm"):
            q = s[("nv_inference_queue_duration_us", model, "1")]
            c = s[("nv_inference_compute_infer_duration_us", model, "1")]
            self.assertLessEqual(abs(s[("nv_inference_request_duration_us", model, "1")] - (q + c)), 2)
            self.assertLessEqual(abs(s[("nv_inference_compute_input_duration_us", model, "1")] - c / 100), 2)
            self.assertEqual(s[("nv_inference_count", model, "1")], s[("nv_inference_request_success", model, "1")])

    def test_healthz_and_unknown_paths(self):
        self.assertEqual(request(self.port, "GET", "/healthz")[::2], (200, b"ok"))
        for path in ("/metrics", "/pods/team-a/nope/metrics", "/pods/team-a/triton-0", "/x"):
            self.assertEqual(request(self.port, "GET", path)[0], 404, path)

    def test_generated_prometheus_files(self):
        sd = read_json(self.sd_file)
        self.assertEqual(sd, [
            {"targets": [f"127.0.0.1:{self.port}"],
             "labels": {"__metrics_path__": "/pods/team-a/triton-0/metrics", "namespace": "team-a", "pod": "triton-0"}},
            {"targets": [f"127.0.0.1:{self.port}"],
             "labels": {"__metrics_path__": "/pods/team-b/triton-1/metrics", "namespace": "team-b", "pod": "triton-1"}},
        ])
        config = read_text(self.prom_file)
        self.assertIn("scrape_interval: 1s", config)
        self.assertIn("evaluation_interval: 1s", config)
        self.assertIn("job_name: triton", config)
        self.assertIn("honor_labels: false", config)
        self.assertIn(json.dumps(os.path.abspath(self.sd_file)), config)
        self.assertIn("refresh_interval: 1s", config)


class FakeTritonReloadTest(unittest.TestCase):
    """Pods-file reload: removed pods 404, new pods start at zero, SD file follows."""

    def test_reload_and_sigterm(self):
        with tempfile.TemporaryDirectory() as d:
            pods_file, sd_file = os.path.join(d, "pods.json"), os.path.join(d, "sd.json")
            write_json_atomic(pods_file, {"pods": [TWO_MODEL_POD, ONE_MODEL_POD]})
            proc, port = start_fixture(FAKE_TRITON, ["--pods", pods_file, "--sd-file", sd_file], d, "triton")
            try:
                time.sleep(1.0)
                _, _, before = request(port, "GET", "/pods/team-a/triton-0/metrics")
                before = parse_exposition(before.decode())[2]
                new_pod = {"namespace": "team-c", "name": "late-0",
                           "models": [{"model": "m", "version": "1", "queue_us_per_s": 1000, "compute_us_per_s": 1000}]}
                write_json_atomic(pods_file, {"pods": [TWO_MODEL_POD, new_pod]})
                deadline = time.monotonic() + 5
                while request(port, "GET", "/pods/team-b/triton-1/metrics")[0] != 404:
                    self.assertLess(time.monotonic(), deadline, "removed pod still served")
                    time.sleep(0.2)
                status, _, body = request(port, "GET", "/pods/team-c/late-0/metrics")
                self.assertEqual(status, 200)
                late = parse_exposition(body.decode())[2]
                # Appeared at most ~1.5 s ago, while the process is older than 1 s.
                self.assertLessEqual(late[("nv_inference_request_success", "m", "1")], 2)
                self.assertLess(late[("nv_inference_queue_duration_us", "m", "1")], 2500)
                _, _, after = request(port, "GET", "/pods/team-a/triton-0/metrics")
                after = parse_exposition(after.decode())[2]
                for key, value in before.items():
                    self.assertGreaterEqual(after[key], value, f"{key} went backwards")
                deadline = time.monotonic() + 3
                while True:
                    pods = [e["labels"]["pod"] for e in read_json(sd_file)]
                    if pods == ["triton-0", "late-0"]:
                        break
                    self.assertLess(time.monotonic(), deadline, f"SD file not updated: {pods}")
                    time.sleep(0.2)
            finally:
                rc = stop_process(proc)
            self.assertEqual(rc, 0)

    def test_ten_thousand_pods(self):
        with tempfile.TemporaryDirectory() as d:
            pods_file, sd_file = os.path.join(d, "pods.json"), os.path.join(d, "sd.json")
            pods = [{"namespace": f"ns-{i // 100}", "name": f"triton-{i}", "models": TWO_MODEL_POD["models"]}
                    for i in range(10000)]
            write_json_atomic(pods_file, {"pods": pods})
            proc, port = start_fixture(FAKE_TRITON, ["--pods", pods_file, "--sd-file", sd_file], d, "triton")
            try:
                self.assertEqual(len(read_json(sd_file)), 10000)
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                started = time.monotonic()
                for i in random.Random(1).sample(range(10000), 50):
                    conn.request("GET", f"/pods/ns-{i // 100}/triton-{i}/metrics")
                    resp = conn.getresponse()
                    self.assertEqual(resp.status, 200)
                    self.assertEqual(len(parse_exposition(resp.read().decode())[2]), 16)
                conn.close()
                self.assertLess(time.monotonic() - started, 3.0, "50 keep-alive scrapes too slow")
            finally:
                self.assertEqual(stop_process(proc), 0)


@unittest.skipUnless(os.path.exists(PROMETHEUS), "no /usr/bin/prometheus")
class PrometheusScrapeTest(unittest.TestCase):
    """Real Prometheus scrapes fake_triton via the generated config and file_sd."""

    def query(self, port, promql):
        status, body = get_json(port, "/api/v1/query?" + urlencode({"query": promql}), headers={})
        self.assertEqual(status, 200, body)
        return body["data"]["result"]

    def test_rates_and_labels_through_prometheus(self):
        with tempfile.TemporaryDirectory() as d:
            pods_file, sd_file = os.path.join(d, "pods.json"), os.path.join(d, "sd.json")
            prom_file = os.path.join(d, "prometheus.yml")
            write_json_atomic(pods_file, {"pods": [TWO_MODEL_POD, ONE_MODEL_POD]})
            triton, _ = start_fixture(FAKE_TRITON, ["--pods", pods_file, "--sd-file", sd_file,
                                                    "--prometheus-config", prom_file,
                                                    "--scrape-interval", "1s"], d, "triton")
            prom_port = free_port()
            prom_log = open(os.path.join(d, "prometheus.log"), "w")
            prom = subprocess.Popen([PROMETHEUS, f"--config.file={prom_file}",
                                     f"--storage.tsdb.path={os.path.join(d, 'tsdb')}",
                                     f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
                                    stdout=prom_log, stderr=prom_log)
            prom_log.close()
            try:
                want = {("team-a", "triton-0", "ensemble", "1"), ("team-a", "triton-0", "tensorrt_llm", "1"),
                        ("team-b", "triton-1", "ensemble", "2")}
                deadline, seen, last_error = time.monotonic() + 20, set(), None
                while time.monotonic() < deadline:
                    if prom.poll() is not None:
                        self.fail("prometheus exited: " + read_text(os.path.join(d, "prometheus.log")))
                    try:
                        result = self.query(prom_port, "rate(nv_inference_queue_duration_us[1m])")
                        seen = {(r["metric"].get("namespace"), r["metric"].get("pod"),
                                 r["metric"].get("model"), r["metric"].get("version")) for r in result}
                        if seen == want:
                            break
                    except (OSError, http.client.HTTPException, ValueError) as exc:
                        last_error = exc  # not listening yet
                    time.sleep(0.5)
                self.assertEqual(seen, want, f"series never appeared (last error: {last_error})")
                for r in result:
                    self.assertNotIn("exported_namespace", r["metric"])
                    self.assertNotIn("exported_pod", r["metric"])
                ratio = self.query(prom_port, (
                    "sum by (namespace,pod)(rate(nv_inference_queue_duration_us[1m])) / "
                    "clamp_min(sum by (namespace,pod)(rate(nv_inference_compute_infer_duration_us[1m])),1)"))
                by_pod = {(r["metric"]["namespace"], r["metric"]["pod"]): float(r["value"][1]) for r in ratio}
                expected = (100 + 1500000) / (900000 + 1000000)
                self.assertAlmostEqual(by_pod[("team-a", "triton-0")] / expected, 1.0, delta=0.02)
                self.assertAlmostEqual(by_pod[("team-b", "triton-1")] / (5000 / 250000), 1.0, delta=0.02)
            finally:
                stop_process(prom)
                stop_process(triton)


# ---------------------------------------------------------------------------
# kube_standin

KUBE_PODS = [
    {"namespace": "team-a", "name": "triton-0"},
    {"namespace": "team-a", "name": "triton-1"},
    {"namespace": "team-a", "name": "other-0", "labels": {"app": "other"}},
    {"namespace": "team-b", "name": "triton-0", "phase": "Pending"},
    {"namespace": "team-b", "name": "triton-1", "deletionTimestamp": "2026-01-02T00:00:00Z"},
]


class KubeStandinTest(unittest.TestCase):
    """List/pagination/watch semantics and control hooks of the API stand-in."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        pods_file = os.path.join(d, "pods.json")
        cls.kubeconfig = os.path.join(d, "kubeconfig")
        write_json_atomic(pods_file, {"pods": KUBE_PODS})
        cls.proc, cls.port = start_fixture(KUBE_STANDIN, ["--pods", pods_file, "--kubeconfig-out", cls.kubeconfig,
                                                          "--pki-dir", os.path.join(d, "pki"),
                                                          "--bookmark-interval", "1"], d, "kube")

    @classmethod
    def tearDownClass(cls):
        stop_process(cls.proc)
        cls.tmp.cleanup()

    def control(self, method, path, body=None):
        status, _, data = request(self.port, method, path, body=body)
        self.assertEqual(status, 200, data)
        return json.loads(data)

    def current_rv(self):
        status, body = get_json(self.port, "/api/v1/pods?limit=1")
        self.assertEqual(status, 200)
        return int(body["metadata"]["resourceVersion"])

    def watch(self, path):
        stream = WatchStream(self.port, path)
        self.addCleanup(stream.close)
        self.assertEqual(stream.status, 200)
        self.assertEqual(stream.headers["content-type"], "application/json")
        self.assertEqual(stream.headers["transfer-encoding"], "chunked")
        return stream

    def test_kubeconfig(self):
        text = read_text(self.kubeconfig)
        for line in ("apiVersion: v1", "kind: Config", f"server: https://127.0.0.1:{self.port}",
                     f"certificate-authority: {os.path.join(self.tmp.name, 'pki', 'apiserver-ca.crt')}",
                     "token: standin-token", "current-context: standin"):
            self.assertIn(line, text)

    def test_unauthorized(self):
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            status, body = get_json(self.port, "/api/v1/pods", headers=headers)
            self.assertEqual((status, body), (401, UNAUTHORIZED))

    def test_list_all(self):
        status, body = get_json(self.port, "/api/v1/pods")
        self.assertEqual(status, 200)
        self.assertEqual((body["kind"], body["apiVersion"]), ("PodList", "v1"))
        self.assertNotIn("continue", body["metadata"])
        rv = int(body["metadata"]["resourceVersion"])
        keys = [f'{p["metadata"]["namespace"]}/{p["metadata"]["name"]}' for p in body["items"]]
        self.assertEqual(keys, sorted(keys))
        self.assertTrue({"team-a/other-0", "team-a/triton-0", "team-b/triton-1"} <= set(keys))
        for pod in body["items"]:
            self.assertNotIn("kind", pod)
            self.assertNotIn("apiVersion", pod)
            self.assertLessEqual(int(pod["metadata"]["resourceVersion"]), rv)
            self.assertEqual(pod["spec"]["containers"][0]["name"], "triton")
        by_key = dict(zip(keys, body["items"]))
        self.assertEqual(by_key["team-a/triton-0"]["metadata"]["labels"], {"app": "triton"})
        self.assertEqual(by_key["team-a/triton-0"]["status"]["phase"], "Running")
        self.assertEqual(by_key["team-b/triton-0"]["status"]["phase"], "Pending")
        self.assertEqual(by_key["team-b/triton-1"]["metadata"]["deletionTimestamp"], "2026-01-02T00:00:00Z")
        status, pod = get_json(self.port, "/api/v1/namespaces/team-a/pods/triton-0")
        self.assertEqual((status, pod["kind"], pod["apiVersion"]), (200, "Pod", "v1"))

    def test_pagination(self):
        full = [p["metadata"]["name"] for p in get_json(self.port, "/api/v1/pods")[1]["items"]]
        names, cont, rvs, pages = [], None, set(), 0
        while pages < 20:
            path = "/api/v1/pods?limit=2" + (f"&continue={quote(cont)}" if cont else "")
            status, body = get_json(self.port, path)
            self.assertEqual(status, 200)
            pages += 1
            self.assertLessEqual(len(body["items"]), 2)
            names += [p["metadata"]["name"] for p in body["items"]]
            rvs.add(body["metadata"]["resourceVersion"])
            cont = body["metadata"].get("continue")
            if not cont:
                break
        self.assertEqual(names, full)
        self.assertEqual(len(rvs), 1, "all pages report the first page's RV")
        self.assertEqual(pages, (len(full) + 1) // 2)

    def test_namespace_and_label_selector(self):
        def names(path):
            status, body = get_json(self.port, path)
            self.assertEqual(status, 200, body)
            return [f'{p["metadata"]["namespace"]}/{p["metadata"]["name"]}' for p in body["items"]]
        self.assertEqual(names("/api/v1/namespaces/team-b/pods"), ["team-b/triton-0", "team-b/triton-1"])
        triton_a = names("/api/v1/namespaces/team-a/pods?labelSelector=" + quote("app=triton"))
        self.assertNotIn("team-a/other-0", triton_a)
        self.assertEqual(triton_a, names("/api/v1/namespaces/team-a/pods?labelSelector=" + quote("app==triton,,")))
        self.assertEqual(names("/api/v1/namespaces/team-a/pods?labelSelector=" + quote("app!=triton")),
                         ["team-a/other-0"])
        self.assertEqual(names("/api/v1/pods?labelSelector=" + quote("app in (other,nothing)")), ["team-a/other-0"])
        # The field selector is applied (it used to be ignored): the Pending pod is not Running.
        running = names("/api/v1/pods?labelSelector=&fieldSelector=" + quote("status.phase=Running"))
        self.assertNotIn("team-b/triton-0", running)
        self.assertEqual(running, [n for n in names("/api/v1/pods") if n != "team-b/triton-0"])
        self.assertEqual(get_json(self.port, "/api/v1/pods?labelSelector=" + quote("a b c"))[0], 400)

    def test_field_selectors(self):
        def names(selector, path="/api/v1/pods"):
            status, body = get_json(self.port, f"{path}?fieldSelector={quote(selector)}")
            self.assertEqual(status, 200, body)
            return [f'{p["metadata"]["namespace"]}/{p["metadata"]["name"]}' for p in body["items"]]
        self.assertEqual(names("metadata.name=triton-0"), ["team-a/triton-0", "team-b/triton-0"])
        self.assertEqual(names("metadata.name==other-0"), ["team-a/other-0"])
        self.assertEqual(names("metadata.namespace=team-b"), ["team-b/triton-0", "team-b/triton-1"])
        self.assertEqual(names("status.phase!=Running,metadata.namespace=team-b"), ["team-b/triton-0"])
        self.assertEqual(names("metadata.name=triton-1", "/api/v1/namespaces/team-b/pods"), ["team-b/triton-1"])
        self.assertEqual(names("metadata.namespace=team-a", "/api/v1/namespaces/team-b/pods"), [])
        status, body = get_json(self.port, "/api/v1/pods?fieldSelector=" + quote("spec.bogus=x"))
        self.assertEqual((status, body["reason"], body["message"]),
                         (400, "BadRequest", "field label not supported: spec.bogus"))
        status, body = get_json(self.port, "/api/v1/pods?fieldSelector=" + quote("metadata.name"))
        self.assertEqual((status, body["reason"]), (400, "BadRequest"))

    def test_watch_honours_field_selector(self):
        rv = self.current_rv()
        stream = self.watch(f"/api/v1/pods?watch=1&resourceVersion={rv}&fieldSelector={quote('metadata.name=fs-1')}")
        self.control("POST", "/_control/pods", {"namespace": "team-z", "name": "fs-0"})
        self.control("POST", "/_control/pods", {"namespace": "team-z", "name": "fs-1"})
        self.addCleanup(self.control, "DELETE", "/_control/pods/team-z/fs-1")
        self.addCleanup(self.control, "DELETE", "/_control/pods/team-z/fs-0")
        event = stream.next_event(timeout=5.0)
        self.assertEqual((event["type"], event["object"]["metadata"]["name"]), ("ADDED", "fs-1"))

    def test_list_resource_version(self):
        rv = self.current_rv()
        for value in (str(rv), "0", ""):
            status, body = get_json(self.port, f"/api/v1/pods?resourceVersion={value}")
            self.assertEqual((status, body["metadata"]["resourceVersion"]), (200, str(rv)), value)
        status, body = get_json(self.port, "/api/v1/pods?resourceVersion=abc")
        self.assertEqual((status, body["reason"]), (400, "BadRequest"))
        # A version the server has not reached: it waits (~3 s), then 504, as kube-apiserver does.
        status, body = get_json(self.port, f"/api/v1/pods?resourceVersion={rv + 1000}")
        self.assertEqual((status, body["reason"], body["message"]),
                         (504, "Timeout", f"Too large resource version: {rv + 1000}, current: {rv}"))
        # ...and answers as soon as it does reach it.
        answer = {}
        waiting = threading.Thread(target=lambda: answer.update(
            result=get_json(self.port, f"/api/v1/pods?resourceVersion={rv + 1}")))
        waiting.start()
        self.control("POST", "/_control/pods", {"namespace": "team-z", "name": "rv-1"})
        waiting.join(10)
        self.assertFalse(waiting.is_alive(), "the list waiting for a future resourceVersion did not answer")
        status, body = answer["result"]
        self.assertEqual((status, body["metadata"]["resourceVersion"]), (200, str(rv + 1)))
        self.assertIn("rv-1", [p["metadata"]["name"] for p in body["items"]])
        # A version older than the compaction point is gone: 410 Expired.
        self.control("DELETE", "/_control/pods/team-z/rv-1")
        self.control("POST", "/_control/compact")
        status, body = get_json(self.port, f"/api/v1/pods?resourceVersion={rv}")
        self.assertEqual((status, body["reason"], body["code"]), (410, "Expired", 410))
        self.assertTrue(body["message"].startswith(f"too old resource version: {rv} ("), body["message"])

    def test_https_only_with_its_own_ca(self):
        with self.assertRaises((http.client.HTTPException, OSError)):
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                conn.request("GET", "/healthz")
                conn.getresponse().read()
            finally:
                conn.close()
        with self.assertRaises(ssl.SSLCertVerificationError):  # the system roots do not trust it
            request(self.port, "GET", "/healthz", context=ssl.create_default_context())

    def test_client_certificate_auth(self):
        pki = os.path.join(self.tmp.name, "pki")
        admin = ssl.create_default_context(cafile=os.path.join(pki, "apiserver-ca.crt"))
        admin.load_cert_chain(os.path.join(pki, "admin-client.crt"), os.path.join(pki, "admin-client.key"))
        status, _, body = request(self.port, "GET", "/api/v1/pods?limit=1", headers={}, context=admin)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.control("GET", "/_control/requests")[-1]["user"], "standin-admin")
        # A bearer token that is sent is judged on its own, as kube-apiserver's union authenticator does.
        status, _, body = request(self.port, "GET", "/api/v1/pods", headers={"Authorization": "Bearer wrong"},
                                  context=admin)
        self.assertEqual((status, json.loads(body)), (401, UNAUTHORIZED))
        # A certificate from another CA (the front-proxy's) is no client credential of the API server.
        stranger = ssl.create_default_context(cafile=os.path.join(pki, "apiserver-ca.crt"))
        stranger.load_cert_chain(os.path.join(pki, "front-proxy-client.crt"), os.path.join(pki, "front-proxy-client.key"))
        with self.assertRaises((ssl.SSLError, OSError, http.client.HTTPException)):
            request(self.port, "GET", "/api/v1/pods", headers={}, context=stranger)

    def test_api_token_rotation(self):
        self.addCleanup(request, self.port, "DELETE", "/_control/api-tokens")
        self.control("POST", "/_control/api-tokens", {"rotated-token": "system:serviceaccount:cma:adapter"})
        status, body = get_json(self.port, "/api/v1/pods")
        self.assertEqual((status, body), (401, UNAUTHORIZED))
        status, body = get_json(self.port, "/api/v1/pods?limit=1", headers={"Authorization": "Bearer rotated-token"})
        self.assertEqual(status, 200, body)
        self.assertEqual(self.control("GET", "/_control/requests")[-1]["user"], "system:serviceaccount:cma:adapter")
        self.control("DELETE", "/_control/api-tokens")
        self.assertEqual(get_json(self.port, "/api/v1/pods?limit=1")[0], 200)

    def test_continue_token_expires_after_compaction(self):
        status, page = get_json(self.port, "/api/v1/pods?limit=1")
        cont = page["metadata"]["continue"]
        self.control("POST", "/_control/pods", {"namespace": "team-z", "name": "tmp"})
        self.control("POST", "/_control/compact")
        status, body = get_json(self.port, f"/api/v1/pods?limit=1&continue={quote(cont)}")
        self.assertEqual((status, body), (410, EXPIRED_CONTINUE))
        self.control("DELETE", "/_control/pods/team-z/tmp")

    def test_watch_replay_then_live_then_timeout(self):
        rv = self.current_rv()
        self.control("POST", "/_control/pods", {"namespace": "team-a", "name": "w-0"})
        self.control("POST", "/_control/pods", {"namespace": "team-b", "name": "elsewhere"})
        self.control("POST", "/_control/pods", {"namespace": "team-a", "name": "w-0", "labels": {"app": "triton", "x": "1"}})
        deleted = self.control("DELETE", "/_control/pods/team-a/w-0")
        stream = self.watch(f"/api/v1/namespaces/team-a/pods?watch=1&resourceVersion={rv}&timeoutSeconds=2")
        replay = [stream.next_event() for _ in range(3)]
        self.assertEqual([e["type"] for e in replay], ["ADDED", "MODIFIED", "DELETED"])
        rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in replay]
        self.assertEqual(rvs, sorted(rvs))
        self.assertGreater(rvs[0], rv)
        self.assertEqual(str(rvs[2]), deleted["resourceVersion"])
        self.assertEqual(replay[1]["object"]["metadata"]["labels"], {"app": "triton", "x": "1"})
        self.assertEqual(replay[2]["object"]["metadata"]["labels"], {"app": "triton", "x": "1"})
        for e in replay:
            self.assertEqual((e["object"]["kind"], e["object"]["apiVersion"]), ("Pod", "v1"))
        self.control("POST", "/_control/pods", {"namespace": "team-b", "name": "elsewhere-2"})
        self.control("POST", "/_control/pods", {"namespace": "team-a", "name": "w-1"})
        live = stream.events_until_end(within=4.0)
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in live], [("ADDED", "w-1")])
        self.assertEqual(stream.ended, "clean")
        for path in ("/_control/pods/team-a/w-1", "/_control/pods/team-b/elsewhere",
                     "/_control/pods/team-b/elsewhere-2"):
            self.control("DELETE", path)

    def test_watch_without_rv_sends_current_state(self):
        stream = self.watch("/api/v1/namespaces/team-b/pods?watch=true&timeoutSeconds=1")
        events = stream.events_until_end(within=3.0)
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in events],
                         [("ADDED", "triton-0"), ("ADDED", "triton-1")])
        self.assertEqual(stream.ended, "clean")

    def test_watch_label_selector_transitions(self):
        rv = self.current_rv()
        stream = self.watch(f"/api/v1/pods?watch=1&resourceVersion={rv}&timeoutSeconds=3"
                            f"&labelSelector={quote('app=triton')}")
        self.control("POST", "/_control/pods", {"namespace": "team-a", "name": "triton-1", "labels": {"app": "other"}})
        self.control("POST", "/_control/pods", {"namespace": "team-a", "name": "triton-1", "phase": "Failed"})
        self.control("POST", "/_control/pods", {"namespace": "team-a", "name": "triton-1", "labels": {"app": "triton"}})
        events = [stream.next_event() for _ in range(2)]
        self.assertEqual([e["type"] for e in events], ["DELETED", "ADDED"])
        self.assertEqual(events[1]["object"]["status"]["phase"], "Failed")
        self.control("POST", "/_control/pods", {"namespace": "team-a", "name": "triton-1", "phase": "Running"})

    def test_watch_bookmarks(self):
        rv = self.current_rv()
        stream = self.watch(f"/api/v1/pods?watch=1&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=5")
        event = stream.next_event(timeout=3.0)
        self.assertEqual(event, {"type": "BOOKMARK", "object": {
            "kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": str(rv)}}})

    def test_watch_expired_after_compaction(self):
        rv = self.current_rv()
        self.control("POST", "/_control/pods", {"namespace": "team-z", "name": "tmp2"})
        compacted = int(self.control("POST", "/_control/compact")["resourceVersion"])
        stream = self.watch(f"/api/v1/pods?watch=1&resourceVersion={rv}")
        events = stream.events_until_end(within=3.0)
        self.assertEqual(events, [{"type": "ERROR", "object": {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": f"too old resource version: {rv} ({compacted})", "reason": "Expired", "code": 410}}])
        self.assertEqual(stream.ended, "clean")
        # Resuming from the compaction point itself is fine.
        stream = self.watch(f"/api/v1/pods?watch=1&resourceVersion={compacted}&timeoutSeconds=1")
        self.assertEqual(stream.events_until_end(within=3.0), [])
        self.control("DELETE", "/_control/pods/team-z/tmp2")

    def test_break_watches(self):
        rv = self.current_rv()
        stream = self.watch(f"/api/v1/pods?watch=1&resourceVersion={rv}")
        self.control("POST", "/_control/pods", {"namespace": "team-z", "name": "tmp3"})
        self.assertEqual(stream.next_event()["type"], "ADDED")  # watch is registered now
        self.assertGreaterEqual(self.control("POST", "/_control/break-watches")["broken"], 1)
        self.assertIsNone(stream.next_event(timeout=3.0))
        self.assertEqual(stream.ended, "abrupt")
        self.control("DELETE", "/_control/pods/team-z/tmp3")

    def test_fail_injection(self):
        try:
            self.control("POST", "/_control/fail", {"status": 503, "count": 2})
            for path in ("/api/v1/pods", "/api/v1/pods?watch=1"):
                status, body = get_json(self.port, path)
                self.assertEqual((status, body["kind"], body["reason"], body["code"]),
                                 (503, "Status", "ServiceUnavailable", 503))
            self.assertEqual(get_json(self.port, "/api/v1/pods")[0], 200)
            self.control("POST", "/_control/fail", {"status": 500, "count": -1})
            for _ in range(3):
                status, body = get_json(self.port, "/api/v1/namespaces/team-a/pods")
                self.assertEqual((status, body["reason"]), (500, "InternalError"))
            self.control("POST", "/_control/fail", {"status": 0})
            self.assertEqual(get_json(self.port, "/api/v1/pods")[0], 200)
        finally:
            request(self.port, "POST", "/_control/fail", body={"status": 0})

    def test_not_found_and_method_not_allowed(self):
        status, body = get_json(self.port, "/api/v1/nodes")
        self.assertEqual((status, body["reason"], body["code"]), (404, "NotFound", 404))
        status, body = get_json(self.port, "/api/v1/namespaces/team-a/pods/missing")
        self.assertEqual((status, body["reason"]), (404, "NotFound"))
        status, _, data = request(self.port, "PUT", "/api/v1/pods", body={}, headers=AUTH)
        self.assertEqual((status, json.loads(data)["reason"]), (405, "MethodNotAllowed"))
        self.assertEqual(request(self.port, "DELETE", "/_control/pods/none/none")[0], 404)
        self.assertEqual(request(self.port, "GET", "/nope")[0], 404)

    def test_request_log(self):
        get_json(self.port, "/api/v1/pods?limit=1")
        get_json(self.port, "/api/v1/pods?limit=2", headers={})
        status, _, data = request(self.port, "GET", "/_control/requests")
        self.assertEqual(status, 200)
        log = json.loads(data)
        self.assertLessEqual(len(log), 200)
        self.assertEqual([(e["method"], e["path"], e["authorization"]) for e in log[-2:]],
                         [("GET", "/api/v1/pods?limit=1", True), ("GET", "/api/v1/pods?limit=2", False)])
        self.assertNotIn(TOKEN.encode(), data)


class KubeStandinAuthTest(unittest.TestCase):
    """TokenReview, SubjectAccessReview, the auth ConfigMap, the PKI files and counters."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.pki_dir = os.path.join(cls.tmp.name, "pki")  # does not exist yet
        cls.proc, cls.port = start_fixture(KUBE_STANDIN, ["--pki-dir", cls.pki_dir, "--verbose"],
                                           cls.tmp.name, "kube")

    @classmethod
    def tearDownClass(cls):
        stop_process(cls.proc)
        cls.tmp.cleanup()

    def post(self, path, body, headers=AUTH):
        status, _, data = request(self.port, "POST", path, body=body, headers=headers)
        return status, json.loads(data)

    def control(self, method, path, body=None):
        status, _, data = request(self.port, method, path, body=body)
        self.assertEqual(status, 200, data)
        return json.loads(data)

    def token_review(self, token, audiences=None):
        spec = {"token": token}
        if audiences is not None:
            spec["audiences"] = audiences
        status, body = self.post(TOKENREVIEWS, {"apiVersion": "authentication.k8s.io/v1",
                                                "kind": "TokenReview", "spec": spec})
        self.assertEqual(status, 201, body)
        self.assertEqual((body["kind"], body["apiVersion"]), ("TokenReview", "authentication.k8s.io/v1"))
        self.assertEqual(body["spec"], spec)
        return body["status"]

    def sar(self, user="", groups=(), resource=None, non_resource=None):
        """Status of a SubjectAccessReview for one subject and attribute set."""
        spec = {"user": user, "groups": list(groups), "uid": "u-1", "extra": {"k": ["v"]}}
        if resource is not None:
            spec["resourceAttributes"] = resource
        if non_resource is not None:
            spec["nonResourceAttributes"] = non_resource
        status, body = self.post(SARS, {"apiVersion": "authorization.k8s.io/v1",
                                        "kind": "SubjectAccessReview", "spec": spec})
        self.assertEqual(status, 201, body)
        self.assertEqual((body["kind"], body["apiVersion"]), ("SubjectAccessReview", "authorization.k8s.io/v1"))
        self.assertEqual(body["spec"], spec)
        return body["status"]

    def assert_allowed(self, status, rule):
        self.assertEqual(status, {"allowed": True, "reason": f"allowed by stand-in policy rule {rule}"})

    def assert_denied(self, status):
        self.assertEqual(status, {"allowed": False, "reason": "no stand-in policy rule allows it"})

    def pki(self, name):
        return os.path.join(self.pki_dir, name)

    def test_tokenreview_known_tokens(self):
        audiences = ["https://kubernetes.default.svc", "custom-metrics"]
        status = self.token_review("hpa-token", audiences)
        self.assertIs(status["authenticated"], True)
        self.assertEqual(status["audiences"], audiences)
        user = status["user"]
        self.assertEqual(user["username"], HPA_USER)
        self.assertEqual(user["groups"], ["system:serviceaccounts", "system:serviceaccounts:kube-system",
                                          "system:authenticated"])
        self.assertRegex(user["uid"], r"^[0-9a-f-]{36}$")
        self.assertNotIn("extra", user)  # empty, so omitted as on the real wire
        admin = self.token_review(TOKEN)
        self.assertNotIn("audiences", admin)
        self.assertEqual((admin["user"]["username"], admin["user"]["groups"]),
                         ("standin-admin", ["system:masters", "system:authenticated"]))
        nobody = self.token_review("nobody-token", [])
        self.assertEqual((nobody["user"]["username"], nobody["user"]["groups"]), ("nobody", ["system:authenticated"]))
        self.assertNotIn("audiences", nobody)

    def test_tokenreview_unknown_token(self):
        for token in ("wrong", "hpa-token ", "HPA-TOKEN"):
            self.assertEqual(self.token_review(token, ["x"]),
                             {"authenticated": False, "error": "invalid bearer token"})

    def test_tokenreview_malformed(self):
        for body in (b"not json", b"[]", {"spec": "x"}, {"spec": {}}, {"spec": {"token": ""}},
                     {"spec": {"token": 5}}, {"spec": {"token": "t", "audiences": "a"}},
                     {"kind": "Pod", "spec": {"token": "t"}},
                     {"apiVersion": "authentication.k8s.io/v1beta1", "spec": {"token": "t"}}):
            status, reply = self.post(TOKENREVIEWS, body)
            self.assertEqual((status, reply["kind"], reply["reason"], reply["code"]),
                             (400, "Status", "BadRequest", 400), body)

    def test_reviews_and_configmap_need_caller_token(self):
        before = self.control("GET", "/_control/counts")
        for headers in ({}, {"Authorization": "Bearer hpa-token"}, {"Authorization": "Basic eDp5"}):
            for method, path in (("POST", TOKENREVIEWS), ("POST", SARS), ("GET", AUTH_CM)):
                body = {"spec": {"token": "hpa-token"}} if method == "POST" else None
                status, _, data = request(self.port, method, path, body=body, headers=headers)
                self.assertEqual((status, json.loads(data)), (401, UNAUTHORIZED), (path, headers))
        self.assertEqual(self.control("GET", "/_control/counts"), before)

    def test_sar_resource_attributes(self):
        hpa_groups = ["system:serviceaccounts", "system:authenticated"]
        metric = {"namespace": "team-a", "verb": "get", "group": "custom.metrics.k8s.io",
                  "version": "v1beta2", "resource": "pods", "subresource": "queue_ratio", "name": "*"}
        self.assert_allowed(self.sar(HPA_USER, hpa_groups, resource=metric), 1)
        self.assert_allowed(self.sar(HPA_USER, hpa_groups, resource={**metric, "verb": "list", "namespace": ""}), 1)
        self.assert_denied(self.sar(HPA_USER, hpa_groups, resource={**metric, "verb": "watch"}))
        self.assert_denied(self.sar(HPA_USER, hpa_groups, resource={**metric, "group": "", "version": "v1"}))
        self.assert_denied(self.sar("nobody", ["system:authenticated"], resource=metric))
        self.assert_allowed(self.sar("someone", ["x", "system:masters"],
                                     resource={"verb": "delete", "resource": "secrets", "namespace": "kube-system"}), 0)
        self.assert_denied(self.sar("system:masters", [], resource=metric))  # a user, not the group

    def test_sar_non_resource_attributes(self):
        nobody = ("nobody", ["system:authenticated"])
        for path in ("/apis", "/apis/custom.metrics.k8s.io/v1beta2", "/api/v1", "/openapi/v2",
                     "/openapi/v3/apis/custom.metrics.k8s.io/v1beta2", "/version", "/healthz", "/readyz", "/livez"):
            self.assert_allowed(self.sar(*nobody, non_resource={"path": path, "verb": "get"}), 2)
        for path in ("/apisx", "/openapi", "/metrics", "/healthz/etcd", "/"):
            self.assert_denied(self.sar(*nobody, non_resource={"path": path, "verb": "get"}))
        self.assert_denied(self.sar(*nobody, non_resource={"path": "/apis", "verb": "post"}))
        self.assert_denied(self.sar("nobody", [], non_resource={"path": "/apis", "verb": "get"}))
        self.assert_allowed(self.sar("", ["system:masters"], non_resource={"path": "/metrics", "verb": "post"}), 0)

    def test_sar_invalid(self):
        attrs = {"path": "/apis", "verb": "get"}
        for spec in ({}, {"user": "nobody"}, {"nonResourceAttributes": attrs},
                     {"user": "nobody", "nonResourceAttributes": attrs, "resourceAttributes": {"verb": "get"}}):
            status, reply = self.post(SARS, {"spec": spec})
            self.assertEqual((status, reply["reason"], reply["code"]), (422, "Invalid", 422), spec)
            self.assertTrue(reply["message"].startswith('SubjectAccessReview.authorization.k8s.io "" is invalid: '))
        for body in (b"{", {"spec": []}, {"spec": {"user": 5, "nonResourceAttributes": attrs}},
                     {"spec": {"user": "a", "groups": "g", "nonResourceAttributes": attrs}},
                     {"spec": {"user": "a", "resourceAttributes": "pods"}},
                     {"spec": {"user": "a", "nonResourceAttributes": {"path": 1}}},
                     {"kind": "TokenReview", "spec": {"user": "a", "nonResourceAttributes": attrs}}):
            status, reply = self.post(SARS, body)
            self.assertEqual((status, reply["reason"]), (400, "BadRequest"), body)

    def test_policy_replacement(self):
        self.addCleanup(request, self.port, "DELETE", "/_control/policy")
        policy = [
            {"users": ["nobody"], "verbs": ["get"], "apiGroups": [""], "resources": ["pods", "*/log"],
             "namespaces": ["team-a"]},
            {"groups": ["auditors"], "verbs": ["*"], "nonResourceURLs": ["/metrics", "/debug/*"]},
        ]
        self.assertEqual(self.control("POST", "/_control/policy", policy)["rules"], 2)
        self.assertEqual(self.control("GET", "/_control/policy"), policy)
        pods = {"namespace": "team-a", "verb": "get", "group": "", "version": "v1", "resource": "pods"}
        self.assert_allowed(self.sar("nobody", resource=pods), 0)
        self.assert_allowed(self.sar("nobody", resource={**pods, "subresource": "log"}), 0)
        self.assert_allowed(self.sar("nobody", resource={**pods, "resource": "services", "subresource": "log"}), 0)
        self.assert_denied(self.sar("nobody", resource={**pods, "subresource": "status"}))
        self.assert_denied(self.sar("nobody", resource={**pods, "namespace": "team-b"}))
        self.assert_denied(self.sar("nobody", resource={**pods, "group": "apps"}))
        self.assert_denied(self.sar("nobody", resource={**pods, "verb": "list"}))
        self.assert_denied(self.sar(HPA_USER, resource={**pods, "group": "custom.metrics.k8s.io"}))
        self.assert_denied(self.sar("nobody", ["system:authenticated"], non_resource={"path": "/apis", "verb": "get"}))
        self.assert_allowed(self.sar("x", ["auditors"], non_resource={"path": "/debug/pprof/heap", "verb": "post"}), 1)
        self.assert_allowed(self.sar("x", ["auditors"], non_resource={"path": "/metrics", "verb": "get"}), 1)
        self.assert_denied(self.sar("x", ["auditors"], non_resource={"path": "/metrics/x", "verb": "get"}))
        self.assert_denied(self.sar("x", ["auditors"], resource=pods))  # URL rules never grant resources

        # A matching deny rule wins over an earlier allow.
        self.control("POST", "/_control/policy", [
            {"users": ["nobody"], "verbs": ["*"], "resources": ["*"]},
            {"users": ["*"], "verbs": ["get"], "resources": ["secrets"], "namespaces": ["kube-system"], "deny": True},
        ])
        self.assert_allowed(self.sar("nobody", resource={**pods, "resource": "secrets"}), 0)
        self.assertEqual(self.sar("nobody", resource={**pods, "resource": "secrets", "namespace": "kube-system"}),
                         {"allowed": False, "denied": True, "reason": "denied by stand-in policy rule 1"})

        for bad in ({}, [{"users": ["x"]}], [{"verbs": "get"}], [{"verbs": ["get"], "bogus": []}],
                    [{"verbs": ["get"], "deny": "yes"}], ["rule"]):
            status, _, data = request(self.port, "POST", "/_control/policy", body=bad)
            self.assertEqual(status, 400, (bad, data))
        self.assertEqual(self.control("DELETE", "/_control/policy")["rules"], 3)
        self.assert_allowed(self.sar(HPA_USER, resource={**pods, "group": "custom.metrics.k8s.io"}), 1)

    def test_token_table_replacement(self):
        self.addCleanup(request, self.port, "DELETE", "/_control/tokens")
        extra = {"scopes.example.com/x": ["a", "b"]}
        table = {"fresh-token-1234": {"username": "alice", "uid": "u-1", "groups": ["devs"], "extra": extra}}
        status, _, data = request(self.port, "POST", "/_control/tokens", body=table)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(data)["tokens"], 1)
        self.assertNotIn(b"fresh-token-1234", data)
        self.assertEqual(self.token_review("fresh-token-1234")["user"],
                         {"username": "alice", "uid": "u-1", "groups": ["devs"], "extra": extra})
        self.assertIs(self.token_review("hpa-token")["authenticated"], False)
        for bad in ([], {"secret-bad-token": {"groups": []}}, {"secret-bad-token": {"username": "x", "groups": "g"}},
                    {"secret-bad-token": {"username": "x", "extra": {"k": "v"}}},
                    {"secret-bad-token": {"username": "x", "password": "p"}}, {"": {"username": "x"}}):
            status, _, data = request(self.port, "POST", "/_control/tokens", body=bad)
            self.assertEqual(status, 400, bad)
            self.assertNotIn(b"secret-bad-token", data)
        self.assertEqual(self.control("DELETE", "/_control/tokens")["tokens"], 3)
        self.assertIs(self.token_review("hpa-token")["authenticated"], True)
        self.assertIs(self.token_review("fresh-token-1234")["authenticated"], False)

    def test_configmap_content(self):
        status, cm = get_json(self.port, AUTH_CM)
        self.assertEqual(status, 200)
        self.assertEqual((cm["kind"], cm["apiVersion"]), ("ConfigMap", "v1"))
        meta = cm["metadata"]
        self.assertEqual((meta["name"], meta["namespace"]), ("extension-apiserver-authentication", "kube-system"))
        self.assertRegex(meta["resourceVersion"], r"^[0-9]+$")
        self.assertIn("uid", meta)
        data = cm["data"]
        self.assertEqual(set(data), {"client-ca-file", "requestheader-client-ca-file", "requestheader-allowed-names",
                                     "requestheader-username-headers", "requestheader-group-headers",
                                     "requestheader-extra-headers-prefix"})
        self.assertEqual(json.loads(data["requestheader-allowed-names"]), ["front-proxy-client"])
        self.assertEqual(json.loads(data["requestheader-username-headers"]), ["X-Remote-User"])
        self.assertEqual(json.loads(data["requestheader-group-headers"]), ["X-Remote-Group"])
        self.assertEqual(json.loads(data["requestheader-extra-headers-prefix"]), ["X-Remote-Extra-"])
        self.assertEqual(data["requestheader-client-ca-file"], read_text(self.pki("front-proxy-ca.crt")))
        self.assertEqual(data["client-ca-file"], read_text(self.pki("client-ca.crt")))
        self.assertNotEqual(data["client-ca-file"], data["requestheader-client-ca-file"])
        for key in ("client-ca-file", "requestheader-client-ca-file"):
            self.assertTrue(data[key].startswith("-----BEGIN CERTIFICATE-----\n"))
            self.assertTrue(data[key].endswith("-----END CERTIFICATE-----\n"))
        for path in ("/api/v1/namespaces/kube-system/configmaps/other",
                     "/api/v1/namespaces/default/configmaps/extension-apiserver-authentication"):
            status, body = get_json(self.port, path)
            self.assertEqual((status, body["reason"]), (404, "NotFound"), path)

    def test_configmap_merge_and_reset(self):
        self.addCleanup(request, self.port, "DELETE", "/_control/configmap")
        _, before = get_json(self.port, AUTH_CM)
        rogue_ca = read_text(self.pki("rogue-ca.crt"))
        reply = self.control("POST", "/_control/configmap", {"data": {
            "requestheader-allowed-names": json.dumps(["front-proxy-client", "aggregator"]),
            "requestheader-client-ca-file": rogue_ca,
            "requestheader-extra-headers-prefix": None, "new-key": "v"}})
        _, after = get_json(self.port, AUTH_CM)
        self.assertEqual(after, reply["configmap"])
        self.assertEqual(after["metadata"]["resourceVersion"], reply["resourceVersion"])
        self.assertGreater(int(after["metadata"]["resourceVersion"]), int(before["metadata"]["resourceVersion"]))
        self.assertEqual(after["metadata"]["uid"], before["metadata"]["uid"])
        expected = {k: v for k, v in before["data"].items() if k != "requestheader-extra-headers-prefix"}
        expected.update({"requestheader-allowed-names": '["front-proxy-client", "aggregator"]',
                         "requestheader-client-ca-file": rogue_ca, "new-key": "v"})
        self.assertEqual(after["data"], expected)
        # The ConfigMap shares the cluster-wide resourceVersion sequence.
        _, pods = get_json(self.port, "/api/v1/pods?limit=1")
        self.assertGreaterEqual(int(pods["metadata"]["resourceVersion"]), int(after["metadata"]["resourceVersion"]))
        for bad in ({}, {"data": "x"}, {"data": {"k": 1}}, {"data": {"k": ["v"]}}):
            status, _, _ = request(self.port, "POST", "/_control/configmap", body=bad)
            self.assertEqual(status, 400, bad)
        reset = self.control("DELETE", "/_control/configmap")["configmap"]
        self.assertEqual(reset["data"], before["data"])
        self.assertGreater(int(reset["metadata"]["resourceVersion"]), int(after["metadata"]["resourceVersion"]))

    def test_pki_files(self):
        self.assertEqual(self.control("GET", "/_control/pki")["dir"], self.pki_dir)
        self.assertEqual(sorted(os.listdir(self.pki_dir)),
                         sorted(f"{stem}.{ext}" for stem in PKI_STEMS for ext in ("crt", "key")))
        now = time.time()
        for stem in PKI_STEMS:
            crt, key = self.pki(f"{stem}.crt"), self.pki(f"{stem}.key")
            self.assertEqual(os.stat(key).st_mode & 0o777, 0o600, key)
            self.assertEqual(read_text(key).splitlines()[0], "-----BEGIN PRIVATE KEY-----")  # unencrypted
            rc, out = run_openssl("x509", "-in", crt, "-noout", "-subject", "-startdate", "-enddate", "-pubkey",
                                  "-ext", "basicConstraints,extendedKeyUsage")
            self.assertEqual(rc, 0, out)
            fields = dict(line.split("=", 1) for line in out.splitlines() if re.match(r"^(subject|not\w+)=", line))
            subjects = {"rogue-ca": "CN = front-proxy-ca", "rogue-client": "CN = front-proxy-client",
                        "apiserver-ca": "CN = kube-standin-ca", "apiserver": "CN = kube-apiserver",
                        "admin-client": "O = system:masters, CN = standin-admin"}
            self.assertEqual(fields["subject"], subjects.get(stem, f"CN = {stem}"))
            not_before = calendar.timegm(time.strptime(fields["notBefore"], "%b %d %H:%M:%S %Y %Z"))
            not_after = calendar.timegm(time.strptime(fields["notAfter"], "%b %d %H:%M:%S %Y %Z"))
            self.assertAlmostEqual(now - not_before, 86400, delta=600)
            self.assertAlmostEqual(not_after - now, 365 * 86400, delta=600)
            if stem.endswith("-ca"):
                self.assertIn("CA:TRUE", out)
                self.assertNotIn("TLS Web Client Authentication", out)
            elif stem == "apiserver":
                self.assertIn("CA:FALSE", out)
                self.assertIn("TLS Web Server Authentication", out)
                self.assertNotIn("TLS Web Client Authentication", out)
            else:
                self.assertIn("CA:FALSE", out)
                self.assertIn("TLS Web Client Authentication", out)
            rc, pub = run_openssl("pkey", "-in", key, "-pubout", "-text_pub")
            self.assertEqual(rc, 0, pub)
            self.assertIn("NIST CURVE: P-256", pub)
            self.assertIn(pub.split("-----END PUBLIC KEY-----")[0], out, f"{stem}.key does not match {stem}.crt")

        def verify(ca, cert):
            return run_openssl("verify", "-CAfile", self.pki(ca), "-purpose", "sslclient", self.pki(cert))
        for cert in ("front-proxy-client.crt", "not-allowed-client.crt"):
            rc, out = verify("front-proxy-ca.crt", cert)
            self.assertEqual((rc, out.strip()), (0, f"{self.pki(cert)}: OK"))
        self.assertEqual(verify("rogue-ca.crt", "rogue-client.crt")[0], 0)
        for ca, cert in (("front-proxy-ca.crt", "rogue-client.crt"), ("rogue-ca.crt", "front-proxy-client.crt"),
                         ("client-ca.crt", "front-proxy-client.crt")):
            rc, out = verify(ca, cert)
            self.assertNotEqual(rc, 0, f"{cert} must not verify against {ca}: {out}")

    def test_counts_and_request_log(self):
        before = self.control("GET", "/_control/counts")
        self.assertEqual(set(before), {"tokenreviews", "subjectaccessreviews", "configmap_gets"})
        self.token_review("hpa-token")
        self.token_review("unknown-token")
        request(self.port, "POST", TOKENREVIEWS, body={"spec": {"token": "nobody-token"}})  # no caller auth
        self.sar("nobody", ["system:authenticated"], non_resource={"path": "/apis", "verb": "get"})
        self.sar(HPA_USER, resource={"verb": "get", "group": "custom.metrics.k8s.io", "resource": "pods"})
        self.post(SARS, {"spec": {}})  # 422, still a review that was made
        get_json(self.port, AUTH_CM)
        get_json(self.port, "/api/v1/namespaces/kube-system/configmaps/missing")
        after = self.control("GET", "/_control/counts")
        self.assertEqual({k: after[k] - before[k] for k in after},
                         {"tokenreviews": 2, "subjectaccessreviews": 3, "configmap_gets": 2})
        status, _, data = request(self.port, "GET", "/_control/requests")
        self.assertEqual(status, 200)
        entries = [(e["method"], e["path"], e["authorization"]) for e in json.loads(data)[-9:]]
        self.assertEqual(entries, [
            ("POST", TOKENREVIEWS, True), ("POST", TOKENREVIEWS, True), ("POST", TOKENREVIEWS, False),
            ("POST", SARS, True), ("POST", SARS, True), ("POST", SARS, True), ("GET", AUTH_CM, True),
            ("GET", "/api/v1/namespaces/kube-system/configmaps/missing", True), ("GET", "/_control/counts", False)])
        self.assertEqual(self.control("DELETE", "/_control/counts"), after)
        self.assertEqual(self.control("GET", "/_control/counts"),
                         {"tokenreviews": 0, "subjectaccessreviews": 0, "configmap_gets": 0})
        # Tokens never show up in control output or the (verbose) log.
        outputs = [data] + [request(self.port, "GET", p)[2] for p in ("/_control/counts", "/_control/pki",
                                                                       "/_control/policy")]
        outputs.append(read_text(os.path.join(self.tmp.name, "kube.stderr")).encode())
        for output in outputs:
            for token in (TOKEN, "hpa-token", "nobody-token", "unknown-token"):
                self.assertNotIn(token.encode(), output)


class KubeStandinAuthStartupTest(unittest.TestCase):
    """--tokens replaces the default table; without --pki-dir the PKI lives in a temp dir."""

    def test_tokens_file_and_temp_pki(self):
        with tempfile.TemporaryDirectory() as d:
            tokens_file = os.path.join(d, "tokens.json")
            write_json_atomic(tokens_file, {"file-token": {"username": "carol", "groups": ["g"]}})
            proc, port = start_fixture(KUBE_STANDIN, ["--tokens", tokens_file], d, "kube")
            try:
                def review(token):
                    status, _, data = request(port, "POST", TOKENREVIEWS, body={"spec": {"token": token}},
                                              headers=AUTH)
                    self.assertEqual(status, 201, data)
                    return json.loads(data)["status"]
                self.assertEqual(review("file-token"),
                                 {"authenticated": True, "user": {"username": "carol", "groups": ["g"]}})
                self.assertIs(review("hpa-token")["authenticated"], False)
                request(port, "POST", "/_control/tokens", body={"other": {"username": "dave"}})
                self.assertIs(review("file-token")["authenticated"], False)
                request(port, "DELETE", "/_control/tokens")
                self.assertIs(review("file-token")["authenticated"], True)
                status, pki = get_json(port, "/_control/pki", headers={})
                self.assertEqual(status, 200)
                pki_dir = pki["dir"]
                self.assertTrue(os.path.isdir(pki_dir))
                self.assertFalse(pki_dir.startswith(d))
                self.assertEqual(len(pki["files"]), 2 * len(PKI_STEMS))
                _, cm = get_json(port, AUTH_CM)
                self.assertEqual(cm["data"]["requestheader-client-ca-file"],
                                 read_text(pki["files"]["front-proxy-ca.crt"]))
            finally:
                rc = stop_process(proc)
            self.assertEqual(rc, 0)
            self.assertFalse(os.path.exists(pki_dir), "temp PKI dir not removed on exit")

            write_json_atomic(tokens_file, {"secret-file-token": {"username": ""}})
            with self.assertRaises(RuntimeError) as ctx:
                start_fixture(KUBE_STANDIN, ["--tokens", tokens_file], d, "bad")
            self.assertIn("cannot load tokens", str(ctx.exception))
            self.assertNotIn("secret-file-token", str(ctx.exception))


class KubeStandinPaceTest(unittest.TestCase):
    """Bookmarks come at the API server's pace (about once a minute) unless a test asks for more."""

    def test_no_bookmark_within_a_short_watch_by_default(self):
        with tempfile.TemporaryDirectory() as d:
            proc, port = start_fixture(KUBE_STANDIN, [], d, "kube")
            try:
                stream = WatchStream(port, "/api/v1/pods?watch=1&resourceVersion=1000&allowWatchBookmarks=1"
                                           "&timeoutSeconds=2")
                # The watch's own end (timeoutSeconds) is the event observed: no bookmark came before it.
                self.assertEqual(stream.events_until_end(within=10.0), [])
                self.assertEqual(stream.ended, "clean")
                stream.close()
            finally:
                stop_process(proc)

    def test_restart_keeps_the_ca(self):
        with tempfile.TemporaryDirectory() as d:
            pki = os.path.join(d, "pki")
            proc, port = start_fixture(KUBE_STANDIN, ["--pki-dir", pki], d, "first")
            trusted = TLS_CONTEXTS[port]
            ca = read_text(os.path.join(pki, "apiserver-ca.crt"))
            self.assertEqual(stop_process(proc), 0)
            proc, port = start_fixture(KUBE_STANDIN, ["--pki-dir", pki], d, "second")
            try:
                self.assertEqual(read_text(os.path.join(pki, "apiserver-ca.crt")), ca)
                self.assertEqual(request(port, "GET", "/healthz", context=trusted)[0], 200)
            finally:
                stop_process(proc)


class KubeStandinShutdownTest(unittest.TestCase):
    """SIGTERM ends open watches cleanly and exits 0 promptly."""

    def test_sigterm_with_open_watch(self):
        with tempfile.TemporaryDirectory() as d:
            proc, port = start_fixture(KUBE_STANDIN, ["--bookmark-interval", "1"], d, "kube")
            try:
                stream = WatchStream(port, "/api/v1/pods?watch=1&resourceVersion=1000&allowWatchBookmarks=1")
                self.assertEqual(stream.next_event(timeout=3.0)["type"], "BOOKMARK")
                started = time.monotonic()
                proc.send_signal(signal.SIGTERM)
                self.assertIsNone(stream.next_event(timeout=3.0))
                self.assertEqual(stream.ended, "clean")
                stream.close()
                self.assertEqual(proc.wait(5), 0)
                # Budget: the stand-in lets open watches end for at most 2 s, then exits; +1 s margin.
                self.assertLess(time.monotonic() - started, 3.0)
            finally:
                stop_process(proc)


if __name__ == "__main__":
    unittest.main()
