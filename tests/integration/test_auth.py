"""End to end: authentication, authorization, certificate rotation and shutdown of the adapter.

The adapter runs with its secure defaults against the Kubernetes API stand-in: bearer tokens are
checked by TokenReview, every request by SubjectAccessReview, and the front proxy (kube-aggregator)
is recognised by a client certificate signed by the CA in the stand-in's
``kube-system/extension-apiserver-authentication`` ConfigMap. curl is the client, over HTTP/2 and 1.1.
"""

import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

from tests.support.e2e_stack import Stack, adapter_bin, curl_bin, wait_for

HPA_USER = "system:serviceaccount:kube-system:horizontal-pod-autoscaler"
PODS = {"pods": [{"namespace": "team-a", "name": "triton-0", "labels": {"app": "triton"},
         "models": [{"model": "tensorrt_llm", "version": "1", "queue_us_per_s": 500000, "compute_us_per_s": 1000000}]}]}
METRIC = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/team-a/pods/%2A/triton:queue_compute:ratio?labelSelector=app%3Dtriton"


class Auth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(PODS, adapter_args=["--requestheader-refresh-interval", "1s",
                                               "--authentication-token-webhook-cache-ttl", "1s"])
        cls.addClassCleanup(cls.stack.stop)
        cls.stack.start()
        cls.pki = cls.stack.pki_dir

    def curl(self, path, *args, http2=True):
        """(status, body) of a curl GET with extra arguments (client certificate, headers)."""
        res = subprocess.run(
            [curl_bin(), "--http2" if http2 else "--http1.1", "-sS", "--max-time", "20", "--cacert", self.stack.ca_file,
             "-w", "\n%{http_code}", *args, self.stack.base_url + path],
            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        self.assertEqual(res.returncode, 0, res.stderr)
        body, _, code = res.stdout.rpartition("\n")
        return int(code), body

    def cert_args(self, name):
        return ["--cert", os.path.join(self.pki, f"{name}.crt"), "--key", os.path.join(self.pki, f"{name}.key")]

    def assertStatus(self, code, body, expected_code, reason):
        self.assertEqual(code, expected_code, body)
        doc = json.loads(body)
        self.assertEqual((doc["kind"], doc["reason"], doc["code"]), ("Status", reason, expected_code))
        return doc

    def counts(self):
        status, doc = self.stack.standin("GET", "/_control/counts")
        self.assertEqual(status, 200, doc)
        return doc

    def test_no_credentials_is_401(self):
        code, body = self.curl(METRIC)
        self.assertStatus(code, body, 401, "Unauthorized")

    def test_unknown_token_is_401(self):
        code, body = self.curl(METRIC, "-H", "Authorization: Bearer not-a-token")
        self.assertStatus(code, body, 401, "Unauthorized")

    def test_forbidden_user_is_403_naming_who_and_what(self):
        code, body = self.curl(METRIC, "-H", "Authorization: Bearer nobody-token")
        doc = self.assertStatus(code, body, 403, "Forbidden")
        self.assertIn('User "nobody" cannot get resource "pods/triton:queue_compute:ratio" in API group '
                      '"custom.metrics.k8s.io" in the namespace "team-a"', doc["message"])

    def test_hpa_token_is_served_and_reviews_are_cached(self):
        before = self.counts()
        for _ in range(3):
            code, body = self.curl(METRIC, "-H", "Authorization: Bearer hpa-token")
            self.assertEqual(code, 200, body)
        after = self.counts()
        self.assertLessEqual(after["tokenreviews"] - before["tokenreviews"], 1)
        self.assertLessEqual(after["subjectaccessreviews"] - before["subjectaccessreviews"], 1)

    def test_revoked_token_stops_working_after_the_cache_ttl(self):
        tokens = {
            "standin-token": {"username": "standin-admin", "groups": ["system:masters", "system:authenticated"]},
            "hpa-token": {"username": HPA_USER, "groups": ["system:serviceaccounts", "system:authenticated"]},
            "nobody-token": {"username": "nobody", "groups": ["system:authenticated"]},
            "short-lived-token": {"username": HPA_USER, "groups": ["system:authenticated"]},
        }
        self.assertEqual(self.stack.standin("POST", "/_control/tokens", tokens)[0], 200)
        try:
            code, body = self.curl(METRIC, "-H", "Authorization: Bearer short-lived-token")
            self.assertEqual(code, 200, body)
            del tokens["short-lived-token"]
            self.assertEqual(self.stack.standin("POST", "/_control/tokens", tokens)[0], 200)
            wait_for(lambda: self.curl(METRIC, "-H", "Authorization: Bearer short-lived-token")[0] == 401, 10,
                     what="the revoked token to be refused once its cache entry expires")
        finally:
            self.stack.standin("DELETE", "/_control/tokens")

    def test_front_proxy_certificate_with_headers_over_http2_and_http1(self):
        for http2 in (True, False):
            code, body = self.curl(METRIC, *self.cert_args("front-proxy-client"), "-H", f"X-Remote-User: {HPA_USER}",
                                   "-H", "X-Remote-Group: system:serviceaccounts", http2=http2)
            self.assertEqual(code, 200, body)
            self.assertEqual(json.loads(body)["kind"], "MetricValueList")

    def test_remote_user_headers_are_ignored_without_a_trusted_certificate(self):
        headers = ["-H", f"X-Remote-User: {HPA_USER}", "-H", "X-Remote-Group: system:masters"]
        for args in ([], self.cert_args("not-allowed-client"), self.cert_args("rogue-client")):
            code, body = self.curl(METRIC, *args, *headers)
            self.assertStatus(code, body, 401, "Unauthorized")

    def test_health_needs_no_credentials(self):
        for path in ("/healthz", "/livez", "/readyz"):
            self.assertEqual(self.curl(path)[0], 200)

    def test_z_front_proxy_ca_rotation_takes_effect_without_restart(self):
        with open(os.path.join(self.pki, "rogue-ca.crt")) as f:
            rogue_ca = f.read()
        with open(os.path.join(self.pki, "front-proxy-ca.crt")) as f:
            original_ca = f.read()
        headers = ["-H", f"X-Remote-User: {HPA_USER}"]
        try:
            self.stack.standin("POST", "/_control/configmap", {"data": {"requestheader-client-ca-file": rogue_ca}})
            wait_for(lambda: self.curl(METRIC, *self.cert_args("rogue-client"), *headers)[0] == 200, 15,
                     what="the rotated front-proxy CA to be trusted")
            self.assertEqual(self.curl(METRIC, *self.cert_args("front-proxy-client"), *headers)[0], 401)
        finally:
            self.stack.standin("POST", "/_control/configmap", {"data": {"requestheader-client-ca-file": original_ca}})
            wait_for(lambda: self.curl(METRIC, *self.cert_args("front-proxy-client"), *headers)[0] == 200, 15,
                     what="the original front-proxy CA to be trusted again")


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def make_serving_pair(directory, name):
    """A self-signed serving certificate for 127.0.0.1 and localhost: name.crt, name.key."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", f"/CN={name}", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", f"{name}.key", "-out", f"{name}.crt", cwd=directory)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CertificateRotationAndShutdown(unittest.TestCase):
    """A local-mode adapter serving certificates from files that are replaced while it runs."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cma-rotation-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        for name in ("first", "second"):
            make_serving_pair(self.dir, name)
        shutil.copy(os.path.join(self.dir, "first.crt"), os.path.join(self.dir, "tls.crt"))
        shutil.copy(os.path.join(self.dir, "first.key"), os.path.join(self.dir, "tls.key"))
        with open(os.path.join(self.dir, "pods.yaml"), "w") as f:
            f.write("pods:\n  - {namespace: team-a, name: triton-0, labels: {app: triton}}\n")
        self.port = free_port()
        self.log = open(os.path.join(self.dir, "adapter.log"), "w")
        self.addCleanup(self.log.close)
        self.proc = subprocess.Popen(
            [adapter_bin(), "--secure-port", str(self.port), "--bind-address", "127.0.0.1",
             "--tls-cert-file", os.path.join(self.dir, "tls.crt"), "--tls-private-key-file", os.path.join(self.dir, "tls.key"),
             "--tls-reload-interval", "1s", "--insecure-local-mode", "--pods-file", os.path.join(self.dir, "pods.yaml"),
             "--prometheus-url", "http://127.0.0.1:1", "--shutdown-timeout", "5s"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.addCleanup(self._kill)
        wait_for(lambda: self.fingerprint() is not None, 30, what="the adapter to serve TLS")

    def _kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def fingerprint(self):
        """SHA-256 of the certificate a new handshake gets, or None when nothing answers."""
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as raw:
                with context.wrap_socket(raw) as tls:
                    return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()
        except OSError:
            return None

    @staticmethod
    def file_fingerprint(path):
        der = subprocess.run(["openssl", "x509", "-in", path, "-outform", "DER"], capture_output=True, check=True).stdout
        return hashlib.sha256(der).hexdigest()

    def test_new_handshakes_get_the_new_certificate_and_open_connections_stay(self):
        import http.client
        context = ssl.create_default_context(cafile=os.path.join(self.dir, "first.crt"))
        keep_alive = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10, context=context)
        keep_alive.request("GET", "/healthz")
        self.assertEqual(keep_alive.getresponse().read(), b"ok")
        self.assertEqual(self.fingerprint(), self.file_fingerprint(os.path.join(self.dir, "first.crt")))

        # Replace both files the way a Secret volume update lands: new content, then a rename.
        for ext in ("crt", "key"):
            shutil.copy(os.path.join(self.dir, f"second.{ext}"), os.path.join(self.dir, f"tls.{ext}.new"))
            os.replace(os.path.join(self.dir, f"tls.{ext}.new"), os.path.join(self.dir, f"tls.{ext}"))
        second = self.file_fingerprint(os.path.join(self.dir, "second.crt"))
        wait_for(lambda: self.fingerprint() == second, 15, what="new handshakes to get the rotated certificate")

        keep_alive.request("GET", "/healthz")
        self.assertEqual(keep_alive.getresponse().read(), b"ok", "the connection opened before rotation still works")
        keep_alive.close()
        self.assertEqual(self.proc.poll(), None, "no restart")

    def test_sigterm_exits_zero_within_the_bound(self):
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(15), 0)
        self.assertLess(time.monotonic() - started, 10)


if __name__ == "__main__":
    unittest.main()
