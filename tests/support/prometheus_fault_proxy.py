#!/usr/bin/env python3
"""Fault-injecting reverse proxy for the Prometheus HTTP API.

Sits between the adapter and a real Prometheus on 127.0.0.1.  ``/api/v1/*`` requests are
forwarded unchanged in mode ``pass``; other modes make the proxy answer (or misbehave) itself:

``pass``                      forward (when Prometheus is down: reset the connection, as a refused
                              TCP connection would look to the client)
``delay:<seconds>``           wait, then forward
``status:<code>:<body>``      answer ``code`` with body ``envelope`` (Prometheus' error envelope
                              ``{status: error, errorType, error}``), ``html``, ``text`` or ``empty``;
                              ``status:<code>:envelope:<errorType>`` overrides the errorType
``malformed``                 200 with the real answer cut in half (a complete HTTP message whose
                              JSON ends mid-way)
``truncated``                 200 whose Content-Length promises the real answer, but only half of it
                              is sent before the connection is closed
``values:<json>``             the real answer with the sample values of the pods named in the JSON
                              map (pod -> value string, e.g. ``{"a": "NaN", "b": "-0.5"}``) replaced
``matrix``                    the real answer's samples wrapped as a range vector (``resultType: matrix``)
``nodata``                    200 ``{"status": "success"}`` with no ``data``

Other paths (``/-/ready``...) are always forwarded.

Control (no auth)::

    POST   /_control/mode       body: the mode (plain text, or JSON {"mode": "..."}) -> {"mode": ...}
    GET    /_control/mode       -> {"mode": ...}
    GET    /_control/requests   -> {"count": n, "in_flight": n, "max_in_flight": n, "mode": ...,
                                    "queries": [{"time", "path", "query", "mode"}, ...]}
                                   (/api/v1 requests seen since start or reset, the last 200 kept;
                                   max_in_flight: most answered at the same time)
    DELETE /_control/requests   reset; answers what was there

Standard library only.  Usage::

    prometheus_fault_proxy.py --upstream http://127.0.0.1:9090 --port 0 --port-file PATH [--mode pass]
"""

import argparse
import http.client
import json
import socket
import struct
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.support.httpserver import LoopbackServer, serve_until_signal

QUERY_LOG_SIZE = 200
UPSTREAM_TIMEOUT = 60.0
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
              "host", "content-length"}
ERROR_TYPES = {400: "bad_data", 404: "not_found", 406: "not_acceptable", 422: "execution", 500: "internal",
               502: "unavailable", 503: "unavailable", 504: "timeout"}
