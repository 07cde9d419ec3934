#include <cuda_runtime.h>

#include "kernels.h"

namespace sie_cuda {
namespace {

// One block per row: a strided sum of squares, a shared-memory tree reduction, then the scale.
// Matches torch's F.normalize: divide by max(norm, 1e-12).
__global__ void l2_normalize_kernel(float* x, int cols) {
  extern __shared__ float partial[];
  float* row = x + static_cast<long long>(blockIdx.x) * cols;
  float sum = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) sum += row[c] * row[c];
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  const float inv = 1.0f / fmaxf(sqrtf(partial[0]), 1e-12f);
  for (int c = threadIdx.x; c < cols; c += blockDim.x) row[c] *= inv;
}

}  // namespace

int l2_normalize_rows(float* x, int rows, int cols, void* stream) {
  if (rows <= 0 || cols <= 0) return cudaSuccess;
  constexpr int kThreads = 256;
  l2_normalize_kernel<<<rows, kThreads, kThreads * sizeof(float), static_cast<cudaStream_t>(stream)>>>(x, cols);
  return cudaGetLastError();
}

}  // namespace sie_cuda
