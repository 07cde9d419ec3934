#!/usr/bin/env bash
# Measures GEMM libraries against our packed kernel on MiniLM's and bge-m3's shapes (see gemm-libraries.cpp).
# OMP_WAIT_POLICY=passive keeps the OpenMP libraries from spinning on the cores the next one measures.
# Needs: apt-get install libopenblas-dev libdnnl-dev libeigen3-dev
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
out=$(mktemp -d)
g++ -O3 -march=native -fopenmp -std=c++17 -Inative/cpu -I/usr/include/eigen3 bench/gemm-libraries.cpp \
  native/cpu/gemm/packed_gemm.cpp native/cpu/gemm/gemm_microkernel_avx512.cpp native/cpu/gemm/gemm_microkernel_avx2.cpp \
  native/cpu/gemm/gemm_microkernel_portable.cpp native/cpu/thread_pool.cpp native/core/cpu_features.cpp \
  -lopenblas -ldnnl -lpthread -o "$out/gemm-libraries"
OMP_WAIT_POLICY=passive OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads DNNL_MAX_CPU_ISA=ALL "$out/gemm-libraries" "$threads"
rm -rf "$out"