HTML_BODY = ("<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
             "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


def log(msg):
    print(f"prometheus_fault_proxy: {msg}", file=sys.stderr, flush=True)


class BadMode(ValueError):
    """A mode string that cannot be parsed (400 on /_control/mode)."""


def parse_mode(text):
    """Validate a mode string; returns it as (name, argument)."""
    text = (text or "").strip()
    name, _, arg = text.partition(":")
    if name in ("pass", "malformed", "truncated", "matrix", "nodata") and not arg:
        return name, None
    if name == "delay":
        try:
            seconds = float(arg)
        except ValueError:
            raise BadMode(f"delay needs seconds: {text!r}") from None
        if not 0 <= seconds <= 600:
            raise BadMode(f"delay out of range: {text!r}")
        return name, seconds
    if name == "status":
        parts = arg.split(":")
        try:
            code = int(parts[0])
        except ValueError:
            raise BadMode(f"status needs a code: {text!r}") from None
        kind = parts[1] if len(parts) > 1 else "envelope"
        if not 100 <= code <= 599 or kind not in ("envelope", "html", "text", "empty") or len(parts) > 3 \
                or (len(parts) == 3 and kind != "envelope"):
            raise BadMode(f"status:<code>:envelope|html|text|empty[:errorType]: {text!r}")
        error_type = parts[2] if len(parts) == 3 else ERROR_TYPES.get(code, "internal")
        return name, (code, kind, error_type)
    if name == "values":
        try:
            mapping = json.loads(arg)
        except ValueError:
            raise BadMode(f"values needs a JSON object: {text!r}") from None
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise BadMode(f"values needs a JSON object of strings: {text!r}")
        return name, mapping
    raise BadMode(f"unknown mode {text!r}")


class ProxyState:
    """The current mode and the request log, shared by handler threads."""

    def __init__(self, upstream, mode="pass"):
        split = urlsplit(upstream)
        if split.scheme != "http" or not split.hostname:
            raise ValueError(f"--upstream must be http://host:port, not {upstream!r}")
        self.upstream_host, self.upstream_port = split.hostname, split.port or 80
        self.lock = threading.Lock()
        self.mode_text = "pass"
        self.mode = parse_mode("pass")
        self.set_mode(mode)
        self.count = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.queries = deque(maxlen=QUERY_LOG_SIZE)

    def set_mode(self, text):
        parsed = parse_mode(text)
        with self.lock:
            self.mode_text, self.mode = text.strip(), parsed
        return text.strip()

    def record(self, path, body):
        """Count one /api/v1 request; returns the mode it is served in (read once, atomically)."""
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True) if body else {}
        query = form.get("query", parse_qs(urlsplit(path).query).get("query", [None]))[-1]
        with self.lock:
            self.count += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.queries.append({"time": time.time(), "path": path, "query": query, "mode": self.mode_text})
            return self.mode

    def done(self):
        """One /api/v1 request answered (or abandoned)."""
        with self.lock:
            self.in_flight -= 1

    def snapshot(self, reset=False):
        with self.lock:
            snap = {"count": self.count, "in_flight": self.in_flight, "max_in_flight": self.max_in_flight,
                    "queries": list(self.queries), "mode": self.mode_text}
            if reset:
                self.count = 0
                self.max_in_flight = self.in_flight
                self.queries.clear()
            return snap


