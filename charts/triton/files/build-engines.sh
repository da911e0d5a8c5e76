#!/usr/bin/env bash
# build-engines.sh: the init container of every Triton pod (manifests/triton/base).
#
# 1. Makes sure TensorRT-LLM engines for this model exist in the node's engine cache, a hostPath that every
#    Triton pod on the node mounts, and builds them from the Hugging Face checkpoint only when they do not:
#
#      $ENGINE_CACHE/<MODEL_NAME>/<HF_REVISION>/tp<TP>-pp<PP>-<GPU arch>-trtllm<version>-<options hash>/
#        engines/rank0.engine … rank<TP×PP-1>.engine, config.json     (trtllm-build output)
#        tokenizer/                                                    (the checkpoint minus its weights)
#        build-info.txt, .complete
#
#    The key holds everything an engine depends on: model, revision, TP, PP, the GPU architecture, the
#    TensorRT-LLM version and a hash of the checkpoint id and the conversion and build options. The first pod on a node builds;
#    later pods on that node (a scale-up, a restart) find the engines and skip the build.
#
#    Two pods on one node never build the same engines at once: the build holds an exclusive flock(1) on
#    $ENGINE_CACHE/.locks/<key>.lock (the second pod waits, then finds the engines). The build writes into a
#    temporary directory on the same filesystem and renames it into place only when complete, so no pod ever
#    sees half-written engines. The kernel releases a lock when its holder dies, so a crashed build leaves no
#    stale lock; its temporary directory is removed by the next build of that key.
#
# 2. Writes this pod's Triton model repository into $MODEL_REPO (an emptyDir): TensorRT-LLM's inflight
#    batcher templates (ensemble, preprocessing, tensorrt_llm, postprocessing, tensorrt_llm_bls), filled in
#    with fill_template.py to point at the cached engines and tokenizer.
#
# The TensorRT-LLM sources (conversion scripts, model templates, fill_template.py) come from $TRTLLM_SRC if
# set (a checkout baked into the image), otherwise from a sparse, shallow git clone of $TRTLLM_GIT_REF that is
# cached on the node the same way as the engines. The checkpoint comes from $HF_CHECKPOINT_DIR if set (a
# pre-staged Hugging Face snapshot, for clusters without outbound access; HF_REVISION still names it in the cache
# key), otherwise it is downloaded from the Hugging Face Hub at $HF_REVISION.
#
# Configuration: environment variables from the ConfigMap triton-model (manifests/triton/base/kustomization.yaml
# lists them). For tests, the tools can be replaced: PYTHON, TRTLLM_BUILD, GPU_ARCH (else from nvidia-smi),
# GPU_COUNT (else from nvidia-smi), TRTLLM_VERSION (else from the installed tensorrt_llm package).
set -euo pipefail

