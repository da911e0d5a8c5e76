#!/usr/bin/env python3
"""RSS of the adapter under a cached-request flood, round after round: does it grow with requests?

Starts the end-to-end stack (tests/support/e2e_stack.py: fake Triton, Prometheus, the Kubernetes API
stand-in, the adapter at $ADAPTER_BIN) with 100 pods in team-a, then runs ROUNDS (default 6) rounds of
wrk (2 threads, 16 connections, 10 s, bench/wrk-report.lua for the bearer token) on the HPA's request and
prints the adapter's VmRSS after each.  Everything listens on 127.0.0.1 and is stopped by PID at the end.

    ADAPTER_BIN=.build-release/release/custom-metrics-adapter ROUNDS=6 python3 bench/rss_under_load.py
"""
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from tests.support.e2e_stack import Stack  # noqa: E402

PODS = {"pods": [{"namespace": "team-a", "name": f"triton-{i}", "labels": {"app": "triton"},
                  "models": [{"model": "m", "version": "1", "queue_us_per_s": 1000000,
                              "compute_us_per_s": 1000000}]} for i in range(100)]}


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    stack = Stack(PODS)
    stack.start()
    try:
        pid = stack.procs["adapter"].pid
        url = f"https://127.0.0.1:{stack.adapter_port}{stack.metric_path('team-a', label_selector='app=triton')}"
        print(f"idle: {rss_mib(pid):.1f} MiB", flush=True)
        for number in range(int(os.environ.get("ROUNDS", "6"))):
            out = subprocess.run(["wrk", "-t", "2", "-c", "16", "-d", "10s", "-s",
                                  os.path.join(REPO, "bench", "wrk-report.lua"), url],
                                 capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL).stdout
            rate = next((line.split()[-1] for line in out.splitlines() if "Requests/sec" in line), "?")
            print(f"round {number + 1}: {rate} req/s, RSS {rss_mib(pid):.1f} MiB", flush=True)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
