#!/usr/bin/env bash
# Packs what bench/gpu-check.sh needs on a lent GPU machine that has no compiler, no Node and no
# network, into .gpu/ (git-ignored; the device tool carries it, 64 MiB at most):
#   .gpu/bin/*.xz   the kernel tests, host tests and model runner, the CUDA addon, and a Node
#                   binary, stripped and xz-compressed (built here with the repository's CMakeLists:
#                   nvcc, sm_80 + sm_90a);
#   .gpu/shared/    the parts of ../shared the check reads (the checkpoint maker, the float64
#                   reference, tokenized fixtures, MiniLM's and XLM-R's tokenizer files);
#   .gpu/run.sh     unpacks the binaries and runs the whole check.
# On the device:  bash .gpu/run.sh [STEP ...]   (the device tool: carry [".gpu"]; steps as in bench/gpu-check.sh)
# usage: bash bench/cuda/pack-gpu-bundle.sh   (env: SIE_GPU_BUILD=build dir, default /tmp/sie-gpu-build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${SIE_SHARED:-$ROOT/../shared}
BUILD=${SIE_GPU_BUILD:-/tmp/sie-gpu-build}
OUT=$ROOT/.gpu

cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release > "$BUILD.log" 2>&1 || { tail -20 "$BUILD.log"; exit 1; }
cmake --build "$BUILD" --target sie_cuda_kernel_tests sie_cuda_host_tests sie_cuda_model_run >> "$BUILD.log" 2>&1 || { tail -20 "$BUILD.log"; exit 1; }
# The addon needs Node's headers, which the cmake-js build (npm run build:native) provides.
addon=$ROOT/build/Cuda/sie_native_cuda.node
(cd "$ROOT" && npm run build:native > "$BUILD.addon.log" 2>&1) || { tail -20 "$BUILD.addon.log"; exit 1; }

rm -rf "$OUT/bin" "$OUT/shared" "$OUT/run"
mkdir -p "$OUT/bin" "$OUT/shared/models" "$OUT/shared/reference"
for f in "$BUILD/sie_cuda_kernel_tests" "$BUILD/sie_cuda_host_tests" "$BUILD/sie_cuda_model_run" "$addon" "$(command -v node)"; do
  strip -o "$OUT/bin/$(basename "$f")" "$f"
  xz -T0 -6 -f "$OUT/bin/$(basename "$f")"
done
mkdir -p "$OUT/shared/tools" "$OUT/shared/reference/outputs"
cp "$SHARED/tools/make_checkpoint.py" "$SHARED/tools/ref_forward.py" "$OUT/shared/tools/"
for f in sentences.tokens.json pairs.tokens.json sentences.xlmr-tokens.json pairs.xlmr-tokens.json; do
  cp "$SHARED/reference/outputs/$f" "$OUT/shared/reference/outputs/"
done
cp -r "$SHARED/models/all-MiniLM-L6-v2" "$SHARED/models/xlmr-tokenizer" "$OUT/shared/models/"

cat > "$OUT/run.sh" <<'EOF'
#!/usr/bin/env bash
# Made by bench/cuda/pack-gpu-bundle.sh: unpacks the binaries, then runs bench/gpu-check.sh.
set -u
cd "$(dirname "$0")/.."
mkdir -p .gpu/run
for f in .gpu/bin/*.xz; do name=$(basename "$f" .xz); xz -dc "$f" > ".gpu/run/$name"; chmod +x ".gpu/run/$name"; done
HF_HUB_OFFLINE=1 SIE_SHARED=.gpu/shared SIE_GPU_PREBUILT=.gpu/run SIE_GPU_NODE=.gpu/run/node \
  SIE_GPU_CUDA_ADDON=.gpu/run/sie_native_cuda.node bash bench/gpu-check.sh "$@"
EOF
chmod +x "$OUT/run.sh"
du -sh "$OUT"
