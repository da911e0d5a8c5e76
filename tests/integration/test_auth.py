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
import tempfile
import time
import unittest

from tests.support.e2e_stack import Stack, adapter_bin, curl_bin, wait_for
from tests.support.kubelet_volume import KubeletVolume

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
        # A token no earlier test sent, so no cache entry can exist: the first request must cause exactly
        # one TokenReview and one SubjectAccessReview (zero would mean it was never reviewed), the next two
        # none.  The three requests go over one curl connection, back to back: well inside the 1 s cache
        # TTL this stack runs with (each takes milliseconds; the first, with both reviews, ~10-100 ms here).
        tokens = {
            "standin-token": {"username": "standin-admin", "groups": ["system:masters", "system:authenticated"]},
            "hpa-token": {"username": HPA_USER, "groups": ["system:serviceaccounts", "system:authenticated"]},
            "nobody-token": {"username": "nobody", "groups": ["system:authenticated"]},
            "fresh-hpa-token": {"username": HPA_USER, "groups": ["system:serviceaccounts", "system:authenticated"]},
        }
        self.assertEqual(self.stack.standin("POST", "/_control/tokens", tokens)[0], 200)
        self.addCleanup(self.stack.standin, "DELETE", "/_control/tokens")
        before = self.counts()
        url = self.stack.base_url + METRIC
        res = subprocess.run(
            [curl_bin(), "--http2", "-sS", "--max-time", "20", "--cacert", self.stack.ca_file,
             "-H", "Authorization: Bearer fresh-hpa-token", "-o", os.devnull, "-o", os.devnull, "-o", os.devnull,
             "-w", "%{http_code}\n", url, url, url],
            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stdout.split(), ["200", "200", "200"])
        after = self.counts()
        self.assertEqual(after["tokenreviews"] - before["tokenreviews"], 1)
        self.assertEqual(after["subjectaccessreviews"] - before["subjectaccessreviews"], 1)

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


class FrontProxyCAFile(unittest.TestCase):
    """``--requestheader-client-ca-file`` mounted from a ConfigMap volume, rotated the way kubelet does it."""

    # EXPECTED TO FAIL on the baseline binary if the CA file is watched through the symlink's own
    # attributes (the defect of issue 17): kubelet's ..data swap leaves <dir>/ca.crt untouched.

    def test_rotated_ca_file_is_trusted_without_restart(self):
        with Stack(PODS, adapter_args=["--requestheader-refresh-interval", "1s"]) as stack:
            with open(os.path.join(stack.pki_dir, "front-proxy-ca.crt")) as f:
                original_ca = f.read()
            with open(os.path.join(stack.pki_dir, "rogue-ca.crt")) as f:
                rogue_ca = f.read()
            volume = KubeletVolume(os.path.join(stack.workdir, "front-proxy-ca"), {"ca.crt": original_ca})
            stack.restart_adapter(["--requestheader-refresh-interval", "1s",
                                   "--requestheader-client-ca-file", volume.path("ca.crt")])

            def code(name):
                res = subprocess.run(
                    [curl_bin(), "-sS", "--max-time", "20", "--cacert", stack.ca_file, "-o", os.devnull,
                     "-w", "%{http_code}", "--cert", os.path.join(stack.pki_dir, f"{name}.crt"),
                     "--key", os.path.join(stack.pki_dir, f"{name}.key"), "-H", f"X-Remote-User: {HPA_USER}",
                     stack.base_url + METRIC], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
                self.assertEqual(res.returncode, 0, res.stderr)
                return int(res.stdout)

            self.assertEqual(code("front-proxy-client"), 200)
            self.assertEqual(code("rogue-client"), 401)
            volume.update({"ca.crt": rogue_ca})
            wait_for(lambda: code("rogue-client") == 200, 15,
                     what="the front-proxy CA rotated through the volume's ..data swap to be trusted")
            self.assertEqual(code("front-proxy-client"), 401)


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
        # The serving pair is a Secret volume, the pods file a ConfigMap volume, both as kubelet lays them out.
        self.secret = KubeletVolume(os.path.join(self.dir, "serving-cert"),
                                    {"tls.crt": self.read("first.crt"), "tls.key": self.read("first.key")})
        self.configmap = KubeletVolume(os.path.join(self.dir, "pods"), {
            "pods.yaml": "pods:\n  - {namespace: team-a, name: triton-0, labels: {app: triton}}\n"})
        self.port = free_port()
        self.log = open(os.path.join(self.dir, "adapter.log"), "w")
        self.addCleanup(self.log.close)
        self.proc = subprocess.Popen(
            [adapter_bin(), "--secure-port", str(self.port), "--bind-address", "127.0.0.1",
             "--tls-cert-file", self.secret.path("tls.crt"), "--tls-private-key-file", self.secret.path("tls.key"),
             "--tls-reload-interval", "1s", "--insecure-local-mode", "--pods-file", self.configmap.path("pods.yaml"),
             "--prometheus-url", "http://127.0.0.1:1", "--shutdown-timeout", "5s"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.addCleanup(self._kill)
        wait_for(lambda: self.fingerprint() is not None, 30, what="the adapter to serve TLS")

    def read(self, name):
        with open(os.path.join(self.dir, name), encoding="ascii") as f:
            return f.read()

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
        # EXPECTED TO FAIL on the baseline binary (main at 63f8ed8): its certificate store compares the
        # attributes of <dir>/tls.crt itself, a symlink that kubelet's ..data swap never touches, so the
        # rotated certificate is never loaded.  Another engineer fixes the Swift side; do not weaken this.
        import http.client
        context = ssl.create_default_context(cafile=os.path.join(self.dir, "first.crt"))
        keep_alive = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10, context=context)
        keep_alive.request("GET", "/healthz")
        self.assertEqual(keep_alive.getresponse().read(), b"ok")
        self.assertEqual(self.fingerprint(), self.file_fingerprint(os.path.join(self.dir, "first.crt")))

        # Rotate the way a Secret volume update lands: a new ..<timestamp> folder, ..data swapped to it.
        self.secret.update({"tls.crt": self.read("second.crt"), "tls.key": self.read("second.key")})
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
        # Budget: --shutdown-timeout is 5 s and nothing is in flight, so the adapter exits in well under
        # a second; 10 s allows 5 s of drain plus a 5 s margin for a loaded 2-core machine.
        self.assertLess(time.monotonic() - started, 10)


if __name__ == "__main__":
    unittest.main()
