#!/usr/bin/env bash
# The GPU check of the CUDA backend: one command, a few minutes on an H100.
#   1. builds the kernel tests, the host tests and the model runner (CMake, nvcc), unless
#      SIE_GPU_PREBUILT names a folder holding them (built elsewhere with the same CMakeLists);
#   2. runs every kernel against its C++ twin (random shapes and edge cases), then the tensor-core
#      GEMM benchmark on 32k-token products;
#   3. model parity (bench/cuda/gpu_parity.py): every head on tiny checkpoints against the float64
#      references of ../shared/tools, and MiniLM-, bge-base- and bge-m3-shaped checkpoints against
#      transformers float64, in fp32 / fp16 / bf16;
#   4. throughput and latency against sentence-transformers fp16 in the same run (gpu_bench.py),
#      and where our GPU time goes, by step;
#   5. compute-sanitizer memcheck and racecheck on the kernel tests, memcheck on a model run
#      (last: the slowest step, and the figures above do not depend on it).
# Logs go to $OUT (the device tool's folder) or build-gpu/logs. Every step has a time limit, so a
# hung kernel fails its step instead of the whole check. Exit status: failed steps.
# usage: bash bench/gpu-check.sh      (env: SIE_SHARED=../shared, SIE_GPU_PREBUILT=dir, PYTHON=python3)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SIE_SHARED:-$ROOT/../shared}
BUILD=$ROOT/build-gpu
LOGS=${OUT:-$BUILD/logs}
WORK=${SIE_GPU_WORK:-/tmp/sie-gpu-check}
PYTHON=${PYTHON:-python3}
mkdir -p "$LOGS" "$WORK"
failed=()
step() { echo "== $1 (at ${SECONDS} s)"; }

if ! nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; then
  echo "SKIP: no NVIDIA GPU on this machine"; exit 77
fi

# cuBLASLt is a run-time candidate for the GEMMs: point at the toolkit's or PyTorch's copy.
if [ -z "${SIE_CUBLASLT:-}" ]; then
  SIE_CUBLASLT=$(ls /usr/local/cuda/lib64/libcublasLt.so.13 2>/dev/null ||
    $PYTHON -c "import glob, nvidia.cublas as c; print(sorted(glob.glob(c.__path__[0] + '/lib/libcublasLt.so.*'))[0])" 2>/dev/null)
  export SIE_CUBLASLT
fi
echo "cuBLASLt: ${SIE_CUBLASLT:-not found}"

step "build"
if [ -n "${SIE_GPU_PREBUILT:-}" ]; then
  BIN=$SIE_GPU_PREBUILT
  echo "using prebuilt binaries in $BIN"
else
  BIN=$BUILD
  arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$arch" > "$LOGS/cmake.txt" 2>&1 &&
    cmake --build "$BUILD" --target sie_cuda_kernel_tests sie_cuda_host_tests sie_cuda_model_run >> "$LOGS/cmake.txt" 2>&1 ||
    { tail -30 "$LOGS/cmake.txt"; echo "FAIL build"; exit 1; }
fi

step "kernel tests and GEMM throughput"
timeout 240 "$BIN/sie_cuda_kernel_tests" --bench > "$LOGS/kernel_tests.txt" 2>&1 || failed+=(kernel-tests)
grep -v '^ok ' "$LOGS/kernel_tests.txt"
step "host tests"
timeout 120 "$BIN/sie_cuda_host_tests" > "$LOGS/host_tests.txt" 2>&1 || failed+=(host-tests)
grep -v '^ok ' "$LOGS/host_tests.txt"

step "model parity"
timeout 300 $PYTHON "$ROOT/bench/cuda/gpu_parity.py" "$BIN/sie_cuda_model_run" "$SHARED" "$WORK" 2>&1 | grep -E "^(ok|FAIL|parity)" | tee "$LOGS/parity.txt"
grep -q "^parity: 0 failed" "$LOGS/parity.txt" || failed+=(parity)

step "throughput and latency vs sentence-transformers fp16"
SIE_CUDA_GEMM_LOG=1 timeout 400 $PYTHON "$ROOT/bench/cuda/gpu_bench.py" "$BIN/sie_cuda_model_run" "$WORK" "$WORK/minilm-shaped:mean" "$WORK/bge-base-shaped:cls" 2>&1 |
  grep -E "^(device|bench|latency|FAIL|sie gemm|sie phase)" | tee "$LOGS/bench.txt" | grep -v "^sie gemm"
grep -q "^latency bge-base" "$LOGS/bench.txt" || failed+=(bench)

step "compute-sanitizer"
# racecheck on our kernels only: cuBLASLt's own Hopper kernels (nvjet_sm90_*) drew hazard reports
# in the 2026-11-26 run, and they are not ours to fix; memcheck covers both.
timeout 240 compute-sanitizer --tool memcheck --error-exitcode 3 "$BIN/sie_cuda_kernel_tests" --quick > "$LOGS/memcheck.txt" 2>&1 || failed+=(memcheck)
tail -1 "$LOGS/memcheck.txt"
SIE_CUBLASLT=off timeout 240 compute-sanitizer --tool racecheck --error-exitcode 3 "$BIN/sie_cuda_kernel_tests" --quick > "$LOGS/racecheck.txt" 2>&1 ||
  failed+=(racecheck)
tail -1 "$LOGS/racecheck.txt"
$PYTHON "$SHARED/tools/make_checkpoint.py" dense-mean "$WORK/sanitized" --hidden 64 --layers 2 --heads 2 --inter 256 > /dev/null
for dtype in fp32 fp16; do
  timeout 120 compute-sanitizer --tool memcheck --error-exitcode 3 "$BIN/sie_cuda_model_run" --model "$WORK/sanitized" --dtype $dtype \
    --tokens "$SHARED/reference/outputs/sentences.tokens.json" --out "$WORK/sanitized.json" > "$LOGS/memcheck-model-$dtype.txt" 2>&1 ||
    failed+=(memcheck-model-$dtype)
  tail -1 "$LOGS/memcheck-model-$dtype.txt"
done

echo "gpu-check: ${SECONDS} s, ${#failed[@]} failed steps${failed[*]:+: ${failed[*]}}"
[ ${#failed[@]} -eq 0 ]
