#!/usr/bin/env python3
"""Synthetic Triton history for ``custom-metrics-adapter replay``, as OpenMetrics for backfilling.

Writes the counters a TensorRT-LLM Triton deployment exports (``nv_inference_queue_duration_us``,
``nv_inference_compute_infer_duration_us``, ``nv_inference_request_success``), one series per
``namespace``, ``pod``, ``model`` and ``version``, one sample every ``--interval`` seconds (the
PodMonitor's scrape interval), over ``--duration`` ending at ``--end``.  Each pod serves the TensorRT-LLM
model repository: ``ensemble`` -> ``preprocessing`` -> ``tensorrt_llm`` -> ``postprocessing``.  The file
ends with ``# EOF`` and goes straight into::

    promtool tsdb create-blocks-from openmetrics history.om DATA_DIR

The load profile, in fractions of the duration (3 h by default, so minutes in brackets):

    0    - 1/3   quiet: ratio 0 (requests never wait)                       [  0 -  60 min]
    1/3  - 1/2   ramp: the load u rises linearly from 0 to 1                 [ 60 -  90 min]
    1/2  - 2/3   hold: u = 1, ratio = --peak-ratio on every pod               [ 90 - 120 min]
    2/3  - 13/18 fall: u back to 0                                           [120 - 130 min]
    13/18 - 1    quiet again                                                 [130 - 180 min]

The first pod runs throughout; the other ``--pods - 1`` pods start at 2/9 [40 min] (new pods: their
counters start at 0) and are gone at 8/9 [160 min], so the load runs on ``--pods`` pods.

Per pod, at load u (0..1):

    tensorrt_llm compute   = 200000 + 600000 u   us/s  (400 ms per request: 0.5 .. 2 requests/s)
    tensorrt_llm queue     = peak_ratio x u x compute                      (ratio = peak_ratio x u)
    preprocessing compute  = 20 ms, postprocessing 10 ms per request; their queues stay 0
    ensemble compute       = the sum of its composing models' (as Triton reports it); queue 100 us/request

So ``triton:queue_compute:ratio`` for ``model=tensorrt_llm`` is exactly ``peak_ratio x u`` wherever u is
constant over the rate window (0 when quiet, ``--peak-ratio`` in the hold).  Summing all models of a pod
(no metric selector) counts compute twice and shows about 0.47 of it.  Counter increments are whole
microseconds, computed at the middle of each scrape interval, so every rate is exactly computable from
the samples (``Profile.series``).

Standard library only.  Usage::

    make_history.py --output history.om [--namespace triton] [--pods 2] [--end now|RFC3339|unix]
        [--duration 3h] [--interval 6] [--peak-ratio 3.0] [--gap POD:FROM:TO ...]

Prints the phases with their UTC times.
"""

import argparse
import datetime
import math
import re
import sys
import time

QUEUE = "nv_inference_queue_duration_us"
COMPUTE = "nv_inference_compute_infer_duration_us"
SUCCESS = "nv_inference_request_success"

# Triton's own HELP texts.
HELP = {
    SUCCESS: "Number of successful inference requests, all batch sizes",
    QUEUE: "Cumulative inference queuing duration in microseconds (includes cached requests)",
    COMPUTE: "Cumulative compute inference duration in microseconds (does not include cached requests)",
}

MODELS = ("ensemble", "preprocessing", "tensorrt_llm", "postprocessing")

COMPUTE_QUIET_US = 200_000.0   # tensorrt_llm compute per second at u = 0
COMPUTE_BUSY_US = 800_000.0    # ... at u = 1
TRT_US_PER_REQUEST = 400_000.0
PRE_US_PER_REQUEST = 20_000.0
POST_US_PER_REQUEST = 10_000.0
ENSEMBLE_QUEUE_US_PER_REQUEST = 100.0
# A pod that was already running when the range starts has served this long at the quiet rate.
PRIOR_UPTIME_S = 86_400

# Phase boundaries as fractions of the duration.
APPEAR, RAMP_START, RAMP_END, HOLD_END, FALL_END, LEAVE = 2 / 9, 1 / 3, 1 / 2, 2 / 3, 13 / 18, 8 / 9

