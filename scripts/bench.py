#!/usr/bin/env python3
"""Benchmark of custom-metrics-adapter against baselines measured in the same run.

Starts, on 127.0.0.1 only and in a temp dir: tests/support/fake_triton_bulk.py (simulated Triton pods,
every pod's series from one scrape target), a real Prometheus, the Kubernetes API stand-in, and
two adapters (a release build unless $ADAPTER_BIN is given; scripts/bench.sh builds it and, unless
$BASELINE_BIN is given, bench-baseline, the bare-Hummingbird server of bench/BaselineServer):

* ``cached``: default flags (values cached for --metrics-cache-ttl, default 5s);
* ``uncached``: --metrics-cache-ttl=0s, every request queries Prometheus.

and then measures (each figure next to its baseline, both from this run):

1. a cached metric request (100 pods, the HPA's ``pods/*?labelSelector=app=triton``) under load,
   over TLS with HTTP/1.1 keep-alive (wrk) and HTTP/2 (h2load): throughput, p50, p99, against
   nginx serving the same body as a static file over TLS with the same certificate (ECDSA P-256),
   and against bare Hummingbird (bench-baseline: the same bytes from memory, the adapter's TLS
   settings), the same connections, threads and duration.  Targets: adapter/nginx >= 0.6,
   adapter/bare Hummingbird >= 0.85;
2. an uncached metric request against the same PromQL POSTed straight to Prometheus, same client
   (one keep-alive connection, sequential, interleaved), at 10, 100, 1,000 and 10,000 pods in one
   namespace: p50, p99, response size.  Targets: p50 <= 1.15x at 100 pods, <= 1.3x at 10,000;
   cached p50 at 10,000 pods <= 15 ms;
3. discovery (GET /apis/custom.metrics.k8s.io/v1beta2) idle and under load: p99 <= 10 ms;
4. RSS (VmRSS, VmHWM from /proc) idle, under load and with 10,000 pods cached: <= 40 / <= 80 MiB;
5. time from process start to the first 200 on /readyz (polled every 5 ms);
6. instructions per request (valgrind's callgrind, bench/instructions.py): the cached and the uncached
   100-pod request and discovery, and bare Hummingbird serving the same bytes; alone with
   --instructions-only (about 3 minutes: a figure per commit that machine load does not move);
7. the image's root filesystem size, from --rootfs-size or the last scripts/check-rootfs.sh run.

Prints a table, then issue 13's targets each with its baseline from this run, writes JSON (--json)
and an SVG plot of latency against pod count (--svg).
Every process it starts is stopped by PID; every loop is bounded by a count or a deadline.
"""

import argparse
import json
import os
import re
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "bench"))

import benchlib as bl  # noqa: E402
import instructions  # noqa: E402
import svgplot  # noqa: E402

WRK_LUA = os.path.join(REPO, "bench", "wrk-report.lua")
CACHED_NS_PODS = 100  # the namespace the cached-throughput comparison uses
MIB = 1024.0

# Targets: issue 13's table (ISSUE_TARGETS below names its rows), the others ours (docs/performance.md).
TARGET_THROUGHPUT_RATIO = 0.6  # adapter >= 60% of nginx serving the same bytes
TARGET_BARE_RATIO = 0.85  # adapter >= 85% of bare Hummingbird serving the same bytes
TARGET_LATENCY_RATIO = 1 / 0.6  # ours: adapter latency <= nginx's / 0.6
TARGET_BARE_LATENCY_RATIO = 1 / 0.85  # ours: adapter latency <= bare Hummingbird's / 0.85
TARGET_OVERHEAD = 1.15  # uncached adapter p50 <= 1.15x Prometheus at 100 pods
TARGET_OVERHEAD_LARGE = 1.3  # uncached adapter p50 <= 1.3x Prometheus at 10,000 pods
TARGET_CACHED_LARGE_P50_MS = 15.0  # cached 10,000-pod answer p50
LARGE_PODS = 10_000  # the namespace the two 10,000-pod targets name
TARGET_DISCOVERY_P99_MS = 10.0  # discovery p99 under load
TARGET_RSS_IDLE_MIB = 40.0
TARGET_RSS_LARGE_MIB = 80.0  # with 10,000 pods cached
TARGET_RSS_LIMIT_MIB = 128.0  # ours: the Deployment's memory limit
TARGET_ROOTFS_MB = 60.0  # scripts/check-rootfs.sh's "M MB" (10^6 bytes)
TARGET_READY_MS = 1000.0
ROOTFS_RECORD = os.path.join(REPO, ".build-static", "rootfs-size.json")  # written by scripts/check-rootfs.sh

# Issue 13's target table, in its order: the rows the summary prints, measured or not.
ISSUE_TARGETS = (
    "cached req/s vs nginx", "cached req/s vs bare Hummingbird", "uncached 100 pods p50", "uncached 10,000 pods p50",
    "cached 10,000 pods p50", "RSS", "discovery p99 under load", "image root filesystem",
)

# The callgrind adapter keeps values as long as the adapter allows, so that no cached round expires.
CALLGRIND_CACHE_TTL = "60s"

# The HPA's requests come through the kube-aggregator with a front-proxy client certificate (no
# TokenReview). wrk and h2load cannot present one, so they send the stand-in's bearer token; long
# review caches keep the stand-in's own latency (Python, ~40 ms per keep-alive request) out of the
# figures.  The first request of each adapter still pays one TokenReview and one SubjectAccessReview.
AUTH_CACHE_ARGS = ["--authentication-token-webhook-cache-ttl=1h", "--authorization-webhook-cache-authorized-ttl=1h"]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=10.0, help="seconds per load run (default 10)")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up load per server (default 2)")
    p.add_argument("--repeat", type=int, default=3, help="load runs per server and protocol; medians reported")
    p.add_argument("--connections", type=int, default=16, help="connections for wrk and h2load (default 16)")
    p.add_argument("--threads", type=int, default=2, help="client threads for wrk and h2load (default 2)")
    p.add_argument("--samples", type=int, default=200,
                   help="sequential samples per target at <=100 pods (half at 1,000, a quarter at 10,000)")
    p.add_argument("--pod-counts", default="10,100,1000,10000", help="pods per namespace to measure")
    p.add_argument("--startup-runs", type=int, default=5, help="adapter starts timed (default 5)")
    p.add_argument("--scrape-interval", default="6s", help="Prometheus scrape interval (the brief's PodMonitor: 6s)")
    p.add_argument("--json", default=os.path.join(REPO, "bench", "results.json"), help="results JSON path")
    p.add_argument("--svg", default=os.path.join(REPO, "docs", "performance-latency.svg"), help="plot path")
    p.add_argument("--no-svg", action="store_true", help="do not write the plot")
    p.add_argument("--table-from", metavar="JSON", help="only print the table of an earlier results JSON")
    p.add_argument("--markdown", action="store_true", help="with --table-from: a Markdown table")
    p.add_argument("--quick", action="store_true",
                   help="a short smoke run (2 s loads, 1 repeat, 30 samples, up to 1,000 pods, 20 x 2 callgrind requests)")
    p.add_argument("--instructions-only", action="store_true",
                   help="only instructions per request under callgrind (10 and 100 pods; writes --json "
                        "bench/instructions.json unless given)")
    p.add_argument("--no-instructions", action="store_true", help="skip the callgrind part")
    p.add_argument("--instructions-requests", type=int, default=100, help="requests per callgrind round (default 100)")
    p.add_argument("--instructions-rounds", type=int, default=3, help="callgrind rounds per request kind (default 3)")
    p.add_argument("--rootfs-size", type=float, metavar="MB",
                   help=f"the image root filesystem size to report (default: the last scripts/check-rootfs.sh "
                        f"record, {os.path.relpath(ROOTFS_RECORD, REPO)})")
    args = p.parse_args(argv)
    if args.quick:
        args.duration, args.warmup, args.repeat, args.samples, args.startup_runs = 2.0, 1.0, 1, 30, 2
        args.pod_counts = ",".join(c for c in args.pod_counts.split(",") if int(c) <= 1000)
        args.instructions_requests, args.instructions_rounds = 20, 2
    if args.instructions_only:
        args.pod_counts = ",".join(c for c in args.pod_counts.split(",") if int(c) <= CACHED_NS_PODS)
        if args.json == p.get_default("json"):
            args.json = os.path.join(REPO, "bench", "instructions.json")
    args.pod_counts = sorted({int(c) for c in args.pod_counts.split(",") if c.strip()})
    if CACHED_NS_PODS not in args.pod_counts:
        args.pod_counts = sorted(set(args.pod_counts) | {CACHED_NS_PODS})
    if args.connections < args.threads:
        p.error("--connections must be at least --threads")
    if not 1 <= args.repeat <= 20 or not 5 <= args.samples <= 10_000 or not 1 <= args.duration <= 600:
        p.error("--repeat 1..20, --samples 5..10000, --duration 1..600")
    if not 5 <= args.instructions_requests <= 2000 or not 1 <= args.instructions_rounds <= 10:
        p.error("--instructions-requests 5..2000, --instructions-rounds 1..10")
    return args


