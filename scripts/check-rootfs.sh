#!/usr/bin/env bash
# Proves the container image's runtime stage is enough to run the adapter, without a container engine.
#
#   sudo bash scripts/check-rootfs.sh                       # the check (root: it uses chroot)
#   bash scripts/check-rootfs.sh --assemble BINARY ROOTFS   # only assemble; the Containerfile's builder stage
#
# The check:
#   1. compares the Containerfile's runtime stage with the file set below: that stage may only copy the
#      root filesystem this script assembles (and set USER, WORKDIR, ENTRYPOINT, ENV SWIFT_BACKTRACE to the
#      values below); .containerignore and .dockerignore must be identical and keep .build*/.venv* out;
#   2. builds the release binary with the static Swift standard library into .build-static/ (incremental;
#      from scratch it takes about 15 minutes on two shared cores) and fails if ldd lists any libswift*.so;
#   3. assembles the runtime file set into an empty directory and prints its files and size;
#   4. runs the binary in it as the manifests do: UID/GID 65532, no capabilities, no_new_privs, the root
#      filesystem read-only, a tmpfs on /tmp, /proc mounted (a private mount namespace; unshare --root, or
#      chroot --userspec), with --insecure-local-mode and a pods file, next to a stand-in Prometheus on the
#      host's loopback reached as https://localhost:<port> without --prometheus-ca-file, so that name
#      resolution through /etc/hosts (no NSS library in the image) and certificate verification through the
#      image's CA bundle (to which the run appends the stand-in's throwaway CA) both happen;
#   5. asserts /readyz answers `ok` within 30 s, discovery answers the APIResourceList, the HPA's request
#      answers the live pod's value (and leaves out the terminating one), the self-signed certificate was
#      written by UID 65532 under /tmp, then stops the process by its PID with SIGTERM and expects exit 0.
#
# Prints `rootfs: binary answered /readyz in a bare root filesystem (N files, M MB; binary B MB)` and exits 0,
# or exits 1. A passing check also writes .build-static/rootfs-size.json, the size scripts/bench.py reports.
# Not part of scripts/test.sh (the extra release build is slow); to wire it in CI, run it after the tests.
set -euo pipefail

# ---------------------------------------------------------------------------------------------------------
# The runtime file set: the ONE list the Containerfile's runtime stage mirrors (it copies what
# assemble_rootfs makes, nothing else). Paths are inside the image.
BINARY_IN_IMAGE=/usr/local/bin/custom-metrics-adapter
# Swift's out-of-process crash backtracer (static Swift stdlib too), named by ENV SWIFT_BACKTRACE.
BACKTRACER_IN_IMAGE=/usr/local/libexec/swift-backtrace-static
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
RUN_UID=65532
RUN_GID=65532
RUN_WORKDIR=/tmp
# The binary is stripped of debug information and its symbol table (strip --strip-all): 118 -> 90 MB
# (docs/image-and-memory.md). A crash still prints a backtrace with addresses, the image's build ID and its
# load address; function names for frames in the adapter come from the unstripped build output of the same
# build ID (the Containerfile keeps it in the builder stage as /out/custom-metrics-adapter).
# + every shared library ldd lists for the two executables, at the path ldd gives, and the dynamic loader;
# + /etc/passwd, /etc/group (root and nonroot), /etc/nsswitch.conf (files before dns), /tmp (mode 1777).

fail() { echo "FAIL: $*" >&2; exit 1; }

# Shared libraries (absolute paths, the loader included) that ldd lists for one executable.
shared_libraries() {
    local exe=$1 out
    out=$(ldd "$exe" 2>&1) || { [[ $out == *"not a dynamic executable"* ]] && return 0; fail "ldd $exe: $out"; }
    if grep -q 'not found' <<<"$out"; then fail "ldd $exe: a library is missing: $(grep 'not found' <<<"$out")"; fi
    awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }' <<<"$out"
}

