#!/usr/bin/env python3
"""Self-test of tests/support/prometheus_fault_proxy.py against an in-process fake Prometheus (~1 s).

    /usr/bin/python3 -m unittest tests/harness/test_fault_proxy.py -v
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

from tests.support import REPO, module_argv
from tests.support.httpserver import LoopbackServer, wait_port_file

ANSWER = {"status": "success", "data": {"resultType": "vector", "result": [
    {"metric": {"namespace": "ns", "pod": "a"}, "value": [1767225600.123, "0.5"]},
    {"metric": {"namespace": "ns", "pod": "b"}, "value": [1767225600.123, "2"]},
]}}


class FakePrometheus(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        FakePrometheus.seen.append((self.path, self.headers.get("X-Scope-OrgID"),
                                    parse_qs(body.decode()).get("query", [None])[0]))
        self._send(json.dumps(ANSWER).encode())

    def do_GET(self):
        self._send(b"Prometheus Server is Ready.\n", "text/plain")

    def _send(self, data, content_type="application/json"):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class FaultProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.upstream = LoopbackServer(("127.0.0.1", 0), FakePrometheus)
        threading.Thread(target=cls.upstream.serve_forever, daemon=True).start()
        cls.tmp = tempfile.mkdtemp(prefix="fault-proxy-test-")
        port_file = os.path.join(cls.tmp, "port")
        cls.proc = subprocess.Popen(
            [*module_argv("prometheus_fault_proxy"), "--upstream", f"http://127.0.0.1:{cls.upstream.port}",
             "--port", "0", "--port-file", port_file], stdin=subprocess.DEVNULL, start_new_session=True, cwd=REPO)
        try:
            cls.port = wait_port_file(port_file, 20, alive=lambda: cls.proc.poll() is None, what="the fault proxy")
        except RuntimeError as exc:
            raise AssertionError(str(exc)) from None

    @classmethod
    def tearDownClass(cls):
        os.killpg(cls.proc.pid, signal.SIGTERM)
        cls.proc.wait(10)
        cls.upstream.shutdown()
        cls.upstream.server_close()
        for name in os.listdir(cls.tmp):
            os.unlink(os.path.join(cls.tmp, name))
        os.rmdir(cls.tmp)

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.getheader("Content-Type"), resp.read()
        finally:
            conn.close()

    def query(self):
        return self.request("POST", "/api/v1/query", "query=up&timeout=2000ms",
                            {"Content-Type": "application/x-www-form-urlencoded", "X-Scope-OrgID": "t1"})

    def mode(self, mode):
        status, _, body = self.request("POST", "/_control/mode", mode)
        self.assertEqual((status, json.loads(body)), (200, {"mode": mode}))

    def setUp(self):
        self.mode("pass")
        self.request("DELETE", "/_control/requests")

    def test_pass_forwards_body_and_headers_and_counts(self):
        FakePrometheus.seen.clear()
        self.assertEqual(self.query(), (200, "application/json", json.dumps(ANSWER).encode()))
        self.assertEqual(FakePrometheus.seen, [("/api/v1/query", "t1", "up")])
        status, _, body = self.request("GET", "/-/ready")
        self.assertEqual((status, body), (200, b"Prometheus Server is Ready.\n"))
        doc = json.loads(self.request("GET", "/_control/requests")[2])
        self.assertEqual(doc["count"], 1)  # /-/ready is not a query
        self.assertEqual([(q["path"], q["query"], q["mode"]) for q in doc["queries"]],
                         [("/api/v1/query", "up", "pass")])

    def test_status_bodies(self):
        self.mode("status:500:envelope")
        status, ctype, body = self.query()
        self.assertEqual((status, ctype, json.loads(body)), (500, "application/json", {
            "status": "error", "errorType": "internal", "error": "injected fault: 500 Internal Server Error"}))
        self.mode("status:503:envelope:timeout")
        self.assertEqual(json.loads(self.query()[2])["errorType"], "timeout")
        self.mode("status:500:html")
        status, ctype, body = self.query()
        self.assertEqual((status, ctype), (500, "text/html"))
        self.assertIn(b"<h1>500 Internal Server Error</h1>", body)
        self.mode("status:502:empty")
        self.assertEqual(self.query(), (502, None, b""))
        self.assertEqual(json.loads(self.request("GET", "/_control/requests")[2])["count"], 4)

    def test_rewrites(self):
        self.mode('values:{"a": "NaN", "b": "-0.5"}')
        doc = json.loads(self.query()[2])
        self.assertEqual([e["value"] for e in doc["data"]["result"]],
                         [[1767225600.123, "NaN"], [1767225600.123, "-0.5"]])
        self.mode("matrix")
        doc = json.loads(self.query()[2])
        self.assertEqual(doc["data"], {"resultType": "matrix", "result": [
            {"metric": {"namespace": "ns", "pod": "a"}, "values": [[1767225600.123, "0.5"]]},
            {"metric": {"namespace": "ns", "pod": "b"}, "values": [[1767225600.123, "2"]]}]})
        self.mode("nodata")
        self.assertEqual(json.loads(self.query()[2]), {"status": "success"})
        self.mode("malformed")
        status, _, body = self.query()
        self.assertEqual(status, 200)
        self.assertTrue(json.dumps(ANSWER).encode().startswith(body) and len(body) < len(json.dumps(ANSWER)))
        with self.assertRaises(ValueError):
            json.loads(body)

    def test_truncated_and_delay(self):
        self.mode("truncated")
        with self.assertRaises(http.client.IncompleteRead):
            self.query()
        self.mode("delay:0.3")
        started = time.monotonic()
        self.assertEqual(self.query()[0], 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)

    def test_in_flight_is_counted(self):
        self.mode("delay:0.4")
        threads = [threading.Thread(target=self.query) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        doc = json.loads(self.request("GET", "/_control/requests")[2])
        self.assertEqual((doc["count"], doc["in_flight"], doc["max_in_flight"]), (3, 0, 3))

    def test_upstream_down_resets_the_connection(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            dead = s.getsockname()[1]  # closed again before the proxy uses it: refused
        port_file = os.path.join(self.tmp, "port-dead")
        proc = subprocess.Popen([*module_argv("prometheus_fault_proxy"), "--upstream", f"http://127.0.0.1:{dead}",
                                 "--port", "0", "--port-file", port_file], stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=REPO)
        try:
            port = wait_port_file(port_file, 20, alive=lambda: proc.poll() is None, what="the second proxy")
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.request("POST", "/api/v1/query", "query=up")
                with self.assertRaises((ConnectionResetError, http.client.RemoteDisconnected)):
                    conn.getresponse().read()
            finally:
                conn.close()
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)

    def test_bad_mode_is_refused(self):
        for mode in ("nope", "delay:x", "status:abc", "status:500:xml", "values:[1]"):
            with self.subTest(mode=mode):
                self.assertEqual(self.request("POST", "/_control/mode", mode)[0], 400)
        self.assertEqual(json.loads(self.request("GET", "/_control/mode")[2]), {"mode": "pass"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
