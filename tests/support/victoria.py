#!/usr/bin/env python3
"""VictoriaMetrics as a second Prometheus-compatible engine for the tests (Debian ``victoria-metrics`` 1.79.5).

What each process is given (argv builders; the stacks spawn them with their own ``Proc``):

* ``victoria-metrics`` (single node): storage and the Prometheus query API on one port.
  ``latency_offset`` is ``-search.latencyOffset``: an instant query without ``nocache=1`` is evaluated
  that far in the past (default 30 s), its result stamped with the requested time.
* ``vmagent``: scrapes the same Prometheus config fake_triton writes (file_sd, 1 s) and remote-writes
  into the store, as it would in a cluster (VMPodScrape/PodMonitor converted by the operator).
* ``vmalert``: evaluates ``manifests/monitoring/prometheusrule.yaml``'s groups, converted by
  ``rules_to_vmalert``, against the store and writes the recorded series back into it.
* ``vmauth``: routes by credentials (bearer token or basic auth) to a tenant's store; 401 for
  anything else.  1.79.5 cannot route on a header (nginx does that in ``tenancy``'s stack).

Every process binds 127.0.0.1 only.  Standard library only.
"""

import http.client
import json
import os
import shutil
import urllib.parse

from tests.support import REPO
from tests.support.rules_to_vmalert import convert

RULES_MANIFEST = os.path.join(REPO, "manifests", "monitoring", "prometheusrule.yaml")
#: victoria-metrics' own default (30s), stated so the tests say which they use; ``$VM_LATENCY_OFFSET`` overrides it.
DEFAULT_LATENCY_OFFSET = os.environ.get("VM_LATENCY_OFFSET") or "30s"


def binary(name):
    """Path of a VictoriaMetrics binary (``$VM_BIN_DIR`` overrides /usr/bin)."""
    base = os.environ.get("VM_BIN_DIR")
    return os.path.join(base, name) if base else (shutil.which(name) or f"/usr/bin/{name}")


def missing():
    """Human-readable problems; empty when every binary is there."""
    out = []
    for name in ("victoria-metrics", "vmagent", "vmalert", "vmauth"):
        path = binary(name)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            out.append(f"{name} not found at {path}: apt-get install -y --no-install-recommends victoria-metrics")
    return out


def store_argv(port, data_dir, latency_offset=DEFAULT_LATENCY_OFFSET):
    return [binary("victoria-metrics"), f"-httpListenAddr=127.0.0.1:{port}", f"-storageDataPath={data_dir}",
            "-retentionPeriod=1d", f"-search.latencyOffset={latency_offset}", "-loggerLevel=WARN"]


def vmagent_argv(port, scrape_config, store_url, tmp_dir):
    return [binary("vmagent"), f"-httpListenAddr=127.0.0.1:{port}", f"-promscrape.config={scrape_config}",
            "-promscrape.fileSDCheckInterval=1s", "-promscrape.config.strictParse=false",
            f"-remoteWrite.url={store_url}/api/v1/write", f"-remoteWrite.tmpDataPath={tmp_dir}",
            "-remoteWrite.flushInterval=1s", "-loggerLevel=WARN"]


def write_rules(path, manifest=RULES_MANIFEST):
    """Write the vmalert rule file converted from the PrometheusRule manifest; returns ``path``."""
    with open(manifest, encoding="utf-8") as f:
        text = convert(f.read())
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def vmalert_argv(port, rules_file, store_url):
    return [binary("vmalert"), f"-httpListenAddr=127.0.0.1:{port}", f"-rule={rules_file}",
            f"-datasource.url={store_url}", f"-remoteWrite.url={store_url}", "-remoteWrite.flushInterval=1s",
            "-evaluationInterval=6s", "-loggerLevel=WARN"]


def write_vmauth_config(path, users):
    """vmauth's ``-auth.config``: ``users`` is [{"bearer_token"| "username"+"password", "url_prefix"}].

    JSON is YAML, so the file is written as JSON (no quoting questions for tokens)."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"users": users}, f, indent=2)
    return path


def vmauth_argv(port, config):
    return [binary("vmauth"), f"-httpListenAddr=127.0.0.1:{port}", f"-auth.config={config}",
            "-loggerLevel=WARN"]


def healthy(port):
    """True when the process on ``port`` answers ``GET /health`` with 200 (every vm* binary serves it)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
    try:
        conn.request("GET", "/health")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def query(port, promql, at=None, nocache=False, headers=None, path="/api/v1/query"):
    """One instant query (POST, as the adapter sends it): the decoded JSON answer."""
    form = {"query": promql}
    if at is not None:
        form["time"] = f"{at:.3f}"
    if nocache:
        form["nocache"] = "1"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body=urllib.parse.urlencode(form),
                     headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise AssertionError(f"query {promql!r} on :{port} -> {resp.status}: {body[:300]!r}")
        return json.loads(body)
    finally:
        conn.close()


def vector(doc, key=("namespace", "pod")):
    """{label tuple: (timestamp, float value)} from an instant query's vector result."""
    return {tuple(r["metric"].get(k) for k in key): (float(r["value"][0]), float(r["value"][1]))
            for r in doc["data"]["result"]}
