#!/usr/bin/env python3
"""The parts of the closed loop (``scripts/closed_loop.py``) that replicas come and go in.

``ClosedLoopStack`` is ``e2e_stack.Stack`` started empty: a real Prometheus whose targets come from a
file_sd JSON (one target per ready replica, labelled ``namespace``/``pod`` as a PodMonitor would), the
Kubernetes API stand-in with no pods yet, and the adapter. ``start_replica`` starts one
``scripts/triton_server.py`` (PyTriton on CPU) and creates its Pod (Pending); ``poll_started`` turns
replicas whose model is ready into Running Pods, nginx upstream servers and scrape targets;
``remove_replica`` takes one out again (nginx first, Pod terminating, SIGTERM after a drain, then Pod
and target gone).

``Nginx`` runs nginx in the foreground with its own prefix, pid file and logs: a ``least_conn``
upstream rewritten and ``nginx -s reload``-ed when the ready replicas change.

``local_hpa_yaml`` edits ``manifests/examples/triton-hpa/hpa.yaml`` line by line (its comments stay):
namespace, no metric selector, optionally shorter stabilization window and policy periods.

Every process runs in its own process group and is stopped by its PID. Standard library only.
"""

import http.client
import json
import os
import re
import shutil
import subprocess
import threading
import time

from tests.support import module_argv
from tests.support.e2e_stack import Abort, Proc, Stack, free_port, missing_tools, wait_for
from tests.support.triton_stack import triton_problems, triton_python

NAMESPACE = "triton"
LABELS = {"app": "triton"}
SELECTOR = "app=triton"
MODEL = "slow_model"
HPA_TOKEN = "hpa-token"  # the stand-in's TokenReview maps it to the HPA controller's service account


def say(text=""):
    try:
        print(text, flush=True)
    except (BrokenPipeError, ValueError):
        pass


def seconds(text):
    """``"15s"``, ``"1m"``, ``"1500ms"``, ``"1m30s"`` -> seconds (float); a bare number is seconds."""
    text = str(text).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r} (e.g. 15s, 1m, 1500ms)")
    return sum(float(n) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[u] for n, u in parts)


def go_duration(value):
    """Seconds -> the shortest Prometheus/Go duration text (``6s``, ``1m``, ``1m30s``, ``1500ms``)."""
    ms = round(value * 1000)
    if ms % 1000:
        return f"{ms}ms"
    s = ms // 1000
    if s % 60 == 0:
        return f"{s // 60}m"
    return f"{s // 60}m{s % 60}s" if s > 60 else f"{s}s"


def write_atomic(path, text):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------
# The HPA YAML: a local copy of the example, edited line by line so its comments stay.

def _indent(line):
    stripped = line.lstrip(" ")
    return len(line) - len(stripped) + (2 if stripped.startswith("- ") else 0)


def _key(line):
    stripped = line.strip()
    if stripped.startswith("- "):
        stripped = stripped[2:]
    if stripped.startswith("#") or ":" not in stripped:
        return None
    return stripped.split(":", 1)[0]


def _block_end(lines, i):
    """Index just past the block that starts with the mapping key on line ``i``."""
    own = _indent(lines[i]) - (2 if lines[i].strip().startswith("- ") else 0)
    j = i + 1
    while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > own
                              or (lines[j].strip().startswith("#") and _indent(lines[j]) > own)):
        j += 1
    while j > i + 1 and not lines[j - 1].strip():
        j -= 1
    return j


def _find(lines, path, start=0, end=None):
    """Line index of the key path (e.g. ["spec", "behavior", "scaleDown"]) in [start, end), or None."""
    end = len(lines) if end is None else end
    for i in range(start, end):
        if _key(lines[i]) == path[0]:
            if len(path) == 1:
                return i
            found = _find(lines, path[1:], i + 1, _block_end(lines, i))
            if found is not None:
                return found
    return None


def _scalar(line):
    return line.split(":", 1)[1].split("#")[0].strip()


def _set_scalar(lines, i, value, note=True):
    head, old = lines[i].split(":", 1)[0], _scalar(lines[i])
    lines[i] = f"{head}: {value}" + (f"  # closed_loop.py: {old} in hpa.yaml" if note and str(value) != old else "")


