#!/usr/bin/env python3
"""Kubernetes API server stand-in that speaks the real wire format for pods.

Serves HTTPS on 127.0.0.1, as kube-apiserver does: its certificate is signed by its own CA
(``apiserver-ca.crt`` in the PKI dir, written into every kubeconfig as ``certificate-authority``).
API paths need a credential the API server would accept, else a 401 Status:

* a bearer token from the API token set (``standin-token`` at start; ``/_control/api-tokens``
  replaces the set, so a test can rotate a projected service-account token), or
* a client certificate that verifies against ``client-ca.crt`` (the user is its CN, the groups its Os).

Resources:


* ``GET /api/v1/pods`` and ``GET /api/v1/namespaces/<ns>/pods``: PodList with
  ``limit``/``continue`` pagination, equality/set label selectors, field selectors
  (``metadata.name``, ``metadata.namespace``, ``status.phase`` with ``=``, ``==``, ``!=``) and
  the list ``resourceVersion`` (410 when compacted, 504 when in the future), or a
  chunked watch stream (``watch=1``) with replay from ``resourceVersion``,
  bookmarks every ``--bookmark-interval`` seconds (60, the API server's pace),
  ``timeoutSeconds`` and 410 "too old resource version" errors.
* ``GET /api/v1/namespaces/<ns>/pods/<name>``: a single Pod.
* ``POST /apis/authentication.k8s.io/v1/tokenreviews``: TokenReview against a
  token table (``DEFAULT_TOKENS`` or ``--tokens``).
* ``POST /apis/authorization.k8s.io/v1/subjectaccessreviews``:
  SubjectAccessReview against a list of RBAC-like rules (``DEFAULT_POLICY``).
* ``GET /api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication``:
  the ConfigMap an aggregated API server reads its client and front-proxy
  (request-header) CAs and header names from.
* ``/_control/...`` (no auth, same TLS port): test hooks to mutate pods, compact history,
  break watches, inject failures, replace tokens/policy, edit the ConfigMap,
  count reviews and inspect the request log.

At startup the ``openssl`` CLI generates the PKI (the API server's CA and serving
certificate, the client CA and an admin client, the front-proxy CAs, an allowed and a
not-allowed client, and an impostor CA with its client) into ``--pki-dir``, or into a temp dir
removed on exit; see ``PKI_CERTS``.  A PKI already complete in ``--pki-dir`` is reused, so a
restarted stand-in keeps its CA, as a restarted API server does.

Routes live in the ``ROUTES`` dict, registered with the ``@route`` decorator.

Standard library only (plus the openssl binary).  Usage::

    python3 -m tests.support.kube_standin --port 0 --port-file PATH [--pods PODS.json] [--first-rv N]
        [--tokens TOKENS.json] [--pki-dir DIR] [--kubeconfig-out PATH] [--cert-kubeconfig-out PATH]
        [--bookmark-interval SECONDS] [--verbose]
"""

import argparse
import base64
import binascii
import bisect
import copy
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.httpserver import LoopbackServer, serve_until_signal, write_atomic

TOKEN = "standin-token"
FIRST_RV = 1000
CREATION_TIMESTAMP = "2026-01-01T00:00:00Z"
IMAGE = "nvcr.io/nvidia/tritonserver:24.08-trtllm-python-py3"
DEFAULT_LABELS = {"app": "triton"}
DEFAULT_WATCH_TIMEOUT = 1800
BOOKMARK_INTERVAL = 60.0  # kube-apiserver sends a bookmark about once a minute
LIST_WAIT_FOR_FUTURE_RV = 3.0  # kube-apiserver waits ~3 s for a future list RV, then answers 504
MAX_EVENTS = 100_000  # history kept for watch replay; older events are trimmed
REQUEST_LOG_SIZE = 200

REASONS = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
    405: "MethodNotAllowed", 409: "Conflict", 410: "Expired", 422: "Invalid",
    429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
    504: "Timeout",
}

HPA_USER = "system:serviceaccount:kube-system:horizontal-pod-autoscaler"


def _uid(name):
    """A stable UUID per default user, so runs are reproducible."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"kube-standin:{name}"))


# token -> user info, as TokenReview reports it.  Never mutated.
DEFAULT_TOKENS = {
    TOKEN: {"username": "standin-admin", "uid": _uid("standin-admin"),
            "groups": ["system:masters", "system:authenticated"], "extra": {}},
    "hpa-token": {"username": HPA_USER, "uid": _uid(HPA_USER),
                  "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system",
                             "system:authenticated"], "extra": {}},
    "nobody-token": {"username": "nobody", "uid": _uid("nobody"),
                     "groups": ["system:authenticated"], "extra": {}},
}

# SubjectAccessReview rules (see rule_applies).  Never mutated.
DEFAULT_POLICY = [
    {"groups": ["system:masters"], "verbs": ["*"], "apiGroups": ["*"], "resources": ["*"],
     "namespaces": ["*"], "nonResourceURLs": ["*"]},
    {"users": [HPA_USER], "verbs": ["get", "list"], "apiGroups": ["custom.metrics.k8s.io"],
     "resources": ["*"], "namespaces": ["*"]},
    {"groups": ["system:authenticated"], "verbs": ["get"],
     "nonResourceURLs": ["/apis", "/apis/*", "/api", "/api/*", "/openapi/*", "/version",
                         "/healthz", "/livez", "/readyz"]},
]
RULE_LISTS = ("users", "groups", "verbs", "apiGroups", "resources", "namespaces", "nonResourceURLs")
RESOURCE_FIELDS = ("namespace", "verb", "group", "version", "resource", "subresource", "name")

AUTH_CONFIGMAP = ("kube-system", "extension-apiserver-authentication")
COUNTERS = ("tokenreviews", "subjectaccessreviews", "configmap_gets")

# (file stem, subject, issuing CA stem or None for self-signed, extensions section), in order.
# rogue-ca deliberately reuses the CN "front-proxy-ca": only its key differs,
# so a verifier that checks names instead of signatures is caught.
PKI_CERTS = (
    ("apiserver-ca", "/CN=kube-standin-ca", None, "v3_ca"),
    ("apiserver", "/CN=kube-apiserver", "apiserver-ca", "v3_server"),
    ("client-ca", "/CN=client-ca", None, "v3_ca"),
    ("admin-client", "/O=system:masters/CN=standin-admin", "client-ca", "v3_client"),
    ("front-proxy-ca", "/CN=front-proxy-ca", None, "v3_ca"),
    ("front-proxy-client", "/CN=front-proxy-client", "front-proxy-ca", "v3_client"),
    ("not-allowed-client", "/CN=not-allowed-client", "front-proxy-ca", "v3_client"),
    ("rogue-ca", "/CN=front-proxy-ca", None, "v3_ca"),
    ("rogue-client", "/CN=front-proxy-client", "rogue-ca", "v3_client"),
)

EXPIRED_CONTINUE_MESSAGE = (
    "The provided continue parameter is too old to display a consistent list result. "
    "You can start a new list without the continue parameter, or use the continue token "
    "in this response to retrieve the remainder of the results."
)


def log(msg):
    print(f"kube_standin: {msg}", file=sys.stderr, flush=True)


def status_body(code, message, reason=None):
    """A metav1.Status failure object as the real API server sends it."""
    return {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason or REASONS.get(code, "InternalError"), "code": code,
    }


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


def parse_bool(text):
    """Go's strconv.ParseBool, which the API server uses for query flags."""
    if text in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if text in ("", "0", "f", "F", "false", "FALSE", "False"):
        return False
    raise ValueError(f"invalid boolean {text!r}")