def namespace(count):
    return f"bench-{count}"


def make_pods(counts):
    return {count: [bl.triton_pod(namespace(count), f"triton-{i:05d}", i) for i in range(count)] for count in counts}


def ms(seconds):
    return seconds * 1000.0


# -- waiting for values ---------------------------------------------------------------------------

def wait_items(port, context, count, timeout):
    """Wait until the adapter on ``port`` answers the HPA request with ``count`` items."""
    client = bl.KeepAliveClient(port, context, bl.TOKEN)
    last = {}

    def ready():
        status, body, _ = client.get(bl.metric_path(namespace(count)))
        items = json.loads(body).get("items") if status == 200 else None
        last["seen"] = f"HTTP {status}, {len(items) if items is not None else '-'} items"
        return items is not None and len(items) == count
    try:
        bl.wait_for(ready, timeout, interval=0.5, what=f"{count} items from the adapter on :{port}")
    except AssertionError as exc:
        raise RuntimeError(f"{exc}; last: {last.get('seen')}") from None
    finally:
        client.close()


# -- startup ---------------------------------------------------------------------------------------

def measure_startup(stack, runs, ttl_flag):
    """Start the adapter ``runs`` times: seconds to /readyz and to the first full answer (100 pods).

    The first start logs at debug level so the PromQL it sends can be read from its log.
    """
    ready, first_value, promql = [], [], None
    for run in range(runs):
        name = f"startup-{run}"
        level = "debug" if run == 0 else "info"
        extra = AUTH_CACHE_ARGS + (["--metrics-cache-ttl=0s"] if ttl_flag else [])
        started = time.perf_counter()
        proc, port, ready_s = stack.start_extra_adapter(name, extra, log_level=level)
        ready.append(ready_s)
        client = bl.KeepAliveClient(port, stack.ssl_context(), bl.TOKEN, timeout=10)
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            try:
                status, body, _ = client.get(bl.metric_path(namespace(CACHED_NS_PODS)))
                if status == 200 and len(json.loads(body).get("items") or []) == CACHED_NS_PODS:
                    first_value.append(time.perf_counter() - started)
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.005)
        client.close()
        if run == 0:
            time.sleep(0.2)
            with open(proc.log_path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    m = re.search(r"promql=(.*?) rule=", line)
                    if m and f'namespace="{namespace(CACHED_NS_PODS)}"' in m.group(1):
                        promql = m.group(1)
                        break
        stack.stop_extra_adapter(name)
    return {"ready_s": ready, "first_value_s": first_value, "promql_from_log": promql}


# -- load tools ------------------------------------------------------------------------------------

def wrk_argv(url, connections, threads, duration, timeout="5s"):
    """wrk takes whole seconds."""
    return ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s",
            "--timeout", timeout, "-s", WRK_LUA, url]


def run_wrk(url, connections, threads, duration):
    argv = wrk_argv(url, connections, threads, duration)
    res = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, stdin=subprocess.DEVNULL,
                         env=dict(os.environ, BENCH_TOKEN=bl.TOKEN))
    line = next((l for l in res.stdout.splitlines() if l.startswith("WRK_JSON ")), None)
    if res.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({res.returncode}): {res.stdout[-800:]} {res.stderr[-800:]}")
    doc = json.loads(line[len("WRK_JSON "):])
    errors = sum(doc[k] for k in doc if k.startswith("errors_"))
    return {"tool": "wrk", "rps": doc["requests"] / (doc["duration_us"] / 1e6), "requests": doc["requests"],
            "p50_ms": doc["p50_us"] / 1000, "p99_ms": doc["p99_us"] / 1000, "max_ms": doc["max_us"] / 1000,
            "errors": errors, "bytes": doc["bytes"]}


def run_h2load(url, connections, threads, duration, workdir):
    log_file = os.path.join(workdir, "h2load.log")
    argv = ["h2load", "-c", str(connections), "-t", str(threads), "-m", "1", "-D", f"{duration:g}",
            "--warm-up-time", "1", "-H", f"Authorization: Bearer {bl.TOKEN}", "--log-file", log_file, url]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, stdin=subprocess.DEVNULL)
    out = res.stdout
    if res.returncode != 0 or "Application protocol: h2" not in out:
        raise RuntimeError(f"h2load failed or did not negotiate h2 ({res.returncode}): {out[-1200:]} "
                           f"{res.stderr[-400:]}")
    req = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                    r"(\d+) errored, (\d+) timeout", out)
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    latencies = []
    with open(log_file, encoding="ascii") as f:
        for line in f:
            parts = line.split("\t")
            if len(parts) >= 3 and parts[1] == "200":
                latencies.append(int(parts[2]) / 1000.0)
    os.unlink(log_file)
    done = int(req.group(3))
    non_2xx = int(codes.group(2)) + int(codes.group(3)) + int(codes.group(4))
    errors = int(req.group(5)) + int(req.group(6)) + int(req.group(7)) + non_2xx
    return {"tool": "h2load", "rps": done / duration, "requests": done,
            "p50_ms": bl.percentile(latencies, 50), "p99_ms": bl.percentile(latencies, 99),
            "max_ms": max(latencies) if latencies else float("nan"), "errors": errors}


