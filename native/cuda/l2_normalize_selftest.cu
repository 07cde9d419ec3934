// Compares the CUDA L2 normalisation with its CPU twin on random and edge-case shapes.
// Exits 77 (the automake "skipped" status) where no GPU is present: a skip is never a pass.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "../cpu/kernels/pooling.h"
#include "l2_normalize.h"

int main() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("SKIP: no CUDA device present\n");
    return 77;
  }
  const int shapes[][2] = {{1, 1}, {1, 384}, {7, 1000}, {1000, 384}, {3, 4097}, {2, 0}};
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  int failures = 0;
  for (const auto& shape : shapes) {
    const int rows = shape[0], cols = shape[1];
    std::vector<float> host(size_t(rows) * cols);
    for (float& v : host) v = normal(rng);
    if (rows > 1 && cols > 0) std::fill(host.begin() + cols, host.begin() + 2 * cols, 0.0f);  // a zero row
    std::vector<float> expected = host, got(host.size());
    sie::l2_normalize_rows(expected.data(), rows, cols);
    float* device = nullptr;
    const size_t bytes = std::max<size_t>(1, host.size() * sizeof(float));
    if (cudaMalloc(&device, bytes) != cudaSuccess) return 1;
    cudaMemcpy(device, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice);
    const int status = sie_cuda::l2_normalize_rows(device, rows, cols, nullptr);
    cudaMemcpy(got.data(), device, host.size() * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(device);
    double max_diff = 0;
    for (size_t i = 0; i < got.size(); ++i) max_diff = std::fmax(max_diff, std::fabs(got[i] - expected[i]));
    const bool ok = status == cudaSuccess && max_diff <= 1e-6;
    failures += ok ? 0 : 1;
    std::printf("%s l2_normalize %dx%d max|diff| %.3g\n", ok ? "ok" : "FAIL", rows, cols, max_diff);
  }
  std::printf("%d passed, %d failed\n", 6 - failures, failures);
  return failures ? 1 : 0;
}