def kubeconfig_text(port, ca_file, client_cert=None, client_key=None):
    """A minimal kubeconfig for this stand-in: ``https://``, its CA, and the static token or a client cert."""
    user = (f"    client-certificate: {client_cert}\n    client-key: {client_key}\n" if client_cert
            else f"    token: {TOKEN}\n")
    return (
        "apiVersion: v1\n"
        "kind: Config\n"
        "clusters:\n"
        "- name: standin\n"
        "  cluster:\n"
        f"    server: https://127.0.0.1:{port}\n"
        f"    certificate-authority: {ca_file}\n"
        "users:\n"
        "- name: standin\n"
        "  user:\n"
        f"{user}"
        "contexts:\n"
        "- name: standin\n"
        "  context:\n"
        "    cluster: standin\n"
        "    user: standin\n"
        "current-context: standin\n"
        "preferences: {}\n"
    )


# ---------------------------------------------------------------------------
# Label selectors


class BadRequest(ValueError):
    """Client error that becomes a 400 Status response."""

    code = 400


class Invalid(BadRequest):
    """Semantically invalid object: a 422 Status, as API-server validation gives."""

    code = 422


def _split_terms(text):
    """Split a selector on commas that are not inside ``in (...)`` lists."""
    terms, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


_KEY = r"[A-Za-z0-9](?:[A-Za-z0-9._/-]*[A-Za-z0-9])?"


def parse_label_selector(text):
    """Compile a label selector into a predicate over a labels dict.

    Supports ``k=v``, ``k==v``, ``k!=v``, ``k``, ``!k``, ``k in (a,b)`` and
    ``k notin (a,b)``; empty terms are ignored.  ``!=`` and ``notin`` also
    match objects without the key, as in Kubernetes.
    """
    preds = []
    for raw in _split_terms(text or ""):
        term = raw.strip()
        if not term:
            continue
        m = re.fullmatch(rf"({_KEY})\s+(in|notin)\s+\(([^()]*)\)", term)
        if m:
            key, op = m.group(1), m.group(2)
            values = frozenset(v.strip() for v in m.group(3).split(",") if v.strip())
            if op == "in":
                preds.append(lambda l, k=key, vs=values: l.get(k) in vs)
            else:
                preds.append(lambda l, k=key, vs=values: l.get(k) not in vs)
            continue
        m = re.fullmatch(rf"({_KEY})\s*(!=|==|=)\s*([A-Za-z0-9._-]*)", term)
        if m:
            key, op, value = m.group(1), m.group(2), m.group(3)
            if op == "!=":
                preds.append(lambda l, k=key, v=value: l.get(k) != v)
            else:
                preds.append(lambda l, k=key, v=value: l.get(k) == v)
            continue
        m = re.fullmatch(rf"(!?)\s*({_KEY})", term)
        if m:
            key = m.group(2)
            if m.group(1):
                preds.append(lambda l, k=key: k not in l)
            else:
                preds.append(lambda l, k=key: k in l)
            continue
        raise BadRequest(f"unable to parse requirement: {term!r}")
    return lambda labels: all(p(labels) for p in preds)


# Pod fields the API server can select on (a subset of its field label conversion for pods).
POD_FIELDS = {
    "metadata.name": lambda pod: pod["metadata"]["name"],
    "metadata.namespace": lambda pod: pod["metadata"]["namespace"],
    "spec.nodeName": lambda pod: pod["spec"].get("nodeName", ""),
    "status.phase": lambda pod: pod["status"].get("phase", ""),
    "status.podIP": lambda pod: pod["status"].get("podIP", ""),
}


def parse_field_selector(text):
    """A pod field selector (``key=value``, ``key==value``, ``key!=value``, comma = and) as a predicate.

    As the API server: an unknown field is a 400 "field label not supported"; a term without an
    operator is a 400 "invalid selector".
    """
    terms = []
    for term in (t.strip() for t in text.split(",")):
        if not term:
            continue
        match = re.fullmatch(r"([^=!]+)(==|!=|=)(.*)", term)
        if match is None:
            raise BadRequest(f"invalid selector: '{text}'; can't understand '{term}'")
        key, op, value = match.group(1).strip(), match.group(2), match.group(3).strip()
        if key not in POD_FIELDS:
            raise BadRequest(f"field label not supported: {key}")
        terms.append((POD_FIELDS[key], op != "!=", value))
    return lambda pod: all((get(pod) == value) == equal for get, equal, value in terms)


def parse_pod_selector(query):
    """labelSelector and fieldSelector of a list or watch, as one predicate over a pod."""
    labels = parse_label_selector(query.get("labelSelector", ""))
    fields = parse_field_selector(query.get("fieldSelector", ""))
    return lambda pod: labels(pod_labels(pod)) and fields(pod)


def pod_labels(pod):
    return pod["metadata"].get("labels") or {}


# ---------------------------------------------------------------------------
# Continue tokens (same shape as the API server's: base64 of JSON)