# -- nginx -------------------------------------------------------------------------------------------

def start_nginx(workdir, cert, key, body, path_hint):
    """nginx (our own master process, own prefix, 127.0.0.1) serving ``body`` for any path over TLS."""
    prefix = os.path.join(workdir, "nginx")
    root = os.path.join(prefix, "root")
    for d in ("logs", "tmp", "root"):
        os.makedirs(os.path.join(prefix, d), exist_ok=True)
    with open(os.path.join(root, "body.json"), "wb") as f:
        f.write(body)
    port = bl.free_port()
    user = "user root root;\n" if os.geteuid() == 0 else ""  # workers must read the temp dir (0700)
    conf = f"""# Generated by scripts/bench.py: the static-file baseline for {path_hint}
{user}daemon off;
master_process on;
worker_processes auto;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        root {root};
        location / {{
            default_type application/json;
            try_files /body.json =404;
        }}
    }}
}}
"""
    conf_path = os.path.join(prefix, "nginx.conf")
    with open(conf_path, "w", encoding="utf-8") as f:
        f.write(conf)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = bl.Proc("nginx", [nginx, "-p", prefix, "-e", f"{prefix}/logs/error.log", "-c", conf_path],
                   os.path.join(workdir, "nginx.log"))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"nginx exited: see {prefix}/logs/error.log and {proc.log_path}")
        try:
            client = bl.KeepAliveClient(port, ssl._create_unverified_context())  # noqa: S323 (our own cert, loopback)
            status, got, _ = client.get(path_hint)
            client.close()
            if status == 200 and got == body:
                return proc, port
        except OSError:
            pass
        time.sleep(0.1)
    proc.stop()
    raise RuntimeError("nginx did not serve the body within 15 s")


# -- bare Hummingbird --------------------------------------------------------------------------------

def baseline_bin():
    """bench-baseline: $BASELINE_BIN, else the release build scripts/bench.sh makes; None if neither."""
    path = os.environ.get("BASELINE_BIN") or os.path.join(REPO, ".build-release", "release", "bench-baseline")
    return path if os.access(path, os.X_OK) else None


def start_baseline(workdir, cert, key, body_file, path_hint, name="bare-hummingbird", wrapper=(), timeout=15,
                   binary=None):
    """bench-baseline (bare Hummingbird) serving ``body_file`` for any path; returns (Proc, port).

    It binds port 0 and prints the port, so there is no race for a free one.
    """
    log_path = os.path.join(workdir, f"{name}.log")
    proc = bl.Proc(name, [*wrapper, binary or baseline_bin(), "--port", "0", "--cert", cert, "--key", key, "--body", body_file],
                   log_path)
    with open(body_file, "rb") as f:
        body = f.read()
    deadline = time.monotonic() + timeout
    port = None
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{name} exited with {proc.popen.returncode}: see {log_path}")
        if port is None:
            with open(log_path, encoding="utf-8", errors="replace") as f:
                m = re.search(r"^listening on port (\d+)$", f.read(), re.M)
            port = int(m.group(1)) if m else None
        if port is not None:
            try:
                client = bl.KeepAliveClient(port, ssl._create_unverified_context(), timeout=30)  # noqa: S323 (our cert, loopback)
                status, got, _ = client.get(path_hint)
                client.close()
                if status == 200 and got == body:
                    return proc, port
            except OSError:
                pass
        time.sleep(0.1)
    proc.stop()
    raise RuntimeError(f"{name} did not serve the body within {timeout} s: see {log_path}")


# -- instructions per request ----------------------------------------------------------------------

def measure_instructions(stack, args, body_file):
    """Instructions per request under callgrind (bench/instructions.py), adapter process only.

    Adapters on this stack, one at a time: one keeping values for the longest TTL the adapter allows
    (cached 100 pods, discovery), one with --metrics-cache-ttl=0s (uncached 100 pods); then bare
    Hummingbird serving ``body_file`` (the same bytes as the cached answer) when bench-baseline exists.
    """
    n, rounds = args.instructions_requests, args.instructions_rounds
    path = bl.metric_path(namespace(CACHED_NS_PODS))
    out = {"requests": n, "rounds": rounds, "valgrind": bl.tool_version(["valgrind", "--version"])}
    kinds = (
        ("cg-cached", [f"--metrics-cache-ttl={CALLGRIND_CACHE_TTL}"],
         [("cached", path, lambda _: 0), ("discovery", bl.DISCOVERY_PATH, lambda _: 0)]),
        ("cg-uncached", ["--metrics-cache-ttl=0s"], [("uncached", path, lambda count: count)]),
    )
    for name, flags, measurements in kinds:
        out_file = os.path.join(stack.workdir, f"callgrind.{name}.out")
        started = time.perf_counter()
        proc, port, _ = stack.start_extra_adapter(
            name, AUTH_CACHE_ARGS + flags, timeout=instructions.READY_TIMEOUT_S, interval=0.5,
            wrapper=instructions.wrapper_argv(out_file, stack.workdir),
            binary=instructions.prepare(bl.e2e_stack.adapter_bin(), stack.workdir))
        bl.say(f"    {name}: ready under callgrind in {time.perf_counter() - started:.0f}s")
        counter = instructions.Counter(proc.pid, out_file)
        for kind, kind_path, expect in measurements:
            out[kind] = instructions.per_request(counter, port, stack.ssl_context(), kind_path, n, rounds, 5,
                                                 stack.prom_port, expect)
            bl.say(f"    {kind:<10} {out[kind]['median']:12,.0f} Ir/request (rounds: "
                   f"{', '.join(f'{v:,.0f}' for v in out[kind]['ir_per_request'])})")
        stack.stop_extra_adapter(name)
    if baseline_bin() is None:
        bl.say("    bare Hummingbird: no bench-baseline binary (set BASELINE_BIN or run scripts/bench.sh)")
        return out
    out_file = os.path.join(stack.workdir, "callgrind.cg-bare.out")
    proc, port = start_baseline(stack.workdir, os.path.join(stack.certdir, "apiserver.crt"),
                                os.path.join(stack.certdir, "apiserver.key"), body_file, path, name="cg-bare",
                                wrapper=instructions.wrapper_argv(out_file, stack.workdir),
                                binary=instructions.prepare(baseline_bin(), stack.workdir),
                                timeout=instructions.READY_TIMEOUT_S)
    try:
        out["bare_hummingbird"] = instructions.per_request(
            instructions.Counter(proc.pid, out_file), port, stack.ssl_context(), path, n, rounds, 5, stack.prom_port,
            lambda _: 0)
        bl.say(f"    {'bare Hummingbird':<10} {out['bare_hummingbird']['median']:12,.0f} Ir/request")
    finally:
        proc.stop()
    return out


# -- samplers --------------------------------------------------------------------------------------

