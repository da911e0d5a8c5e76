"""Hostile network: what strangers, and users with a token but no access, can make the adapter hold.

Issue 12, items 2-4 (exhaustion) and 7-8 (front-proxy and TLS rules), against the adapter binary
(``$ADAPTER_BIN``) in the e2e ``Stack`` (Prometheus, Kubernetes API stand-in), loopback only.

Each exhaustion test restarts the adapter, reads its resident memory (``VmRSS`` in
``/proc/<pid>/status``) before, during (the highest sample) and after an attack of bounded size and
duration, asserts it stays under the Deployment's memory limit (128Mi, ``manifests/base/deployment.yaml``),
and asserts a legitimate HPA request (front-proxy certificate and ``X-Remote-User``, over HTTP/2, as the
kube-aggregator sends it) is answered while the attack holds. The measurements are printed as
``RSS <test> before=… during=… after=… MiB`` lines.

Standard library and the openssl CLI only.
"""

import http.client
import os
import resource
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from tests.support.e2e_stack import Stack, curl_bin  # noqa: E402

HPA_USER = "system:serviceaccount:kube-system:horizontal-pod-autoscaler"
PODS = {"pods": [{"namespace": "team-a", "name": "triton-0", "labels": {"app": "triton"},
         "models": [{"model": "tensorrt_llm", "version": "1", "queue_us_per_s": 500000, "compute_us_per_s": 1000000}]}]}
METRIC = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/team-a/pods/%2A/triton:queue_compute:ratio?labelSelector=app%3Dtriton"
MEMORY_LIMIT = 128 * 1024 * 1024
MIB = 1024 * 1024


def rss(pid):
    """Resident memory of ``pid`` in bytes, from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class Sampler(threading.Thread):
    """Samples a process' RSS every 200 ms until stopped; ``peak`` is the highest seen."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.peak_sockets, self._halt = pid, 0, 0, threading.Event()

    def run(self):
        while not self._halt.wait(0.2):
            try:
                self.peak = max(self.peak, rss(self.pid))
                self.peak_sockets = max(self.peak_sockets, open_sockets(self.pid))
            except (OSError, RuntimeError):
                return

    def stop(self):
        self._halt.set()
        self.join(5)


