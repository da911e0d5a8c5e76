#!/usr/bin/env python3
"""nginx (Debian's, run as our own process: never the system service) for the scale-out tests.

Two configurations, each written into a private directory with every path nginx writes under it:

* ``tenant_router_conf``: an HTTP proxy routing on ``X-Scope-OrgID`` with ``map``, as Mimir, Cortex and a
  Thanos querier front end are addressed: each tenant's requests go to its own store; no header is
  answered 401 and an unknown tenant 403 (Mimir's and Cortex's answers).  Its access log records
  the tenant, method, path and status of every request.
* ``tcp_balancer_conf``: a ``stream`` (layer 4) pass-through spreading TLS connections over several
  adapter replicas, as a Kubernetes Service does: TLS ends at the adapter, so the client verifies the
  adapter's own certificate.  A refused connection goes to the next replica.

``Nginx`` starts it (``daemon off``, its own process group) and stops it by PID.  Standard library only.
"""

import os
import shutil

STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"  # Debian's libnginx-mod-stream


def binary():
    return os.environ.get("NGINX_BIN") or shutil.which("nginx") or "/usr/sbin/nginx"


def missing(stream=False):
    out = []
    if not os.access(binary(), os.X_OK):
        out.append(f"nginx not found at {binary()}: apt-get install -y --no-install-recommends nginx-light")
    if stream and not os.path.exists(STREAM_MODULE):
        out.append(f"{STREAM_MODULE} missing: apt-get install -y --no-install-recommends libnginx-mod-stream")
    return out


def _common(directory):
    return (f"daemon off;\nworker_processes 1;\npid {directory}/nginx.pid;\n"
            f"error_log {directory}/error.log warn;\nevents {{ worker_connections 512; }}\n")


def _temp_paths(directory):
    return "".join(f"    {kind}_temp_path {directory}/{kind}-temp;\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))


def tenant_router_conf(directory, port, stores):
    """``stores``: {tenant id: store port}.  Returns the config text."""
    upstreams = "".join(f"    upstream store_{i} {{ server 127.0.0.1:{p}; keepalive 8; }}\n"
                        for i, p in enumerate(stores.values()))
    mapping = "".join(f"        {tenant} store_{i};\n" for i, tenant in enumerate(stores))
    return _common(directory) + (
        "http {\n"
        + _temp_paths(directory)
        + "    log_format tenant '$msec $http_x_scope_orgid $request_method $uri $status';\n"
        f"    access_log {directory}/access.log tenant;\n"
        + upstreams
        + "    map $http_x_scope_orgid $tenant_store {\n" + mapping + '        default "";\n    }\n'
        "    server {\n"
        f"        listen 127.0.0.1:{port};\n"
        "        location / {\n"
        '            if ($http_x_scope_orgid = "") { return 401 "no org id\\n"; }\n'
        '            if ($tenant_store = "") { return 403 "unknown tenant\\n"; }\n'
        "            proxy_http_version 1.1;\n"
        '            proxy_set_header Connection "";\n'
        "            proxy_pass http://$tenant_store;\n"
        "        }\n"
        "    }\n"
        "}\n")


def tcp_balancer_conf(directory, port, backends):
    """A layer-4 pass-through on ``port`` over ``backends`` (ports), round robin."""
    servers = "".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;\n" for p in backends)
    return f"load_module {STREAM_MODULE};\n" + _common(directory) + (
        "stream {\n"
        "    log_format conn '$msec $upstream_addr $status $bytes_sent $session_time';\n"
        f"    access_log {directory}/access.log conn;\n"
        "    upstream adapters {\n" + servers + "    }\n"
        "    server {\n"
        f"        listen 127.0.0.1:{port};\n"
        "        proxy_pass adapters;\n"
        "        proxy_connect_timeout 1s;\n"
        "        proxy_next_upstream on;\n"
        "    }\n"
        "}\n")


def argv(directory, conf_text):
    """Write ``nginx.conf`` into ``directory``; the command that runs it in the foreground."""
    os.makedirs(directory, exist_ok=True)
    conf = os.path.join(directory, "nginx.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(conf_text)
    return [binary(), "-p", directory, "-c", conf, "-e", os.path.join(directory, "error.log")]


def access_log(directory):
    """The access log's lines, split into fields."""
    try:
        with open(os.path.join(directory, "access.log"), encoding="utf-8") as f:
            return [line.split() for line in f if line.strip()]
    except FileNotFoundError:
        return []
