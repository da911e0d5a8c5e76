"""Where an uncached request's time goes: what the client sees, what Prometheus takes asked directly, and
what the adapter itself measured for its Prometheus query (its /metrics), over the same requests.

Starts the benchmark's stack (bench/benchlib.py) with one namespace of N pods (default 100) and one more
adapter with --metrics-cache-ttl=0s, so every request queries Prometheus. After 20 warm-up pairs, 300
pairs of requests alternate: the HPA's request to the adapter, and the same PromQL POSTed to Prometheus
on its own keep-alive connection. The adapter's custom_metrics_adapter_prometheus_query_duration_seconds
(sum and count, read before and after) gives the mean time of its own query, decoding included.

Usage: ADAPTER_BIN=/path/to/custom-metrics-adapter python3 bench/uncached_breakdown.py [--pods N]
"""

import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))

import bench as B  # noqa: E402  (scripts/bench.py: the pods, namespaces and waits of the benchmark)
import benchlib as bl  # noqa: E402

PAIRS, WARMUP = 300, 20
QUERY_SECONDS = "custom_metrics_adapter_prometheus_query_duration_seconds"
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def sum_and_count(text, name):
    total = count = 0.0
    for line in text.splitlines():
        if line.startswith(name + "_sum"):
            total += float(line.rsplit(" ", 1)[1])
        elif line.startswith(name + "_count"):
            count += float(line.rsplit(" ", 1)[1])
    return total, count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=100, help="pods in the namespace (default 100)")
    count = max(1, min(parser.parse_args().pods, 10_000))
    pods = {"pods": B.make_pods([count])[count]}
    stack = bl.BulkStack(pods, pods, scrape_interval="6s", log_level="info", adapter_args=B.AUTH_CACHE_ARGS)
    try:
        stack.__enter__()
        ctx = stack.ssl_context()
        _, port, _ = stack.start_extra_adapter("uncached", B.AUTH_CACHE_ARGS + ["--metrics-cache-ttl=0s"])
        B.wait_items(port, ctx, count, 120)
        path = bl.metric_path(B.namespace(count))
        form = bl.prometheus_form(bl.triton_promql(B.namespace(count)), 5000).encode()
        adapter, prometheus = bl.KeepAliveClient(port, ctx, bl.TOKEN), bl.KeepAliveClient(stack.prom_port)

        def pair():
            status, _, seen = adapter.get(path)
            direct_status, _, direct = prometheus.request("POST", "/api/v1/query", form, FORM_HEADERS)
            if status != 200 or direct_status != 200:
                raise RuntimeError(f"adapter HTTP {status}, Prometheus HTTP {direct_status}")
            return seen * 1000, direct * 1000

        for _ in range(WARMUP):
            pair()
        before = sum_and_count(adapter.get("/metrics")[1].decode(), QUERY_SECONDS)
        seen, direct = zip(*(pair() for _ in range(PAIRS)))
        after = sum_and_count(adapter.get("/metrics")[1].decode(), QUERY_SECONDS)
        queries = after[1] - before[1]
        own = (after[0] - before[0]) / queries * 1000 if queries else float("nan")
        print(f"{count} pods, {PAIRS} pairs: adapter as the client sees it mean {statistics.fmean(seen):.2f} ms, "
              f"p50 {statistics.median(seen):.2f}; Prometheus asked directly mean {statistics.fmean(direct):.2f}, "
              f"p50 {statistics.median(direct):.2f}; the adapter's own Prometheus query mean {own:.2f} ms "
              f"({queries:.0f} queries); outside its query: {statistics.fmean(seen) - own:.2f} ms a request")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
