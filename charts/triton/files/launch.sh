#!/usr/bin/env bash
# launch.sh: the main container of every Triton pod (manifests/triton/base). Serves the model repository that
# build-engines.sh wrote into $MODEL_REPO.
#
#   TP × PP = 1: one tritonserver process.
#   TP × PP > 1: mpirun with one rank per GPU (TP × PP ranks, one tritonserver each), as TensorRT-LLM's
#                launch_triton_server.py does. Rank 0 loads every model and is the only one serving HTTP (8000),
#                gRPC (8001) and metrics (8002); ranks 1… load only the tensorrt_llm model (they are
#                TensorRT-LLM's worker ranks) with every endpoint switched off, so nothing else binds a port and
#                Prometheus sees one set of nv_inference_* series per pod.
#
# The rank count is computed here from TP_SIZE and PP_SIZE (ConfigMap triton-model); the pod's nvidia.com/gpu
# request comes from the same topology component (manifests/triton/components/). Before starting, the script
# checks that the pod sees exactly TP × PP GPUs and refuses to start otherwise.
#
# LAUNCH_DRY_RUN=1 prints the command, one argument per line, instead of running it; scripts/check-manifests.sh
# uses it to check the rank count of every overlay.
set -euo pipefail

die() { echo "launch: error: $*" >&2; exit 1; }

[[ ${TP_SIZE:-} =~ ^[1-9][0-9]*$ && ${PP_SIZE:-} =~ ^[1-9][0-9]*$ ]] \
    || die "TP_SIZE and PP_SIZE must be positive integers (ConfigMap triton-model)"
world=$((TP_SIZE * PP_SIZE))
MODEL_REPO=${MODEL_REPO:-/models}

common=(
    --model-repository="$MODEL_REPO"
    --disable-auto-complete-config
    # On SIGTERM Triton stops accepting requests and waits this long for those in flight.
    --exit-timeout-secs="${EXIT_TIMEOUT_SECS:-100}"
    --log-verbose=0
)
serving=(--http-port=8000 --grpc-port=8001 --metrics-port=8002 --allow-http=true --allow-grpc=true --allow-metrics=true)
worker=(--model-control-mode=explicit --load-model="${TRTLLM_MODEL_NAME:-tensorrt_llm}"
    --allow-http=false --allow-grpc=false --allow-metrics=false)

if (( world == 1 )); then
    cmd=(tritonserver "${common[@]}" "${serving[@]}" "--backend-config=python,shm-region-prefix-name=prefix0_")
else
    # Open MPI's single-copy shared-memory transport (CMA) needs ptrace rights between the ranks, which
    # containers usually lack; TensorRT-LLM moves tensors with NCCL, MPI carries only small control messages.
    export OMPI_MCA_btl_vader_single_copy_mechanism=none
    cmd=(mpirun --allow-run-as-root)
    for ((rank = 0; rank < world; rank++)); do
        (( rank == 0 )) || cmd+=(:)
        cmd+=(-n 1 tritonserver "${common[@]}" "--backend-config=python,shm-region-prefix-name=prefix${rank}_")
        if (( rank == 0 )); then cmd+=("${serving[@]}"); else cmd+=("${worker[@]}"); fi
    done
fi

if [[ -n ${LAUNCH_DRY_RUN:-} ]]; then
    printf '%s\n' "${cmd[@]}"
    exit 0
fi

gpus=$(nvidia-smi -L | grep -c '^GPU ' || true)
(( gpus == world )) || die "this pod sees $gpus GPU(s) but TP_SIZE × PP_SIZE = $world: the pod's nvidia.com/gpu request must be TP × PP"
[[ -f $MODEL_REPO/tensorrt_llm/config.pbtxt ]] || die "no model repository in $MODEL_REPO (the init container build-engines writes it)"

echo "launch: TP=$TP_SIZE PP=$PP_SIZE: $world rank(s)" >&2
exec "${cmd[@]}"
