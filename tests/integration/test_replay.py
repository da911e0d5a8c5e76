#!/usr/bin/env python3
"""`custom-metrics-adapter replay` against a REAL Prometheus holding backfilled Triton history.

``scripts/make_history.py`` writes 3 hours of Triton counters (ending now, one sample every 6 s, four
models per pod, a second pod that starts and stops mid-range) with a known load profile: quiet, a
30-minute ramp to a tensorrt_llm queue/compute ratio of 3.0 on both pods, a 30-minute hold, a 10-minute
fall, quiet.  ``promtool tsdb create-blocks-from openmetrics`` turns it into TSDB blocks, and a real
Prometheus (no scrape targets) serves them.  The replay runs with a copy of
``manifests/examples/triton-hpa/hpa.yaml`` (target 1000m, 1-4 replicas, metric selector
``model=tensorrt_llm``, behavior: +1 pod/60 s, scale-down window 300 s and -1 pod/120 s).

What is checked, from the CSV, the printed table and the SVG:

- every sync's recorded pods and average equal what PromQL's ``rate`` gives on the generated samples
  (computed here independently, with Prometheus 2.x's extrapolation), and exactly 3000m in the hold;
- the simulated per-replica value is the recorded total divided by the simulated replicas;
- replicas start at minReplicas, rise at the first sync above the tolerance, +1 per 60 s at most, reach
  maxReplicas in the hold and never leave [min, max];
- the scale-down starts exactly 300 s after the last sync that still asked for the peak (stabilization
  window), goes -1 per 120 s at most, ends at minReplicas, and never reverses direction;
- the table and its summary line agree with the CSV; the SVG is well-formed and its lines plot the CSV;
- without the metric selector the ensemble's compute is counted too and the hold reads 1395m;
- an unknown metric, a range without data and --end before --start give their exact messages.

Needs promtool and prometheus (Debian ``prometheus``) and the adapter binary (``$ADAPTER_BIN`` or
``.build/debug/custom-metrics-adapter``); a missing piece is a FAILURE, never a skip.  About 5 s::

    /usr/bin/python3 -m unittest tests/integration/test_replay.py -v
"""

import bisect
import csv
import datetime
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree
from decimal import ROUND_HALF_UP, Decimal

HERE = os.path.dirname(os.path.abspath(__file__))

from tests.support.e2e_stack import REPO, Proc, adapter_bin, free_port, missing_tools, prometheus_bin, wait_for
from tests.support import make_history

NS = "triton"
DURATION = 3 * 3600
STEP = 15
TARGET_MILLI = 1000
MIN_REPLICAS, MAX_REPLICAS = 1, 4
TOLERANCE = 0.1
DOWN_WINDOW_S, DOWN_POLICY_S, UP_POLICY_S = 300, 120, 60
EXAMPLE_HPA = os.path.join(REPO, "manifests", "examples", "triton-hpa", "hpa.yaml")
MAKE_HISTORY = os.path.join(REPO, "scripts", "make_history.py")
SVG_NS = {"svg": "http://www.w3.org/2000/svg"}
NO_DATA_REASON = ("held: invalid metrics (1 invalid out of 1), first error is: "
                  "unable to get metric: no recorded value at this time")