def sample_sequential(client, path, duration=None, count=None, interval=0.02, pid=None):
    """Sequential GETs of ``path`` for ``duration`` seconds or ``count`` requests (bounded either way).

    Returns (latencies in ms of 200 answers, statuses that were not 200, max VmRSS KiB seen).
    """
    latencies, bad, rss_max = [], [], 0
    deadline = time.perf_counter() + (duration if duration is not None else 600)
    limit = count if count is not None else 1_000_000
    next_rss = 0.0
    while len(latencies) + len(bad) < limit and time.perf_counter() < deadline:
        status, _, elapsed = client.get(path)
        if status == 200:
            latencies.append(ms(elapsed))
        else:
            bad.append(status)
        if pid is not None and time.perf_counter() >= next_rss:
            rss, _ = bl.rss_kib(pid)
            rss_max = max(rss_max, rss or 0)
            next_rss = time.perf_counter() + 0.25
        if interval:
            time.sleep(interval)
    return latencies, bad, rss_max


def under_load(load_argv, duration, sampler):
    """Run a load tool (subprocess) and ``sampler()`` alongside it; return the sampler's result."""
    proc = subprocess.Popen(load_argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=dict(os.environ, BENCH_TOKEN=bl.TOKEN), start_new_session=True)
    try:
        time.sleep(0.5)
        return sampler()
    finally:
        try:
            proc.wait(timeout=duration + 30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


# -- per pod count latency ---------------------------------------------------------------------------

def latency_at(stack, count, samples, uncached_port, cached_port):
    """Interleaved sequential samples: uncached adapter, Prometheus (same PromQL, POST), cached adapter."""
    ctx = stack.ssl_context()
    path = bl.metric_path(namespace(count))
    form = bl.prometheus_form(bl.triton_promql(namespace(count)), 5000).encode()
    form_headers = {"Content-Type": "application/x-www-form-urlencoded"}
    clients = {
        "uncached": bl.KeepAliveClient(uncached_port, ctx, bl.TOKEN),
        "prometheus": bl.KeepAliveClient(stack.prom_port),
        "cached": bl.KeepAliveClient(cached_port, ctx, bl.TOKEN),
    }

    def one(name):
        if name == "prometheus":
            status, body, elapsed = clients[name].request("POST", "/api/v1/query", form, form_headers)
            doc = json.loads(body)
            n = len(doc["data"]["result"]) if status == 200 and doc.get("status") == "success" else -1
        else:
            status, body, elapsed = clients[name].get(path)
            n = len(json.loads(body).get("items") or []) if status == 200 else -1
        return status, n, len(body), ms(elapsed)

    for name in clients:  # warm-up and sanity check
        for _ in range(3):
            status, n, _, _ = one(name)
        if status != 200 or n != count:
            raise RuntimeError(f"{name} at {count} pods: HTTP {status}, {n} series/items (want {count})")
    lat = {name: [] for name in clients}
    sizes = {name: 0 for name in clients}
    errors = {name: 0 for name in clients}
    order = list(clients)
    for i in range(samples):
        for name in order[i % 3:] + order[:i % 3]:
            status, n, size, elapsed = one(name)
            if status == 200 and n == count:
                lat[name].append(elapsed)
                sizes[name] = size
            else:
                errors[name] += 1
    for c in clients.values():
        c.close()
    out = {"pods": count, "samples": samples}
    for name in clients:
        out[name] = {"p50_ms": bl.percentile(lat[name], 50), "p99_ms": bl.percentile(lat[name], 99),
                     "mean_ms": statistics.fmean(lat[name]) if lat[name] else float("nan"),
                     "bytes": sizes[name], "errors": errors[name], "n": len(lat[name])}
    return out


def add_pods(stack, pods):
    """Create pods in the stand-in, one short connection per request (bounded: one request per pod).

    Not keep-alive on purpose: the stand-in (Python http.server) writes headers and body separately,
    and on a reused connection Nagle's algorithm plus the client's delayed ACK cost ~40 ms a request.
    """
    for pod in pods:
        spec = {k: pod[k] for k in ("namespace", "name", "labels")}
        client = bl.KeepAliveClient(stack.standin_port, context=stack.standin_ssl_context())
        status, body, _ = client.request("POST", "/_control/pods", json.dumps(spec).encode(),
                                         {"Content-Type": "application/json"})
        client.close()
        if status != 200:
            raise RuntimeError(f"stand-in refused {spec['namespace']}/{spec['name']}: {status} {body[:200]!r}")


# -- report ------------------------------------------------------------------------------------------

def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


def build_rows(res):
    """The table and issue 13's targets: lists of (figure, adapter, baseline, ratio, target, verdict) strings.

    The targets list holds the rows of ``ISSUE_TARGETS`` in that order, each with the baseline measured in
    the same run; a figure this run did not measure is there too, saying why, never as a number.
    """
    rows, targets = [], {}

    def add(figure, adapter, baseline, ratio, target, ok, fmt="{:.2f}", issue=None):
        row = (figure,
               fmt.format(adapter) if isinstance(adapter, (int, float)) else str(adapter),
               fmt.format(baseline) if isinstance(baseline, (int, float)) else str(baseline),
               f"{ratio:.2f}" if isinstance(ratio, (int, float)) else str(ratio),
               target, "info" if ok is None else ("pass" if ok else "FAIL"))
        rows.append(row)
        if issue is not None:
            targets.setdefault(issue, []).append(row)

    def not_measured(issue, figure, target, why):
        targets.setdefault(issue, []).append((figure, f"not measured in this run ({why})", "-", "-", target, "-"))

    settings = res.get("settings", {})
    partial = "--instructions-only" if settings.get("instructions_only") else None
    big_label = f"{LARGE_PODS:,}"
    no_large = partial or ("--quick" if settings.get("quick") else f"--pod-counts without {LARGE_PODS}")

    thr = res.get("throughput") or {}
    for proto, label in (("http1", "HTTP/1.1 wrk"), ("http2", "HTTP/2 h2load")):
        figure = f"cached {CACHED_NS_PODS} pods, {label}"
        bases = (("nginx", "nginx", TARGET_THROUGHPUT_RATIO, TARGET_LATENCY_RATIO, "cached req/s vs nginx"),
                 ("hummingbird", "bare Hummingbird", TARGET_BARE_RATIO, TARGET_BARE_LATENCY_RATIO,
                  "cached req/s vs bare Hummingbird"))
        a = thr.get("adapter", {}).get(proto)
        for key, name, ratio_target, _, issue in bases:
            if a is None or key not in thr:
                why = partial or "no data"
                if key == "hummingbird":
                    why = partial or ("no bench-baseline binary" if "baseline_bin" in res
                                      else "a run from before the bare-Hummingbird baseline")
                not_measured(issue, f"{figure}: req/s vs {name}", f">= {ratio_target} x {name}", why)
                continue
            b = thr[key][proto]
            r = a["rps"] / b["rps"]
            add(f"{figure}: req/s vs {name}", a["rps"], b["rps"], r, f">= {ratio_target} x {name}",
                r >= ratio_target, "{:.0f}", issue)
        if a is None:
            continue
        for q in ("p50", "p99"):
            for key, name, _, latency_target, _ in bases:
                if key in thr:
                    b = thr[key][proto]
                    r = a[f"{q}_ms"] / b[f"{q}_ms"]
                    add(f"{figure}: {q} ms vs {name}", a[f"{q}_ms"], b[f"{q}_ms"], r,
                        f"<= {latency_target:.2f} x {name}", r <= latency_target)
        if "hummingbird" in thr:
            h, n = thr["hummingbird"][proto], thr["nginx"][proto]
            add(f"{figure}: bare Hummingbird req/s vs nginx", h["rps"], n["rps"], h["rps"] / n["rps"], "info", None,
                "{:.0f}")
        errors = {k: thr[k][proto]["errors"] for k in thr}
        if any(errors.values()):
            add(f"cached, {label}: errors (adapter; nginx, bare Hummingbird)", errors["adapter"],
                ", ".join(str(v) for k, v in errors.items() if k != "adapter"), "-", "0", errors["adapter"] == 0, "{}")
    measured = set()
    for lat in res.get("latency", []):
        count = lat["pods"]
        measured.add(count)
        overhead_target = {CACHED_NS_PODS: TARGET_OVERHEAD, LARGE_PODS: TARGET_OVERHEAD_LARGE}.get(count)
        issue = {CACHED_NS_PODS: "uncached 100 pods p50", LARGE_PODS: "uncached 10,000 pods p50"}.get(count)
        for q in ("p50", "p99"):
            a, p = lat["uncached"][f"{q}_ms"], lat["prometheus"][f"{q}_ms"]
            r = a / p
            if q == "p50" and overhead_target is not None:
                add(f"uncached {count} pods vs Prometheus: {q} ms", a, p, r, f"<= {overhead_target} x Prometheus",
                    r <= overhead_target, issue=issue)
            else:
                add(f"uncached {count} pods vs Prometheus: {q} ms", a, p, r, "info", None)
        a, p = lat["cached"]["p50_ms"], lat["prometheus"]["p50_ms"]
        if count == LARGE_PODS:
            add(f"cached {count} pods: p50 ms (baseline: Prometheus)", a, p, a / p,
                f"<= {TARGET_CACHED_LARGE_P50_MS:.0f} ms", a <= TARGET_CACHED_LARGE_P50_MS, issue="cached 10,000 pods p50")
        else:
            add(f"cached {count} pods vs Prometheus: p50 ms", a, p, a / p, "info", None)
        a, p = lat["uncached"]["bytes"], lat["prometheus"]["bytes"]
        add(f"response size {count} pods: bytes (per pod)", f"{a} ({a / count:.0f})", f"{p} ({p / count:.0f})",
            a / p, "info", None)
        errs = sum(lat[k]["errors"] for k in ("uncached", "cached", "prometheus"))
        if errs:
            add(f"{count} pods: failed samples", lat["uncached"]["errors"] + lat["cached"]["errors"],
                lat["prometheus"]["errors"], "-", "0", False, "{}")
    if CACHED_NS_PODS not in measured:
        not_measured("uncached 100 pods p50", f"uncached {CACHED_NS_PODS} pods vs Prometheus: p50 ms",
                     f"<= {TARGET_OVERHEAD} x Prometheus", partial or "no data")
    if LARGE_PODS not in measured:
        not_measured("uncached 10,000 pods p50", f"uncached {LARGE_PODS} pods vs Prometheus: p50 ms",
                     f"<= {TARGET_OVERHEAD_LARGE} x Prometheus", no_large)
        not_measured("cached 10,000 pods p50", f"cached {LARGE_PODS} pods: p50 ms",
                     f"<= {TARGET_CACHED_LARGE_P50_MS:.0f} ms", no_large)
    rss = res.get("rss") or {}
    biggest = rss.get("pods10k_count", LARGE_PODS)  # the largest namespace of the run (1,000 with --quick)
    if rss:
        idle = rss["idle_vmrss_kib"] / MIB
        add("RSS idle (VmRSS, MiB)", idle, "-", "-", f"<= {TARGET_RSS_IDLE_MIB:.0f} MiB", idle <= TARGET_RSS_IDLE_MIB,
            "{:.1f}", "RSS")
        for key, label, limit, issue in (
                ("cached_load_vmrss_kib", "RSS under cached wrk load, max (MiB)", TARGET_RSS_LIMIT_MIB, None),
                ("heavy_load_vmrss_kib", f"RSS under {biggest:,}-pod uncached load, max (MiB)", TARGET_RSS_LIMIT_MIB,
                 None),
                ("pods10k_cached_vmrss_kib", f"RSS with {biggest:,} pods cached (MiB)",
                 TARGET_RSS_LARGE_MIB if biggest == LARGE_PODS else TARGET_RSS_LIMIT_MIB,
                 "RSS" if biggest == LARGE_PODS else None),
                ("cached_vmhwm_kib", "peak RSS over the run, cached adapter (VmHWM, MiB)", TARGET_RSS_LIMIT_MIB, None),
                ("uncached_vmhwm_kib", "peak RSS over the run, uncached adapter (VmHWM, MiB)", TARGET_RSS_LIMIT_MIB,
                 None)):
            if key in rss:
                v = rss[key] / MIB
                add(label, v, idle, v / idle, f"<= {limit:.0f} MiB" + ("" if issue else " (limit)"), v <= limit,
                    "{:.1f}", issue)
        for key, label in (("nginx_vmrss_kib", "nginx RSS, master + workers, for reference (MiB)"),
                           ("bare_hummingbird_vmrss_kib", "bare Hummingbird RSS after its loads, for reference (MiB)")):
            if rss.get(key):
                add(label, rss[key] / MIB, "-", "-", "info", None, "{:.1f}")
    else:
        not_measured("RSS", "RSS idle (VmRSS, MiB)", f"<= {TARGET_RSS_IDLE_MIB:.0f} MiB", partial or "no data")
    if "pods10k_cached_vmrss_kib" not in rss or biggest != LARGE_PODS:
        not_measured("RSS", f"RSS with {big_label} pods cached (MiB)", f"<= {TARGET_RSS_LARGE_MIB:.0f} MiB", no_large)
    disc = res.get("discovery")
    if disc:
        idle = disc["idle"]
        for key, label in (("cached_load", f"under cached {CACHED_NS_PODS}-pod wrk load"),
                           ("heavy_load", f"under uncached {biggest:,}-pod load")):
            if key in disc:
                d = disc[key]
                add(f"discovery {label}: p50 ms", d["p50_ms"], idle["p50_ms"], d["p50_ms"] / idle["p50_ms"],
                    "info (baseline: idle)", None)
                add(f"discovery {label}: p99 ms", d["p99_ms"], idle["p99_ms"], d["p99_ms"] / idle["p99_ms"],
                    f"<= {TARGET_DISCOVERY_P99_MS:.0f} ms", d["p99_ms"] <= TARGET_DISCOVERY_P99_MS and not d["bad"],
                    issue="discovery p99 under load")
                bare = disc.get("bare_hummingbird_under_load")
                if key == "cached_load" and bare and bare["p99_ms"]:
                    add(f"discovery {label}: p99 ms vs bare Hummingbird's own request under the same load",
                        d["p99_ms"], bare["p99_ms"], d["p99_ms"] / bare["p99_ms"], "info (what the machine gives)", None)
            else:
                not_measured("discovery p99 under load", f"discovery {label}: p99 ms",
                             f"<= {TARGET_DISCOVERY_P99_MS:.0f} ms", no_large if key == "heavy_load" else "no data")
    else:
        not_measured("discovery p99 under load", "discovery under load: p99 ms", f"<= {TARGET_DISCOVERY_P99_MS:.0f} ms",
                     partial or "no data")
    rootfs = res.get("rootfs")
    if rootfs:
        add(f"image root filesystem, MB ({rootfs['source']})", rootfs["megabytes"], "-", "-",
            f"<= {TARGET_ROOTFS_MB:.0f} MB", rootfs["megabytes"] <= TARGET_ROOTFS_MB, "{:.1f}", "image root filesystem")
    else:
        not_measured("image root filesystem", "image root filesystem, MB", f"<= {TARGET_ROOTFS_MB:.0f} MB",
                     "run scripts/check-rootfs.sh")
    ins = res.get("instructions")
    if ins:
        rounds = f"median of {ins['rounds']} x {ins['requests']} requests"
        bare = ins.get("bare_hummingbird", {}).get("median")
        for key, label in (("cached", f"cached {CACHED_NS_PODS} pods"), ("uncached", f"uncached {CACHED_NS_PODS} pods"),
                           ("discovery", "discovery")):
            if key in ins:
                a = ins[key]["median"]
                base = bare if key == "cached" and bare else "-"
                add(f"instructions per request, {label} ({rounds}; baseline: bare Hummingbird, same bytes)"
                    if base != "-" else f"instructions per request, {label} ({rounds})",
                    a, base, a / base if base != "-" else "-", "info", None, "{:,.0f}")
    st = res.get("startup")
    for b in res.get("breakdown", []):
        add(f"1 connection: {b['what']}: p50 ms ({b['rps']:.0f} req/s)", b["p50_ms"], "-", "-", "info", None)
    if st and st["ready_s"]:
        ready = ms(statistics.median(st["ready_s"]))
        add(f"start to /readyz 200, median of {len(st['ready_s'])} (ms)", ready, "-", "-",
            f"<= {TARGET_READY_MS:.0f} ms", ready <= TARGET_READY_MS, "{:.0f}")
        if st["first_value_s"]:
            add(f"start to first {CACHED_NS_PODS}-pod answer, median (ms)", ms(statistics.median(st["first_value_s"])),
                "-", "-", "info", None, "{:.0f}")
    issue_rows = []
    for name in ISSUE_TARGETS:
        issue_rows += targets.get(name) or [(name, "not measured in this run (no data)", "-", "-", "-", "-")]
    return rows, issue_rows


def print_tables(res, markdown=False):
    """Every figure, then (unless only instructions were counted) issue 13's targets on their own."""
    rows, issue_rows = build_rows(res)
    bl.say(format_table(rows, markdown=markdown))
    if not res.get("settings", {}).get("instructions_only"):
        bl.say()
        bl.say("issue 13 targets, each against its baseline from this run:")
        bl.say(format_table(issue_rows, markdown=markdown))


def rootfs_size(given_mb):
    """The image root filesystem size to report: ``given_mb`` (--rootfs-size), else the record the last
    scripts/check-rootfs.sh run left in .build-static, else None (the row then says it was not measured)."""
    if given_mb is not None:
        return {"megabytes": given_mb, "source": "--rootfs-size"}
    try:
        with open(ROOTFS_RECORD, encoding="utf-8") as f:
            record = json.load(f)
        return {"megabytes": float(record["megabytes"]), "files": record.get("files"),
                "source": f"scripts/check-rootfs.sh of {record.get('measured', '?')} at {record.get('commit', '?')}"}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def format_table(rows, markdown=False):
    header = ("figure", "adapter", "baseline", "ratio", "target", "pass/fail")
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = lambda r: " | ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) if i < 4 else str(c).ljust(w)
                               for i, (c, w) in enumerate(zip(r, widths)))
    sep = "-+-".join("-" * w for w in widths)
    return "\n".join([fmt(header), sep, *map(fmt, rows)])


