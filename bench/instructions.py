"""Instructions per request, counted by valgrind's callgrind: figures that machine load does not move.

A server runs under ``valgrind --tool=callgrind``. After warm-up requests over one keep-alive TLS
connection, ``callgrind_control -z`` zeroes its counters, N sequential requests of one kind follow on
the same connection, ``callgrind_control -d`` dumps, and the dump's total Ir (instructions executed by
every thread of that process) divided by N is what one request costs. Only the server process is
counted: Prometheus, the Kubernetes stand-in and the client are other processes. Several rounds (warm
request, zero, N requests, dump) show how stable the figure is; their median is reported.

Two things valgrind 3.19 (Debian 12) needs for Swift 6.3 binaries, neither changing the code counted:
the binary is run from a copy without its DWARF 5 debug sections (``objcopy --strip-debug``; 3.19's
reader gives up on them), and bench/valgrind-sigsuspend.c is preloaded (see there).

Used by scripts/bench.py (also alone: ``--instructions-only``). Standard library only; every wait is
bounded, every process stopped by PID.
"""

import glob
import os
import re
import statistics
import subprocess
import time
import urllib.request

import benchlib as bl

# valgrind runs the program ~50x slower: readiness and each request get generous timeouts.
READY_TIMEOUT_S = 300
REQUEST_TIMEOUT_S = 120
CONTROL_TIMEOUT_S = 120
SHIM_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "valgrind-sigsuspend.c")


def missing_tools():
    return [t for t in ("valgrind", "callgrind_control", "objcopy", "cc") if not _which(t)]


def prepare(binary, workdir):
    """A copy of ``binary`` valgrind can load, in ``workdir``: the same code without debug sections."""
    copy = os.path.join(workdir, os.path.basename(binary) + ".nodebug")
    if not os.path.exists(copy):
        subprocess.run(["objcopy", "--strip-debug", binary, copy], check=True, timeout=120,
                       stdin=subprocess.DEVNULL, capture_output=True)
    return copy


def wrapper_argv(out_file, workdir):
    """What goes before the program: the sigsuspend shim, then callgrind counting from the start."""
    shim = os.path.join(workdir, "valgrind-sigsuspend.so")
    if not os.path.exists(shim):
        subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", shim, SHIM_SOURCE], check=True, timeout=120,
                       stdin=subprocess.DEVNULL, capture_output=True)
    return ["env", f"LD_PRELOAD={shim}", "valgrind", "--tool=callgrind", "--collect-atstart=yes",
            f"--callgrind-out-file={out_file}"]


def _which(tool):
    return any(os.access(os.path.join(d, tool), os.X_OK) for d in os.environ.get("PATH", "").split(os.pathsep))


class Counter:
    """Zeroes and dumps the counters of one process running under callgrind."""

    def __init__(self, pid, out_file):
        self.pid, self.out_file = pid, out_file

    def _control(self, flag):
        res = subprocess.run(["callgrind_control", flag, str(self.pid)], capture_output=True, text=True,
                             timeout=CONTROL_TIMEOUT_S, stdin=subprocess.DEVNULL)
        if res.returncode != 0 or "OK" not in res.stdout:
            raise RuntimeError(f"callgrind_control {flag} {self.pid} failed: {res.stdout[-400:]} {res.stderr[-400:]}")

    def zero(self):
        self._control("-z")

    def dump(self):
        """Dump and return the total Ir since the last zero (read from the new dump file)."""
        before = set(glob.glob(self.out_file + ".*"))
        self._control("-d")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            new = sorted(set(glob.glob(self.out_file + ".*")) - before, key=_dump_number)
            if new:
                total = read_total(new[-1])
                if total is not None:
                    return total
            time.sleep(0.2)
        raise RuntimeError(f"no readable callgrind dump {self.out_file}.N after callgrind_control -d")


def _dump_number(path):
    tail = path.rsplit(".", 1)[-1]
    return int(tail) if tail.isdigit() else -1


def read_total(path):
    """The Ir total of a callgrind dump: its ``totals:`` line, else ``summary:``; None if not written yet."""
    found = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"^(totals|summary):\s*(\d+)", line)
            if m:
                found[m.group(1)] = int(m.group(2))
    return found.get("totals", found.get("summary"))


def prometheus_queries(prom_port):
    """How many /api/v1/query requests Prometheus has answered (its own counter), to tell cache hits."""
    with urllib.request.urlopen(f"http://127.0.0.1:{prom_port}/metrics", timeout=30) as resp:
        text = resp.read().decode("utf-8", "replace")
    total = 0.0
    for line in text.splitlines():
        if line.startswith("prometheus_http_requests_total{") and 'handler="/api/v1/query"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def per_request(counter, port, context, path, requests, rounds, warmup, prom_port, expect_queries,
                token=bl.TOKEN):
    """Instructions per request of ``GET path``: ``rounds`` rounds of ``requests`` sequential requests.

    Each round runs on the same keep-alive connection as the warm-up; every answer must be 200. A round
    must cause exactly ``expect_queries(requests)`` Prometheus queries (0 for a cached answer, one per
    request uncached): otherwise (a cache entry expired inside it) it is run again, at most twice.
    Returns the per-round figures, their median, and the Prometheus queries of each kept round.
    """
    client = bl.KeepAliveClient(port, context, token, timeout=REQUEST_TIMEOUT_S)
    try:
        for _ in range(warmup):
            _get_ok(client, path)
        per_round, queries, discarded = [], [], 0
        while len(per_round) < rounds:
            _get_ok(client, path)  # an expired cache entry is refreshed here rather than in the round
            queries_before = prometheus_queries(prom_port)
            counter.zero()
            for _ in range(requests):
                _get_ok(client, path)
            total = counter.dump()
            seen = prometheus_queries(prom_port) - queries_before
            if seen != expect_queries(requests):
                discarded += 1
                if discarded > 2:
                    raise RuntimeError(f"GET {path} under callgrind: {seen} Prometheus queries in a round of "
                                       f"{requests} requests (want {expect_queries(requests)}), three times")
                continue
            queries.append(seen)
            per_round.append(total / requests)
    finally:
        client.close()
    return {"path": path, "requests": requests, "rounds": rounds, "ir_per_request": per_round,
            "median": statistics.median(per_round), "prometheus_queries": queries, "discarded_rounds": discarded}


def _get_ok(client, path):
    status, body, _ = client.get(path)
    if status != 200:
        raise RuntimeError(f"GET {path} under callgrind: HTTP {status}: {body[:200]!r}")
