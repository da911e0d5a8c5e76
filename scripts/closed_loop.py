#!/usr/bin/env python3
"""The whole autoscaling loop on one machine, with real parts, until the replicas are back down.

    load_profile.py ──HTTP──▶ nginx (least_conn) ──▶ Triton replicas (PyTriton, CPU, known compute time)
                                                          │ /metrics every 6 s (file_sd, labels namespace/pod)
                                                          ▼
    hpa-controller ──HTTPS, bearer token──▶ adapter ──PromQL──▶ Prometheus
          │                                   ▲ pods list+watch
          │ one JSON line per sync            Kubernetes API stand-in (one Pod per replica)
          ▼
    this script: starts/stops Triton replicas to the controller's `desired`, rewrites nginx's upstream
    (`nginx -s reload`), Prometheus' file_sd targets and the stand-in's pods, and writes the number of
    ready replicas into the controller's --replicas-file.

Every part is the real one except the Kubernetes API server (``tests/support/kube_standin.py`` speaks its
wire format) and the Deployment (this script). The controller is ``custom-metrics-adapter
hpa-controller``: every sync period it asks the adapter exactly what the HPA asks
(``/apis/custom.metrics.k8s.io/v1beta2/namespaces/<ns>/pods/%2A/triton:queue_compute:ratio
?labelSelector=app%3Dtriton``) and applies the HPA's replica calculation and ``behavior`` from the HPA
YAML. That YAML is ``manifests/examples/triton-hpa/hpa.yaml`` copied into the run directory, with the
metric selector removed (PyTriton serves one model, no ensemble) and, when asked, shorter
stabilization window and policy periods.

Each replica is ``scripts/triton_server.py``: one model instance that sleeps ``--compute-ms`` per
request, so N clients spread over R replicas wait about (N/R - 1) x compute in Triton's queue and the
metric reads about N/R - 1. A replica counts (in nginx, Prometheus, the stand-in and the replicas file)
once its model is ready; a removed replica first leaves nginx and turns terminating in the stand-in,
then gets SIGTERM after a short drain, and its Pod and scrape target go once it has exited. As the HPA
writes the scale only when its desired count differs from the current one, a sync whose ``desired``
equals its ``current`` (the ready replicas) changes nothing, and replicas still starting keep starting.

Prints a live table (one row per controller sync), and writes into ``--out``: ``run.json`` (config,
every sync, every load sample, every replica event), ``run.csv`` (one row per sync), ``run.svg`` (the
metric per replica and its average against the target, the replica count, the load) and ``table.txt``.

    python3 scripts/closed_loop.py                      # default: 15 s sync, 6 s scrape, hpa.yaml's behavior
    python3 scripts/closed_loop.py --profile short      # ~3 min: 3 s sync, 1 s scrape, 20 s stabilization

Needs: the adapter binary (``swift build``), Prometheus, nginx, PyTriton in ``.venv-triton``;
``scripts/closed_loop.sh`` installs what is missing. Everything binds 127.0.0.1; every process is
started here, in its own process group, and stopped by its PID.
"""

import argparse
import csv
import io
import json
import math
import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time

# A command a user runs: the one line that makes the test-support package importable.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.support import module_argv  # noqa: E402 - after the root is on the path
from tests.support.closed_loop_stack import (  # noqa: E402
    MODEL, NAMESPACE, SELECTOR, ClosedLoopStack, go_duration, local_hpa_yaml, say, seconds,
    write_atomic)
from tests.support.e2e_stack import METRIC, REPO, Proc, adapter_bin, wait_for  # noqa: E402
from tests.support.load_profile import parse_profile  # noqa: E402

HPA_EXAMPLE = os.path.join(REPO, "manifests", "examples", "triton-hpa", "hpa.yaml")

# Profiles: every time constant of the system, and the load (closed-loop clients over time, TIME:VALUE).
# With 100 ms compute, N clients on R replicas read about N/R - 1: 8 clients need 4 replicas at the
# 1000m target (N/R - 1 = 1), so the peak saturates all four.
PROFILES = {
    "default": {
        "sync_period": "15s", "scrape_interval": "6s", "rate_window": "1m",
        "stabilization": None, "scale_up_period": None, "scale_down_period": None,  # None: hpa.yaml's
        # 1 min light (1 client, never queues), 2 min ramp to 8, 3 min hold, 1 min ramp down, 3 min idle.
        "load": "0:1,60:1,180:8,360:8,420:0,600:0",
        "drain": 2.0,
    },
    "short": {
        "sync_period": "3s", "scrape_interval": "1s", "rate_window": "15s",
        "stabilization": "20s", "scale_up_period": "9s", "scale_down_period": "9s",
        # 10 s light, 15 s ramp to 8, 45 s hold, 10 s ramp down, then idle.
        "load": "0:1,10:1,25:8,70:8,80:0",
        "drain": 1.0,
    },
}