# -- the full run ------------------------------------------------------------------------------------

def measure_throughput(stack, args, rss, path, body, body_file):
    """wrk and h2load against the cached adapter, nginx and bare Hummingbird, alternating; medians.

    nginx serves ``body`` as a static file, bare Hummingbird (when built) ``body_file`` from memory, both
    with the adapter's certificate and key; their RSS goes to ``rss``. Both are stopped on return.
    """
    bl.say(f"==> cached {CACHED_NS_PODS}-pod request vs nginx (static file) and bare Hummingbird (bytes in "
           f"memory), same certificate: {args.connections} connections, {args.threads} threads, "
           f"{args.duration:g}s x {args.repeat}")
    cert, key = os.path.join(stack.certdir, "apiserver.crt"), os.path.join(stack.certdir, "apiserver.key")
    nginx = bare = bare_under_load = None
    try:
        nginx, nginx_port = start_nginx(stack.workdir, cert, key, body, path)
        urls = {"adapter": f"https://127.0.0.1:{stack.adapter_port}{path}",
                "nginx": f"https://127.0.0.1:{nginx_port}{path}"}
        if baseline_bin() is not None:
            bare, bare_port = start_baseline(stack.workdir, cert, key, body_file, path)
            urls["hummingbird"] = f"https://127.0.0.1:{bare_port}{path}"
        for url in urls.values():
            run_wrk(url, args.connections, args.threads, args.warmup)
        runs = {(t, p): [] for t in urls for p in ("http1", "http2")}
        for rep in range(args.repeat):
            order = list(urls)[rep % len(urls):] + list(urls)[:rep % len(urls)]
            for target in order:
                r1 = run_wrk(urls[target], args.connections, args.threads, args.duration)
                r2 = run_h2load(urls[target], args.connections, args.threads, args.duration, stack.workdir)
                runs[(target, "http1")].append(r1)
                runs[(target, "http2")].append(r2)
                bl.say(f"    {rep + 1}/{args.repeat} {target:<11} HTTP/1.1 {r1['rps']:8.0f} req/s p50 "
                       f"{r1['p50_ms']:.2f} p99 {r1['p99_ms']:.2f} ms err {r1['errors']} | HTTP/2 {r2['rps']:8.0f} "
                       f"req/s p50 {r2['p50_ms']:.2f} p99 {r2['p99_ms']:.2f} ms err {r2['errors']}")
        try:
            kids = subprocess.run(["pgrep", "-g", str(nginx.pid)], capture_output=True, text=True,
                                  timeout=5).stdout.split()
            rss["nginx_vmrss_kib"] = sum(bl.rss_kib(int(k))[0] or 0 for k in kids)
        except (OSError, subprocess.SubprocessError, ValueError):
            rss["nginx_vmrss_kib"] = 0
        if bare is not None:
            rss["bare_hummingbird_vmrss_kib"] = bl.rss_kib(bare.pid)[0]
            # The discovery rows' baseline for the machine and the stack: one sequential client's latency on
            # bare Hummingbird while the same wrk load runs against it (its one answer, the cached bytes).
            bl.say(f"==> bare Hummingbird: sequential requests under its own wrk load ({args.connections} "
                   f"connections, {args.duration:g}s)")
            client = bl.KeepAliveClient(bare_port, stack.ssl_context(), bl.TOKEN)
            load = wrk_argv(urls["hummingbird"], args.connections, args.threads, args.duration)
            lat, bad, _ = under_load(load, args.duration, lambda: sample_sequential(
                client, path, duration=args.duration - 1))
            client.close()
            bare_under_load = {"p50_ms": bl.percentile(lat, 50), "p99_ms": bl.percentile(lat, 99), "n": len(lat),
                               "bad": bad}
            bl.say(f"    p50 {bare_under_load['p50_ms']:.2f} ms p99 {bare_under_load['p99_ms']:.2f} ms "
                   f"({len(lat)} requests)")
    finally:
        for proc in (nginx, bare):
            if proc is not None:
                proc.stop()
    out = {t: {p: {"rps": median_of(runs[(t, p)], "rps"), "p50_ms": median_of(runs[(t, p)], "p50_ms"),
                   "p99_ms": median_of(runs[(t, p)], "p99_ms"), "errors": sum(r["errors"] for r in runs[(t, p)]),
                   "runs": runs[(t, p)]}
               for p in ("http1", "http2")} for t in urls}
    if bare_under_load is not None:
        out["bare_hummingbird_under_load"] = bare_under_load
    return out


