#!/usr/bin/env python3
"""Self-test for scripts/fake_triton.py and scripts/kube_standin.py.

Run from the repository root::

    /usr/bin/python3 -m unittest scripts/test_fixtures.py -v

Each fixture runs as a subprocess on a free port.  If /usr/bin/prometheus
exists, one test also scrapes fake_triton with the generated config and checks
rates and label sets through the Prometheus HTTP API.  Every wait is bounded.
"""

import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from urllib.parse import quote, urlencode

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE_TRITON = os.path.join(HERE, "fake_triton.py")
KUBE_STANDIN = os.path.join(HERE, "kube_standin.py")
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


def start_fixture(script, args, workdir, name, wait=10.0):
    """Start a fixture with --port 0 and return (process, port) once it is ready."""
    port_file = os.path.join(workdir, f"{name}.port")
    stderr = open(os.path.join(workdir, f"{name}.stderr"), "w")
    proc = subprocess.Popen([sys.executable, script, "--port", "0", "--port-file", port_file, *args],
                            stdout=subprocess.DEVNULL, stderr=stderr)
    stderr.close()
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}: "
                               + read_text(os.path.join(workdir, f"{name}.stderr")))
        if os.path.exists(port_file):
            return proc, int(read_text(port_file))
        time.sleep(0.05)
    stop_process(proc)
    raise RuntimeError(f"{name} did not write its port file within {wait}s")


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


def request(port, method, path, body=None, headers=None, timeout=5.0):
    """One HTTP request; returns (status, headers dict, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = None if body is None else json.dumps(body).encode()
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
        cls.proc, cls.port = start_fixture(KUBE_STANDIN, ["--pods", pods_file, "--kubeconfig-out", cls.kubeconfig],
                                           d, "kube")

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
        for line in ("apiVersion: v1", "kind: Config", f"server: http://127.0.0.1:{self.port}",
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
        self.assertEqual(names("/api/v1/pods?labelSelector=&fieldSelector=" + quote("status.phase=Running")),
                         names("/api/v1/pods"))
        self.assertEqual(get_json(self.port, "/api/v1/pods?labelSelector=" + quote("a b c"))[0], 400)

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


class KubeStandinShutdownTest(unittest.TestCase):
    """SIGTERM ends open watches cleanly and exits 0 promptly."""

    def test_sigterm_with_open_watch(self):
        with tempfile.TemporaryDirectory() as d:
            proc, port = start_fixture(KUBE_STANDIN, [], d, "kube")
            try:
                stream = WatchStream(port, "/api/v1/pods?watch=1&resourceVersion=1000&allowWatchBookmarks=1")
                self.assertEqual(stream.next_event(timeout=3.0)["type"], "BOOKMARK")
                started = time.monotonic()
                proc.send_signal(signal.SIGTERM)
                self.assertIsNone(stream.next_event(timeout=3.0))
                self.assertEqual(stream.ended, "clean")
                stream.close()
                self.assertEqual(proc.wait(5), 0)
                self.assertLess(time.monotonic() - started, 3.0)
            finally:
                stop_process(proc)


if __name__ == "__main__":
    unittest.main()