# ---------------------------------------------------------------------------
# The controller and the load, as child processes

class Controller:
    """``custom-metrics-adapter hpa-controller``; its stdout JSON lines go to a queue."""

    def __init__(self, argv, log_path):
        self.argv = argv
        self.lines = queue.Queue()
        self.log = open(log_path, "ab")
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log,
                                      start_new_session=True, cwd=REPO)
        self.reader = threading.Thread(target=self._read, name="controller-stdout", daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.popen.stdout:
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            try:
                doc = json.loads(line)
            except ValueError:
                doc = None
            if isinstance(doc, dict):
                self.lines.put(doc)
            else:
                self.log.write(f"(stdout, not JSON) {line}\n".encode())
                self.log.flush()

    def alive(self):
        return self.popen.poll() is None

    def stop(self):
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        self.reader.join(5)
        self.log.close()
        return self.popen.returncode


class LoadStatus:
    """Reads load_profile.py's status lines as they are appended."""

    def __init__(self, path):
        self.path, self.offset, self.samples, self.partial = path, 0, [], ""

    def poll(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                f.seek(self.offset)
                data = f.read()
                self.offset = f.tell()
        except OSError:
            return
        data = self.partial + data
        lines = data.split("\n")
        self.partial = lines.pop()
        for line in lines:
            try:
                self.samples.append(json.loads(line))
            except ValueError:
                pass

    def latest(self):
        return self.samples[-1] if self.samples else {}


# ---------------------------------------------------------------------------
# The run

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Profiles (every value can be overridden by its flag):\n" + "\n".join(
                                    f"  {name}: " + ", ".join(f"{k}={'hpa.yaml' if v is None else v}"
                                                              for k, v in prof.items())
                                    for name, prof in PROFILES.items()))
    p.add_argument("--profile", choices=sorted(PROFILES), default="default")
    p.add_argument("--sync-period", help="controller sync period (default profile: 15s)")
    p.add_argument("--scrape-interval", help="Prometheus scrape interval of each replica (default profile: 6s)")
    p.add_argument("--rate-window", help="the rule's rate window (default profile: 1m, the built-in rule)")
    p.add_argument("--stabilization", help="scaleDown.stabilizationWindowSeconds (default: hpa.yaml's, 300s)")
    p.add_argument("--scale-up-period", help="periodSeconds of the scaleUp policies (default: hpa.yaml's, 60s)")
    p.add_argument("--scale-down-period", help="periodSeconds of the scaleDown policies (default: hpa.yaml's, 120s)")
    p.add_argument("--load", help="closed-loop clients over time as TIME:VALUE points (see load_profile.py)")
    p.add_argument("--compute-ms", type=float, default=100.0, help="the model's compute time per request (100)")
    p.add_argument("--hpa", default=HPA_EXAMPLE, help="the HPA YAML to start from (manifests/examples/triton-hpa)")
    p.add_argument("--out", help="directory for run.json, run.csv, run.svg, table.txt and logs "
                                 "(default: a new directory under $TMPDIR)")
    p.add_argument("--svg", help="also write the plot here (e.g. docs/closed-loop.svg)")
    p.add_argument("--json", help="also write run.json here")
    p.add_argument("--csv", help="also write run.csv here")
    p.add_argument("--table", help="also write the live table (table.txt) here")
    p.add_argument("--max-duration", help="stop after this long even if the replicas are not back down "
                                          "(default: derived from the load and the HPA's behavior)")
    p.add_argument("--controller-command", help="run this instead of `<adapter> hpa-controller` (same flags and "
                                                "output contract), e.g. to compare implementations")
    p.add_argument("--keep", action="store_true", help="keep Prometheus' data and PyTriton's workspace")
    args = p.parse_args(argv)
    prof = PROFILES[args.profile]
    for key in ("sync_period", "scrape_interval", "rate_window", "stabilization", "scale_up_period",
                "scale_down_period", "load"):
        if getattr(args, key) is None:
            setattr(args, key, prof[key])
    args.drain = prof["drain"]
    try:
        args.sync_s = seconds(args.sync_period)
        args.scrape_s = seconds(args.scrape_interval)
        args.window_s = seconds(args.rate_window)
        args.stabilization_s = seconds(args.stabilization) if args.stabilization is not None else None
        args.up_period_s = seconds(args.scale_up_period) if args.scale_up_period is not None else None
        args.down_period_s = seconds(args.scale_down_period) if args.scale_down_period is not None else None
        args.max_duration_s = seconds(args.max_duration) if args.max_duration else None
    except ValueError as exc:
        p.error(str(exc))
    if not 0.5 <= args.sync_s <= 300 or not 0.5 <= args.scrape_s <= 60:
        p.error("--sync-period must be in [0.5s, 5m] and --scrape-interval in [0.5s, 1m]")
    if args.window_s < 4 * args.scrape_s:
        p.error("--rate-window must cover at least 4 scrapes")
    try:
        args.load_points = parse_profile(args.load)
    except ValueError as exc:
        p.error(f"--load: {exc}")
    return args