def measure_all(stack, args, res, ttl_flag, pods, body, body_file):
    """The full run on a started stack whose adapters serve the small namespaces; fills ``res``."""
    ctx = stack.ssl_context()
    cached_port, cached_pid = stack.adapter_port, stack.procs["adapter"].pid
    uncached_port = stack.extra["adapter-uncached"][1]
    uncached_pid = stack.extra["adapter-uncached"][0].pid
    small = [c for c in args.pod_counts if c <= CACHED_NS_PODS]
    large = [c for c in args.pod_counts if c > CACHED_NS_PODS]
    bl.say(f"==> startup: {args.startup_runs} adapter starts, /readyz polled every 5 ms")
    res["startup"] = measure_startup(stack, args.startup_runs, ttl_flag)
    promql = res["startup"]["promql_from_log"]
    res["promql"] = bl.triton_promql(namespace(CACHED_NS_PODS))
    res["promql_matches_log"] = promql == res["promql"]
    if not res["promql_matches_log"]:
        bl.say(f"    WARNING: the adapter's logged PromQL differs from the one used for Prometheus:\n"
               f"      log:  {promql}\n      ours: {res['promql']}")

    time.sleep(2)
    rss_idle, _ = bl.rss_kib(cached_pid)
    res["rss"] = {"idle_vmrss_kib": rss_idle}
    bl.say(f"    idle RSS {rss_idle / MIB:.1f} MiB; ready in "
           f"{', '.join(f'{ms(s):.0f}' for s in res['startup']['ready_s'])} ms")

    bl.say("==> discovery, idle")
    client = bl.KeepAliveClient(cached_port, ctx, bl.TOKEN)
    disc_samples = max(50, int(args.duration / 0.02 * 0.5))
    idle_lat, idle_bad, _ = sample_sequential(client, bl.DISCOVERY_PATH, count=disc_samples)
    res["discovery"] = {"idle": {"p50_ms": bl.percentile(idle_lat, 50), "p99_ms": bl.percentile(idle_lat, 99),
                                 "n": len(idle_lat), "bad": idle_bad}}
    client.close()

    path = bl.metric_path(namespace(CACHED_NS_PODS))
    res["throughput"] = measure_throughput(stack, args, res["rss"], path, body, body_file)
    bare_under_load = res["throughput"].pop("bare_hummingbird_under_load", None)
    if bare_under_load is not None:
        res["discovery"]["bare_hummingbird_under_load"] = bare_under_load

    bl.say(f"==> discovery and RSS under cached wrk load ({args.connections} connections, {args.duration:g}s)")
    client = bl.KeepAliveClient(cached_port, ctx, bl.TOKEN)
    load = wrk_argv(f"https://127.0.0.1:{cached_port}{path}", args.connections, args.threads, args.duration)
    lat, bad, rss_max = under_load(load, args.duration, lambda: sample_sequential(
        client, bl.DISCOVERY_PATH, duration=args.duration - 1, pid=cached_pid))
    client.close()
    res["discovery"]["cached_load"] = {"p50_ms": bl.percentile(lat, 50), "p99_ms": bl.percentile(lat, 99),
                                       "n": len(lat), "bad": bad}
    res["rss"]["cached_load_vmrss_kib"] = rss_max

    res["latency"] = []

    def measure(count):
        samples = args.samples if count <= CACHED_NS_PODS else max(20, args.samples // (2 if count <= 1000 else 4))
        bl.say(f"==> {count} pods: {samples} interleaved samples each of uncached adapter, Prometheus, cached adapter")
        lat = latency_at(stack, count, samples, uncached_port, cached_port)
        res["latency"].append(lat)
        bl.say("    " + "  ".join(f"{k} p50 {lat[k]['p50_ms']:.2f} p99 {lat[k]['p99_ms']:.2f} ms {lat[k]['bytes']} B"
                                  for k in ("uncached", "prometheus", "cached")))

    for count in small:
        measure(count)
    if not args.no_instructions:
        bl.say(f"==> instructions per request under callgrind: {args.instructions_rounds} rounds of "
               f"{args.instructions_requests} requests each (before the large namespaces exist, as "
               f"--instructions-only measures)")
        res["instructions"] = measure_instructions(stack, args, body_file)
    if large:
        new = [p for c in large for p in pods[c]]
        bl.say(f"==> adding {len(new)} pods to the stand-in (watch events to both adapters)")
        t0 = time.perf_counter()
        add_pods(stack, new)
        for port in (cached_port, uncached_port):
            for count in large:
                wait_items(port, ctx, count, 300)
        bl.say(f"    done in {time.perf_counter() - t0:.1f}s")
        for count in large:
            measure(count)
        biggest = max(large)
        time.sleep(1)
        res["rss"]["pods10k_cached_vmrss_kib"] = bl.rss_kib(cached_pid)[0]
        res["rss"]["pods10k_uncached_vmrss_kib"] = bl.rss_kib(uncached_pid)[0]
        res["rss"]["pods10k_count"] = biggest
        bl.say(f"==> discovery and RSS under uncached {biggest}-pod load (wrk, 2 connections, {args.duration:g}s)")
        client = bl.KeepAliveClient(uncached_port, ctx, bl.TOKEN)
        load = wrk_argv(f"https://127.0.0.1:{uncached_port}{bl.metric_path(namespace(biggest))}", 2, 1,
                        args.duration, timeout="10s")
        lat, bad, rss_max = under_load(load, args.duration, lambda: sample_sequential(
            client, bl.DISCOVERY_PATH, duration=args.duration - 1, pid=uncached_pid))
        client.close()
        res["discovery"]["heavy_load"] = {"p50_ms": bl.percentile(lat, 50), "p99_ms": bl.percentile(lat, 99),
                                          "n": len(lat), "bad": bad}
        res["rss"]["heavy_load_vmrss_kib"] = rss_max
    bl.say("==> cost breakdown: wrk, 1 connection, 4 s each, on the cached adapter")
    res["breakdown"] = []
    base = f"https://127.0.0.1:{cached_port}"
    targets = [("GET /readyz (no auth)", "/readyz"), ("GET discovery (auth, small JSON)", bl.DISCOVERY_PATH)]
    targets += [(f"GET {c} pods, cached", bl.metric_path(namespace(c))) for c in args.pod_counts if c <= 1000]
    for label, target_path in targets:
        r = run_wrk(base + target_path, 1, 1, 4)
        res["breakdown"].append({"what": label, "rps": r["rps"], "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"],
                                 "errors": r["errors"], "bytes_per_request": r["bytes"] / max(1, r["requests"])})
        bl.say(f"    {label:<34} {r['rps']:7.0f} req/s p50 {r['p50_ms']:.2f} ms, {r['errors']} errors")
    res["rss"]["cached_vmhwm_kib"] = bl.rss_kib(cached_pid)[1]
    res["rss"]["uncached_vmhwm_kib"] = bl.rss_kib(uncached_pid)[1]