class UpstreamDown(OSError):
    """Prometheus could not be reached."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "prometheus-fault-proxy/1"
    timeout = 300
    verbose = False

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def dispatch(self, method):
        body = self._read_body()
        path = urlsplit(self.path).path
        state = self.server.state
        try:
            if path == "/_control/mode":
                return self.control_mode(method, body)
            if path == "/_control/requests":
                if method not in ("GET", "DELETE"):
                    return self.send(405, b"method not allowed\n", "text/plain")
                return self.send_json(200, state.snapshot(reset=method == "DELETE"))
            if not path.startswith("/api/v1/"):
                return self.relay(self.forward(method, body))
            mode, arg = state.record(self.path, body)
            try:
                return self.answer(method, body, mode, arg)
            finally:
                state.done()
        except UpstreamDown as exc:
            if self.verbose:
                log(f"upstream down: {exc}")
            self.reset_connection()
        except BadMode as exc:
            self.send(400, f"{exc}\n".encode(), "text/plain")
        except OSError:
            self.close_connection = True  # the client went away (e.g. it timed out during a delay)
        except Exception as exc:  # noqa: BLE001 - keep serving; say what went wrong
            log(f"internal error on {method} {self.path}: {exc!r}")
            try:
                self.send(599, f"fault proxy internal error: {exc!r}\n".encode(), "text/plain")
            except OSError:
                self.close_connection = True

    def answer(self, method, body, mode, arg):
        """Serve one /api/v1 request in ``mode``."""
        if mode == "pass":
            return self.relay(self.forward(method, body))
        if mode == "delay":
            time.sleep(arg)
            return self.relay(self.forward(method, body))
        if mode == "status":
            return self.send_fault_status(*arg)
        if mode == "nodata":
            return self.send_json(200, {"status": "success"})
        status, headers, raw = self.forward(method, body)
        if mode == "malformed":
            return self.send(200, raw[: max(1, len(raw) // 2)], "application/json")
        if mode == "truncated":
            return self.send_truncated(raw)
        doc = json.loads(raw)
        if mode == "values":
            for element in (doc.get("data") or {}).get("result") or []:
                pod = element.get("metric", {}).get("pod")
                if pod in arg and "value" in element:
                    element["value"] = [element["value"][0], arg[pod]]
        elif mode == "matrix":
            data = doc.get("data") or {}
            data["resultType"] = "matrix"
            data["result"] = [{"metric": e.get("metric", {}), "values": [e["value"]]}
                              for e in data.get("result") or [] if "value" in e]
        return self.send(status, json.dumps(doc).encode(), headers.get("content-type", "application/json"))

    # -- control ---------------------------------------------------------------

    def control_mode(self, method, body):
        state = self.server.state
        if method == "GET":
            return self.send_json(200, {"mode": state.snapshot()["mode"]})
        if method != "POST":
            return self.send(405, b"method not allowed\n", "text/plain")
        text = body.decode("utf-8", "replace").strip()
        if text.startswith("{"):
            try:
                text = json.loads(text)["mode"]
            except (ValueError, KeyError, TypeError):
                raise BadMode('JSON body must be {"mode": "..."}') from None
        mode = state.set_mode(text)
        if self.verbose:
            log(f"mode {mode}")
        self.send_json(200, {"mode": mode})

    # -- upstream --------------------------------------------------------------

    def forward(self, method, body):
        """The upstream answer as (status, {lower-case header: value}, body)."""
        state = self.server.state
        conn = http.client.HTTPConnection(state.upstream_host, state.upstream_port, timeout=UPSTREAM_TIMEOUT)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            try:
                conn.connect()
            except OSError as exc:
                raise UpstreamDown(str(exc)) from None
            conn.request(method, self.path, body=body if body or method == "POST" else None, headers=headers)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        except (http.client.HTTPException, ConnectionError) as exc:
            raise UpstreamDown(str(exc)) from None
        finally:
            conn.close()

    def relay(self, answer):
        status, headers, raw = answer
        self.send(status, raw, headers.get("content-type", "application/json"))

    # -- answers ---------------------------------------------------------------

    def send_fault_status(self, code, kind, error_type):
        reason = self.responses.get(code, ("Error",))[0]
        if kind == "envelope":
            return self.send_json(code, {"status": "error", "errorType": error_type,
                                         "error": f"injected fault: {code} {reason}"})
        if kind == "html":
            return self.send(code, HTML_BODY.format(code=code, reason=reason).encode(), "text/html")
        if kind == "text":
            return self.send(code, f"{code} {reason}\n".encode(), "text/plain; charset=utf-8")
        return self.send(code, b"", None)

    def send_truncated(self, raw):
        """Promise the whole body, send half, close the connection."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw[: len(raw) // 2])
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def reset_connection(self):
        """Abort with a TCP RST, as close to a refused connection as an accepted one can get."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def send_json(self, code, obj):
        self.send(code, json.dumps(obj).encode(), "application/json")

    def send(self, code, body, content_type):
        self.send_response(code)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def log_message(self, fmt, *args):
        if self.verbose:
            super().log_message(fmt, *args)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--upstream", required=True, help="Prometheus base URL, http://127.0.0.1:<port>")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 picks a free one")
    p.add_argument("--port-file", required=True, help="the actual port is written here once listening")
    p.add_argument("--mode", default="pass", help="initial mode (default: pass)")
    p.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = p.parse_args(argv)
    Handler.verbose = args.verbose
    try:
        state = ProxyState(args.upstream, args.mode)
    except ValueError as exc:
        log(str(exc))
        return 2
    server = LoopbackServer(("127.0.0.1", args.port), Handler, state=state)
    return serve_until_signal(server, args.port_file)


if __name__ == "__main__":
    sys.exit(main())