# Deterministic Deployment-style pod names (ReplicaSet hash, random suffix).
POD_SUFFIXES = ("x2k4p", "b7r9q", "m3n8w", "t5v1z", "h6j2c", "q9s4d", "w8e7f", "z1a3g")


def pod_names(count, prefix="triton-6f8b9c7d5-"):
    if not 1 <= count <= len(POD_SUFFIXES):
        raise ValueError(f"--pods must be 1..{len(POD_SUFFIXES)}")
    return [prefix + suffix for suffix in POD_SUFFIXES[:count]]


class Profile:
    """The load profile and the samples it produces; all times are unix seconds."""

    def __init__(self, start, duration, pods=2, peak_ratio=3.0, interval=6, namespace="triton", gaps=()):
        if duration % interval or duration < 18 * interval:
            raise ValueError("--duration must be a multiple of --interval and at least 18 intervals")
        self.start = int(start)
        self.duration = int(duration)
        self.end = self.start + self.duration
        self.interval = int(interval)
        self.peak_ratio = float(peak_ratio)
        self.namespace = namespace
        self.pods = pod_names(pods)
        # (pod index, from, to) in seconds after the start: that pod's samples in [from, to) are not
        # written (a failed scrape, a Prometheus outage); its counters keep counting.
        self.gaps = [(int(i), self.start + int(a), self.start + int(b)) for i, a, b in gaps]
        at = lambda fraction: self.start + self._snap(fraction * self.duration)  # noqa: E731
        self.appear, self.ramp_start, self.ramp_end = at(APPEAR), at(RAMP_START), at(RAMP_END)
        self.hold_end, self.fall_end, self.leave = at(HOLD_END), at(FALL_END), at(LEAVE)

    def _snap(self, seconds):
        return int(round(seconds / self.interval)) * self.interval

    # -- the profile ---------------------------------------------------------

    def load(self, t):
        """u in [0, 1] at time t: 0 quiet, linear ramp, 1 in the hold, linear fall."""
        if t <= self.ramp_start or t >= self.fall_end:
            return 0.0
        if t < self.ramp_end:
            return (t - self.ramp_start) / (self.ramp_end - self.ramp_start)
        if t <= self.hold_end:
            return 1.0
        return (self.fall_end - t) / (self.fall_end - self.hold_end)

    def ratio(self, t):
        """The instantaneous tensorrt_llm queue/compute ratio on every running pod."""
        return self.peak_ratio * self.load(t)

    def lifetime(self, pod):
        """(first sample time, time of the first missing sample) of a pod."""
        if pod == self.pods[0]:
            return self.start, self.end + self.interval
        return self.appear, self.leave

    def rates(self, t):
        """Per-second increase of every (metric, model) counter of one pod at time t."""
        u = self.load(t)
        trt = COMPUTE_QUIET_US + (COMPUTE_BUSY_US - COMPUTE_QUIET_US) * u
        requests = trt / TRT_US_PER_REQUEST
        pre, post = requests * PRE_US_PER_REQUEST, requests * POST_US_PER_REQUEST
        return {
            (COMPUTE, "tensorrt_llm"): trt,
            (QUEUE, "tensorrt_llm"): self.peak_ratio * u * trt,
            (COMPUTE, "preprocessing"): pre,
            (QUEUE, "preprocessing"): 0.0,
            (COMPUTE, "postprocessing"): post,
            (QUEUE, "postprocessing"): 0.0,
            (COMPUTE, "ensemble"): trt + pre + post,
            (QUEUE, "ensemble"): requests * ENSEMBLE_QUEUE_US_PER_REQUEST,
            **{(SUCCESS, model): requests for model in MODELS},
        }

    def series(self):
        """{(metric, pod, model): [(t, value), ...]} with every sample, in time order.

        Microsecond counters grow by whole microseconds (the rate at the middle of each interval times
        the interval, rounded); request counters are floored from an exact running sum.
        """
        out = {}
        for index, pod in enumerate(self.pods):
            first, gone = self.lifetime(pod)
            prior = PRIOR_UPTIME_S if index == 0 else 0
            exact = {key: rate * prior for key, rate in self.rates(first - PRIOR_UPTIME_S).items()}
            counters = {key: float(round(value)) for key, value in exact.items()}
            t = first
            while t < gone and t <= self.end:
                for (metric, model), value in counters.items():
                    if self.in_gap(index, t):
                        break
                    shown = math.floor(exact[(metric, model)]) if metric == SUCCESS else value
                    out.setdefault((metric, pod, model), []).append((t, float(shown)))
                middle = t + self.interval / 2
                for key, rate in self.rates(middle).items():
                    exact[key] += rate * self.interval
                    counters[key] += round(rate * self.interval)
                t += self.interval
        return out

    def in_gap(self, pod_index, t):
        return any(i == pod_index and a <= t < b for i, a, b in self.gaps)

    def phases(self):
        return [
            ("start (quiet, 1 pod)", self.start),
            (f"{len(self.pods) - 1} more pod(s) start", self.appear),
            ("ramp starts", self.ramp_start),
            (f"hold: ratio {self.peak_ratio:g} per pod", self.ramp_end),
            ("fall starts", self.hold_end),
            ("quiet again", self.fall_end),
            ("extra pod(s) gone", self.leave),
            ("end", self.end),
        ]

    # -- output --------------------------------------------------------------

    def write_openmetrics(self, path):
        series = self.series()
        lines = []
        for metric in (SUCCESS, QUEUE, COMPUTE):
            lines.append(f"# HELP {metric} {HELP[metric]}")
            lines.append(f"# TYPE {metric} counter")
            for pod in self.pods:
                for model in MODELS:
                    labels = f'model="{model}",version="1",namespace="{self.namespace}",pod="{pod}"'
                    for t, value in series.get((metric, pod, model), []):
                        lines.append(f"{metric}{{{labels}}} {value:.0f} {t}")
        lines.append("# EOF")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        return sum(len(samples) for samples in series.values())