def local_hpa_yaml(text, namespace, stabilization=None, up_period=None, down_period=None):
    """The example HPA for this run: namespace, no metric selector, optionally shorter time constants.

    Raises ValueError when the example no longer has the shape edited here.
    """
    lines = text.splitlines()
    edits = []
    ns = _find(lines, ["metadata", "namespace"])
    if ns is None:
        raise ValueError("hpa.yaml: no metadata.namespace")
    _set_scalar(lines, ns, namespace, note=False)
    sel = _find(lines, ["spec", "metrics", "pods", "metric", "selector"])
    if sel is not None:
        first, last = sel, _block_end(lines, sel)
        while first > 0 and lines[first - 1].strip().startswith("#") and _indent(lines[first - 1]) == _indent(lines[sel]):
            first -= 1
        pad = " " * _indent(lines[sel])
        lines[first:last] = [f"{pad}# closed_loop.py: no metric selector (metricLabelSelector): PyTriton serves one",
                             f"{pad}# model and no ensemble, so every series of a pod is the model that queues."]
        edits.append("metric selector removed")
    for direction, window, period in (("scaleDown", stabilization, down_period), ("scaleUp", None, up_period)):
        block = _find(lines, ["spec", "behavior", direction])
        if block is None:
            if window is not None or period is not None:
                raise ValueError(f"hpa.yaml: no spec.behavior.{direction} to edit")
            continue
        end = _block_end(lines, block)
        if window is not None:
            w = _find(lines, ["stabilizationWindowSeconds"], block + 1, end)
            if w is None:
                raise ValueError(f"hpa.yaml: no {direction}.stabilizationWindowSeconds")
            _set_scalar(lines, w, int(window))
            edits.append(f"{direction}.stabilizationWindowSeconds={int(window)}")
        if period is not None:
            hits = [i for i in range(block + 1, end) if _key(lines[i]) == "periodSeconds"]
            if not hits:
                raise ValueError(f"hpa.yaml: no {direction} policy periodSeconds")
            for i in hits:
                _set_scalar(lines, i, int(period))
            edits.append(f"{direction} policies periodSeconds={int(period)}")
    header = ["# Generated by scripts/closed_loop.py from manifests/examples/triton-hpa/hpa.yaml: "
              + ", ".join([f"namespace {namespace}"] + edits) + "."]
    return "\n".join(header + lines) + "\n", hpa_facts("\n".join(lines))


def hpa_facts(text):
    """min/max replicas, target (milli), stabilization and policy periods, read from the HPA YAML text."""
    lines = text.splitlines()

    def scalar(path, default=None):
        i = _find(lines, path)
        return _scalar(lines[i]) if i is not None else default

    def periods(direction):
        block = _find(lines, ["spec", "behavior", direction])
        if block is None:
            return []
        return [int(_scalar(lines[i])) for i in range(block + 1, _block_end(lines, block))
                if _key(lines[i]) == "periodSeconds"]

    target = scalar(["spec", "metrics", "pods", "target", "averageValue"])
    milli = int(target[:-1]) if target.endswith("m") else round(float(target) * 1000)
    down = _find(lines, ["spec", "behavior", "scaleDown", "stabilizationWindowSeconds"])
    return {"min": int(scalar(["spec", "minReplicas"], 1)), "max": int(scalar(["spec", "maxReplicas"])),
            "target_milli": milli, "metric": scalar(["spec", "metrics", "pods", "metric", "name"]),
            "scale_down_stabilization": int(_scalar(lines[down])) if down is not None else 300,
            "scale_up_periods": periods("scaleUp"), "scale_down_periods": periods("scaleDown")}


# ---------------------------------------------------------------------------
# nginx, the layer-7 load balancer