log() { printf '%s build-engines: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

for var in MODEL_NAME HF_MODEL_ID HF_REVISION TP_SIZE PP_SIZE DTYPE CONVERT_SCRIPT TRITON_TEMPLATES \
    FILL_TEMPLATE MAX_BATCH_SIZE MAX_INPUT_LEN MAX_SEQ_LEN MAX_NUM_TOKENS DECOUPLED_MODE \
    KV_CACHE_FREE_GPU_MEM_FRACTION; do
    [[ -n ${!var:-} ]] || die "$var is not set (ConfigMap triton-model)"
done
[[ $TP_SIZE =~ ^[1-9][0-9]*$ && $PP_SIZE =~ ^[1-9][0-9]*$ ]] || die "TP_SIZE and PP_SIZE must be positive integers"
world=$((TP_SIZE * PP_SIZE))

ENGINE_CACHE=${ENGINE_CACHE:-/var/cache/triton-engines}
MODEL_REPO=${MODEL_REPO:-/models}
PYTHON=${PYTHON:-python3}
TRTLLM_BUILD=${TRTLLM_BUILD:-trtllm-build}
TRTLLM_GIT_URL=${TRTLLM_GIT_URL:-https://github.com/NVIDIA/TensorRT-LLM.git}

# Makes a string safe as one path component.
sanitize() { local s=${1//[^A-Za-z0-9._-]/_}; printf '%s' "${s#.}"; }

gpus=${GPU_COUNT:-$(nvidia-smi -L | grep -c '^GPU ' || true)}
(( gpus == world )) || die "this pod sees $gpus GPU(s) but TP_SIZE × PP_SIZE = $world: the pod's nvidia.com/gpu request must be TP × PP"
GPU_ARCH=${GPU_ARCH:-sm$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n 1 | tr -d '. ')}
TRTLLM_VERSION=${TRTLLM_VERSION:-$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("tensorrt_llm"))')}

read -r -a extra_convert <<<"${EXTRA_CONVERT_ARGS:-}"
read -r -a extra_build <<<"${EXTRA_BUILD_ARGS:-}"
convert_args=(--dtype "$DTYPE" --tp_size "$TP_SIZE" --pp_size "$PP_SIZE" "${extra_convert[@]}")
build_args=(--max_batch_size "$MAX_BATCH_SIZE" --max_input_len "$MAX_INPUT_LEN" --max_seq_len "$MAX_SEQ_LEN"
    --max_num_tokens "$MAX_NUM_TOKENS" --gemm_plugin auto "${extra_build[@]}")
options_hash=$(printf '%s\n' "$HF_MODEL_ID" "$CONVERT_SCRIPT" "${convert_args[@]}" -- "${build_args[@]}" | sha256sum | cut -c1-12)

temporary_dirs=()
cleanup() { local dir; for dir in "${temporary_dirs[@]}"; do rm -rf "$dir"; done; }
trap cleanup EXIT

# cached DEST FILL: makes DEST a complete directory, calling `FILL <empty directory>` to produce it when it is
# not there yet. Serialised per DEST with flock; the result appears by an atomic rename.
cached() {
    local dest=$1 fill=$2 name fd tmp
    if [[ -f $dest/.complete ]]; then
        log "found $dest"
        return
    fi
    name=$(sanitize "${dest#"$ENGINE_CACHE"/}")
    mkdir -p "$ENGINE_CACHE/.locks" "$ENGINE_CACHE/.tmp" "$(dirname "$dest")"
    exec {fd}>>"$ENGINE_CACHE/.locks/$name.lock"
    if ! flock --nonblock "$fd"; then
        log "another pod on this node is building $dest; waiting for it"
        flock "$fd"
    fi
    if [[ -f $dest/.complete ]]; then
        log "found $dest (built by another pod while this one waited)"
    else
        rm -rf "$ENGINE_CACHE/.tmp/$name".build-*     # what a build that died left behind
        tmp=$(mktemp -d "$ENGINE_CACHE/.tmp/$name.build-XXXXXX")
        temporary_dirs+=("$tmp")
        chmod 755 "$tmp"
        "$fill" "$tmp"
        touch "$tmp/.complete"
        rm -rf "$dest"                                # never complete here: complete ones were found above
        mv -T "$tmp" "$dest"
        log "built $dest"
    fi
    flock --unlock "$fd"
    exec {fd}>&-
}

fetch_sources() {
    local out=$1
    command -v git >/dev/null || die "git is needed to fetch TensorRT-LLM $TRTLLM_GIT_REF; or set TRTLLM_SRC to a checkout in the image"
    log "fetching TensorRT-LLM $TRTLLM_GIT_REF (examples/, triton_backend/) from $TRTLLM_GIT_URL"
    git clone --quiet --depth 1 --branch "$TRTLLM_GIT_REF" --filter=blob:none --no-checkout "$TRTLLM_GIT_URL" "$out"
    git -C "$out" sparse-checkout set --cone examples "$(dirname "$TRITON_TEMPLATES")" "$(dirname "$FILL_TEMPLATE")"
    git -C "$out" checkout --quiet
}

build_engines() {
    local out=$1 work=$1/work
    local hf=$work/hf
    mkdir -p "$work" "$out/tokenizer"
    if [[ -n ${HF_CHECKPOINT_DIR:-} ]]; then
        [[ -f $HF_CHECKPOINT_DIR/config.json ]] || die "HF_CHECKPOINT_DIR $HF_CHECKPOINT_DIR holds no config.json (a Hugging Face snapshot)"
        log "using the pre-staged checkpoint $HF_CHECKPOINT_DIR (no download)"
        hf=$HF_CHECKPOINT_DIR
    else
        log "downloading $HF_MODEL_ID at revision $HF_REVISION"
        HF_HUB_DISABLE_TELEMETRY=1 "$PYTHON" - "$HF_MODEL_ID" "$HF_REVISION" "$hf" <<'PY'
import sys
from huggingface_hub import snapshot_download
repo_id, revision, local_dir = sys.argv[1:4]
snapshot_download(repo_id=repo_id, revision=revision, local_dir=local_dir)
PY
    fi
    log "converting to a TensorRT-LLM checkpoint: ${convert_args[*]}"
    "$PYTHON" "$SRC/$CONVERT_SCRIPT" --model_dir "$hf" --output_dir "$work/checkpoint" "${convert_args[@]}"
    log "building $world engine(s): ${build_args[*]}"
    "$TRTLLM_BUILD" --checkpoint_dir "$work/checkpoint" --output_dir "$out/engines" --workers "$world" "${build_args[@]}"
    local built
    built=$(find "$out/engines" -maxdepth 1 -name 'rank*.engine' | wc -l)
    (( built == world )) || die "trtllm-build wrote $built engine(s), expected TP × PP = $world"
    # The tokenizer and configuration files, without the weights (pre- and postprocessing load the tokenizer).
    find "$hf" -maxdepth 1 -type f ! -name '*.safetensors' ! -name '*.bin' ! -name '*.pt' ! -name '*.pth' \
        ! -name '*.gguf' -exec cp -t "$out/tokenizer" {} +
    rm -rf "$work"
    {
        echo "model: $HF_MODEL_ID@$HF_REVISION"
        echo "tp: $TP_SIZE, pp: $PP_SIZE, gpu: $GPU_ARCH, tensorrt_llm: $TRTLLM_VERSION"
        echo "convert: $CONVERT_SCRIPT ${convert_args[*]}"
        echo "build: ${build_args[*]}"
        echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) by pod ${POD_NAME:-?}"
    } >"$out/build-info.txt"
}

write_model_repository() {
    local cache=$1 fill_command=("$PYTHON" "$SRC/$FILL_TEMPLATE")
    mkdir -p "$MODEL_REPO"
    find "$MODEL_REPO" -mindepth 1 -delete                # an init container restart starts clean
    cp -r "$SRC/$TRITON_TEMPLATES/." "$MODEL_REPO/"
    fill() { "${fill_command[@]}" -i "$MODEL_REPO/$1/config.pbtxt" "$2"; }
    fill preprocessing "tokenizer_dir:$cache/tokenizer,triton_max_batch_size:$MAX_BATCH_SIZE,preprocessing_instance_count:${PROCESSING_INSTANCES:-1}"
    fill postprocessing "tokenizer_dir:$cache/tokenizer,triton_max_batch_size:$MAX_BATCH_SIZE,postprocessing_instance_count:${PROCESSING_INSTANCES:-1}"
    fill ensemble "triton_max_batch_size:$MAX_BATCH_SIZE,logits_datatype:TYPE_FP32"
    fill tensorrt_llm_bls "triton_max_batch_size:$MAX_BATCH_SIZE,decoupled_mode:$DECOUPLED_MODE,bls_instance_count:1,accumulate_tokens:False,logits_datatype:TYPE_FP32"
    fill tensorrt_llm "triton_backend:tensorrtllm,triton_max_batch_size:$MAX_BATCH_SIZE,decoupled_mode:$DECOUPLED_MODE,engine_dir:$cache/engines,max_beam_width:1,batching_strategy:inflight_fused_batching,max_queue_delay_microseconds:0,max_queue_size:0,kv_cache_free_gpu_mem_fraction:$KV_CACHE_FREE_GPU_MEM_FRACTION,exclude_input_in_output:True,enable_kv_cache_reuse:False,encoder_input_features_data_type:TYPE_FP16,logits_datatype:TYPE_FP32,prompt_embedding_table_data_type:TYPE_FP16"
    log "model repository written to $MODEL_REPO"
}

if [[ -n ${TRTLLM_SRC:-} ]]; then
    SRC=$TRTLLM_SRC
else
    [[ -n ${TRTLLM_GIT_REF:-} ]] || die "set TRTLLM_SRC or TRTLLM_GIT_REF (ConfigMap triton-model)"
    SRC="$ENGINE_CACHE/src/TensorRT-LLM-$(sanitize "$TRTLLM_GIT_REF")"
    cached "$SRC" fetch_sources
fi
[[ -f $SRC/$CONVERT_SCRIPT ]] || die "no $CONVERT_SCRIPT in $SRC (CONVERT_SCRIPT is relative to the TensorRT-LLM sources)"

key="$(sanitize "$MODEL_NAME")/$(sanitize "$HF_REVISION")/tp$TP_SIZE-pp$PP_SIZE-$(sanitize "$GPU_ARCH")-trtllm$(sanitize "$TRTLLM_VERSION")-$options_hash"
cached "$ENGINE_CACHE/$key" build_engines
write_model_repository "$ENGINE_CACHE/$key"
