#!/usr/bin/env python3
"""A recorded closed-loop run as the data docs/what-if.md measures the replay against.

Reads a run directory written by ``scripts/closed_loop.py --keep --out DIR`` and writes into OUT:

- ``history.om``: every sample of Triton's counters that the run's Prometheus holds
  (``nv_inference_request_success``, ``nv_inference_queue_duration_us``,
  ``nv_inference_compute_infer_duration_us``, ``nv_inference_request_duration_us``), as OpenMetrics ending
  with ``# EOF`` for ``promtool tsdb create-blocks-from openmetrics history.om DATA_DIR``;
- ``timeline.csv``: ``time,replicas`` (unix seconds, the Deployment's replicas from then on: the controller's
  decision at each sync), what ``replay --compare-with`` reads;
- ``run.json``, ``hpa.yaml`` and ``rules.yaml`` (shortened profiles): the run's record, the HPA it ran with
  and the adapter's rule (its rate window).

It starts the Debian ``prometheus`` binary on a copy of the run's TSDB (no scrape targets) and reads the raw
samples with one range-vector query per metric. Standard library only::

    python3 scripts/what_if_export.py /tmp/what-if-runs/1000m docs/what-if-runs/1000m
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from tests.support.e2e_stack import free_port

METRICS = ("nv_inference_request_success", "nv_inference_queue_duration_us",
           "nv_inference_compute_infer_duration_us", "nv_inference_request_duration_us")


def query(url, promql, at):
    body = urllib.parse.urlencode({"query": promql, "time": f"{at:.3f}"}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{url}/api/v1/query", data=body), timeout=30) as r:
        doc = json.load(r)
    if doc.get("status") != "success":
        raise RuntimeError(f"{promql}: {doc}")
    return doc["data"]["result"]


def serve(data_dir, work):
    """Prometheus on a copy of ``data_dir``; returns (process, url)."""
    copy = os.path.join(work, "data")
    shutil.copytree(data_dir, copy, ignore=shutil.ignore_patterns("lock"))
    config = os.path.join(work, "prometheus.yml")
    with open(config, "w", encoding="utf-8") as f:
        f.write("global:\n  scrape_interval: 1m\nscrape_configs: []\n")
    port = free_port()
    proc = subprocess.Popen(
        [shutil.which("prometheus") or "/usr/bin/prometheus", f"--config.file={config}",
         f"--storage.tsdb.path={copy}", "--storage.tsdb.retention.time=3650d",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "prometheus.log"), "w"))
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"prometheus on {copy} not ready: see {work}/prometheus.log")


def export_history(url, start, end, path):
    lines, samples = [], 0
    seconds = int(end - start) + 120
    for metric in METRICS:
        lines.append(f"# TYPE {metric} counter")
        for series in sorted(query(url, f"{metric}[{seconds}s]", end), key=lambda s: sorted(s["metric"].items())):
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(series["metric"].items()) if k != "__name__")
            for t, value in series["values"]:
                lines.append(f"{metric}{{{labels}}} {value} {t}")
                samples += 1
    lines.append("# EOF")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return samples


def timeline(run):
    """The Deployment's replicas: 1 (minReplicas) at the start, then each sync's decision."""
    rows = [(run["t0_unix"], run["config"]["hpa"]["min"])]
    for sync in run["syncs"]:
        if sync["desired"] != rows[-1][1]:
            rows.append((sync["time"], sync["desired"]))
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run", help="directory of a closed_loop.py --keep run")
    p.add_argument("out", help="where history.om, timeline.csv, run.json and hpa.yaml go")
    args = p.parse_args(argv)
    with open(os.path.join(args.run, "run.json"), encoding="utf-8") as f:
        run = json.load(f)
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="what-if-export-") as work:
        proc, url = serve(os.path.join(args.run, "work", "prometheus-data"), work)
        try:
            end = run["syncs"][-1]["time"] + 1
            samples = export_history(url, run["t0_unix"], end, os.path.join(args.out, "history.om"))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    with open(os.path.join(args.out, "timeline.csv"), "w", encoding="utf-8") as f:
        f.write("time,replicas\n" + "".join(f"{t:.3f},{r}\n" for t, r in timeline(run)))
    shutil.copy(os.path.join(args.run, "run.json"), os.path.join(args.out, "run.json"))
    shutil.copy(os.path.join(args.run, "hpa.yaml"), os.path.join(args.out, "hpa.yaml"))
    if os.path.exists(os.path.join(args.run, "work", "rules.yaml")):
        shutil.copy(os.path.join(args.run, "work", "rules.yaml"), os.path.join(args.out, "rules.yaml"))
    print(f"{args.out}: {samples} samples, {len(run['syncs'])} syncs, outcome: {run['outcome']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
