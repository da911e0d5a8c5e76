#!/usr/bin/env python3
"""One real Triton Inference Server (through PyTriton, on CPU) serving a model of known compute time.

The model (``--model-name``, default ``slow_model``) takes one FP32 tensor ``x`` and returns it as
``y`` after sleeping ``--compute-ms`` milliseconds per execution.  Triton times the Python-backend
execution as compute (``nv_inference_compute_infer_duration_us``), so compute per request is known.
Batching is off and the model has ``--instances`` instances (default 1): requests beyond the
instances wait in Triton's scheduler queue, which is what ``nv_inference_queue_duration_us`` counts.
With one instance and N concurrent clients, queue time per request is about (N - 1) x compute.

Every listener binds ``--address`` (default 127.0.0.1).  A port given as 0 (the default) is picked
free by the kernel just before start.  Once the model is ready, ``--port-file`` receives JSON::

    {"pid": 1234, "model": "slow_model", "compute_ms": 100.0, "instances": 1,
     "address": "127.0.0.1", "http": 41001, "grpc": 41002, "metrics": 41003}

SIGTERM or SIGINT stops Triton cleanly (``Triton.stop()``) and exits 0.  Several servers can run
side by side (one process and one set of ports each), e.g. replicas of an autoscaling demo.

Run it with the interpreter of ``.venv-triton`` (``scripts/install-triton.sh`` makes it); PyTriton
keeps its workspace under ``$PYTRITON_HOME`` (default: a ``pytriton`` dir next to the port file)::

    .venv-triton/bin/python scripts/triton_server.py --compute-ms 100 --port-file /tmp/t.json
"""

import argparse
import json
import logging
import os
import signal
import socket
import sys
import threading
import time


def log(msg):
    print(f"triton_server[{os.getpid()}]: {msg}", file=sys.stderr, flush=True)


def write_atomic(path, text):
    """Write via temp file + rename so readers never see a partial file."""
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def free_port(address):
    """A currently free TCP port on ``address`` (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model-name", default="slow_model", help="model name (alphanumerics, '.', '_', '-')")
    p.add_argument("--compute-ms", type=float, default=100.0, help="time one execution takes, in ms")
    p.add_argument("--instances", type=int, default=1, help="model instances executing in parallel")
    p.add_argument("--address", default="127.0.0.1", help="address every listener binds")
    p.add_argument("--http-port", type=int, default=0, help="KServe v2 HTTP port; 0 picks a free one")
    p.add_argument("--grpc-port", type=int, default=0, help="KServe v2 gRPC port; 0 picks a free one")
    p.add_argument("--metrics-port", type=int, default=0, help="Prometheus /metrics port; 0 picks a free one")
    p.add_argument("--port-file", required=True, help="JSON with pid and ports, written once the model is ready")
    p.add_argument("--log-verbose", type=int, default=0, help="tritonserver --log-verbose level")
    args = p.parse_args(argv)
    if args.compute_ms < 0:
        p.error("--compute-ms must be >= 0")
    if args.instances < 1:
        p.error("--instances must be >= 1")
    return args


def make_infer(compute_s):
    """An inference callable: sleep ``compute_s`` per execution, echo ``x`` as ``y``."""
    def infer(requests):
        time.sleep(compute_s)
        return [{"y": request["x"]} for request in requests]
    return infer


def main(argv=None):
    args = parse_args(argv)
    os.environ.setdefault("PYTRITON_HOME", os.path.join(os.path.dirname(os.path.abspath(args.port_file)),
                                                        "pytriton"))
    try:
        import numpy as np
        from pytriton.model_config import ModelConfig, Tensor
        from pytriton.triton import Triton, TritonConfig
    except ImportError as exc:
        log(f"cannot import PyTriton ({exc}): run scripts/install-triton.sh and use .venv-triton/bin/python")
        return 3
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s: %(message)s")

    ports = {name: port or free_port(args.address) for name, port in
             (("http", args.http_port), ("grpc", args.grpc_port), ("metrics", args.metrics_port))}
    config = TritonConfig(
        http_address=args.address, http_port=ports["http"],
        grpc_address=args.address, grpc_port=ports["grpc"],
        metrics_address=args.address, metrics_port=ports["metrics"],
        allow_gpu_metrics=False, allow_cpu_metrics=False,
        log_verbose=args.log_verbose, exit_timeout_secs=5,
    )

    stop = threading.Event()

    def on_signal(signum, _frame):
        log(f"signal {signum}: stopping")
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    triton = Triton(config=config)
    try:
        triton.bind(
            model_name=args.model_name,
            infer_func=[make_infer(args.compute_ms / 1000.0) for _ in range(args.instances)],
            inputs=[Tensor(name="x", dtype=np.float32, shape=(-1,))],
            outputs=[Tensor(name="y", dtype=np.float32, shape=(-1,))],
            config=ModelConfig(batching=False),
            strict=False,
        )
        started = time.monotonic()
        triton.run()  # starts tritonserver and waits until the model is ready
        if stop.is_set():
            return 0
        info = {"pid": os.getpid(), "model": args.model_name, "compute_ms": args.compute_ms,
                "instances": args.instances, "address": args.address, **ports}
        write_atomic(args.port_file, json.dumps(info) + "\n")
        log(f"ready in {time.monotonic() - started:.1f}s: {json.dumps(info)}")
        while not stop.wait(1.0):
            if not triton.is_alive():
                log("tritonserver or the model proxy died")
                return 1
        return 0
    finally:
        # Runs after SIGTERM too: the handler only sets the event, stop() tears Triton down here.
        triton.stop()
        log("stopped")


if __name__ == "__main__":
    sys.exit(main())
