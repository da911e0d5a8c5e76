"""VmRSS of an adapter that serves a 10,000-pod namespace from its caches, over several fresh starts.

Each run starts the benchmark's stack (bench/benchlib.py: the simulated pods' series, Prometheus, the
Kubernetes stand-in) with 10,100 pods, waits for the adapter to answer the 10,000-pod namespace, asks for
it and for a 100-pod namespace 40 times each, 0.25 s apart (the answers come from the caches within
their TTL), and prints VmRSS. Run it several times per binary: the figure moves by several MiB between
runs of one binary (allocator fragmentation), which a single run cannot show.

Usage: ADAPTER_BIN=/path/to/custom-metrics-adapter python3 bench/rss_large_namespace.py [--runs N]
"""

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))

import bench as B  # noqa: E402  (scripts/bench.py: the pods, namespaces and waits of the benchmark)
import benchlib as bl  # noqa: E402

LARGE, SMALL, ROUNDS = 10_000, 100, 40


def one_run():
    pods = B.make_pods([SMALL, LARGE])
    everything = {"pods": pods[SMALL] + pods[LARGE]}
    stack = bl.BulkStack(everything, everything, scrape_interval="6s", log_level="info", adapter_args=B.AUTH_CACHE_ARGS)
    try:
        stack.__enter__()
        ctx = stack.ssl_context()
        B.wait_items(stack.adapter_port, ctx, LARGE, 300)
        client = bl.KeepAliveClient(stack.adapter_port, ctx, bl.TOKEN)
        for _ in range(ROUNDS):
            for count in (LARGE, SMALL):
                status, _, _ = client.get(bl.metric_path(B.namespace(count)))
                if status != 200:
                    raise RuntimeError(f"{count}-pod request: HTTP {status}")
            time.sleep(0.25)
        client.close()
        time.sleep(1)
        return bl.rss_kib(stack.procs["adapter"].pid)[0] / 1024
    finally:
        stack.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh starts to measure (default 3)")
    args = parser.parse_args()
    figures = []
    for run in range(max(1, min(args.runs, 20))):
        figures.append(one_run())
        print(f"run {run + 1}: VmRSS {figures[-1]:.1f} MiB", flush=True)
    print(f"{bl.e2e_stack.adapter_bin()}: VmRSS with {LARGE:,} pods cached, {len(figures)} runs: "
          f"min {min(figures):.1f}, median {statistics.median(figures):.1f}, max {max(figures):.1f} MiB")


if __name__ == "__main__":
    main()