# The toolchain's static backtracer, next to the `swift` in PATH (/usr/libexec/... in the swift images).
toolchain_backtracer() {
    local swift_bin
    swift_bin=$(readlink -f "$(command -v swift)") || fail "swift not found in PATH"
    local candidate
    candidate="$(dirname "$swift_bin")/../libexec/swift/linux/swift-backtrace-static"
    [[ -x $candidate ]] || fail "no swift-backtrace-static next to $swift_bin (looked for $candidate)"
    readlink -f "$candidate"
}

# Makes ROOTFS hold exactly the runtime file set for BINARY.
assemble_rootfs() {
    local binary=$1 root=$2 backtracer lib
    umask 022
    backtracer=$(toolchain_backtracer)
    [[ -f $CA_BUNDLE ]] || fail "$CA_BUNDLE is missing on this system (apt-get install ca-certificates)"
    mkdir -p "$root"
    [[ -z $(ls -A "$root") ]] || fail "$root is not empty"

    install -D -m 0755 "$binary" "$root$BINARY_IN_IMAGE"
    # DWARF is two fifths of the file and .symtab/.strtab another 28 MB; neither is read at run time.
    strip --strip-all "$root$BINARY_IN_IMAGE"
    install -D -m 0755 "$backtracer" "$root$BACKTRACER_IN_IMAGE"
    { shared_libraries "$binary"; shared_libraries "$backtracer"; } | sort -u | while read -r lib; do
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
        chmod 0755 "$root$lib"
    done
    install -D -m 0644 "$CA_BUNDLE" "$root$CA_BUNDLE"
    mkdir -p "$root/etc"
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%s:%s:nonroot:/nonexistent:/sbin/nologin\n' \
        "$RUN_UID" "$RUN_GID" >"$root/etc/passwd"
    printf 'root:x:0:\nnonroot:x:%s:\n' "$RUN_GID" >"$root/etc/group"
    # glibc's built-in default would ask DNS before /etc/hosts (and the pod's hostAliases).
    printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
    chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/etc/nsswitch.conf"
    install -d -m 1777 "$root$RUN_WORKDIR"
}

print_rootfs() {
    local root=$1
    echo "runtime file set ($root):"
    (cd "$root" && find . -mindepth 1 \( -type f -o -type l \) -printf '  %10s  /%P\n' | sort -k2)
    (cd "$root" && find . -mindepth 1 -type d -empty -printf '  %10s  /%P/ (empty directory, mode %m)\n')
}

rootfs_file_count() { find "$1" -mindepth 1 \( -type f -o -type l \) | wc -l; }
rootfs_megabytes() { du -sb "$1" | awk '{ printf "%.1f", $1 / 1000000 }'; }
binary_megabytes() { stat -c %s "$1$BINARY_IN_IMAGE" | awk '{ printf "%.1f MB", $1 / 1000000 }'; }

