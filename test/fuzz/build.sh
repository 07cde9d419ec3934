#!/usr/bin/env bash
# Builds the libFuzzer targets with ASan and UBSan (clang from Debian: apt-get install clang
# libclang-rt-14-dev). usage: test/fuzz/build.sh OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: build.sh OUT_DIR}
mkdir -p "$out"
sources="native/weights/weight_store.cpp native/weights/safetensors.cpp native/weights/zip_archive.cpp
  native/weights/restricted_unpickler.cpp native/weights/torch_checkpoint.cpp native/weights/sharded_weights.cpp"
flags="-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
for target in fuzz_safetensors fuzz_torch_checkpoint; do
  clang++ $flags -o "$out/$target" "test/fuzz/$target.cpp" $sources
done