def fmt_t(t):
    return f"{int(t) // 60:d}:{int(t) % 60:02d}"


def short_reason(text, width):
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


class Run:
    def __init__(self, args):
        self.args = args
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.out = os.path.abspath(args.out or os.path.join(os.environ.get("TMPDIR", "/tmp"), f"closed-loop-{stamp}"))
        os.makedirs(self.out, exist_ok=True)
        self.stack = ClosedLoopStack(os.path.join(self.out, "work"), args.scrape_interval, args.rate_window,
                                     args.compute_ms)
        self.syncs = []  # one dict per controller line
        self.events = []  # replica events: {t, event, pod, ready, starting}
        self.table = []  # printed rows
        self.t0 = None
        self.controller = None
        self.load = None
        self.load_status = LoadStatus(os.path.join(self.out, "load.jsonl"))
        self.replicas_file = os.path.join(self.out, "replicas")
        self.hpa_path = os.path.join(self.out, "hpa.yaml")
        self.gone = queue.Queue()
        self.ended = None
        self.t0_unix = None
        self.outcome = "running"

    def now(self):
        return time.monotonic() - self.t0

    def counts(self):
        return len(self.stack.live("ready")), len(self.stack.live("starting")), len(self.stack.live("stopping"))

    def event(self, what, replica=None, **extra):
        ready, starting, stopping = self.counts()
        doc = {"t": round(self.now(), 2), "event": what, "pod": replica.name if replica else None,
               "ready": ready, "starting": starting, "stopping": stopping, **extra}
        self.events.append(doc)
        return doc

    def write_replicas(self):
        # The Deployment's spec.replicas: ready and starting replicas. The controller counts a replica
        # without a value yet as the HPA counts a Pending pod (0 on scale-up, the target on scale-down).
        write_atomic(self.replicas_file, f"{len(self.stack.live('ready', 'starting'))}\n")

    # -- scaling -----------------------------------------------------------------

    def scale_to(self, desired):
        """Start or stop replicas so that ready + starting == desired (stop the newest first)."""
        planned = self.stack.live("ready", "starting")
        if desired > len(planned):
            for _ in range(desired - len(planned)):
                r = self.stack.start_replica(self.now())
                self.event("start", r, desired=desired)
            self.write_replicas()
        elif desired < len(planned):
            for r in sorted(planned, key=lambda r: r.index, reverse=True)[: len(planned) - desired]:
                was = r.state
                self.stack.remove_replica(r, self.args.drain, self.gone.put)
                self.event("stop" if was == "ready" else "cancel", r, desired=desired)
                self.write_replicas()

    def poll(self):
        for r in self.stack.poll_started():
            r.ready_at = self.now()
            self.event("ready", r, startup_s=round(r.ready_at - r.started, 1))
            self.write_replicas()
        while True:
            try:
                r = self.gone.get_nowait()
            except queue.Empty:
                break
            self.event("gone", r)
        self.load_status.poll()

    # -- table ---------------------------------------------------------------------

    HEADER = (f"{'time':>5}  {'clients':>7} {'req/s':>6}  {'replicas':<8}  {'ratio per replica (metric / 1000m)':<44}"
              f"  {'avg':>5}  {'want':>4}  reason")

    def row(self, line):
        load = self.load_status.latest()
        ready, starting, stopping = self.counts()
        values = line.get("values") or {}
        per = " ".join(f"{name.replace('triton-', 't')}={v / 1000:.2f}" for name, v in
                       sorted(values.items(), key=lambda kv: int(kv[0].rsplit("-", 1)[-1])
                              if kv[0].rsplit("-", 1)[-1].isdigit() else 0))
        reps = f"{ready}" + (f"+{starting}s" if starting else "") + (f"-{stopping}t" if stopping else "")
        avg = line.get("average")
        reason = line.get("error") and f"error: {line['error']}" or line.get("reason", "")
        text = (f"{fmt_t(line['t']):>5}  {load.get('target', 0):>7.1f} {load.get('rps', 0):>6.1f}  {reps:<8}  "
                f"{short_reason(per or '-', 44):<44}  {(avg / 1000 if avg is not None else float('nan')):>5.2f}  "
                f"{line.get('desired', '?'):>4}  {short_reason(reason, 80)}")
        self.table.append(text)
        say(text)

    # -- main loop -------------------------------------------------------------------

    def controller_argv(self):
        flags = ["--adapter-url", self.stack.base_url, "--ca-file", self.stack.ca_file,
                 "--token-file", self.stack.token_file, "--namespace", NAMESPACE, "--label-selector", SELECTOR,
                 "--hpa", self.hpa_path, "--replicas-file", self.replicas_file,
                 "--sync-period", go_duration(self.args.sync_s)]
        if self.args.controller_command:
            return shlex.split(self.args.controller_command) + flags
        return [adapter_bin(), "hpa-controller"] + flags

    def check_controller(self):
        res = subprocess.run([adapter_bin(), "hpa-controller", "--help"], capture_output=True, text=True,
                             timeout=30, stdin=subprocess.DEVNULL)
        if res.returncode != 0 or "--replicas-file" not in res.stdout + res.stderr:
            raise RuntimeError(f"{adapter_bin()} has no `hpa-controller` subcommand with --replicas-file "
                               f"(exit {res.returncode}); rebuild the adapter (swift build)")

    def max_duration(self, facts):
        if self.args.max_duration_s:
            return self.args.max_duration_s
        load_end = self.load_end()
        down_period = max(facts["scale_down_periods"] or [0])
        return (load_end + self.args.window_s + facts["scale_down_stabilization"]
                + (facts["max"] - facts["min"]) * (down_period + self.args.sync_s) + 6 * self.args.sync_s + 60)

    def load_end(self):
        """When the load reaches zero for good (the last point where the schedule is non-zero, or its end)."""
        points = self.args.load_points
        for i in range(len(points) - 1, -1, -1):
            if points[i][1] > 0:
                return points[i + 1][0] if i + 1 < len(points) else points[i][0]
        return 0.0

    def run(self):
        a = self.args
        with open(a.hpa, encoding="utf-8") as f:
            hpa_text, facts = local_hpa_yaml(f.read(), NAMESPACE, a.stabilization_s, a.up_period_s, a.down_period_s)
        write_atomic(self.hpa_path, hpa_text)
        self.facts = facts
        if not a.controller_command:
            self.check_controller()
        say(f"==> closed loop: profile {a.profile}; sync {go_duration(a.sync_s)}, scrape {go_duration(a.scrape_s)}, "
            f"rate window {go_duration(a.window_s)}; HPA {facts['min']}..{facts['max']} replicas, target "
            f"{facts['target_milli']}m, scale-down stabilization {facts['scale_down_stabilization']}s, policy periods "
            f"up {facts['scale_up_periods']} down {facts['scale_down_periods']}")
        say(f"    output: {self.out}")
        started = time.monotonic()
        self.stack.start()
        self.t0 = time.monotonic()
        for _ in range(facts["min"]):
            self.event("start", self.stack.start_replica(0.0), desired=facts["min"])

        def all_ready():
            self.poll()
            return not self.stack.live("starting")
        wait_for(all_ready, 180, interval=0.25, what=f"the first {facts['min']} Triton replica(s)")
        first = self.stack.live("ready")[0]
        self.write_replicas()
        say(f"    stack up in {time.monotonic() - started:.1f}s: adapter {self.stack.base_url}, prometheus "
            f":{self.stack.prom_port}, stand-in :{self.stack.standin_port}, nginx :{self.stack.nginx.port}, "
            f"{first.name} http {first.info['http']}")
        # t = 0: the load starts and the controller starts syncing.
        self.t0 = time.monotonic()
        self.t0_unix = time.time()
        self.events = [dict(e, t=0.0) for e in self.events]
        self.load = Proc("load", [*module_argv("load_profile"), "--url", f"http://127.0.0.1:{self.stack.nginx.port}",
                                  "--model", MODEL, "--profile", a.load, "--status-file", self.load_status.path],
                         os.path.join(self.stack.logdir, "load.log"))
        self.controller = Controller(self.controller_argv(), os.path.join(self.stack.logdir, "controller.log"))
        say(f"    load: {a.load} (clients, closed loop) through nginx; controller: "
            f"{' '.join(shlex.quote(x) for x in self.controller_argv())}")
        say()
        say(self.HEADER)
        limit = self.max_duration(facts)
        load_end = self.load_end()
        at_min_since = None
        while True:
            self.poll()
            if not self.controller.alive():
                raise RuntimeError(f"the controller exited with {self.controller.popen.returncode}\n"
                                   f"{self.stack.log_tails(['controller'], lines=30)}")
            try:
                line = self.controller.lines.get(timeout=0.25)
            except queue.Empty:
                line = None
            if line is not None:
                self.poll()
                line = dict(line, t=round(self.now(), 2))
                load = self.load_status.latest()
                line["load_clients"] = load.get("target")
                line["load_rps"] = load.get("rps")
                ready, starting, stopping = self.counts()
                line.update(ready=ready, starting=starting, stopping=stopping)
                self.syncs.append(line)
                self.row(line)
                desired = line.get("desired")
                # Like the HPA, which writes the scale subresource only when desired != current: a sync that
                # keeps the count leaves replicas that are still starting alone.
                if isinstance(desired, int) and not line.get("error") and desired != line.get("current"):
                    self.scale_to(desired)
                # Done once the load is over and the controller keeps the minimum with nothing in flight.
                if self.now() > load_end + a.window_s and desired == facts["min"] and \
                        self.counts() == (facts["min"], 0, 0):
                    at_min_since = at_min_since if at_min_since is not None else self.now()
                    if len([s for s in self.syncs if s["t"] >= at_min_since]) >= 2:
                        self.outcome = "back at minReplicas after the load"
                        break
                else:
                    at_min_since = None
            if self.now() > limit:
                self.outcome = f"stopped at --max-duration {limit:.0f}s"
                break
        self.ended = self.now()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
        load_summary = None
        if self.load is not None:
            self.load.stop()
            self.load_status.poll()
            try:
                with open(self.load.log_path, encoding="utf-8", errors="replace") as f:
                    load_summary = [ln.strip() for ln in f if ln.startswith("sent=")][-1:]
            except OSError:
                pass
        pids = self.stack.pids()
        self.stack.stop()
        if not self.args.keep:
            for d in (self.stack.promdata, self.stack.pytriton_home):
                shutil.rmtree(d, ignore_errors=True)
        return load_summary, pids

    # -- results --------------------------------------------------------------------------

    def result(self, load_summary):
        a = self.args
        return {
            "command": " ".join(shlex.quote(x) for x in ["python3", os.path.relpath(os.path.abspath(__file__), REPO)]
                                + sys.argv[1:]),
            "outcome": self.outcome, "duration_s": round(self.ended or 0, 1), "t0_unix": self.t0_unix,
            "config": {"profile": a.profile, "sync_period_s": a.sync_s, "scrape_interval_s": a.scrape_s,
                       "rate_window_s": a.window_s, "compute_ms": a.compute_ms, "load": a.load,
                       "load_points": a.load_points, "load_end_s": self.load_end(), "hpa": self.facts,
                       "namespace": NAMESPACE, "label_selector": SELECTOR, "metric": METRIC,
                       "controller": self.controller.argv if self.controller else None},
            "hpa_yaml": open(self.hpa_path, encoding="utf-8").read(),
            "syncs": self.syncs, "events": self.events, "load": self.load_status.samples,
            "load_summary": load_summary,
        }