if [[ ${1:-} == --assemble ]]; then
    [[ $# -eq 3 ]] || fail "usage: $0 --assemble BINARY ROOTFS"
    [[ -x $2 ]] || fail "$2 is not an executable"
    if shared_libraries "$2" | grep -q '/libswift'; then fail "$2 links libswift*.so: build with --static-swift-stdlib"; fi
    assemble_rootfs "$2" "$3"
    print_rootfs "$3"
    echo "rootfs: assembled $3 ($(rootfs_file_count "$3") files, $(rootfs_megabytes "$3") MB; binary $(binary_megabytes "$3"))"
    exit 0
fi
[[ $# -eq 0 ]] || fail "usage: $0 [--assemble BINARY ROOTFS]"

# ---------------------------------------------------------------------------------------------------------
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
started=$SECONDS
[[ $(id -u) -eq 0 ]] || fail "needs root (chroot and setuid into the assembled root filesystem)"
for tool in ldd strip curl unshare setpriv openssl; do command -v "$tool" >/dev/null || fail "$tool not found"; done
PYTHON=/usr/bin/python3
[[ -x $PYTHON ]] || PYTHON=$(command -v python3) || fail "python3 not found"

echo "==> Containerfile: the runtime stage holds only the assembled root filesystem"
containerfile=Containerfile
[[ -f $containerfile ]] || fail "no $containerfile"
# The runtime stage is everything after the last FROM; comments and blank lines do not count.
runtime_stage=$(awk '/^FROM[ \t]/ { stage = "" } { stage = stage $0 "\n" } END { printf "%s", stage }' "$containerfile" \
    | grep -Ev '^[[:space:]]*(#|$)')
expected_entrypoint="ENTRYPOINT [\"$BINARY_IN_IMAGE\"]"
saw_copy=0 saw_user=0 saw_entrypoint=0 saw_workdir=0 saw_backtrace=0
while IFS= read -r line; do
    case $line in
        "FROM scratch") ;;
        FROM*) fail "runtime stage starts from '${line#FROM }': it must be FROM scratch, so that it holds only the checked files" ;;
        "COPY --from=build /rootfs/ /") saw_copy=1 ;;
        "USER $RUN_UID:$RUN_GID") saw_user=1 ;;
        "WORKDIR $RUN_WORKDIR") saw_workdir=1 ;;
        "$expected_entrypoint") saw_entrypoint=1 ;;
        "ENV SWIFT_BACKTRACE="*"swift-backtrace=$BACKTRACER_IN_IMAGE"*) saw_backtrace=1 ;;
        EXPOSE*|LABEL*) ;;
        COPY*|ADD*) fail "the runtime stage copies something the rootfs check does not hold: '$line' (add it to assemble_rootfs in $0 instead)" ;;
        *) fail "runtime stage line not covered by the rootfs check: '$line'" ;;
    esac
done <<<"$runtime_stage"
[[ $saw_copy -eq 1 ]] || fail "the runtime stage must COPY --from=build /rootfs/ / (the set this script assembles)"
[[ $saw_user -eq 1 ]] || fail "the runtime stage must say USER $RUN_UID:$RUN_GID"
[[ $saw_workdir -eq 1 ]] || fail "the runtime stage must say WORKDIR $RUN_WORKDIR"
[[ $saw_entrypoint -eq 1 ]] || fail "the runtime stage must say $expected_entrypoint"
[[ $saw_backtrace -eq 1 ]] || fail "the runtime stage must set ENV SWIFT_BACKTRACE=...swift-backtrace=$BACKTRACER_IN_IMAGE"
grep -Eq '^RUN bash scripts/check-rootfs\.sh --assemble [^ ]+ /rootfs$' "$containerfile" \
    || fail "the builder stage must assemble /rootfs with 'RUN bash scripts/check-rootfs.sh --assemble <binary> /rootfs'"
grep -q -- '--static-swift-stdlib --product custom-metrics-adapter' "$containerfile" \
    || fail "the builder stage must build with --static-swift-stdlib --product custom-metrics-adapter"
cmp -s .containerignore .dockerignore || fail ".containerignore and .dockerignore differ"
grep -qx '\*\*/\.build\*' .containerignore && grep -qx '\*\*/\.venv\*' .containerignore \
    || fail ".containerignore must exclude **/.build* and **/.venv*"
echo "runtime stage: FROM scratch, COPY --from=build /rootfs/ /, USER $RUN_UID:$RUN_GID, WORKDIR $RUN_WORKDIR, $expected_entrypoint"

echo "==> swift build -c release --static-swift-stdlib --product custom-metrics-adapter --scratch-path .build-static"
build_started=$SECONDS
swift build -c release --static-swift-stdlib --product custom-metrics-adapter --scratch-path .build-static 2>&1 \
    | { grep -Ev '^\[[0-9]+/[0-9]+\]' || true; } || fail "the static release build failed"
