#!/usr/bin/env bash
# Installs what the real-Triton end-to-end test (tests/integration/test_triton.py) needs:
#   - the Debian packages PyTriton needs that are missing: python3 and python3-venv for the venv, and
#     libpython3.X, the shared interpreter that Triton's Python-backend stub links against (every
#     other library tritonserver needs ships inside the wheel);
#   - a virtualenv .venv-triton (or $TRITON_VENV) with a pinned nvidia-pytriton (Triton Inference
#     Server 2.51 for CPU, no GPU needed) and numpy, unless they already import there.
# The venv is made from Debian's /usr/bin/python3 on purpose: the backend stub needs that
# interpreter's libpython3.X.so, which a pyenv or statically linked Python does not provide.
# Safe to run again; needs root (or sudo) only when a Debian package is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTRITON_VERSION=0.7.0
VENV=${TRITON_VENV:-.venv-triton}
PYTHON=/usr/bin/python3

apt_install_missing() {
    local missing=() package
    for package in "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    if ((${#missing[@]} == 0)); then
        echo "==> install-triton: Debian packages present: $*"
        return
    fi
    echo "==> install-triton: apt-get install ${missing[*]}"
    local as_root=()
    [[ $(id -u) -eq 0 ]] || as_root=(sudo)
    "${as_root[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

apt_install_missing python3 python3-venv
python_version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
apt_install_missing "libpython${python_version}"

if [[ ! -x "$VENV/bin/python" ]]; then
    echo "==> install-triton: creating $VENV from $PYTHON (Python $python_version)"
    "$PYTHON" -m venv "$VENV"
fi

if "$VENV/bin/python" - "$PYTRITON_VERSION" 2>/dev/null <<'EOF'
import sys
from importlib.metadata import version
import numpy  # noqa: F401
import pytriton.triton  # noqa: F401
sys.exit(0 if version("nvidia-pytriton") == sys.argv[1] else 1)
EOF
then
    echo "==> install-triton: nvidia-pytriton $PYTRITON_VERSION already installed in $VENV"
else
    echo "==> install-triton: pip install nvidia-pytriton==$PYTRITON_VERSION numpy into $VENV (about 60 MB)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "nvidia-pytriton==$PYTRITON_VERSION" numpy
fi

stub="$("$VENV/bin/python" -c 'import os, pytriton; print(os.path.dirname(pytriton.__file__))')/tritonserver/python_backend_stubs/$python_version/triton_python_backend_stub"
if [[ ! -x "$stub" ]]; then
    echo "install-triton: nvidia-pytriton $PYTRITON_VERSION has no Python-backend stub for Python $python_version ($stub)" >&2
    exit 1
fi
if ldd "$stub" | grep -q "not found"; then
    echo "install-triton: the Python-backend stub misses libraries:" >&2
    ldd "$stub" | grep "not found" >&2
    exit 1
fi
echo "==> install-triton: ready: $VENV/bin/python (nvidia-pytriton $PYTRITON_VERSION, Python $python_version)"