# ---------------------------------------------------------------------------
# CSV and SVG

def dump_json(result):
    """The result as JSON with one sync, event or load sample per line (diffable, still one document)."""
    parts = []
    for key, value in result.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            body = ",\n".join("  " + json.dumps(item, sort_keys=True) for item in value)
            parts.append(f"{json.dumps(key)}: [\n{body}\n ]")
        else:
            parts.append(f"{json.dumps(key)}: {json.dumps(value, sort_keys=True)}")
    return "{\n " + ",\n ".join(parts) + "\n}\n"


def write_csv(result, path):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["t_s", "load_clients", "load_rps", "ready", "starting", "current", "desired", "average_milli",
                "ratio", "values_milli", "error", "reason"])
    for s in result["syncs"]:
        w.writerow([s["t"], s.get("load_clients"), s.get("load_rps"), s.get("ready"), s.get("starting"),
                    s.get("current"), s.get("desired"), s.get("average"), s.get("ratio"),
                    ";".join(f"{k}={v}" for k, v in sorted((s.get("values") or {}).items())),
                    s.get("error", ""), s.get("reason", "")])
    write_atomic(path, buf.getvalue())


def _esc(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def replica_steps(result, count=lambda e: e["ready"]):
    """[(t, count(event))] from the replica events, where the count changes (ready replicas by default)."""
    steps = []
    for e in result["events"]:
        if steps and steps[-1][0] == e["t"]:
            steps[-1] = (e["t"], count(e))
        elif not steps or steps[-1][1] != count(e):
            steps.append((e["t"], count(e)))
    return steps or [(0.0, 0)]


PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]