def open_sockets(pid):
    """How many sockets ``pid`` holds (its listener, its clients' and its own outgoing connections)."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return count


def openssl(*args, cwd):
    res = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if res.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args[:2])} failed: {res.stderr.strip()[-600:]}")


def hpack_literal(name, value):
    """One header as an HPACK literal without indexing, no Huffman (names and values < 127 bytes)."""
    name, value = name.encode(), value.encode()
    return bytes([0x00, len(name)]) + name + bytes([len(value)]) + value


def h2_frame(kind, flags, stream, payload):
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


class HostileNetwork(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 16384), hard))
        cls.stack = Stack(PODS, log_level="info", adapter_args=["--requestheader-refresh-interval", "1s"])
        cls.addClassCleanup(cls.stack.stop)
        cls.stack.start()
        cls.pki = cls.stack.pki_dir
        cls.work = tempfile.mkdtemp(prefix="hostile-")

    # -- helpers -----------------------------------------------------------

    def fresh_adapter(self):
        """A restarted adapter, so each attack starts from the same memory; returns its PID."""
        self.stack.restart_adapter()
        pid = self.stack.procs["adapter"].pid
        for _ in range(3):
            self.assertEqual(self.hpa_request()[0], 200)
        time.sleep(1)
        return pid

    def curl(self, *args, path=METRIC, http2=True, max_time=20):
        res = subprocess.run(
            [curl_bin(), "--http2" if http2 else "--http1.1", "-sS", "--max-time", str(max_time), "--cacert",
             self.stack.ca_file, "-w", "\n%{http_code}", *args, self.stack.base_url + path],
            capture_output=True, text=True, timeout=max_time + 10, stdin=subprocess.DEVNULL)
        body, _, code = res.stdout.rpartition("\n")
        return int(code or 0), body or res.stderr

    def cert_args(self, stem, directory=None):
        directory = directory or self.pki
        return ["--cert", os.path.join(directory, f"{stem}.crt"), "--key", os.path.join(directory, f"{stem}.key")]

    def hpa_request(self):
        """The request the kube-aggregator makes for the HPA: front-proxy certificate, user headers, HTTP/2."""
        return self.curl(*self.cert_args("front-proxy-client"), "-H", f"X-Remote-User: {HPA_USER}",
                         "-H", "X-Remote-Group: system:serviceaccounts")

    def measure(self, name, pid, attack):
        """Runs ``attack(check)`` while sampling RSS; ``check()`` makes the legitimate request. Returns
        (before, during, after) in bytes and prints them."""
        before = rss(pid)
        sampler = Sampler(pid)
        sampler.start()
        answers = []
        try:
            attack(lambda: answers.append(self.hpa_request()))
        finally:
            sampler.stop()
        time.sleep(3)
        after = rss(pid)
        during = max(sampler.peak, before)
        self.peak_sockets = sampler.peak_sockets
        print(f"\nRSS {name} before={before / MIB:.1f} during={during / MIB:.1f} after={after / MIB:.1f} MiB"
              f" (adapter sockets at most {sampler.peak_sockets})", file=sys.stderr, flush=True)
        self.assertTrue(answers, "the legitimate request was not made")
        for code, body in answers:
            self.assertEqual(code, 200, f"legitimate HPA request during the attack: {body[:300]}")
        self.assertLess(during, MEMORY_LIMIT, f"{name}: RSS {during / MIB:.1f} MiB during the attack")
        self.assertLess(after, MEMORY_LIMIT, f"{name}: RSS {after / MIB:.1f} MiB after the attack")
        return before, during, after

    def tls_connect(self, certfile=None, keyfile=None, alpn=("http/1.1",)):
        context = ssl.create_default_context(cafile=self.stack.ca_file)
        context.set_alpn_protocols(list(alpn))
        if certfile:
            context.load_cert_chain(certfile, keyfile)
        raw = socket.create_connection(("127.0.0.1", self.stack.adapter_port), timeout=10)
        return context.wrap_socket(raw, server_hostname="localhost")

    # -- item 2: connections and streams -------------------------------------

    def test_item2_idle_tcp_connections_are_closed_and_capped(self):
        pid = self.fresh_adapter()
        sockets = []

        def attack(check):
            for _ in range(4000):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", self.stack.adapter_port))
                sockets.append(s)
            time.sleep(2)
            check()
            time.sleep(8)  # past the 5 s handshake timeout
            closed = 0
            for s in sockets:
                try:
                    if s.recv(1, socket.MSG_DONTWAIT) == b"":
                        closed += 1
                except BlockingIOError:
                    pass  # still open: nothing to read yet
                except OSError:
                    closed += 1
            print(f"\nidle TCP connections closed by the adapter within 10 s: {closed} of {len(sockets)}", file=sys.stderr)
            counts.append(closed)
            for s in sockets:
                s.close()

        counts = []
        self.measure("item2-idle-tcp-4000", pid, attack)
        # The kernel's listen backlog holds the rest until the adapter accepts (and closes) them.
        self.assertGreaterEqual(counts[0], 256, "idle connections were not closed")
        # At most --max-connections (256) clients, plus the listener and the adapter's own connections.
        self.assertLessEqual(self.peak_sockets, 256 + 32)

    def test_item2_http2_streams_without_progress_are_bounded(self):
        pid = self.fresh_adapter()
        conns = []
        head = (hpack_literal(":method", "GET") + hpack_literal(":scheme", "https")
                + hpack_literal(":path", "/apis/custom.metrics.k8s.io/v1beta2")
                + hpack_literal(":authority", "localhost"))

        def attack(check):
            for _ in range(40):
                conn = self.tls_connect(alpn=("h2",))
                self.assertEqual(conn.selected_alpn_protocol(), "h2")
                frames = [b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", h2_frame(0x4, 0, 0, b"")]
                # HEADERS with END_HEADERS but never END_STREAM: the request never finishes.
                frames += [h2_frame(0x1, 0x4, 2 * i + 1, head) for i in range(100)]
                conn.sendall(b"".join(frames))
                conns.append(conn)
            time.sleep(2)
            check()
            time.sleep(3)
            for conn in conns:
                conn.close()

        self.measure("item2-http2-40x100-streams", pid, attack)

    # -- item 3: distinct paths from an authenticated user ------------------

    def test_item3_distinct_long_paths_do_not_grow_memory(self):
        pid = self.fresh_adapter()
        deadline = time.monotonic() + 90

        def worker(offset, count, length):
            context = ssl.create_default_context(cafile=self.stack.ca_file)
            conn = None
            for i in range(count):
                if time.monotonic() > deadline:
                    break
                path = f"/apis/custom.metrics.k8s.io/v1beta2/{offset:02d}{i:06d}" + "x" * length
                try:
                    if conn is None:
                        conn = http.client.HTTPSConnection("127.0.0.1", self.stack.adapter_port, timeout=15, context=context)
                    conn.request("GET", path, headers={"Authorization": "Bearer nobody-token"})
                    conn.getresponse().read()
                except (OSError, http.client.HTTPException):
                    if conn is not None:
                        conn.close()
                    conn = None
            if conn is not None:
                conn.close()

        def attack(check):
            threads = [threading.Thread(target=worker, args=(n, 1200, 15000 if n % 2 else 7900), daemon=True) for n in range(8)]
            for t in threads:
                t.start()
            time.sleep(5)
            check()
            for t in threads:
                t.join(max(1, deadline - time.monotonic() + 5))

        self.measure("item3-distinct-paths", pid, attack)

    # -- item 4: distinct client certificates ------------------------------

    def big_client_certificates(self, count):
        """``count`` distinct self-signed client certificates of ~90 KB each (one key), as file paths."""
        directory = os.path.join(self.work, "big-certs")
        os.makedirs(directory, exist_ok=True)
        key = os.path.join(directory, "client.key")
        if not os.path.exists(key):
            openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key, cwd=directory)
        with open(os.path.join(directory, "big.cnf"), "w", encoding="ascii") as f:
            f.write("[req]\ndistinguished_name=dn\n[dn]\n[big]\n1.2.3.4.5=ASN1:UTF8String:" + "p" * 90000 + "\n")
        paths = []

        def make(indices):
            for i in indices:
                path = os.path.join(directory, f"client-{i}.crt")
                if not os.path.exists(path):
                    openssl("req", "-new", "-x509", "-key", key, "-subj", f"/CN=front-proxy-client/O=stranger-{i}",
                            "-days", "1", "-config", "big.cnf", "-extensions", "big", "-out", path, cwd=directory)
        threads = [threading.Thread(target=make, args=(range(n, count, 4),)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        for i in range(count):
            paths.append(os.path.join(directory, f"client-{i}.crt"))
        return paths, key

    def test_item4_distinct_client_certificates_are_not_kept(self):
        paths, key = self.big_client_certificates(1000)
        self.assertGreater(os.path.getsize(paths[0]), 80000)
        pid = self.fresh_adapter()

        def attack(check):
            refused = 0
            for i, path in enumerate(paths):
                try:
                    conn = self.tls_connect(path, key)
                    conn.sendall(f"GET {METRIC} HTTP/1.1\r\nHost: localhost\r\nX-Remote-User: {HPA_USER}\r\nConnection: close\r\n\r\n".encode())
                    answer = conn.recv(4096)
                    conn.close()
                    refused += answer.startswith(b"HTTP/1.1 401")
                except OSError:
                    pass
                if i == 500:
                    check()
            self.assertGreater(refused, 900, "self-signed certificates were not refused")

        self.measure("item4-client-certs-1000x90KB", pid, attack)

    # -- items 7 and 8: front-proxy rules and TLS suites -------------------

    def front_proxy_certificate(self, stem, subject, issuer="front-proxy-ca", ca=False):
        """A certificate signed by ``issuer`` (a stem in the stand-in PKI or ours) into our work dir."""
        directory = os.path.join(self.work, "pki")
        os.makedirs(directory, exist_ok=True)
        issuer_dir = self.pki if os.path.exists(os.path.join(self.pki, f"{issuer}.key")) else directory
        with open(os.path.join(directory, f"{stem}.cnf"), "w", encoding="ascii") as f:
            f.write("[req]\ndistinguished_name=dn\n[dn]\n[ext]\n" + (
                "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n" if ca else
                "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"))
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", subject,
                "-keyout", f"{stem}.key", "-out", f"{stem}.csr", "-config", f"{stem}.cnf", cwd=directory)
        openssl("x509", "-req", "-in", f"{stem}.csr", "-CA", os.path.join(issuer_dir, f"{issuer}.crt"),
                "-CAkey", os.path.join(issuer_dir, f"{issuer}.key"), "-CAcreateserial", "-days", "1",
                "-extfile", f"{stem}.cnf", "-extensions", "ext", "-out", f"{stem}.crt", cwd=directory)
        return directory

    def test_item7_allowed_names_match_the_last_common_name_only(self):
        directory = self.front_proxy_certificate("two-cns", "/CN=front-proxy-client/CN=evil")
        code, body = self.curl(*self.cert_args("two-cns", directory), "-H", f"X-Remote-User: {HPA_USER}")
        self.assertEqual(code, 401, body)

    def test_item8_a_leaf_from_an_intermediate_with_its_chain_is_trusted(self):
        directory = self.front_proxy_certificate("intermediate", "/CN=front-proxy-intermediate", ca=True)
        self.front_proxy_certificate("via-intermediate", "/CN=front-proxy-client", issuer="intermediate")
        chain = os.path.join(directory, "via-intermediate-chain.crt")
        with open(chain, "w", encoding="ascii") as out:
            for stem in ("via-intermediate", "intermediate"):
                with open(os.path.join(directory, f"{stem}.crt"), encoding="ascii") as f:
                    out.write(f.read())
        code, body = self.curl("--cert", chain, "--key", os.path.join(directory, "via-intermediate.key"),
                               "-H", f"X-Remote-User: {HPA_USER}")
        self.assertEqual(code, 200, body)

    def test_item8_tls12_offers_only_ecdhe_with_aead(self):
        def handshake(cipher):
            res = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{self.stack.adapter_port}", "-tls1_2",
                                  "-cipher", cipher, "-CAfile", self.stack.ca_file],
                                 input="", capture_output=True, text=True, timeout=20)
            return "Cipher is " + cipher in res.stdout
        self.assertTrue(handshake("ECDHE-ECDSA-AES128-GCM-SHA256"))
        for weak in ("ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA"):
            self.assertFalse(handshake(weak), f"{weak} was negotiated")


if __name__ == "__main__":
    unittest.main()
