#!/usr/bin/env python3
"""Measures how Prometheus and VictoriaMetrics answer the adapter's query for the same pod, over a load step.

One fake_triton pod is scraped every ``--scrape`` (default 6 s, the PodMonitor's interval) by a real
Prometheus and by vmagent into VictoriaMetrics, from the same config.  After ``--settle`` seconds the pod's
queue rate steps from ``--before`` to ``--after`` (compute 1,000,000 us/s, so the ratio steps from 500m to
2000m by default).  Every second the adapter's PromQL (the built-in rule) is sent as an instant query to:

* Prometheus (at now);
* VictoriaMetrics as the adapter sends it (no ``time``, no ``nocache``: evaluated ``-search.latencyOffset``,
  30 s by default, in the past and stamped with now);
* VictoriaMetrics with ``nocache=1`` (the offset does not apply).

It prints, per engine, the steady values before and after the step (MetricsQL's ``rate`` takes the last
sample before the window as its base and does not extrapolate; PromQL extrapolates to the window's ends),
and the seconds from the step until the answer first crossed 1100m (where an HPA at target 1000m, tolerance
0.1, first scales up) and until it reached the new value within 1 %.  ``--json`` writes every sample.

    /usr/bin/python3 -m tests.support.engine_compare [--scrape 6s] [--settle 90] [--after-seconds 120]
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

from tests.support import module_argv, victoria
from tests.support.e2e_stack import Proc, free_port, prometheus_bin, wait_for

NS, POD = "team-a", "triton-0"
PROMQL = (f'sum by (namespace,pod) (rate(nv_inference_queue_duration_us{{namespace="{NS}"}}[1m])) / clamp_min('
          f'sum by (namespace,pod) (rate(nv_inference_compute_infer_duration_us{{namespace="{NS}"}}[1m])), 1)')


def pods_doc(queue):
    return {"pods": [{"namespace": NS, "name": POD, "labels": {"app": "triton"}, "models": [
        {"model": "tensorrt_llm", "version": "1", "queue_us_per_s": queue, "compute_us_per_s": 1000000}]}]}


def write_json(path, doc):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    os.replace(tmp, path)


def sample(port, **kw):
    try:
        result = victoria.query(port, PROMQL, **kw)["data"]["result"]
    except (OSError, AssertionError, ValueError):
        return None
    return round(1000 * float(result[0]["value"][1])) if result else None


def first(series, step_at, predicate):
    for t, v in series:
        if t >= step_at and v is not None and predicate(v):
            return round(t - step_at, 1)
    return None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scrape", default="6s")
    p.add_argument("--settle", type=float, default=90.0, help="seconds of the old load before the step")
    p.add_argument("--after-seconds", type=float, default=120.0, help="seconds measured after the step")
    p.add_argument("--before", type=int, default=500000)
    p.add_argument("--after", type=int, default=2000000)
    p.add_argument("--json", help="write every sample here")
    args = p.parse_args(argv)

    work = tempfile.mkdtemp(prefix="cma-engines-")
    procs = []
    try:
        pods, config, sd = (os.path.join(work, n) for n in ("pods.json", "prometheus.yml", "targets.json"))
        write_json(pods, pods_doc(args.before))
        port_file = os.path.join(work, "triton.port")
        procs.append(Proc("fake_triton", [*module_argv("fake_triton"), "--pods", pods, "--port", "0", "--port-file",
                                          port_file, "--prometheus-config", config, "--sd-file", sd,
                                          "--scrape-interval", args.scrape], os.path.join(work, "triton.log")))
        wait_for(lambda: os.path.exists(port_file), 20, what="fake_triton")
        prom, vm = free_port(), free_port()
        procs.append(Proc("prometheus", [prometheus_bin(), f"--config.file={config}",
                                         f"--storage.tsdb.path={work}/prom", f"--web.listen-address=127.0.0.1:{prom}",
                                         "--log.level=warn"], os.path.join(work, "prometheus.log")))
        procs.append(Proc("victoria-metrics", victoria.store_argv(vm, f"{work}/vm"), os.path.join(work, "vm.log")))
        wait_for(lambda: victoria.healthy(vm), 30, what="victoria-metrics")
        procs.append(Proc("vmagent", victoria.vmagent_argv(free_port(), config, f"http://127.0.0.1:{vm}",
                                                           f"{work}/vmagent"), os.path.join(work, "vmagent.log")))
        started = time.time()
        series = {"prometheus": [], "victoriametrics": [], "victoriametrics nocache=1": []}
        step_at = started + args.settle
        stepped = False
        while time.time() < step_at + args.after_seconds:
            now = time.time()
            if not stepped and now >= step_at:
                write_json(pods, pods_doc(args.after))
                step_at, stepped = now, True
            series["prometheus"].append((now, sample(prom)))
            series["victoriametrics"].append((now, sample(vm)))
            series["victoriametrics nocache=1"].append((now, sample(vm, nocache=True)))
            time.sleep(max(0.0, 1.0 - (time.time() - now)))
        want_before = round(1000 * args.before / 1000000)
        want_after = round(1000 * args.after / 1000000)
        print(f"scrape {args.scrape}; ratio steps {want_before}m -> {want_after}m at t=0 "
              f"(first values after start: see 'first value')")
        print(f"{'engine':<28}{'first value':>12}{'before step':>13}{'after step':>12}"
              f"{'> 1100m':>9}{'within 1%':>11}")
        for name, points in series.items():
            firsts = [t - started for t, v in points if v is not None]
            before = [v for t, v in points if v is not None and step_at - 20 <= t < step_at]
            after = [v for t, v in points if v is not None and t >= step_at + args.after_seconds - 20]
            print(f"{name:<28}{(f'{firsts[0]:.0f} s' if firsts else '-'):>12}"
                  f"{(f'{min(before)}-{max(before)}m' if before else '-'):>13}"
                  f"{(f'{min(after)}-{max(after)}m' if after else '-'):>12}"
                  f"{str(first(points, step_at, lambda v: v > 1100)) + ' s':>9}"
                  f"{str(first(points, step_at, lambda v: abs(v - want_after) <= want_after / 100)) + ' s':>11}")
        if args.json:
            write_json(args.json, {"scrape": args.scrape, "step_at": step_at, "started": started,
                                   "series": {k: [[round(t - step_at, 2), v] for t, v in pts]
                                              for k, pts in series.items()}})
        return 0
    finally:
        for proc in reversed(procs):
            proc.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