def render_svg(result, title=None):
    """The run as an SVG: metric per replica + average vs target; replicas; load. Hand-written, no libraries."""
    syncs, load = result["syncs"], result["load"]
    cfg = result["config"]
    hpa = cfg["hpa"]
    end = max([result.get("duration_s") or 0] + [s["t"] for s in syncs] + [1])
    W, left, right = 1010, 70, 205
    pw = W - left - right
    panels = [("ratio", 60, 250), ("replicas", 350, 110), ("load", 505, 110)]
    H = 665
    target = hpa["target_milli"] / 1000
    ratios = [v / 1000 for s in syncs for v in (s.get("values") or {}).values()]
    ymax = max(2.0, min(6.0, math.ceil(max(ratios + [target * 2]) * 2) / 2))

    def x(t):
        return left + pw * min(max(t, 0), end) / end

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           'font-family="Helvetica, Arial, sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>']
    title = title or (f"Closed loop: {cfg['metric']} per replica, HPA {hpa['min']}-{hpa['max']} replicas, "
                      f"target {hpa['target_milli']}m")
    out.append(f'<text x="{left}" y="24" font-size="16" font-weight="bold">{_esc(title)}</text>')
    out.append(f'<text x="{left}" y="42" fill="#555">sync {go_duration(cfg["sync_period_s"])}, scrape '
               f'{go_duration(cfg["scrape_interval_s"])}, rate window {go_duration(cfg["rate_window_s"])}, '
               f'scale-down stabilization {hpa["scale_down_stabilization"]}s, compute {cfg["compute_ms"]:g} ms/request; '
               f'{_esc(result.get("outcome", ""))} after {fmt_t(end)}</text>')
    # Time grid, shared by all panels.
    step = next(s for s in (10, 15, 30, 60, 120, 300, 600, 1800) if end / s <= 12)
    for name, top, h in panels:
        out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{h}" fill="#fafafa" stroke="#999"/>')
        t = 0
        while t <= end:
            out.append(f'<line x1="{x(t):.1f}" y1="{top}" x2="{x(t):.1f}" y2="{top + h}" stroke="#e5e5e5"/>')
            t += step
    bottom = panels[-1][1] + panels[-1][2]
    t = 0
    while t <= end:
        out.append(f'<text x="{x(t):.1f}" y="{bottom + 16}" text-anchor="middle">{fmt_t(t)}</text>')
        t += step
    out.append(f'<text x="{left + pw / 2}" y="{bottom + 34}" text-anchor="middle" fill="#333">time since the load '
               'started (min:s)</text>')

    def yaxis(top, h, lo, hi, ticks, label, fmt="{:g}", side="left", color="#333"):
        xpos = left - 6 if side == "left" else left + pw + 6
        anchor = "end" if side == "left" else "start"
        for v in ticks:
            yy = top + h - h * (v - lo) / (hi - lo)
            out.append(f'<text x="{xpos}" y="{yy + 4:.1f}" text-anchor="{anchor}" fill="{color}">{fmt.format(v)}</text>')
            if side == "left":
                out.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{left + pw}" y2="{yy:.1f}" stroke="#eee"/>')
        lx = 16 if side == "left" else W - 8
        out.append(f'<text transform="translate({lx},{top + h / 2}) rotate(-90)" text-anchor="middle" '
                   f'fill="{color}">{_esc(label)}</text>')

    def path(points, color, width, dash=None, step_line=False):
        if not points:
            return
        d, prev = [], None
        for px, py in points:
            if prev is None:
                d.append(f"M{px:.1f},{py:.1f}")
            elif step_line:
                d.append(f"H{px:.1f}V{py:.1f}")
            else:
                d.append(f"L{px:.1f},{py:.1f}")
            prev = (px, py)
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<path d="{" ".join(d)}" fill="none" stroke="{color}" stroke-width="{width}"{extra}/>')

    # Panel 1: the metric.
    _, top, h = panels[0]

    def yr(v):
        return top + h - h * min(v, ymax) / ymax
    yaxis(top, h, 0, ymax, [i * 0.5 for i in range(int(ymax * 2) + 1)] if ymax <= 3 else list(range(int(ymax) + 1)),
          "queue / compute (1 = 1000m)")
    pods = sorted({p for s in syncs for p in (s.get("values") or {})},
                  key=lambda p: int(p.rsplit("-", 1)[-1]) if p.rsplit("-", 1)[-1].isdigit() else 0)
    for i, pod in enumerate(pods):
        color = PALETTE[i % len(PALETTE)]
        segment, last_t = [], None
        for s in syncs:
            v = (s.get("values") or {}).get(pod)
            if v is None:
                path(segment, color, 1.3)
                segment = []
                continue
            segment.append((x(s["t"]), yr(v / 1000)))
            if v / 1000 > ymax:
                out.append(f'<path d="M{x(s["t"]):.1f},{top + 2} l-4,7 h8 z" fill="{color}"/>')
            last_t = s["t"]
        path(segment, color, 1.3)
        for s in syncs:
            v = (s.get("values") or {}).get(pod)
            if v is not None:
                out.append(f'<circle cx="{x(s["t"]):.1f}" cy="{yr(v / 1000):.1f}" r="1.8" fill="{color}"/>')
        del last_t
    avg_segments, seg = [], []
    for s in syncs:
        if s.get("average") is None:
            if seg:
                avg_segments.append(seg)
            seg = []
        else:
            seg.append((x(s["t"]), yr(s["average"] / 1000)))
    if seg:
        avg_segments.append(seg)
    for seg in avg_segments:
        path(seg, "#000", 2.6)
    out.append(f'<line x1="{left}" y1="{yr(target):.1f}" x2="{left + pw}" y2="{yr(target):.1f}" stroke="#d62728" '
               'stroke-width="1.8" stroke-dasharray="7,4"/>')
    tol = 0.1
    out.append(f'<rect x="{left}" y="{yr(target * (1 + tol)):.1f}" width="{pw}" '
               f'height="{yr(target * (1 - tol)) - yr(target * (1 + tol)):.1f}" fill="#d62728" opacity="0.07"/>')
    # Legend.
    lx, ly = left + pw + 48, top + 8
    items = [("#000", 2.6, None, "average (the HPA's)"), ("#d62728", 1.8, "7,4", f"target {hpa['target_milli']}m")]
    items += [(PALETTE[i % len(PALETTE)], 1.3, None, pod) for i, pod in enumerate(pods)]
    for i, (color, width, dash, label) in enumerate(items):
        yy = ly + 16 * i
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="{lx}" y1="{yy}" x2="{lx + 22}" y2="{yy}" stroke="{color}" stroke-width="{width}"{extra}/>')
        out.append(f'<text x="{lx + 28}" y="{yy + 4}">{_esc(label)}</text>')
    if any(r > ymax for r in ratios):
        out.append(f'<text x="{lx}" y="{ly + 16 * len(items) + 8}" fill="#777" font-size="10">▲ off the scale '
                   f'(&gt; {ymax:g})</text>')

    # Panel 2: replicas (ready, step line) and the controller's desired.
    _, top, h = panels[1]
    rmax = hpa["max"] + 1

    def yn(v):
        return top + h - h * v / rmax
    yaxis(top, h, 0, rmax, list(range(0, rmax + 1)), "replicas")
    # Where the stabilization window kept the count (above minReplicas): a band, the longest labelled.
    held, run_start, prev_t = [], None, None
    for s in syncs:
        if re.search(r"stabili[sz]", str(s.get("reason", ""))) and s.get("current", 0) > hpa["min"] \
                and s.get("desired") == s.get("current"):
            run_start = s["t"] if run_start is None else run_start
            prev_t = s["t"]
        elif run_start is not None:
            held.append((run_start, s["t"]))
            run_start = None
    if run_start is not None:
        held.append((run_start, prev_t))
    for i, (a, b) in enumerate(sorted(held, key=lambda ab: ab[0] - ab[1])):
        out.append(f'<rect x="{x(a):.1f}" y="{top}" width="{x(b) - x(a):.1f}" height="{h}" fill="#ff7f0e" opacity="0.10"/>')
        if i == 0 and x(b) - x(a) > 120:
            out.append(f'<text x="{(x(a) + x(b)) / 2:.1f}" y="{top + h - 8}" text-anchor="middle" fill="#b35900" '
                       f'font-size="11">held by the {hpa["scale_down_stabilization"]}s scale-down stabilization window'
                       '</text>')
    steps = replica_steps(result)
    requested = replica_steps(result, lambda e: e["ready"] + e["starting"])
    path([(x(t), yn(n)) for t, n in requested] + [(x(end), yn(requested[-1][1]))], "#ff7f0e", 1.4, dash="4,3",
         step_line=True)
    path([(x(t), yn(n)) for t, n in steps] + [(x(end), yn(steps[-1][1]))], "#2ca02c", 2.4, step_line=True)
    for s in syncs:
        d, c = s.get("desired"), s.get("current")
        if isinstance(d, int) and isinstance(c, int) and d != c and not s.get("error"):
            tip = "l-5,9 h10 z" if d > c else "l-5,-9 h10 z"
            yy = yn(d) - 5 if d > c else yn(d) + 5
            out.append(f'<path d="M{x(s["t"]):.1f},{yy:.1f} {tip}" fill="{"#2ca02c" if d > c else "#d62728"}"/>')
    for i, (color, width, dash, label) in enumerate([("#2ca02c", 2.4, None, "ready replicas"),
                                                     ("#ff7f0e", 1.4, "4,3", "ready + starting")]):
        yy = top + 10 + 16 * i
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="{lx}" y1="{yy}" x2="{lx + 22}" y2="{yy}" stroke="{color}" stroke-width="{width}"{extra}/>')
        out.append(f'<text x="{lx + 28}" y="{yy + 4}">{_esc(label)}</text>')
    out.append(f'<path d="M{lx + 6},{top + 45} l-5,9 h10 z" fill="#2ca02c"/><path d="M{lx + 18},{top + 54} l-5,-9 h10 z" '
               f'fill="#d62728"/><text x="{lx + 28}" y="{top + 54}">decision (to)</text>')

    # Panel 3: load, clients (left axis) and completed requests per second (right axis).
    _, top, h = panels[2]
    cmax = max([v for _, v in cfg["load_points"]] + [1])
    cmax = math.ceil(cmax / 2) * 2
    rps = [s.get("rps") or 0 for s in load]
    rmax_rps = max(rps + [1])
    rmax_rps = math.ceil(rmax_rps / 10) * 10

    def yc(v):
        return top + h - h * v / cmax

    def yq(v):
        return top + h - h * v / rmax_rps
    yaxis(top, h, 0, cmax, list(range(0, cmax + 1, max(1, cmax // 4))), "clients", color="#9467bd")
    yaxis(top, h, 0, rmax_rps, [0, rmax_rps // 2, rmax_rps], "req/s", side="right", color="#17becf")
    pts = [(t, v) for t, v in cfg["load_points"] if t <= end] + \
        ([(end, 0)] if cfg["load_points"][-1][0] < end else [])
    path([(x(t), yc(v)) for t, v in pts], "#9467bd", 2.0)
    path([(x(s["t"]), yq(s.get("rps") or 0)) for s in load if not s.get("final")], "#17becf", 1.2)
    for i, (color, label) in enumerate([("#9467bd", "clients (closed loop)"), ("#17becf", "completed req/s")]):
        yy = top + 10 + 16 * i
        out.append(f'<line x1="{lx}" y1="{yy}" x2="{lx + 22}" y2="{yy}" stroke="{color}" stroke-width="2"/>')
        out.append(f'<text x="{lx + 28}" y="{yy + 4}">{_esc(label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    run = Run(args)
    code = 0
    try:
        run.run()
    except KeyboardInterrupt:
        run.outcome = "interrupted"
        say("\n==> interrupted")
        code = 130
    except (AssertionError, RuntimeError, OSError, ValueError, subprocess.SubprocessError) as exc:
        run.outcome = f"failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        say(f"\nclosed loop FAILED: {exc}\n")
        say(run.stack.log_tails(lines=15))
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if run.ended is None and run.t0 is not None:
            run.ended = run.now()
        load_summary, pids = run.stop()
        say(f"==> stopped the processes this run started ({', '.join(f'{n} {p}' for n, p in pids.items()) or 'none'})")
    if not hasattr(run, "facts"):
        return code or 1
    result = run.result(load_summary)
    svg = render_svg(result)
    table = run.HEADER + "\n" + "\n".join(run.table) + "\n"
    # The extra copies (--json, --csv, --svg, --table; e.g. into docs/) only from a run that completed.
    copies = code == 0
    for path in [os.path.join(run.out, "run.json")] + ([args.json] if args.json and copies else []):
        write_atomic(path, dump_json(result))
    for path in [os.path.join(run.out, "run.csv")] + ([args.csv] if args.csv and copies else []):
        write_csv(result, path)
    for path in [os.path.join(run.out, "run.svg")] + ([args.svg] if args.svg and copies else []):
        write_atomic(path, svg)
    for path in [os.path.join(run.out, "table.txt")] + ([args.table] if args.table and copies else []):
        write_atomic(path, table)
    say()
    say(f"==> {run.outcome} after {fmt_t(run.ended or 0)}; replicas over time: "
        + " → ".join(f"{n}@{fmt_t(t)}" for t, n in replica_steps(result)))
    starts = [e for e in run.events if e["event"] == "ready" and e.get("startup_s") is not None]
    if starts:
        say("    replica start-up (process start to model ready): "
            + ", ".join(f"{e['pod']} {e['startup_s']}s" for e in starts))
    say(f"    load: {' '.join(load_summary or ['(no summary)'])}")
    say(f"    nginx reloads: {run.stack.nginx.reloads}; controller syncs: {len(run.syncs)} "
        f"({sum(1 for s in run.syncs if s.get('error'))} with an adapter error)")
    say(f"    wrote {run.out}/run.json, run.csv, run.svg, table.txt (logs in {run.stack.logdir})")
    return code


if __name__ == "__main__":
    sys.exit(main())