class Nginx:
    """nginx in the foreground (``daemon off``) with its own prefix, pid file and logs, least_conn upstream."""

    def __init__(self, workdir, logdir):
        self.prefix = os.path.join(workdir, "nginx")
        for sub in ("logs", "tmp"):
            os.makedirs(os.path.join(self.prefix, sub), exist_ok=True)
        self.conf = os.path.join(self.prefix, "nginx.conf")
        self.error_log = os.path.join(self.prefix, "logs", "error.log")
        self.log_path = os.path.join(logdir, "nginx.log")
        self.port = free_port()
        self.proc = None
        self.reloads = 0

    @staticmethod
    def binary():
        return os.environ.get("NGINX_BIN") or shutil.which("nginx") or "/usr/sbin/nginx"

    def config(self, backends):
        tmp = os.path.join(self.prefix, "tmp")
        servers = "\n".join(f"        server 127.0.0.1:{port};" for port in backends) or \
            "        server 127.0.0.1:9 down;  # no replica ready"
        user = "user root;\n" if os.geteuid() == 0 else ""  # workers may read our 0700 temp dir
        return f"""# Generated by scripts/closed_loop.py; rewritten and reloaded when replicas change.
{user}worker_processes 1;
daemon off;
pid {self.prefix}/nginx.pid;
error_log {self.error_log} warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream triton {{
        least_conn;            # each request to the replica with the fewest active requests
        zone triton 64k;
{servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{self.port};
        location / {{
            proxy_pass http://triton;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_read_timeout 60s;
        }}
    }}
}}
"""

    def _ctl(self, *args):
        res = subprocess.run([self.binary(), "-p", self.prefix, "-c", self.conf, "-e", self.error_log, *args],
                             capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
        if res.returncode != 0:
            raise RuntimeError(f"nginx {' '.join(args)} failed ({res.returncode}): {res.stderr.strip()}")

    def start(self, backends):
        write_atomic(self.conf, self.config(backends))
        self._ctl("-t", "-q")
        self.proc = Proc("nginx", [self.binary(), "-p", self.prefix, "-c", self.conf, "-e", self.error_log],
                         self.log_path)

        def up():
            if not self.proc.alive():
                raise Abort(f"nginx exited with {self.proc.popen.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/v2/health/ready")
                return conn.getresponse().status == 200
            except OSError:
                return False
        wait_for(up, 20, interval=0.2, what="nginx proxying to Triton")

    def update(self, backends):
        """Rewrite the upstream and ``nginx -s reload`` (new workers; old ones finish their requests)."""
        write_atomic(self.conf, self.config(backends))
        self._ctl("-t", "-q")
        self._ctl("-s", "reload")
        self.reloads += 1

    def stop(self):
        if self.proc is not None:
            self.proc.stop()


# ---------------------------------------------------------------------------
# The stack: Prometheus (file_sd), the Kubernetes API stand-in, the adapter; replicas come and go.

class Replica:
    def __init__(self, index, proc, port_file, started):
        self.index, self.proc, self.port_file, self.started = index, proc, port_file, started
        self.name = f"triton-{index}"
        self.info = None  # port file JSON once ready
        self.state = "starting"  # -> ready -> stopping -> gone
        self.ready_at = None


class ClosedLoopStack(Stack):
    """Prometheus with file-based discovery, the stand-in (no pods yet), the adapter, nginx and replicas."""

    def __init__(self, workdir, scrape_interval, rate_window, compute_ms, log_level="info"):
        os.makedirs(workdir, exist_ok=True)
        adapter_args = []
        self.rate_window = rate_window
        if seconds(scrape_interval) < 6:
            # The adapter reuses an answer for at most --metrics-cache-ttl (5s, below the 6 s scrape); a
            # faster scrape gets a TTL as short as itself, so the cache hides no scrape.
            adapter_args += ["--metrics-cache-ttl", go_duration(min(5.0, seconds(scrape_interval)))]
        self.rules_file = None
        if go_duration(seconds(rate_window)) != "1m":
            self.rules_file = os.path.join(workdir, "rules.yaml")
            adapter_args += ["--config", self.rules_file]
        super().__init__({"pods": []}, workdir=workdir, log_level=log_level, keep_workdir=True,
                         adapter_args=adapter_args)
        self.scrape_interval = scrape_interval
        self.compute_ms = compute_ms
        self.pytriton_home = os.path.join(workdir, "pytriton")
        self.replicas = []  # every Replica ever started, in order
        self.next_index = 0
        self.nginx = Nginx(workdir, self.logdir)
        self.token_file = os.path.join(workdir, "hpa.token")
        self.lock = threading.Lock()
        self.sd_lock = threading.Lock()

    # -- start / stop ---------------------------------------------------------

    def start(self):
        problems = missing_tools(need_kubectl=False, need_curl=False) + triton_problems()
        nginx = Nginx.binary()
        if not (os.path.isfile(nginx) and os.access(nginx, os.X_OK)):
            problems.append(f"nginx not found at {nginx}: apt-get install -y --no-install-recommends nginx "
                            "(or set NGINX_BIN); scripts/closed_loop.sh installs it")
        if problems:
            raise RuntimeError("cannot start the closed loop:\n  " + "\n  ".join(problems))
        with open(self.pods_file, "w", encoding="utf-8") as f:
            json.dump(self.pods, f)
        if self.rules_file:
            window = go_duration(seconds(self.rate_window))
            write_atomic(self.rules_file, (
                "# Generated by scripts/closed_loop.py: the built-in rule with a shorter rate window, for\n"
                "# shortened runs (every time constant scaled down together).\n"
                "metrics:\n  - name: triton:queue_compute:ratio\n    resource: pods\n    namespaceLabel: namespace\n"
                f"    nameLabel: pod\n    window: {window}\n    query: >-\n"
                "      sum by (<<.GroupBy>>) (rate(nv_inference_queue_duration_us{<<.LabelMatchers>>}[<<.Window>>]))\n"
                "      / clamp_min(sum by (<<.GroupBy>>) (rate(nv_inference_compute_infer_duration_us"
                "{<<.LabelMatchers>>}[<<.Window>>])), 1)\n"))
        write_atomic(self.token_file, HPA_TOKEN + "\n")
        self.write_targets()
        interval = go_duration(seconds(self.scrape_interval))
        write_atomic(self.prom_config, (
            "# Generated by scripts/closed_loop.py: one target per ready Triton replica, from file_sd.\n"
            "global:\n"
            f"  scrape_interval: {interval}\n  scrape_timeout: {interval}\n  evaluation_interval: {interval}\n"
            "scrape_configs:\n  - job_name: triton\n    file_sd_configs:\n"
            f"      - files: [{json.dumps(self.sd_file)}]\n        refresh_interval: 5s\n"))
        self.prom_port = free_port()
        self.start_prometheus()
        self._start_standin()
        self._start_adapter()

    def stop(self):
        """Replicas (in parallel), nginx, then the adapter, stand-in and Prometheus. Idempotent."""
        with self.lock:
            live = [r for r in self.replicas if r.state != "gone"]
            for r in live:
                r.state = "stopping"
        threads = [threading.Thread(target=r.proc.stop, kwargs={"timeout": 20}) for r in live]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r in live:
            r.state = "gone"
        self.nginx.stop()
        super().stop()

    # -- replicas ---------------------------------------------------------------

    def start_replica(self, t):
        index = self.next_index
        self.next_index += 1
        port_file = os.path.join(self.workdir, f"triton-{index}.json")
        env = dict(os.environ, PYTRITON_HOME=self.pytriton_home)
        proc = Proc(f"triton-{index}", [*module_argv("triton_server", triton_python()), "--model-name", MODEL,
                                        "--compute-ms", str(self.compute_ms), "--port-file", port_file],
                    os.path.join(self.logdir, f"triton-{index}.log"), env=env)
        replica = Replica(index, proc, port_file, t)
        with self.lock:
            self.replicas.append(replica)
        # The Deployment creates the Pod at once; it is Pending until its model is ready.
        self.apply_pod(NAMESPACE, replica.name, labels=LABELS, phase="Pending")
        return replica

    def poll_started(self):
        """Replicas whose model became ready since the last call (now Running, in nginx and file_sd)."""
        became = []
        for r in self.live("starting"):
            if not r.proc.alive():
                raise RuntimeError(f"{r.name} exited with {r.proc.popen.returncode} while starting\n"
                                   f"{self.log_tails([r.name], lines=30)}")
            try:
                with open(r.port_file, encoding="utf-8") as f:
                    r.info = json.load(f)
            except (OSError, ValueError):
                continue
            became.append(r)
        if became:
            for r in became:
                r.state = "ready"
            self.nginx_update()
            self.write_targets()
            for r in became:
                self.apply_pod(NAMESPACE, r.name, labels=LABELS, phase="Running")
        return became

    def live(self, *states):
        with self.lock:
            return [r for r in self.replicas if r.state in states]

    def nginx_update(self):
        backends = [r.info["http"] for r in self.live("ready")]
        if self.nginx.proc is None:
            self.nginx.start(backends)
        else:
            self.nginx.update(backends)

    def write_targets(self):
        with self.sd_lock:
            self._write_targets()

    def _write_targets(self):
        groups = [{"targets": [f"127.0.0.1:{r.info['metrics']}"], "labels": {"namespace": NAMESPACE, "pod": r.name}}
                  for r in self.live("ready", "stopping") if r.info and r.proc.alive()]
        write_atomic(self.sd_file, json.dumps(groups, indent=2) + "\n")

    def remove_replica(self, r, drain, on_gone):
        """Take ``r`` out: nginx and terminating Pod now, SIGTERM after ``drain`` s, then Pod and target go."""
        was_ready = r.state == "ready"
        r.state = "stopping"
        if was_ready:
            self.nginx_update()
        # kubectl delete: the Pod gets a deletionTimestamp (terminating) until its process has exited.
        self.apply_pod(NAMESPACE, r.name, deletionTimestamp=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

        def finish():
            if was_ready:
                time.sleep(drain)  # the old nginx workers finish the requests in flight
            r.proc.stop(timeout=20)
            r.state = "gone"
            try:
                self.write_targets()
                self.delete_pod(NAMESPACE, r.name)
            except (OSError, AssertionError) as exc:
                say(f"    warning: cleaning up {r.name}: {exc}")
            on_gone(r)
        threading.Thread(target=finish, name=f"stop-{r.name}", daemon=True).start()

    def log_tails(self, names=None, lines=40):
        if names is None:
            names = ["adapter", "prometheus", "standin", "nginx", "controller", "load"] + \
                [r.proc.name for r in self.replicas]
        return super().log_tails(names, lines)