def encode_continue(rv, last_key):
    raw = dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": last_key + "\x00"})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_continue(token):
    """Return (rv, start_key_exclusive) or raise BadRequest."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        doc = json.loads(raw)
        rv, start = int(doc["rv"]), str(doc["start"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise BadRequest(f"continue key is not valid: {exc}") from None
    return rv, start.rstrip("\x00")


# ---------------------------------------------------------------------------
# TokenReview and SubjectAccessReview (error messages never include tokens)


def _string(value, what):
    if not isinstance(value, str):
        raise BadRequest(f"{what} must be a string")
    return value


def _strings(value, what):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"{what} must be a list of strings")
    return list(value)


def _extra(value, what):
    """A map[string][]string, like UserInfo.extra."""
    if not isinstance(value, dict):
        raise BadRequest(f"{what} must be an object of string lists")
    return {k: _strings(v, f"{what}.{k}") for k, v in value.items()}


def parse_token_table(doc):
    """Validate ``{token: {username, uid?, groups?, extra?}}``; entries are named by index."""
    if not isinstance(doc, dict):
        raise BadRequest("token table must be a JSON object")
    table = {}
    for i, (token, info) in enumerate(doc.items()):
        what = f"token entry #{i}"
        if not token:
            raise BadRequest(f"{what}: token must not be empty")
        if not isinstance(info, dict) or not isinstance(info.get("username"), str) or not info["username"]:
            raise BadRequest(f"{what} needs a non-empty string 'username'")
        unknown = set(info) - {"username", "uid", "groups", "extra"}
        if unknown:
            raise BadRequest(f"{what}: unknown fields {sorted(unknown)}")
        table[token] = {
            "username": info["username"],
            "uid": _string(info.get("uid", ""), f"{what}: uid"),
            "groups": _strings(info.get("groups", []), f"{what}: groups"),
            "extra": _extra(info.get("extra", {}), f"{what}: extra"),
        }
    return table


def user_info(entry):
    """UserInfo as the API server serializes it: empty uid/groups/extra omitted."""
    return {k: v for k, v in entry.items() if k == "username" or v}


def parse_policy(doc):
    """Validate a rule list; ``verbs`` is required, the other lists optional."""
    if not isinstance(doc, list):
        raise BadRequest("policy must be a JSON list of rules")
    rules = []
    for i, rule in enumerate(doc):
        if not isinstance(rule, dict):
            raise BadRequest(f"rule {i} must be an object")
        unknown = set(rule) - set(RULE_LISTS) - {"deny"}
        if unknown:
            raise BadRequest(f"rule {i}: unknown fields {sorted(unknown)}")
        if "verbs" not in rule:
            raise BadRequest(f"rule {i} needs 'verbs'")
        clean = {k: _strings(rule[k], f"rule {i}: {k}") for k in RULE_LISTS if k in rule}
        if "deny" in rule:
            if not isinstance(rule["deny"], bool):
                raise BadRequest(f"rule {i}: deny must be a boolean")
            clean["deny"] = rule["deny"]
        rules.append(clean)
    return rules


def _listed(values, item):
    """RBAC-style membership: ``"*"`` matches anything, a missing list nothing."""
    return values is not None and ("*" in values or item in values)


def rule_applies(rule, subject):
    """Whether a rule covers a parsed SubjectAccessReview (see parse_sar_spec).

    Subject: user in ``users`` or any group in ``groups``.  Resource requests
    need ``resources`` (``"*"``, ``res``, ``res/sub`` or ``*/sub``); omitted
    ``apiGroups``/``namespaces`` mean all.  Non-resource requests need
    ``nonResourceURLs``, where a trailing ``*`` is a prefix match.
    """
    if not (_listed(rule.get("users"), subject["user"])
            or any(_listed(rule.get("groups"), g) for g in subject["groups"])):
        return False
    res = subject["resourceAttributes"]
    if res is not None:
        if not _listed(rule["verbs"], res.get("verb", "")) or "resources" not in rule:
            return False
        if not (_listed(rule.get("apiGroups", ["*"]), res.get("group", ""))
                and _listed(rule.get("namespaces", ["*"]), res.get("namespace", ""))):
            return False
        sub = res.get("subresource", "")
        resource = res.get("resource", "") + (f"/{sub}" if sub else "")
        return _listed(rule["resources"], resource) or bool(sub and f"*/{sub}" in rule["resources"])
    nonres = subject["nonResourceAttributes"]
    path = nonres.get("path", "")
    return _listed(rule["verbs"], nonres.get("verb", "")) and any(
        path.startswith(u[:-1]) if u.endswith("*") else path == u
        for u in rule.get("nonResourceURLs", ()))


def evaluate_access(policy, subject):
    """SubjectAccessReviewStatus: a matching ``deny`` rule wins, else any allow rule."""
    allowed_by = None
    for i, rule in enumerate(policy):
        if rule_applies(rule, subject):
            if rule.get("deny"):
                return {"allowed": False, "denied": True, "reason": f"denied by stand-in policy rule {i}"}
            if allowed_by is None:
                allowed_by = i
    if allowed_by is not None:
        return {"allowed": True, "reason": f"allowed by stand-in policy rule {allowed_by}"}
    return {"allowed": False, "reason": "no stand-in policy rule allows it"}


def parse_sar_spec(spec):
    """Type-check a SubjectAccessReview spec (400), then validate it like the API server (422)."""
    user = _string(spec.get("user", ""), "spec.user")
    groups = _strings(spec.get("groups", []), "spec.groups")
    _string(spec.get("uid", ""), "spec.uid")
    _extra(spec.get("extra", {}), "spec.extra")
    res, nonres = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    for name, attrs, fields in (("resourceAttributes", res, RESOURCE_FIELDS),
                                ("nonResourceAttributes", nonres, ("path", "verb"))):
        if attrs is not None:
            if not isinstance(attrs, dict):
                raise BadRequest(f"spec.{name} must be an object")
            for field in fields:
                _string(attrs.get(field, ""), f"spec.{name}.{field}")
    errors = []
    if res is not None and nonres is not None:
        errors.append("spec.nonResourceAttributes: Invalid value: \"object\": "
                      "cannot be specified in combination with resourceAttributes")
    if res is None and nonres is None:
        errors.append("spec.resourceAttributes: Invalid value: \"null\": "
                      "exactly one of nonResourceAttributes or resourceAttributes must be specified")
    if not user and not groups:
        errors.append("spec.user: Invalid value: \"\": at least one of user or group must be specified")
    if errors:
        joined = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
        raise Invalid(f'SubjectAccessReview.authorization.k8s.io "" is invalid: {joined}')
    return {"user": user, "groups": groups, "resourceAttributes": res, "nonResourceAttributes": nonres}


# ---------------------------------------------------------------------------
# Front-proxy PKI (openssl CLI)

OPENSSL_CNF = """\
[req]
distinguished_name = req_dn
[req_dn]
[ca]
default_ca = standin_ca
[standin_ca]
database = index.txt
serial = serial.txt
new_certs_dir = .
default_md = sha256
policy = policy_cn
unique_subject = no
[policy_cn]
organizationName = optional
commonName = supplied
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost, DNS:kubernetes.default.svc
"""


def generate_pki(pki_dir):
    """Write ``PKI_CERTS`` as ``<stem>.crt``/``<stem>.key`` into pki_dir; return {file: path}.

    EC P-256 keys (unencrypted PEM, mode 0600), certificates valid from one
    day ago for a year.  Signing goes through ``openssl ca`` because OpenSSL
    3.0's ``req``/``x509`` cannot backdate notBefore.  Files are made in a
    scratch subdirectory and renamed into place, so none is seen half-written.
    """
    os.makedirs(pki_dir, exist_ok=True)
    existing = {name: os.path.join(pki_dir, name) for stem, *_ in PKI_CERTS for name in (f"{stem}.key", f"{stem}.crt")}
    if all(os.path.isfile(p) for p in existing.values()):
        return existing  # a restarted API server keeps its CA and certificates
    work = tempfile.mkdtemp(prefix=".gen-", dir=pki_dir)
    try:
        with open(os.path.join(work, "openssl.cnf"), "w", encoding="utf-8") as f:
            f.write(OPENSSL_CNF)
        open(os.path.join(work, "index.txt"), "w").close()
        now = time.time()
        start, end = (time.strftime("%Y%m%d%H%M%SZ", time.gmtime(t)) for t in (now - 86400, now + 365 * 86400))

        def openssl(*args):
            proc = subprocess.run(["openssl", *args, "-config", "openssl.cnf"], cwd=work,
                                  capture_output=True, text=True, timeout=30)
            if proc.returncode != 0:
                raise RuntimeError(f"openssl {args[0]} failed: {proc.stderr.strip()[-800:]}")

        for stem, subject, issuer, extensions in PKI_CERTS:
            openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", f"{stem}.key", "-out", f"{stem}.csr", "-subj", subject)
            sign = ["ca", "-batch", "-notext", "-rand_serial", "-startdate", start, "-enddate", end,
                    "-in", f"{stem}.csr", "-out", f"{stem}.crt", "-extensions", extensions]
            if issuer is None:
                sign += ["-selfsign", "-keyfile", f"{stem}.key"]
            else:
                sign += ["-cert", f"{issuer}.crt", "-keyfile", f"{issuer}.key"]
            openssl(*sign)
        files = {}
        for stem, *_ in PKI_CERTS:
            os.chmod(os.path.join(work, f"{stem}.key"), 0o600)
            for name in (f"{stem}.key", f"{stem}.crt"):
                files[name] = os.path.join(pki_dir, name)
                os.replace(os.path.join(work, name), files[name])
        return files
    finally:
        shutil.rmtree(work, ignore_errors=True)


def auth_configmap_data(files):
    """extension-apiserver-authentication data, as kube-apiserver publishes it."""
    def pem(name):
        with open(files[name], encoding="ascii") as f:
            return f.read()
    return {
        "client-ca-file": pem("client-ca.crt"),
        "requestheader-client-ca-file": pem("front-proxy-ca.crt"),
        "requestheader-allowed-names": dumps(["front-proxy-client"]),
        "requestheader-username-headers": dumps(["X-Remote-User"]),
        "requestheader-group-headers": dumps(["X-Remote-Group"]),
        "requestheader-extra-headers-prefix": dumps(["X-Remote-Extra-"]),
    }


# ---------------------------------------------------------------------------
# State


class Store:
    """Pods, the global resourceVersion, the event log, auth objects and test knobs.

    Stored pod dicts are never mutated after being stored (updates deep-copy),
    so the event log can share them safely; the token table, policy and
    ConfigMap are likewise replaced, never edited.  All fields are guarded by
    ``cond``, which is also notified whenever watchers have something to do.
    """

    def __init__(self, first_rv=FIRST_RV):
        self.cond = threading.Condition()
        self.rv = first_rv
        self.compact_rv = first_rv  # watches/continues from older RVs get 410
        self.trimmed_rv = first_rv  # events with rv <= this are gone from the log
        self.pods = {}  # "ns/name" -> pod (with kind/apiVersion); ordering key
        self.events = []  # (rv, type, object, previous object or None)
        self.event_rvs = []  # parallel to events, for bisect
        self.ip_counter = 0
        self.fail_status = 0
        self.fail_count = 0
        self.fail_verb = None  # "list" or "watch": fail only those; None: both
        self.watches = set()  # open WatchState objects
        self.stopping = False
        self.requests = deque(maxlen=REQUEST_LOG_SIZE)
        self.initial_tokens = self.tokens = DEFAULT_TOKENS
        self.api_tokens = {TOKEN: "standin-admin"}  # bearer token -> user, for the API itself
        self.policy = DEFAULT_POLICY
        self.initial_configmap_data = {}
        self.configmap = None
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.pki_files = {}

    # -- mutations (call with cond held) ------------------------------------

    def _record(self, etype, obj, prev):
        self.events.append((self.rv, etype, obj, prev))
        self.event_rvs.append(self.rv)
        if len(self.events) > MAX_EVENTS:
            half = len(self.events) // 2
            self.trimmed_rv = self.event_rvs[half - 1]
            self.compact_rv = max(self.compact_rv, self.trimmed_rv)
            del self.events[:half]
            del self.event_rvs[:half]
        self.cond.notify_all()

    def apply_pod(self, spec):
        """Create (ADDED) or update (MODIFIED) a pod from a PODS.json-style spec.

        On update only the fields present in ``spec`` change; a
        ``deletionTimestamp`` of null removes it.
        """
        ns, name = spec.get("namespace"), spec.get("name")
        if not (isinstance(ns, str) and ns and isinstance(name, str) and name):
            raise BadRequest("pod needs non-empty string 'namespace' and 'name'")
        if "labels" in spec and not isinstance(spec["labels"], dict):
            raise BadRequest("'labels' must be an object")
        key = f"{ns}/{name}"
        with self.cond:
            old = self.pods.get(key)
            self.rv += 1
            if old is None:
                self.ip_counter += 1
                pod = {
                    "kind": "Pod",
                    "apiVersion": "v1",
                    "metadata": {
                        "name": name,
                        "namespace": ns,
                        "uid": str(uuid.uuid4()),
                        "resourceVersion": "",
                        "creationTimestamp": CREATION_TIMESTAMP,
                        "labels": dict(spec.get("labels", DEFAULT_LABELS)),
                    },
                    "spec": {"containers": [{"name": "triton", "image": IMAGE}]},
                    "status": {
                        "phase": spec.get("phase", "Running"),
                        "podIP": f"10.0.{self.ip_counter // 250}.{self.ip_counter % 250 + 1}",
                    },
                }
                if spec.get("deletionTimestamp"):
                    pod["metadata"]["deletionTimestamp"] = spec["deletionTimestamp"]
                etype = "ADDED"
            else:
                pod = copy.deepcopy(old)
                if "labels" in spec:
                    pod["metadata"]["labels"] = dict(spec["labels"])
                if "phase" in spec:
                    pod["status"]["phase"] = spec["phase"]
                if "deletionTimestamp" in spec:
                    if spec["deletionTimestamp"]:
                        pod["metadata"]["deletionTimestamp"] = spec["deletionTimestamp"]
                    else:
                        pod["metadata"].pop("deletionTimestamp", None)
                etype = "MODIFIED"
            pod["metadata"]["resourceVersion"] = str(self.rv)
            self.pods[key] = pod
            self._record(etype, pod, old)
            return pod

    def delete_pod(self, ns, name):
        """Remove a pod; the DELETED event carries its last state with a new RV."""
        with self.cond:
            old = self.pods.pop(f"{ns}/{name}", None)
            if old is None:
                return None
            self.rv += 1
            pod = copy.deepcopy(old)
            pod["metadata"]["resourceVersion"] = str(self.rv)
            self._record("DELETED", pod, old)
            return pod

    def compact(self):
        """Make every RV up to now too old for new watches and continue tokens.

        Open watches keep streaming (as with etcd compaction in real clusters).
        """
        with self.cond:
            self.compact_rv = self.rv
            return self.rv

    def break_watches(self):
        """Abruptly close every open watch socket (no terminating chunk)."""
        with self.cond:
            broken = list(self.watches)
            for w in broken:
                w.broken = True
                try:
                    w.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.cond.notify_all()
            return len(broken)

    def set_failure(self, status, count, verb=None):
        with self.cond:
            self.fail_status, self.fail_count, self.fail_verb = status, count, verb

    def take_failure(self, verb=None):
        """HTTP status to fail this list/watch request with, or 0."""
        with self.cond:
            if not self.fail_status or self.fail_count == 0:
                return 0
            if self.fail_verb is not None and verb != self.fail_verb:
                return 0
            if self.fail_count > 0:
                self.fail_count -= 1
            return self.fail_status

    def set_tokens(self, table=None, initial=False):
        """Replace the token table (None: back to the startup table); return its size."""
        with self.cond:
            if initial:
                self.initial_tokens = table
            self.tokens = self.initial_tokens if table is None else table
            return len(self.tokens)

    def set_api_tokens(self, table=None):
        """Replace the bearer tokens the API accepts (None: back to the kubeconfig's one)."""
        with self.cond:
            self.api_tokens = {TOKEN: "standin-admin"} if table is None else dict(table)
            return len(self.api_tokens)

    def set_policy(self, rules=None):
        """Replace the SubjectAccessReview rules (None: back to DEFAULT_POLICY)."""
        with self.cond:
            self.policy = DEFAULT_POLICY if rules is None else rules
            return self.policy

    def init_configmap(self, data):
        """Create the auth ConfigMap at startup, at the first RV (before any pod)."""
        with self.cond:
            self.initial_configmap_data = dict(data)
            self.configmap = {
                "kind": "ConfigMap",
                "apiVersion": "v1",
                "metadata": {
                    "name": AUTH_CONFIGMAP[1],
                    "namespace": AUTH_CONFIGMAP[0],
                    "uid": str(uuid.uuid4()),
                    "resourceVersion": str(self.rv),
                    "creationTimestamp": CREATION_TIMESTAMP,
                },
                "data": dict(data),
            }

    def update_configmap(self, data=None):
        """Merge ``data`` into the ConfigMap (None values delete keys), or reset it
        to the startup data when ``data`` is None.  Takes a new global RV."""
        with self.cond:
            cm = copy.deepcopy(self.configmap)
            if data is None:
                cm["data"] = dict(self.initial_configmap_data)
            for key, value in (data or {}).items():
                if value is None:
                    cm["data"].pop(key, None)
                else:
                    cm["data"][key] = value
            self.rv += 1
            cm["metadata"]["resourceVersion"] = str(self.rv)
            self.configmap = cm
            return cm

    def count(self, name):
        with self.cond:
            self.counts[name] += 1

    def take_counts(self, reset=False):
        """Snapshot of the review/ConfigMap counters, optionally zeroing them."""
        with self.cond:
            snapshot = dict(self.counts)
            if reset:
                self.counts = dict.fromkeys(COUNTERS, 0)
            return snapshot

    def stop(self):
        with self.cond:
            self.stopping = True
            self.cond.notify_all()

    # -- reads ----------------------------------------------------------------

    def list_pods(self, ns, selector, limit, cont):
        """One PodList page: (items, list RV, continue token or None).

        Pages after the first report the RV of the first page (as the real
        server does); contents come from the current state, which for a
        resuming client only means it may see an object twice, never miss one.
        """
        with self.cond:
            list_rv, start = self.rv, None
            if cont:
                list_rv, start = decode_continue(cont)
                if list_rv < self.compact_rv:
                    return None, None, None
            keys = sorted(self.pods) if ns is None else sorted(
                k for k in self.pods if k.startswith(ns + "/"))
            if start is not None:
                keys = keys[bisect.bisect_right(keys, start):]
            items, token, last_key = [], None, None
            for key in keys:
                pod = self.pods[key]
                if not selector(pod):
                    continue
                if limit and len(items) == limit:
                    token = encode_continue(list_rv, last_key)
                    break
                items.append(pod)
                last_key = key
            return items, list_rv, token

    def events_after(self, rv):
        """Events with RV > rv (cond held), or None if some were trimmed away."""
        if rv < self.trimmed_rv:
            return None
        return self.events[bisect.bisect_right(self.event_rvs, rv):]


class WatchState:
    """One open watch connection, so break-watches can find its socket."""

    __slots__ = ("connection", "broken")

    def __init__(self, connection):
        self.connection = connection
        self.broken = False


def watch_view(event, ns, selector):
    """Translate a logged event for one watcher, or None if it is filtered out.

    As in Kubernetes, a label change moving a pod into the selector is an
    ADDED and one moving it out is a DELETED.
    """
    _, etype, obj, prev = event
    if ns is not None and obj["metadata"]["namespace"] != ns:
        return None
    now_in = selector(obj)
    if etype != "MODIFIED":
        return (etype, obj) if now_in else None
    was_in = selector(prev)
    if now_in and was_in:
        return ("MODIFIED", obj)
    if now_in:
        return ("ADDED", obj)
    if was_in:
        return ("DELETED", obj)
    return None


# ---------------------------------------------------------------------------
# Routes: ROUTES[(method, path regex)] = handler(request, match, query)

ROUTES = {}


def route(method, pattern):
    """Register a handler for ``method`` on paths fully matching ``pattern``."""
    def register(fn):
        ROUTES[(method, pattern)] = fn
        return fn
    return register


def query_int(query, name, default):
    value = query.get(name, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f"invalid {name}: {value!r}") from None


@route("GET", r"/api/v1/pods")
@route("GET", r"/api/v1/namespaces/(?P<ns>[^/]+)/pods")
def pods_collection(req, match, query):
    """List or watch pods, cluster-wide or in one namespace."""
    store = req.server.store
    ns = match.groupdict().get("ns")
    ns = unquote(ns) if ns else None
    try:
        watch = parse_bool(query.get("watch", ""))
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    failure = store.take_failure("watch" if watch else "list")
    if failure:
        return req.send_status(failure, f"injected failure ({failure})")
    selector = parse_pod_selector(query)
    if watch:
        return serve_watch(req, ns, selector, query)
    limit = query_int(query, "limit", 0)
    if not query.get("continue") and not list_version_ready(req, store, query.get("resourceVersion", "")):
        return None
    items, list_rv, token = store.list_pods(ns, selector, max(limit, 0), query.get("continue", ""))
    if items is None:
        return req.send_json(410, status_body(410, EXPIRED_CONTINUE_MESSAGE, "Expired"))
    metadata = {"resourceVersion": str(list_rv)}
    if token:
        metadata["continue"] = token
    body = {
        "kind": "PodList",
        "apiVersion": "v1",
        "metadata": metadata,
        # Items inside a list carry no kind/apiVersion on the real wire.
        "items": [{k: v for k, v in p.items() if k not in ("kind", "apiVersion")} for p in items],
    }
    req.send_json(200, body)


def list_version_ready(req, store, rv_param):
    """Apply a list's ``resourceVersion`` ("not older than"); False when an error was sent.

    "" and "0" serve the current state.  A version older than the compaction point is a 410; one the
    store has not reached yet is waited for, briefly, then a 504 "Too large resource version", as
    kube-apiserver's watch cache does.
    """
    if rv_param in ("", "0"):
        return True
    try:
        wanted = int(rv_param)
    except ValueError:
        raise BadRequest(f"invalid resource version: {rv_param!r}") from None
    deadline = time.monotonic() + LIST_WAIT_FOR_FUTURE_RV
    with store.cond:
        if wanted < store.compact_rv:
            req.send_json(410, status_body(410, f"too old resource version: {wanted} ({store.compact_rv})", "Expired"))
            return False
        while store.rv < wanted and time.monotonic() < deadline and not store.stopping:
            store.cond.wait(max(0.0, deadline - time.monotonic()))
        current = store.rv
    if current < wanted:
        req.send_json(504, status_body(504, f"Too large resource version: {wanted}, current: {current}", "Timeout"))
        return False
    return True


@route("GET", r"/api/v1/namespaces/(?P<ns>[^/]+)/pods/(?P<name>[^/]+)")
def pod_get(req, match, query):
    """Get one pod."""
    store = req.server.store
    ns, name = unquote(match["ns"]), unquote(match["name"])
    with store.cond:
        pod = store.pods.get(f"{ns}/{name}")
    if pod is None:
        return req.send_status(404, f'pods "{name}" not found')
    req.send_json(200, pod)


def serve_watch(req, ns, selector, query):
    """Stream watch events as chunked JSON lines until timeout, stop or break."""
    store = req.server.store
    try:
        bookmarks = parse_bool(query.get("allowWatchBookmarks", ""))
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    timeout = query_int(query, "timeoutSeconds", DEFAULT_WATCH_TIMEOUT)
    if timeout <= 0:
        timeout = DEFAULT_WATCH_TIMEOUT
    rv_param = query.get("resourceVersion", "")
    if rv_param not in ("", "0"):
        try:
            start_rv = int(rv_param)
        except ValueError:
            raise BadRequest(f"invalid resource version: {rv_param!r}") from None

    state = WatchState(req.connection)
    with store.cond:
        if rv_param in ("", "0"):
            # Like the real server: synthetic ADDED for current state, then live.
            initial = [("ADDED", store.pods[k]) for k in sorted(store.pods)
                       if (ns is None or k.startswith(ns + "/"))
                       and selector(store.pods[k])]
            last_rv, expired = store.rv, None
        else:
            initial, last_rv = [], start_rv
            expired = store.compact_rv if start_rv < store.compact_rv else None
        if expired is None:
            store.watches.add(state)

    req.close_connection = True  # a watch owns its connection until it ends
    req.send_response(200)
    req.send_header("Content-Type", "application/json")
    req.send_header("Transfer-Encoding", "chunked")
    req.send_header("Cache-Control", "no-cache, private")
    req.end_headers()
    req.responded = True

    def send(etype, obj):
        data = (dumps({"type": etype, "object": obj}) + "\n").encode()
        req.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def too_old(rv, oldest):
        send("ERROR", status_body(410, f"too old resource version: {rv} ({oldest})", "Expired"))

    try:
        if expired is not None:
            too_old(start_rv, expired)
            req.wfile.write(b"0\r\n\r\n")
            return
        for etype, obj in initial:
            send(etype, obj)
        deadline = time.monotonic() + timeout
        interval = req.server.bookmark_interval
        next_bookmark = time.monotonic() + interval
        while True:
            events = []
            with store.cond:
                while True:
                    now = time.monotonic()
                    if state.broken or store.stopping:
                        break
                    events = store.events_after(last_rv)
                    if events is None or events:
                        break
                    if now >= deadline or (bookmarks and now >= next_bookmark):
                        break
                    wake = min(deadline, next_bookmark) if bookmarks else deadline
                    store.cond.wait(min(wake - now, 5.0))
                trimmed_at = store.trimmed_rv
            if state.broken:
                return  # socket already shut down: no terminating chunk
            if events is None:
                too_old(last_rv, trimmed_at)
                break
            for event in events:
                view = watch_view(event, ns, selector)
                if view:
                    send(*view)
                last_rv = event[0]
            if store.stopping or now >= deadline:
                break
            if bookmarks and now >= next_bookmark:
                send("BOOKMARK", {"kind": "Pod", "apiVersion": "v1",
                                  "metadata": {"resourceVersion": str(last_rv)}})
                next_bookmark = now + interval
        req.wfile.write(b"0\r\n\r\n")
    except OSError:
        pass  # client went away or the socket was broken on purpose
    finally:
        with store.cond:
            store.watches.discard(state)


# -- authentication objects ---------------------------------------------------


def review_object(req, kind, group):
    """The posted review as (object to answer with, spec); kind/apiVersion checked.

    Like the API server, unknown top-level fields and any posted status are dropped.
    """
    doc = req.json_body()
    api_version = f"{group}/v1"
    if doc.get("kind", kind) != kind or doc.get("apiVersion", api_version) != api_version:
        raise BadRequest(f"the object provided is unrecognized (must be of type {kind} in {api_version})")
    metadata = doc.get("metadata", {"creationTimestamp": None})
    spec = doc.get("spec")
    if not isinstance(metadata, dict):
        raise BadRequest("metadata must be an object")
    if not isinstance(spec, dict):
        raise BadRequest("spec must be an object")
    return {"kind": kind, "apiVersion": api_version, "metadata": metadata, "spec": spec}, spec


@route("POST", r"/apis/authentication.k8s.io/v1/tokenreviews")
def token_review(req, match, query):
    """Authenticate spec.token against the token table; 201 with status filled in."""
    store = req.server.store
    store.count("tokenreviews")
    obj, spec = review_object(req, "TokenReview", "authentication.k8s.io")
    token = _string(spec.get("token", ""), "spec.token")
    if not token:
        raise BadRequest("token is required for TokenReview in authentication")
    audiences = _strings(spec.get("audiences", []), "spec.audiences")
    with store.cond:
        entry = store.tokens.get(token)
    if entry is None:
        status = {"authenticated": False, "error": "invalid bearer token"}
    else:
        status = {"authenticated": True, "user": user_info(entry)}
        if audiences:
            status["audiences"] = audiences
    req.send_json(201, {**obj, "status": status})


@route("POST", r"/apis/authorization.k8s.io/v1/subjectaccessreviews")
def subject_access_review(req, match, query):
    """Decide a SubjectAccessReview with the stand-in policy; 201 with status filled in."""
    store = req.server.store
    store.count("subjectaccessreviews")
    obj, spec = review_object(req, "SubjectAccessReview", "authorization.k8s.io")
    subject = parse_sar_spec(spec)
    with store.cond:
        policy = store.policy
    req.send_json(201, {**obj, "status": evaluate_access(policy, subject)})


@route("GET", r"/api/v1/namespaces/(?P<ns>[^/]+)/configmaps/(?P<name>[^/]+)")
def configmap_get(req, match, query):
    """Get a ConfigMap; only kube-system/extension-apiserver-authentication exists."""
    store = req.server.store
    store.count("configmap_gets")
    ns, name = unquote(match["ns"]), unquote(match["name"])
    with store.cond:
        cm = store.configmap
    if cm is None or (ns, name) != AUTH_CONFIGMAP:
        return req.send_status(404, f'configmaps "{name}" not found')
    req.send_json(200, cm)


# -- control API (no auth) ----------------------------------------------------


def control_reply(req, **extra):
    with req.server.store.cond:
        rv = req.server.store.rv
    req.send_json(200, {"resourceVersion": str(rv), **extra})


@route("POST", r"/_control/pods")
def control_apply_pod(req, match, query):
    """Create or update a pod from a PODS.json-style spec."""
    pod = req.server.store.apply_pod(req.json_body())
    control_reply(req, pod=pod)


@route("DELETE", r"/_control/pods/(?P<ns>[^/]+)/(?P<name>[^/]+)")
def control_delete_pod(req, match, query):
    """Delete a pod (DELETED event)."""
    pod = req.server.store.delete_pod(unquote(match["ns"]), unquote(match["name"]))
    if pod is None:
        return req.send_status(404, f'pods "{unquote(match["name"])}" not found')
    control_reply(req, pod=pod)


@route("POST", r"/_control/compact")
def control_compact(req, match, query):
    """Compaction point = current RV."""
    req.server.store.compact()
    control_reply(req)


@route("POST", r"/_control/break-watches")
def control_break_watches(req, match, query):
    """Abruptly close all open watch connections."""
    broken = req.server.store.break_watches()
    control_reply(req, broken=broken)


@route("POST", r"/_control/fail")
def control_fail(req, match, query):
    """Fail the next ``count`` list/watch requests with ``status`` (-1 = until reset).

    An optional ``"verb": "list"`` or ``"watch"`` fails only those (e.g. a relist after a 410).
    """
    body = req.json_body()
    try:
        status, count = int(body.get("status", 0)), int(body.get("count", 1))
    except (TypeError, ValueError, AttributeError):
        raise BadRequest("body must be {\"status\": int, \"count\": int}") from None
    if status and not 400 <= status <= 599:
        raise BadRequest("status must be 0 or an HTTP error code")
    verb = body.get("verb")
    if verb not in (None, "list", "watch"):
        raise BadRequest('verb must be "list" or "watch"')
    req.server.store.set_failure(status, count if status else 0, verb)
    control_reply(req, status=status, count=count if status else 0, **({"verb": verb} if verb else {}))


@route("POST", r"/_control/tokens")
def control_tokens(req, match, query):
    """Replace the TokenReview table ({token: user info}); replies with its size only."""
    size = req.server.store.set_tokens(parse_token_table(req.json_value()))
    control_reply(req, tokens=size)


@route("DELETE", r"/_control/tokens")
def control_reset_tokens(req, match, query):
    """Back to the startup token table (defaults or --tokens)."""
    control_reply(req, tokens=req.server.store.set_tokens(None))


@route("POST", r"/_control/api-tokens")
def control_api_tokens(req, match, query):
    """Replace the bearer tokens the API accepts: {token: username}, as a rotated service account needs."""
    doc = req.json_body()
    if not all(isinstance(k, str) and k and isinstance(v, str) and v for k, v in doc.items()):
        raise BadRequest("api-tokens must map non-empty token strings to user names")
    control_reply(req, apiTokens=req.server.store.set_api_tokens(doc))


@route("DELETE", r"/_control/api-tokens")
def control_reset_api_tokens(req, match, query):
    control_reply(req, apiTokens=req.server.store.set_api_tokens())


@route("GET", r"/_control/policy")
def control_get_policy(req, match, query):
    """The current SubjectAccessReview rules."""
    with req.server.store.cond:
        policy = req.server.store.policy
    req.send_json(200, policy)


@route("POST", r"/_control/policy")
def control_set_policy(req, match, query):
    """Replace the SubjectAccessReview rules with a JSON list."""
    policy = req.server.store.set_policy(parse_policy(req.json_value()))
    control_reply(req, rules=len(policy))


@route("DELETE", r"/_control/policy")
def control_reset_policy(req, match, query):
    """Back to DEFAULT_POLICY."""
    control_reply(req, rules=len(req.server.store.set_policy(None)))


@route("POST", r"/_control/configmap")
def control_configmap(req, match, query):
    """Merge {"data": {key: string or null}} into the auth ConfigMap (new RV)."""
    data = req.json_body().get("data")
    if not isinstance(data, dict) or not all(v is None or isinstance(v, str) for v in data.values()):
        raise BadRequest('body must be {"data": {key: string or null}}')
    control_reply(req, configmap=req.server.store.update_configmap(data))


@route("DELETE", r"/_control/configmap")
def control_reset_configmap(req, match, query):
    """Restore the startup ConfigMap data (new RV)."""
    control_reply(req, configmap=req.server.store.update_configmap(None))


@route("GET", r"/_control/counts")
def control_counts(req, match, query):
    """How many TokenReviews, SubjectAccessReviews and ConfigMap GETs passed caller auth."""
    req.send_json(200, req.server.store.take_counts())


@route("DELETE", r"/_control/counts")
def control_reset_counts(req, match, query):
    """Zero the counters; replies with the values they had."""
    req.send_json(200, req.server.store.take_counts(reset=True))


@route("GET", r"/_control/pki")
def control_pki(req, match, query):
    """Where the generated PKI files are: {"dir": ..., "files": {name: path}}."""
    files = req.server.store.pki_files
    directory = os.path.dirname(next(iter(files.values()))) if files else None
    req.send_json(200, {"dir": directory, "files": files})


@route("GET", r"/_control/requests")
def control_requests(req, match, query):
    """The last requests seen (method, path, whether Authorization was sent)."""
    with req.server.store.cond:
        entries = list(req.server.store.requests)
    req.send_json(200, entries)


@route("GET", r"/healthz")
def healthz(req, match, query):
    req.send_text(200, "ok")


# ---------------------------------------------------------------------------
# HTTP plumbing


class Handler(BaseHTTPRequestHandler):
    """Dispatches every method through ROUTES with auth and error mapping."""

    protocol_version = "HTTP/1.1"
    server_version = "kube-standin/1"
    timeout = 300  # idle keep-alive connections are dropped after this
    verbose = False
    # Headers and body go out in separate writes; with Nagle on, a kept-alive client's delayed ACK
    # held every answer ~40 ms (the benchmark measured it).
    disable_nagle_algorithm = True

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_OPTIONS(self):
        self.dispatch("OPTIONS")

    def dispatch(self, method):
        self.responded = False
        self.body = self._read_body()
        split = urlsplit(self.path)
        path = split.path
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        store = self.server.store
        user = self.authenticated_user()
        if not (method == "GET" and path == "/_control/requests"):
            with store.cond:
                store.requests.append({
                    "method": method,
                    "path": self.path,
                    "authorization": self.headers.get("Authorization") is not None,
                    "user": user,
                    "time": time.time(),
                })
        try:
            is_api = path in ("/api", "/apis") or path.startswith(("/api/", "/apis/"))
            if is_api and user is None:
                return self.send_status(401, "Unauthorized")
            path_known = False
            for (route_method, pattern), fn in ROUTES.items():
                match = re.fullmatch(pattern, path)
                if match is None:
                    continue
                if route_method == method:
                    return fn(self, match, query)
                path_known = True
            if path_known:
                return self.send_status(405, "the server does not allow this method on the requested resource")
            self.send_status(404, "the server could not find the requested resource")
        except BadRequest as exc:
            if not self.responded:
                self.send_status(exc.code, str(exc))
        except OSError:
            self.close_connection = True
        except Exception as exc:  # keep serving; report as a 500 Status
            log(f"internal error on {method} {self.path}: {exc!r}")
            if not self.responded:
                self.send_status(500, f"internal error: {exc}")
            else:
                self.close_connection = True

    def authenticated_user(self):
        """Who the API server would say this is: a known bearer token, else a verified client certificate.

        As kube-apiserver: a bearer token that is sent is judged alone (an unknown one is a 401 even
        with a good certificate); without one, a client certificate verified against the client CA
        (the TLS layer only accepts those) names the user by its CommonName.
        """
        header = self.headers.get("Authorization")
        if header is not None:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token:
                return None
            with self.server.store.cond:
                return self.server.store.api_tokens.get(token.strip())
        getpeercert = getattr(self.connection, "getpeercert", None)
        cert = getpeercert() if getpeercert else None
        if not cert:
            return None
        names = [value for rdn in cert.get("subject", ()) for key, value in rdn if key == "commonName"]
        return names[-1] if names else None

    def _read_body(self):
        """Read the request body (Content-Length or chunked) so keep-alive stays in sync."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def json_value(self):
        """The request body parsed as any JSON value (400 if it is not JSON)."""
        try:
            return json.loads(self.body or b"{}")
        except ValueError as exc:
            raise BadRequest(f"invalid JSON body: {exc}") from None

    def json_body(self):
        """The request body parsed as a JSON object (400 otherwise)."""
        doc = self.json_value()
        if not isinstance(doc, dict):
            raise BadRequest("JSON body must be an object")
        return doc

    def send_json(self, code, obj):
        self._send(code, dumps(obj).encode(), "application/json")

    def send_text(self, code, text):
        self._send(code, text.encode(), "text/plain; charset=utf-8")

    def send_status(self, code, message, reason=None):
        self.send_json(code, status_body(code, message, reason))

    def _send(self, code, body, content_type):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.responded = True

    def log_message(self, fmt, *args):
        if self.verbose:
            super().log_message(fmt, *args)


def server_tls_context(pki_files):
    """The API server's TLS: its serving certificate, and client certificates verified against the client CA."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(pki_files["apiserver.crt"], pki_files["apiserver.key"])
    context.load_verify_locations(pki_files["client-ca.crt"])
    context.verify_mode = ssl.CERT_OPTIONAL
    return context


class StandinServer(LoopbackServer):
    """The HTTPS server carrying the Store (``server.store``) and the bookmark pace."""

    def __init__(self, address, store, bookmark_interval=BOOKMARK_INTERVAL):
        self.store = store
        self.bookmark_interval = bookmark_interval
        super().__init__(address, Handler, state=store, tls=server_tls_context(store.pki_files))


def load_pods(store, path):
    """Create the initial pods (ADDED events at RVs just above FIRST_RV)."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    for spec in doc.get("pods", []):
        store.apply_pod({k: spec[k] for k in ("namespace", "name", "labels", "phase",
                                              "deletionTimestamp") if k in spec})


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 picks a free one")
    p.add_argument("--port-file", required=True, help="actual port is written here once listening")
    p.add_argument("--pods", help="initial pods (PODS.json format)")
    p.add_argument("--first-rv", type=int, default=FIRST_RV,
                   help="resourceVersion to start from (default %(default)s); a restart with a higher one is "
                        "like kube-apiserver restarting: older versions are gone (410), the client relists")
    p.add_argument("--tokens", help="TokenReview table: JSON {token: {username, uid, groups, extra}}")
    p.add_argument("--pki-dir", help="write (overwrite) the front-proxy PKI here (created if missing; "
                                     "default: a temp dir removed on exit)")
    p.add_argument("--kubeconfig-out", help="write a kubeconfig for this server here (https, its CA, the token)")
    p.add_argument("--cert-kubeconfig-out", help="write a kubeconfig authenticating with the admin client certificate")
    p.add_argument("--bookmark-interval", type=float, default=BOOKMARK_INTERVAL,
                   help="seconds between watch bookmarks (default %(default)s, the API server's pace)")
    p.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = p.parse_args(argv)
    Handler.verbose = args.verbose
    pki_dir = os.path.abspath(args.pki_dir) if args.pki_dir else tempfile.mkdtemp(prefix="kube-standin-pki-")
    try:
        return serve(args, pki_dir)
    finally:
        if not args.pki_dir:
            shutil.rmtree(pki_dir, ignore_errors=True)


def serve(args, pki_dir):
    """Generate the PKI, load state, serve until SIGTERM/SIGINT; return the exit code."""
    store = Store(args.first_rv)
    try:
        store.pki_files = generate_pki(pki_dir)
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        log(f"cannot generate PKI in {pki_dir}: {exc}")
        return 2
    store.init_configmap(auth_configmap_data(store.pki_files))
    if args.tokens:
        try:
            with open(args.tokens, encoding="utf-8") as f:
                store.set_tokens(parse_token_table(json.load(f)), initial=True)
        except (OSError, ValueError) as exc:
            log(f"cannot load tokens from {args.tokens}: {exc}")
            return 2
    if args.pods:
        try:
            load_pods(store, args.pods)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log(f"cannot load pods from {args.pods}: {exc}")
            return 2

    server = StandinServer(("127.0.0.1", args.port), store, args.bookmark_interval)
    port = server.server_address[1]
    ca = store.pki_files["apiserver-ca.crt"]
    if args.kubeconfig_out:
        write_atomic(args.kubeconfig_out, kubeconfig_text(port, ca))
    if args.cert_kubeconfig_out:
        write_atomic(args.cert_kubeconfig_out, kubeconfig_text(
            port, ca, store.pki_files["admin-client.crt"], store.pki_files["admin-client.key"]))

    def let_watches_end():
        """Open watches finish with a terminating chunk, briefly, then we go."""
        store.stop()
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            with store.cond:
                if not store.watches:
                    break
            time.sleep(0.05)

    return serve_until_signal(server, args.port_file, before_close=let_watches_end)


if __name__ == "__main__":
    sys.exit(main())