# -- main ----------------------------------------------------------------------------------------------


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    if args.table_from:
        with open(args.table_from, encoding="utf-8") as f:
            res = json.load(f)
        print_tables(res, markdown=args.markdown)
        return 0
    load_tools = () if args.instructions_only else ("wrk", "h2load", "nginx")
    missing = [t for t in load_tools if shutil.which(t) is None and not os.path.exists(f"/usr/sbin/{t}")]
    missing += bl.e2e_stack.missing_tools(need_kubectl=False, need_curl=False)
    if not args.no_instructions:
        missing += instructions.missing_tools()
    if missing:
        bl.say("bench: missing: " + ", ".join(missing) + " (run scripts/install-bench-deps.sh; scripts/bench.sh "
               "builds the adapter)")
        return 2
    ttl_flag = bl.adapter_has_flag("--metrics-cache-ttl")
    if not ttl_flag:
        bl.say("bench: WARNING: this adapter has no --metrics-cache-ttl: the 'cached' adapter is uncached too")
    started = time.time()
    res = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)), "machine": bl.machine_info(),
           "adapter_bin": bl.e2e_stack.adapter_bin(), "adapter_commit": bl.adapter_commit(), "cache_ttl_flag": ttl_flag,
           "baseline_bin": baseline_bin(),
           "settings": {k: v for k, v in vars(args).items() if k not in ("json", "svg")},
           "tools": {"wrk": bl.tool_version(["wrk", "--version"]), "h2load": bl.tool_version(["h2load", "--version"]),
                     "nginx": bl.tool_version(["nginx", "-v"]),
                     "prometheus": bl.tool_version([bl.e2e_stack.prometheus_bin(), "--version"])}}
    if baseline_bin() is None and not args.instructions_only:
        bl.say("bench: WARNING: no bench-baseline binary (set BASELINE_BIN or run scripts/bench.sh): "
               "no bare-Hummingbird baseline in this run")
    pods = make_pods(args.pod_counts)
    small = [c for c in args.pod_counts if c <= CACHED_NS_PODS]
    standin_pods = {"pods": [p for c in small for p in pods[c]]}
    series_pods = {"pods": [p for c in args.pod_counts for p in pods[c]]}
    bl.say(f"==> starting: {len(series_pods['pods'])} simulated pods' series (one scrape target, "
           f"{args.scrape_interval}), Prometheus, the stand-in ({len(standin_pods['pods'])} pods), adapter "
           f"{bl.e2e_stack.adapter_bin()}")
    stack = bl.BulkStack(standin_pods, series_pods, scrape_interval=args.scrape_interval, log_level="info",
                         adapter_args=AUTH_CACHE_ARGS)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.__enter__()
        ctx = stack.ssl_context()
        _, uncached_port, _ = stack.start_extra_adapter(
            "adapter-uncached", AUTH_CACHE_ARGS + (["--metrics-cache-ttl=0s"] if ttl_flag else []))
        bl.say("==> waiting for Prometheus to have two scrapes and the adapters to serve values")
        for port in (stack.adapter_port, uncached_port):
            for count in small:
                wait_items(port, ctx, count, 90)
        body_file = os.path.join(stack.workdir, "body.json")  # the cached 100-pod answer, for the baselines
        client = bl.KeepAliveClient(stack.adapter_port, ctx, bl.TOKEN)
        status, body, _ = client.get(bl.metric_path(namespace(CACHED_NS_PODS)))
        client.close()
        if status != 200:
            raise RuntimeError(f"adapter answered {status} for the {CACHED_NS_PODS}-pod request")
        with open(body_file, "wb") as f:
            f.write(body)
        if args.instructions_only:
            bl.say(f"==> instructions per request under callgrind: {args.instructions_rounds} rounds of "
                   f"{args.instructions_requests} requests each")
            res["instructions"] = measure_instructions(stack, args, body_file)
        else:
            measure_all(stack, args, res, ttl_flag, pods, body, body_file)
    except KeyboardInterrupt:
        bl.say("\nbench: interrupted")
        return 130
    except (RuntimeError, AssertionError, OSError, ValueError, KeyError, subprocess.SubprocessError) as exc:
        bl.say(f"\nbench FAILED: {exc}")
        bl.say(stack.log_tails(lines=15))
        return 1
    finally:
        stack.stop()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    res["elapsed_s"] = round(time.time() - started, 1)
    res["machine"]["loadavg_at_end"] = bl.machine_info().get("loadavg_at_start")
    res["rootfs"] = rootfs_size(args.rootfs_size)
    rows, issue_rows = build_rows(res)
    columns = ("figure", "adapter", "baseline", "ratio", "target", "verdict")
    res["table"] = [dict(zip(columns, r)) for r in rows]
    res["issue_targets"] = [dict(zip(columns, r)) for r in issue_rows]
    bl.say()
    print_tables(res)
    bl.say()
    m = res["machine"]
    bl.say(f"machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, kernel {m['kernel']}; load average "
           f"{' '.join(m.get('loadavg_at_start', []))} at start, {' '.join(m.get('loadavg_at_end') or [])} at end; "
           f"run took {res['elapsed_s']:.0f}s; adapter {res['adapter_commit']}")
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w", encoding="utf-8") as f:
        json.dump(res, f, indent=2, default=str)
        f.write("\n")
    bl.say(f"results: {args.json}")
    if not args.no_svg and res.get("latency"):
        with open(args.svg, "w", encoding="utf-8") as f:
            f.write(svgplot.latency_plot(res["latency"], res["machine"], res["started"]))
        bl.say(f"plot: {args.svg}")
    bl.say(f"all targets: {sum(r[5] == 'pass' for r in rows)} passed, {sum(r[5] == 'FAIL' for r in rows)} failed")
    if not args.instructions_only:
        bl.say(f"issue 13 targets: {sum(r[5] == 'pass' for r in issue_rows)} passed, "
               f"{sum(r[5] == 'FAIL' for r in issue_rows)} failed, {sum(r[5] == '-' for r in issue_rows)} not measured")
    return 0


if __name__ == "__main__":
    sys.exit(main())