def promtool_bin():
    return os.environ.get("PROMTOOL_BIN") or shutil.which("promtool") or "/usr/bin/promtool"


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def clock(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%H:%M:%S")


# -- what Prometheus must answer, computed from the generated samples ------------------------------

def prom_rate(times, values, t, window=60):
    """PromQL ``rate(x[window])`` at t, as Prometheus 2.x computes it (``extrapolatedRate``).

    The range is [t - window, t], both ends included (Prometheus 2.x); no counter resets here.
    """
    lo, hi = bisect.bisect_left(times, t - window), bisect.bisect_right(times, t)
    if hi - lo < 2:
        return None
    first_t, last_t, first_v = times[lo], times[hi - 1], values[lo]
    increase = values[hi - 1] - first_v
    sampled = last_t - first_t
    average_gap = sampled / (hi - lo - 1)
    to_start, to_end = first_t - (t - window), t - last_t
    if increase > 0 and first_v >= 0:
        to_start = min(to_start, sampled * (first_v / increase))
    threshold = average_gap * 1.1
    interval = sampled + (to_start if to_start < threshold else average_gap / 2) \
        + (to_end if to_end < threshold else average_gap / 2)
    return increase * (interval / sampled) / window


def milli(value):
    """A Prometheus sample as the adapter reads it: to the nearest milli, halves away from zero."""
    return int((Decimal(repr(value)) * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def expected_per_pod(profile, t, models):
    """{pod: milli} of the built-in rule at t, summing ``models`` of each pod (queue / clamp_min(compute, 1))."""
    out = {}
    for pod in profile.pods:
        sums = {}
        for metric in (make_history.QUEUE, make_history.COMPUTE):
            rates = [prom_rate(*EXPECTED_SERIES[(metric, pod, model)], t) for model in models
                     if (metric, pod, model) in EXPECTED_SERIES]
            rates = [r for r in rates if r is not None]
            if rates:
                sums[metric] = sum(rates)
        if len(sums) == 2:
            out[pod] = milli(sums[make_history.QUEUE] / max(sums[make_history.COMPUTE], 1.0))
    return out


EXPECTED_SERIES = {}  # (metric, pod, model) -> (times, values), filled in setUpClass


def hpa_proposal(per_replica_milli, replicas):
    """The HPA's proposal for equal per-replica values: hold within the tolerance, else ceil(ratio x replicas)."""
    ratio = per_replica_milli / TARGET_MILLI
    if 1 - TOLERANCE <= ratio <= 1 + TOLERANCE:
        return replicas
    return math.ceil(ratio * replicas)


class BackfilledHistory(unittest.TestCase):
    """Generates ``make_history.py`` history with the class's ``GAPS``, backfills it, serves it."""
    maxDiff = None
    GAPS = ()  # (pod index, from, to) in seconds after the start: samples left out

    @classmethod
    def setUpClass(cls):
        cls.clock_started = time.monotonic()
        problems = missing_tools(need_kubectl=False, need_curl=False)
        if not os.access(promtool_bin(), os.X_OK):
            problems.append(f"promtool not found at {promtool_bin()}: "
                            "apt-get install -y --no-install-recommends prometheus")
        if problems:
            raise AssertionError("replay test prerequisites missing (CI must install them):\n  "
                                 + "\n  ".join(problems))
        cls.tmp = tempfile.mkdtemp(prefix="cma-replay-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.prometheus = None
        cls.addClassCleanup(cls._stop_prometheus)

        cls.end = int(time.time()) // 60 * 60
        cls.start = cls.end - DURATION
        history = os.path.join(cls.tmp, "history.om")
        cls.run_checked([sys.executable, MAKE_HISTORY, "--output", history, "--namespace", NS, "--pods", "2",
                         "--end", str(cls.end), "--duration", f"{DURATION}s",
                         *[f"--gap={i}:{a}:{b}" for i, a, b in cls.GAPS]])
        cls.profile = make_history.Profile(cls.start, DURATION, pods=2, namespace=NS, gaps=cls.GAPS)
        EXPECTED_SERIES.clear()
        for key, samples in cls.profile.series().items():
            EXPECTED_SERIES[key] = ([t for t, _ in samples], [v for _, v in samples])
        data = os.path.join(cls.tmp, "data")
        cls.run_checked([promtool_bin(), "tsdb", "create-blocks-from", "openmetrics", history, data])

        config = os.path.join(cls.tmp, "prometheus.yml")
        with open(config, "w", encoding="utf-8") as f:
            f.write("global:\n  scrape_interval: 6s\nscrape_configs: []\n")
        cls.prom_port = free_port()
        cls.prom_url = f"http://127.0.0.1:{cls.prom_port}"
        cls.prometheus = Proc("prometheus", [
            prometheus_bin(), f"--config.file={config}", f"--storage.tsdb.path={data}",
            "--storage.tsdb.retention.time=30d", f"--web.listen-address=127.0.0.1:{cls.prom_port}",
            "--log.level=warn"], os.path.join(cls.tmp, "prometheus.log"))
        wait_for(cls._history_loaded, 30, interval=0.2, what="prometheus serving the backfilled blocks")
        cls.hpa = cls.hpa_copy("hpa.yaml")

    @classmethod
    def _stop_prometheus(cls):
        if cls.prometheus is not None:
            pid = cls.prometheus.pid
            code = cls.prometheus.stop()
            sys.stderr.write(f"\n  stopped prometheus (pid {pid}, exit {code}); "
                             f"test class took {time.monotonic() - cls.clock_started:.1f}s\n")

    @classmethod
    def _history_loaded(cls):
        if not cls.prometheus.alive():
            raise AssertionError(f"prometheus exited with {cls.prometheus.popen.returncode}")
        query = urllib.parse.urlencode({"query": f'count(nv_inference_queue_duration_us{{namespace="{NS}"}})',
                                        "time": str(cls.end)}).encode()
        with urllib.request.urlopen(f"{cls.prom_url}/api/v1/query", data=query, timeout=2) as response:
            return b'"result":[{' in response.read()

    @staticmethod
    def run_checked(argv):
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=REPO)
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    @classmethod
    def hpa_copy(cls, name, edit=None):
        with open(EXAMPLE_HPA, encoding="utf-8") as f:
            text = f.read()
        if edit is not None:
            text = edit(text)
        path = os.path.join(cls.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    @classmethod
    def replay_process(cls, hpa, start, end, name, *extra):
        # The generated history has the metric's counters only: the even model, which needs no load series.
        argv = [adapter_bin(), "replay", "--load-model", "even", "--prometheus-url", cls.prom_url, "--namespace", NS, "--hpa", hpa,
                "--start", start if isinstance(start, str) else rfc3339(start),
                "--end", end if isinstance(end, str) else rfc3339(end),
                "--output", os.path.join(cls.tmp, f"{name}.svg"), "--csv", os.path.join(cls.tmp, f"{name}.csv"),
                *extra]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=REPO)

    @classmethod
    def replay(cls, hpa, start, end, name, *extra):
        began = time.monotonic()
        result = cls.replay_process(hpa, start, end, name, *extra)
        if result.returncode != 0:
            raise AssertionError(f"replay exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        with open(os.path.join(cls.tmp, f"{name}.csv"), newline="", encoding="utf-8") as f:
            rows = []
            for row in csv.DictReader(f):
                rows.append({
                    "time": int(row["time"]), "pods": int(row["recorded_pods"]),
                    "average": int(row["recorded_average_milli"]) if row["recorded_average_milli"] else None,
                    "simulated": int(row["simulated_milli"]) if row["simulated_milli"] else None,
                    "replicas": int(row["replicas"]), "desired": int(row["desired"]), "reason": row["reason"],
                    "missing": int(row["missing_pods"])})
        return {"stdout": result.stdout, "stderr": result.stderr, "rows": rows,
                "svg": os.path.join(cls.tmp, f"{name}.svg"), "seconds": time.monotonic() - began}


class ReplayOverBackfilledHistory(BackfilledHistory):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.main = cls.replay(cls.hpa, cls.start, cls.end, "main")
        cls.rows = cls.main["rows"]

    def changes(self, rows=None):
        return [row for row in (rows or self.rows) if row["desired"] != row["replicas"]]

    # -- recorded values ---------------------------------------------------------------------

    def test_recorded_values_follow_the_profile_at_every_sync(self):
        rows = self.rows
        self.assertEqual([row["time"] for row in rows], list(range(self.start, self.end + 1, STEP)))
        worst = 0
        for row in rows:
            per_pod = expected_per_pod(self.profile, row["time"], ["tensorrt_llm"])
            with self.subTest(time=rfc3339(row["time"])):
                self.assertEqual(row["pods"], len(per_pod))
                if not per_pod:
                    self.assertIsNone(row["average"])
                    continue
                expected = sum(per_pod.values()) // len(per_pod)
                worst = max(worst, abs(row["average"] - expected))
                self.assertLessEqual(abs(row["average"] - expected), 1, f"expected {expected}m ({per_pod})")
        sys.stderr.write(f"\n  {len(rows)} syncs; largest |recorded - expected| = {worst}m ")

    def test_literal_values_in_each_phase(self):
        p = self.profile
        at = {row["time"]: row for row in self.rows}
        # The first sync has one sample in its rate window: no value yet.
        self.assertEqual((self.rows[0]["pods"], self.rows[0]["average"]), (0, None))
        self.assertEqual(self.rows[0]["reason"], NO_DATA_REASON)
        quiet_one_pod = [r for r in self.rows if self.start + 60 <= r["time"] < p.appear]
        self.assertTrue(quiet_one_pod)
        self.assertEqual({(r["pods"], r["average"], r["simulated"]) for r in quiet_one_pod}, {(1, 0, 0)})
        # A new pod has a value from the first sync whose window holds two of its samples (appear + 6 s) ...
        two = [r["time"] for r in self.rows if r["pods"] == 2]
        self.assertEqual(two[0], min(t for t in at if t >= p.appear + 6))
        hold = [r for r in self.rows if p.ramp_end + 60 <= r["time"] <= p.hold_end]
        self.assertGreater(len(hold), 100)
        self.assertEqual({(r["pods"], r["average"]) for r in hold}, {(2, 3000)})
        ramp = [r["average"] for r in self.rows if p.ramp_start + 60 <= r["time"] <= p.ramp_end]
        self.assertEqual(ramp, sorted(ramp), "the ramp only rises")
        self.assertLess(ramp[0], 200)
        fall = [r["average"] for r in self.rows if p.hold_end <= r["time"] <= p.fall_end + 60]
        self.assertEqual(fall, sorted(fall, reverse=True), "the fall only falls")
        self.assertEqual(fall[-1], 0)
        # ... and, backfilled without staleness markers, until its last two samples leave the window: a
        # gone pod still reads (0) for up to 54 s after its last sample (at leave - 6 s).
        self.assertEqual(two[-1], max(t for t in at if t <= p.leave - 12 + 60))
        self.assertEqual(len(two), (two[-1] - two[0]) // STEP + 1, "two pods throughout the load")
        self.assertEqual({(r["pods"], r["average"]) for r in self.rows if r["time"] >= p.leave + 60}, {(1, 0)})

    def test_per_replica_value_is_recorded_total_over_replicas(self):
        checked = 0
        for row in self.rows:
            per_pod = expected_per_pod(self.profile, row["time"], ["tensorrt_llm"])
            with self.subTest(time=rfc3339(row["time"])):
                if not per_pod:
                    self.assertIsNone(row["simulated"])
                    continue
                total = sum(per_pod.values())
                self.assertLessEqual(abs(row["simulated"] - total // row["replicas"]), 1,
                                     f"total {total}m over {row['replicas']} replicas")
                # and consistent with the CSV's own recorded average (integer divisions on both sides)
                self.assertLessEqual(abs(row["simulated"] * row["replicas"] - row["average"] * row["pods"]),
                                     row["pods"] + row["replicas"])
                checked += 1
        hold = [r for r in self.rows if self.profile.ramp_end + 60 <= r["time"] <= self.profile.hold_end]
        self.assertEqual({(r["replicas"], r["simulated"]) for r in hold}, {(4, 1500)})
        self.assertGreater(checked, 700)

    # -- simulated replicas ---------------------------------------------------------------------

    def test_replicas_start_at_min_rise_on_the_ramp_and_stay_in_bounds(self):
        rows = self.rows
        self.assertEqual(rows[0]["replicas"], MIN_REPLICAS)
        for previous, row in zip(rows, rows[1:]):
            self.assertEqual(row["replicas"], previous["desired"], f"decision not applied at {rfc3339(row['time'])}")
        for row in rows:
            self.assertTrue(MIN_REPLICAS <= row["replicas"] <= MAX_REPLICAS, row)
            self.assertTrue(MIN_REPLICAS <= row["desired"] <= MAX_REPLICAS, row)
        self.assertEqual({r["replicas"] for r in rows if r["time"] <= self.profile.ramp_start + 60}, {MIN_REPLICAS})

        ups = [r for r in self.changes() if r["desired"] > r["replicas"]]
        self.assertEqual([(r["replicas"], r["desired"]) for r in ups], [(1, 2), (2, 3), (3, 4)])
        self.assertTrue(all(self.profile.ramp_start < r["time"] < self.profile.ramp_end for r in ups),
                        [clock(r["time"]) for r in ups])
        # Each scale-up happens at the first sync whose per-replica value leaves the tolerance band
        # (> 1100m) and one policy period (60 s) after the previous one at the earliest.
        last_up = None
        for row in rows:
            if row["simulated"] is None or row["time"] > self.profile.ramp_end:
                continue
            wants_more = hpa_proposal(row["simulated"], row["replicas"]) > row["replicas"]
            allowed = last_up is None or row["time"] - last_up >= UP_POLICY_S
            with self.subTest(time=rfc3339(row["time"])):
                self.assertEqual(row["desired"] > row["replicas"],
                                 wants_more and allowed and row["replicas"] < MAX_REPLICAS)
            if row["desired"] > row["replicas"]:
                self.assertGreater(row["simulated"], TARGET_MILLI * (1 + TOLERANCE))
                last_up = row["time"]
        hold = [r for r in rows if self.profile.ramp_end <= r["time"] <= self.profile.hold_end]
        self.assertEqual({r["replicas"] for r in hold}, {MAX_REPLICAS})
        self.assertEqual({r["reason"] for r in hold}, {f"limited by maxReplicas {MAX_REPLICAS}"})

    def test_scale_down_waits_for_the_stabilization_window_and_never_flaps(self):
        rows = self.rows
        downs = [r for r in self.changes() if r["desired"] < r["replicas"]]
        self.assertEqual([(r["replicas"], r["desired"]) for r in downs], [(4, 3), (3, 2), (2, 1)])
        peak_rows = [r for r in rows if r["replicas"] == MAX_REPLICAS and r["simulated"] is not None]
        last_high = max(r["time"] for r in peak_rows if hpa_proposal(r["simulated"], r["replicas"]) >= MAX_REPLICAS)
        self.assertGreaterEqual(last_high, self.profile.hold_end)
        # The window holds every recommendation newer than 300 s: the first step down is exactly 300 s
        # after the last sync that still recommended 4 (one sync later would be a bug, one earlier too).
        self.assertEqual(downs[0]["time"] - last_high, DOWN_WINDOW_S,
                         f"last recommendation of 4 at {clock(last_high)}, "
                         f"first scale-down at {clock(downs[0]['time'])}")
        self.assertGreaterEqual(downs[0]["time"], self.profile.hold_end + DOWN_WINDOW_S)
        for previous, row in zip(downs, downs[1:]):
            self.assertGreaterEqual(row["time"] - previous["time"], DOWN_POLICY_S, "scale-down policy: 1 pod per 120 s")
        # No flapping: every change up comes before every change down, with the window in between.
        directions = ["up" if r["desired"] > r["replicas"] else "down" for r in self.changes()]
        self.assertEqual(directions, ["up"] * 3 + ["down"] * 3)
        ups = [r for r in self.changes() if r["desired"] > r["replicas"]]
        self.assertGreaterEqual(downs[0]["time"] - ups[-1]["time"], DOWN_WINDOW_S)
        self.assertEqual({r["replicas"] for r in rows if r["time"] > downs[-1]["time"]}, {MIN_REPLICAS})
        self.assertLessEqual(downs[-1]["time"], self.profile.fall_end + DOWN_WINDOW_S + 2 * DOWN_POLICY_S)

    # -- output ---------------------------------------------------------------------------------

    def test_table_and_summary_agree_with_the_csv(self):
        lines = self.main["stdout"].splitlines()
        self.assertEqual(lines[0], "TIME (UTC)  PODS RECORDED  RECORDED AVG  PER REPLICA  REPLICAS  DECISION")
        table = lines[1:-2]
        printed = {line[:8]: line for line in table}
        for row in self.changes():
            line = printed.get(clock(row["time"]))
            self.assertIsNotNone(line, f"change at {clock(row['time'])} not printed:\n{self.main['stdout']}")
            self.assertEqual(line.split(None, 4)[1:4], [str(row["pods"]), f"{row['average'] / 1000:.3f}",
                                                       f"{row['simulated'] / 1000:.3f}"])
            self.assertIn(f"{row['replicas']} → {row['desired']}", line)
            self.assertTrue(line.rstrip().endswith(row["reason"]), line)
        self.assertEqual(len(table), 1 + len(self.changes()), "first sync plus one line per change")
        mean = sum(r["replicas"] for r in self.rows) / len(self.rows)
        self.assertEqual(lines[-2], f"syncs: {len(self.rows)}, replica changes: 6, peak replicas: {MAX_REPLICAS}, "
                                    f"mean replicas: {mean:.2f}, target: 1")
        self.assertEqual(lines[-1], f"plot: {self.main['svg']}, csv: {self.main['svg'][:-4]}.csv")
        self.assertIn("reading history [##############################] 1/1 range queries", self.main["stderr"])
        sys.stderr.write(f"\n  replay of {len(self.rows)} syncs took {self.main['seconds']:.2f}s ")

    def test_svg_is_well_formed_and_plots_the_csv(self):
        root = ElementTree.parse(self.main["svg"]).getroot()
        self.assertEqual(root.tag, "{http://www.w3.org/2000/svg}svg")
        titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
        self.assertIn("replay of triton:queue_compute:ratio in triton: target 1, replicas 1-4, even load", titles)
        lines = {p.get("stroke"): [tuple(map(float, xy.split(","))) for xy in p.get("points").split()]
                 for p in root.findall("svg:polyline", SVG_NS)}
        self.assertEqual(set(lines), {"crimson", "gray", "steelblue", "seagreen"})
        self.assertEqual(len(lines["crimson"]), 2)
        width = float(root.get("width"))
        for color, field in (("gray", "average"), ("steelblue", "simulated")):
            values = [r[field] for r in self.rows if r[field] is not None]
            points = lines[color]
            self.assertEqual(len(points), len(values), color)
            self.assertEqual([x for x, _ in points], sorted(x for x, _ in points))
            self.assertTrue(all(0 <= x <= width for x, _ in points))
            # y is linear in the value: fit on the extremes, every point within rounding (0.1 px).
            low, high = values.index(min(values)), values.index(max(values))
            slope = (points[high][1] - points[low][1]) / (values[high] - values[low])
            for value, (_, y) in zip(values, points):
                self.assertAlmostEqual(y, points[low][1] + slope * (value - values[low]), delta=0.2)
        # The replica line is a staircase: one point for the first sync, then two per sync.
        stairs = lines["seagreen"]
        self.assertEqual(len(stairs), 2 * len(self.rows) - 1)
        levels = {}
        for index, row in enumerate(self.rows):
            levels.setdefault(row["replicas"], set()).add(stairs[0 if index == 0 else 2 * index][1])
        self.assertTrue(all(len(ys) == 1 for ys in levels.values()), levels)
        ordered = [levels[r].pop() for r in sorted(levels)]
        self.assertEqual(ordered, sorted(ordered, reverse=True), "more replicas plot higher")

    def test_without_the_metric_selector_the_ensemble_halves_the_ratio(self):
        def drop_selector(text):
            edited, count = re.subn(r"\n +selector:\n +matchLabels:\n +model: tensorrt_llm", "", text)
            self.assertEqual(count, 1, "the example HPA's selector block changed; update this test")
            return edited
        hpa = self.hpa_copy("hpa-no-selector.yaml", drop_selector)
        run = self.replay(hpa, self.start, self.end, "no-selector")
        all_models = list(make_history.MODELS)
        for row in run["rows"]:
            per_pod = expected_per_pod(self.profile, row["time"], all_models)
            if per_pod:
                self.assertLessEqual(abs(row["average"] - sum(per_pod.values()) // len(per_pod)), 1, row)
        hold = [r for r in run["rows"] if self.profile.ramp_end + 60 <= r["time"] <= self.profile.hold_end]
        # 2.4 s queue / (0.8 + 0.86 + 0.04 + 0.02) s compute per second: the ensemble counts tensorrt_llm twice.
        self.assertEqual({r["average"] for r in hold}, {1395})
        self.assertEqual(max(r["replicas"] for r in run["rows"]), 3)

    def test_without_load_series_the_default_model_falls_back_to_even(self):
        argv = [adapter_bin(), "replay", "--prometheus-url", self.prom_url, "--namespace", NS, "--hpa", self.hpa,
                "--start", rfc3339(self.start), "--end", rfc3339(self.end),
                "--output", os.path.join(self.tmp, "default-model.svg"), "--csv", os.path.join(self.tmp, "default-model.csv")]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=REPO)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("warning: no Triton load series (nv_inference_request_duration_us, "
                      "nv_inference_compute_infer_duration_us) for these pods: the closed-loop model has no data, "
                      "replaying with --load-model even", result.stderr)
        with open(os.path.join(self.tmp, "default-model.csv"), encoding="utf-8") as f, \
                open(os.path.join(self.tmp, "main.csv"), encoding="utf-8") as g:
            self.assertEqual(f.read(), g.read())

    # -- errors ---------------------------------------------------------------------------------

    def test_unknown_metric_names_the_rules(self):
        hpa = self.hpa_copy("hpa-unknown.yaml", lambda t: t.replace("name: triton:queue_compute:ratio",
                                                                    "name: triton:queue_wait:seconds"))
        result = self.replay_process(hpa, self.start, self.end, "unknown")
        self.assertEqual(result.returncode, 64, result.stderr)
        self.assertEqual(result.stdout, "")
        self.assertEqual(result.stderr.splitlines()[0],
                         "Error: no rule serves pods/triton:queue_wait:seconds (the HPA's metric); "
                         'rules: ["triton:queue_compute:ratio"]')

    def test_range_without_data_holds_the_replicas(self):
        run = self.replay(self.hpa, self.start - 7200, self.start - 6000, "no-data", "--initial-replicas", "3")
        self.assertEqual(len(run["rows"]), 81)
        self.assertEqual({(r["pods"], r["average"], r["simulated"], r["replicas"], r["desired"], r["reason"])
                          for r in run["rows"]}, {(0, None, None, 3, 3, NO_DATA_REASON)})
        lines = run["stdout"].splitlines()
        self.assertEqual(lines[1], f"{clock(self.start - 7200)}    0              -             -            "
                                   "3         " + NO_DATA_REASON)
        self.assertEqual(lines[2], "syncs: 81, replica changes: 0, peak replicas: 3, mean replicas: 3.00, target: 1")
        ElementTree.parse(run["svg"])  # still well-formed

    def test_end_before_start_is_rejected(self):
        result = self.replay_process(self.hpa, self.end, self.start, "backwards")
        self.assertEqual(result.returncode, 64, result.stderr)
        self.assertEqual(result.stderr.splitlines()[0], "Error: --end must be after --start")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "backwards.svg")))


class ReplayOverHistoryWithGaps(BackfilledHistory):
    """Partial data counts as missing pods, as the HPA counts them; syncs without data are a gap in the plot.

    Two gaps in the same history: the second pod's samples stop for 5 minutes in the hold (95-100 min:
    both pods at 3.0, the replay at maxReplicas 4), and the only pod's for 5 minutes when quiet
    (30-35 min: no value at all).
    """
    POD_GAP = (1, 95 * 60, 100 * 60)
    ALL_GAP = (0, 30 * 60, 35 * 60)
    GAPS = (POD_GAP, ALL_GAP)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.main = cls.replay(cls.hpa, cls.start, cls.end, "gaps")
        # Without the scale-down stabilization window the gap alone decides: the known pod's 3.0 spread
        # over four replicas (0.75) would remove one.
        cls.unstabilized = cls.replay(
            cls.hpa_copy("hpa-no-window.yaml", lambda t: t.replace("stabilizationWindowSeconds: 300",
                                                                   "stabilizationWindowSeconds: 0")),
            cls.start, cls.end, "gaps-no-window")

    def gap_rows(self, run):
        return [r for r in run["rows"] if r["pods"] == 1 and self.profile.ramp_end + 60 <= r["time"] <= self.profile.hold_end]

    def test_a_pod_missing_in_the_hold_is_missing_not_idle(self):
        rows = self.gap_rows(self.main)
        first, last = self.start + self.POD_GAP[1], self.start + self.POD_GAP[2]
        # The pod has no value once its last sample before the gap has left the 1m window, until its
        # first two samples after it are in.
        self.assertEqual([r["time"] for r in rows], list(range(first + 60, last + 1, STEP)))
        # The known pod's 3.0 stands for both pods: 6.0 over 4 replicas, not 3.0 over 4.
        self.assertEqual({(r["missing"], r["average"], r["simulated"], r["replicas"], r["desired"]) for r in rows},
                         {(1, 3000, 1500, 4, 4)})
        quiet_gap = range(self.start + self.ALL_GAP[1] + 60, self.start + self.ALL_GAP[2] + 1)
        self.assertEqual({r["time"]: r["missing"] for r in self.main["rows"] if r["missing"]},
                         {r["time"]: 1 for r in self.main["rows"] if r in rows or r["time"] in quiet_gap})

    def test_the_missing_pod_rule_holds_where_spreading_the_known_pods_would_scale_down(self):
        rows = self.gap_rows(self.unstabilized)
        self.assertTrue(rows)
        self.assertEqual({(r["replicas"], r["desired"]) for r in rows}, {(4, 4)})
        self.assertEqual({r["reason"].split(" (")[0] for r in rows},
                         {"held: counting missing or pending pods reverses or cancels the change"})

    def test_syncs_without_data_are_a_gap_in_the_plot(self):
        empty = [r["time"] for r in self.main["rows"] if r["pods"] == 0 and r["time"] > self.start + 60]
        self.assertEqual(empty[0], self.start + self.ALL_GAP[1] + 60)
        self.assertEqual({r["simulated"] for r in self.main["rows"] if r["time"] in empty}, {None})
        root = ElementTree.parse(self.main["svg"]).getroot()
        lines = [p for p in root.findall("svg:polyline", SVG_NS)]
        for color in ("gray", "steelblue"):
            self.assertEqual(len([p for p in lines if p.get("stroke") == color]), 2, color)
        self.assertEqual(len([r for r in root.findall("svg:rect", SVG_NS) if r.get("class") == "no-data"]), 2)


class ReplayAgainstRecordedRuns(unittest.TestCase):
    """The default load model against the real closed-loop runs in docs/what-if-runs (docs/what-if.md).

    tests/support/what_if_crosscheck.py (scripts/what_if_crosscheck.py runs it) backfills each run's history, replays it under each run's HPA with the
    closed-loop model and compares with that run's real replica timeline: every cross-prediction within 15 %
    of the real replica-minutes, at least 90 % of syncs within one replica, the same peak. About 30 s.
    """

    def test_closed_loop_model_predicts_every_run(self):
        from tests.support import what_if_crosscheck
        out = tempfile.mkdtemp(prefix="cma-what-if-")
        self.addCleanup(shutil.rmtree, out, ignore_errors=True)
        rows_path = os.path.join(out, "rows.json")
        what_if_crosscheck.main(["--models", "closed-loop", "--adapter", adapter_bin(), "--out", out, "--json", rows_path])
        with open(rows_path, encoding="utf-8") as f:
            rows = json.load(f)
        self.assertEqual(len(rows), 9)
        for row in rows:
            with self.subTest(history=row["history"], hpa=row["hpa"]):
                self.assertLessEqual(abs(row["error_pct"]), 15.0)
                self.assertGreaterEqual(row["within1"], 0.9)
                self.assertEqual(row["replay"]["peak"], row["real"]["peak"])


if __name__ == "__main__":
    unittest.main()