BINARY="$(swift build -c release --scratch-path .build-static --show-bin-path)/custom-metrics-adapter"
[[ -x $BINARY ]] || fail "no binary at $BINARY"
echo "built in $((SECONDS - build_started)) s: $BINARY ($(du -h "$BINARY" | cut -f1))"

echo "==> ldd: no Swift runtime library is loaded at run time"
ldd "$BINARY" | sed 's/^/  /'
if ldd "$BINARY" | grep -q 'libswift'; then fail "ldd lists libswift*.so: the static Swift stdlib did not take"; fi

WORK=$(mktemp -d /tmp/check-rootfs.XXXXXX)
RFS="$WORK/rootfs"
adapter_pid="" prometheus_pid=""
cleanup() {
    if [[ -n $adapter_pid ]] && kill -0 "$adapter_pid" 2>/dev/null; then kill -KILL "$adapter_pid" 2>/dev/null || true; fi
    if [[ -n $prometheus_pid ]] && kill -0 "$prometheus_pid" 2>/dev/null; then kill "$prometheus_pid" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "==> assemble the runtime file set into an empty directory"
assemble_rootfs "$BINARY" "$RFS"
print_rootfs "$RFS"
files=$(rootfs_file_count "$RFS")
megabytes=$(rootfs_megabytes "$RFS")
binary_size=$(binary_megabytes "$RFS")
echo "total: $files files, $megabytes MB (the stripped binary: $binary_size)"

echo "==> run it in the bare root filesystem as $RUN_UID:$RUN_GID"
# Added for this run only, not part of the image: what a container runtime mounts (/etc/hosts), the
# pods the adapter serves (instead of a Kubernetes API), and the stand-in Prometheus' throwaway CA appended
# to the CA bundle, as a public CA that signed a real Prometheus' certificate would be in it.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=check-rootfs-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -keyout "$WORK/ca.key" -out "$WORK/ca.crt" 2>/dev/null || fail "openssl cannot make a CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
    -keyout "$WORK/prometheus.key" -out "$WORK/prometheus.csr" 2>/dev/null || fail "openssl cannot make a key"
printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$WORK/ext.cnf"
openssl x509 -req -in "$WORK/prometheus.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -CAcreateserial -days 1 \
    -extfile "$WORK/ext.cnf" -out "$WORK/prometheus.crt" 2>/dev/null || fail "openssl cannot sign the certificate"
cat "$WORK/ca.crt" >>"$RFS$CA_BUNDLE"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n' >"$RFS/etc/hosts"
mkdir -p "$RFS/run/check"
cat >"$RFS/run/check/pods.yaml" <<'YAML'
pods:
  - {namespace: team-a, name: triton-0, labels: {app: triton}}
  - {namespace: team-a, name: triton-1, labels: {app: triton}, terminating: true}
YAML
chmod -R a+rX "$RFS/run"

# A stand-in Prometheus on the host's loopback (the chroot shares the network namespace).
"$PYTHON" - "$WORK/prometheus.port" "$WORK/prometheus.queries" "$WORK/prometheus.crt" "$WORK/prometheus.key" <<'PY' &
import http.server, json, os, ssl, sys, time, urllib.parse

port_file, queries_file, cert, key = sys.argv[1:5]

class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        query = urllib.parse.parse_qs(body).get("query", [""])[0]
        if self.path != "/api/v1/query" or not query:
            self.send_error(404)
            return
        with open(queries_file, "a") as f:
            f.write(query + "\n")
        now = round(time.time(), 3)
        result = [{"metric": {"namespace": "team-a", "pod": pod}, "value": [now, value]}
                  for pod, value in (("triton-0", "1.5"), ("triton-1", "0.25"))]
        payload = json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
PY
prometheus_pid=$!
for _ in $(seq 50); do [[ -s $WORK/prometheus.port ]] && break; sleep 0.1; done
[[ -s $WORK/prometheus.port ]] || fail "the stand-in Prometheus did not start"
prometheus_port=$(cat "$WORK/prometheus.port")
port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

adapter_args=(--insecure-local-mode --pods-file /run/check/pods.yaml --secure-port "$port" --bind-address 127.0.0.1
    --cert-dir /tmp/certs --prometheus-url "https://localhost:$prometheus_port")
# As the manifests run it: in a private mount namespace, the root filesystem read-only
# (readOnlyRootFilesystem: true), a 16 MiB tmpfs on /tmp (the emptyDir) and /proc (which every container
# runtime mounts; the Swift runtime reads the arguments from /proc/self/cmdline, so without it the binary
# would run with none); then no_new_privs (allowPrivilegeEscalation: false) and the switch from UID 0 to
# 65532, which clears every capability. unshare (util-linux 2.38+) also enters WORKDIR as the image does;
# chroot(1) starts in / instead.
mkdir -p "$RFS/proc"
if unshare --help 2>&1 | grep -q -- '--setuid'; then
    enter=("$(command -v unshare)" --root="$RFS" --wd="$RUN_WORKDIR" --setgid="$RUN_GID" --setuid="$RUN_UID" --)
else
    command -v chroot >/dev/null || fail "neither unshare --setuid nor chroot is available"
    enter=("$(command -v chroot)" --userspec="$RUN_UID:$RUN_GID" --groups="$RUN_GID" "$RFS")
fi
mounts='mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && mount -t tmpfs -o mode=1777,size=16m tmpfs "$0/tmp"'
mounts+=' && mount -t proc proc "$0/proc" && exec "$@"'
launcher=("$(command -v unshare)" --mount --propagation private -- /bin/sh -c "$mounts"
    "$RFS" "$(command -v setpriv)" --no-new-privs "${enter[@]}")
echo "${launcher[*]} $BINARY_IN_IMAGE ${adapter_args[*]}"
# Every step execs (no fork): $! is the adapter's own PID.
env -i SWIFT_BACKTRACE="enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=$BACKTRACER_IN_IMAGE" \
    "${launcher[@]}" "$BINARY_IN_IMAGE" "${adapter_args[@]}" >"$WORK/adapter.log" 2>&1 &
adapter_pid=$!
show_log() { echo "--- adapter log:" >&2; sed 's/^/  /' "$WORK/adapter.log" >&2; }

ready_started=$SECONDS
ready=""
while ((SECONDS - ready_started < 30)); do
    kill -0 "$adapter_pid" 2>/dev/null || { show_log; fail "the adapter exited in the bare root filesystem"; }
    ready=$(curl -sk --max-time 2 "https://127.0.0.1:$port/readyz" || true)
    [[ $ready == ok ]] && break
    sleep 0.2
done
[[ $ready == ok ]] || { show_log; fail "/readyz did not answer ok within 30 s (last answer: '$ready')"; }
echo "/readyz: ok after $((SECONDS - ready_started)) s"

status=/proc/$adapter_pid/status
[[ $(readlink "/proc/$adapter_pid/root") == "$RFS" ]] || fail "the adapter's root is $(readlink "/proc/$adapter_pid/root"), not $RFS"
[[ $(readlink "/proc/$adapter_pid/exe") == "$RFS$BINARY_IN_IMAGE" ]] || fail "the running executable is $(readlink "/proc/$adapter_pid/exe")"
awk '/^Uid:/ { exit !($2 == u && $3 == u && $4 == u && $5 == u) }' u="$RUN_UID" "$status" || fail "not running as UID $RUN_UID: $(grep ^Uid: "$status")"
awk '/^Gid:/ { exit !($2 == g && $3 == g && $4 == g && $5 == g) }' g="$RUN_GID" "$status" || fail "not running as GID $RUN_GID: $(grep ^Gid: "$status")"
grep -Eq '^CapEff:[[:space:]]+0+$' "$status" || fail "the adapter has capabilities: $(grep ^CapEff: "$status")"
grep -Eq '^NoNewPrivs:[[:space:]]+1$' "$status" || fail "no_new_privs is not set"
echo "process $adapter_pid: root $RFS, exe $BINARY_IN_IMAGE, uid/gid $RUN_UID/$RUN_GID, no capabilities, no_new_privs"

discovery=$(curl -sk --max-time 5 "https://127.0.0.1:$port/apis/custom.metrics.k8s.io/v1beta2")
"$PYTHON" - "$discovery" <<'PY' || { show_log; fail "discovery did not answer the APIResourceList: $discovery"; }
import json, sys
d = json.loads(sys.argv[1])
assert d["kind"] == "APIResourceList" and d["apiVersion"] == "v1", d
assert d["groupVersion"] == "custom.metrics.k8s.io/v1beta2", d
names = [r["name"] for r in d["resources"]]
assert "pods/triton:queue_compute:ratio" in names, names
print("discovery: APIResourceList custom.metrics.k8s.io/v1beta2:", ", ".join(names))
PY

metric_path='/apis/custom.metrics.k8s.io/v1beta2/namespaces/team-a/pods/%2A/triton:queue_compute:ratio?labelSelector=app%3Dtriton'
metrics=$(curl -sk --max-time 10 "https://127.0.0.1:$port$metric_path")
"$PYTHON" - "$metrics" <<'PY' || { show_log; fail "the HPA's request did not answer triton-0 = 1500m alone: $metrics"; }
import json, sys
d = json.loads(sys.argv[1])
assert d["kind"] == "MetricValueList", d
items = [(i["describedObject"]["name"], i["value"]) for i in d["items"]]
assert items == [("triton-0", "1500m")], items
print("metrics: MetricValueList", items, "(terminating triton-1 left out)")
PY
grep -q 'namespace="team-a"' "$WORK/prometheus.queries" || fail "the stand-in Prometheus got no query for namespace team-a"
echo "prometheus: POST /api/v1/query to https://localhost:$prometheus_port (name from /etc/hosts, certificate verified with $CA_BUNDLE)"

echo "memory: $(awk '/^VmRSS:/ { printf "%.1f MiB resident", $2 / 1024 }' "$status") after these requests"

# Seen through the process' root: its /tmp is a tmpfs in its own mount namespace.
key_owner=$(stat -c '%u:%g' "/proc/$adapter_pid/root/tmp/certs/apiserver.key" 2>/dev/null) || fail "no self-signed key in /tmp/certs"
[[ $key_owner == "$RUN_UID:$RUN_GID" ]] || fail "/tmp/certs/apiserver.key is owned by $key_owner"
# The process' own view of its mounts: its root is "/".
awk '$2 == "/" { root = $4 } END { exit !(root ~ /^ro(,|$)/) }' "/proc/$adapter_pid/mounts" \
    || fail "the root filesystem is not read-only for the adapter: $(awk '$2 == "/"' "/proc/$adapter_pid/mounts")"
echo "certificate: generated in /tmp/certs (tmpfs) by $RUN_UID:$RUN_GID; root filesystem read-only"

kill -TERM "$adapter_pid"
stop_started=$SECONDS
code=0
wait "$adapter_pid" || code=$?
adapter_pid=""
[[ $code -eq 0 ]] || { show_log; fail "the adapter exited with $code after SIGTERM"; }
echo "SIGTERM: exited 0 after $((SECONDS - stop_started)) s"

echo "total time: $((SECONDS - started)) s"
# The size scripts/bench.py reports against its target (the image row), written only by a passing check.
printf '{"megabytes": %s, "files": %s, "commit": "%s", "measured": "%s"}\n' "$megabytes" "$files" \
    "$(git describe --always --dirty --exclude '*' 2>/dev/null || echo unknown)" "$(date -u +%Y-%m-%dT%H:%MZ)" \
    >.build-static/rootfs-size.json
echo "rootfs: binary answered /readyz in a bare root filesystem ($files files, $megabytes MB; binary $binary_size)"