def parse_time(text, now):
    if text == "now":
        return int(now)
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return int(float(text))
    return int(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def parse_duration(text):
    match = re.fullmatch(r"(\d+)([smh]?)", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (use 3h, 90m, 5400s)")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def parse_gap(text):
    match = re.fullmatch(r"(\d+):(\d+):(\d+)", text)
    if not match or int(match.group(2)) >= int(match.group(3)):
        raise argparse.ArgumentTypeError(f"not a gap: {text!r} (POD:FROM:TO, seconds after the start, FROM < TO)")
    return tuple(int(g) for g in match.groups())


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", required=True, help="OpenMetrics file to write")
    parser.add_argument("--namespace", default="triton")
    parser.add_argument("--pods", type=int, default=2, help="pods running while the load is on (default 2)")
    parser.add_argument("--end", default="now", help="end of the history: now, RFC 3339 or unix seconds; "
                        "rounded down to a whole minute")
    parser.add_argument("--duration", type=parse_duration, default=3 * 3600, help="default 3h")
    parser.add_argument("--interval", type=int, default=6, help="scrape interval in seconds (default 6)")
    parser.add_argument("--peak-ratio", type=float, default=3.0, help="tensorrt_llm ratio in the hold (default 3)")
    parser.add_argument("--gap", action="append", default=[], type=parse_gap, metavar="POD:FROM:TO",
                        help="leave out pod POD's samples (0 = the first pod) from FROM to TO seconds after the "
                             "start (repeatable): a scrape gap")
    args = parser.parse_args(argv)
    end = parse_time(args.end, time.time()) // 60 * 60
    try:
        profile = Profile(end - args.duration, args.duration, pods=args.pods, peak_ratio=args.peak_ratio,
                          interval=args.interval, namespace=args.namespace, gaps=args.gap)
    except ValueError as exc:
        parser.error(str(exc))
    samples = profile.write_openmetrics(args.output)
    print(f"wrote {samples} samples for {len(profile.pods)} pod(s) in namespace {args.namespace} to {args.output}")
    for name, t in profile.phases():
        print(f"  {rfc3339(t)}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
