#!/usr/bin/env python3
"""Cross-prediction: replay each recorded run's history under each run's HPA, compare with that run.

For every run folder in docs/what-if-runs (``history.om``, ``timeline.csv``, ``run.json``, ``hpa.yaml``,
``rules.yaml``; see scripts/what_if_export.py), the history is backfilled with promtool into a TSDB of its
own and served by the real Prometheus. Then, for each HPA B of the runs and each load model, ``replay``
reads history A with B's HPA and ``--compare-with`` B's real timeline (shifted onto A's clock: the runs
share one load profile that starts at their first sync). Replay syncs sit half a sync period before the
real ones, so both sides compare the count in force before the decision at that sync.

Prints one row per (history, HPA, model) and writes the same rows as JSON (--json). Standard library::

    ADAPTER_BIN=.build/debug/custom-metrics-adapter python3 scripts/what_if_crosscheck.py \\
        --runs 1000m,2000m,1000m-fast --json docs/what-if-runs/crosscheck.json
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from tests.support.e2e_stack import REPO, free_port
from tests.support.what_if_export import serve

RUNS = os.path.join(REPO, "docs", "what-if-runs")
MODELS = ("even", "closed-loop", "open-loop")


def load_run(name):
    folder = os.path.join(RUNS, name)
    with open(os.path.join(folder, "run.json"), encoding="utf-8") as f:
        run = json.load(f)
    ready = [e["startup_s"] for e in run["events"] if e["event"] == "ready" and e.get("startup_s") and e["t"] > 1]
    return {"name": name, "folder": folder, "run": run, "sync0": run["syncs"][0]["time"],
            "last": run["syncs"][-1]["time"], "step": run["config"]["sync_period_s"],
            "scrape": run["config"]["scrape_interval_s"],
            "startup": sum(ready) / len(ready) if ready else 0.0}


def shifted_timeline(real, onto, path):
    """``real``'s timeline on ``onto``'s clock (both start their load at their first sync)."""
    shift = onto["sync0"] - real["sync0"]
    with open(os.path.join(real["folder"], "timeline.csv"), encoding="utf-8") as f:
        rows = [line.split(",") for line in f.read().split()[1:]]
    with open(path, "w", encoding="utf-8") as f:
        f.write("time,replicas\n" + "".join(f"{float(t) + shift:.3f},{r}\n" for t, r in rows))


def parse(stdout):
    lines = stdout.splitlines()
    head = next(line for line in lines if line.startswith("compared with the real run"))
    equal, within = (float(x) / 100 for x in re.findall(r"(\d+)% ", head + " ")[:2])

    def side(prefix):
        fields = next(line for line in lines if line.startswith(prefix)).split()
        return {"replica_minutes": float(fields[1]), "peak": int(fields[2]), "first_scale_up": fields[3],
                "back_at_min": fields[4]}
    error = float(re.search(r"replica-minutes error: ([-+\d.]+)%", stdout).group(1))
    return {"within0": equal, "within1": within, "replay": side("replay "), "real": side("real "),
            "error_pct": error}


def replay(args, url, history, hpa_run, model, timeline, out):
    start = history["sync0"] - history["step"] / 2
    warm_up = history["startup"] + 2 * history["scrape"] if args.warm_up else 0
    argv = [args.adapter, "replay", "--prometheus-url", url, "--namespace", "triton",
            "--hpa", os.path.join(hpa_run["folder"], "hpa.yaml"), "--start", f"{start:.3f}",
            "--end", f"{history['last']:.3f}", "--step", f"{history['step']:g}s", "--load-model", model,
            "--compare-with", timeline,
            "--output", out + ".svg", "--csv", out + ".csv"]
    if warm_up:
        argv += ["--warm-up", f"{round(warm_up)}s"]
    if os.path.exists(os.path.join(history["folder"], "rules.yaml")):
        argv += ["--config", os.path.join(history["folder"], "rules.yaml")]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}\n{result.stdout}\n{result.stderr}")
    with open(out + ".txt", "w", encoding="utf-8") as f:
        f.write("$ " + " ".join(argv) + "\n" + result.stdout)
    return parse(result.stdout)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", default="1000m,2000m,1000m-fast", help="run folders under docs/what-if-runs")
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--no-warm-up", dest="warm_up", action="store_false",
                   help="new replicas take load at once (default: the run's mean start-up + 2 scrapes)")
    p.add_argument("--adapter", default=os.environ.get("ADAPTER_BIN", os.path.join(REPO, ".build", "debug", "custom-metrics-adapter")))
    p.add_argument("--out", help="keep each replay's table, CSV and SVG here (default: a temporary folder)")
    p.add_argument("--json", help="write the rows here")
    args = p.parse_args(argv)
    runs = [load_run(name) for name in args.runs.split(",")]
    out = args.out or tempfile.mkdtemp(prefix="what-if-crosscheck-")
    os.makedirs(out, exist_ok=True)
    rows = []
    print(f"{'HISTORY':<11} {'HPA':<11} {'MODEL':<12} {'±0':>5} {'±1':>5} {'REPLICA-MIN replay/real':>24} "
          f"{'ERR':>7} {'PEAK':>5} {'FIRST UP':>11} {'BACK AT MIN':>11}")
    for history in runs:
        with tempfile.TemporaryDirectory(prefix="what-if-tsdb-") as work:
            data = os.path.join(work, "blocks")
            subprocess.run([shutil.which("promtool") or "/usr/bin/promtool", "tsdb", "create-blocks-from", "openmetrics",
                            os.path.join(history["folder"], "history.om"), data], check=True, capture_output=True, timeout=300)
            proc, url = serve(data, work)
            try:
                for hpa_run in runs:
                    timeline = os.path.join(out, f"timeline-{hpa_run['name']}-on-{history['name']}.csv")
                    shifted_timeline(hpa_run, history, timeline)
                    for model in args.models.split(","):
                        name = f"{history['name']}--{hpa_run['name']}--{model}"
                        r = replay(args, url, history, hpa_run, model, timeline, os.path.join(out, name))
                        r.update(history=history["name"], hpa=hpa_run["name"], model=model)
                        rows.append(r)
                        print(f"{history['name']:<11} {hpa_run['name']:<11} {model:<12} {r['within0']:>5.0%} {r['within1']:>5.0%} "
                              f"{r['replay']['replica_minutes']:>11.1f}/{r['real']['replica_minutes']:<12.1f} "
                              f"{r['error_pct']:>+6.1f}% {r['replay']['peak']:>2}/{r['real']['peak']:<2} "
                              f"{r['replay']['first_scale_up']:>5}/{r['real']['first_scale_up']:<5} "
                              f"{r['replay']['back_at_min']:>5}/{r['real']['back_at_min']:<5}", flush=True)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1, sort_keys=True)
            f.write("\n")
    print(f"replays (table, CSV, SVG) in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
