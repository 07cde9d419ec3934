// Row normalisations: the embedding sum fused with its LayerNorm, residual + LayerNorm, RMSNorm.
// One block per row; the row is staged in shared memory as fp32 so the mean and the variance are
// two exact passes (not E[x^2] - E[x]^2, which loses digits when the mean is large).
#include "device_math.cuh"
#include "kernels.h"

namespace sie_cuda {
namespace {

constexpr int kThreads = 256;

// Normalises the fp32 row in `row` (shared) and writes it as T.
template <typename T>
__device__ void layer_norm_row(float* row, int cols, const float* gamma, const float* beta, float eps, T* out,
                               float* scratch) {
  float sum = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) sum += row[c];
  const float mean = block_sum(sum, scratch) / cols;
  float squares = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    const float d = row[c] - mean;
    squares += d * d;
  }
  const float inv = rsqrtf(block_sum(squares, scratch) / cols + eps);
  for (int c = threadIdx.x; c < cols; c += blockDim.x) out[c] = from_float<T>((row[c] - mean) * inv * gamma[c] + beta[c]);
}

template <typename T>
__global__ void embed_layer_norm_kernel(const int32_t* ids, const int32_t* positions, const int32_t* types,
                                        const T* word, const T* position, const T* type, const float* gamma,
                                        const float* beta, float eps, T* out, int hidden) {
  extern __shared__ float row[];
  __shared__ float scratch[32];
  const int64_t t = blockIdx.x;
  const T* w = word + int64_t(ids[t]) * hidden;
  const T* p = position + int64_t(positions[t]) * hidden;
  const T* ty = type + int64_t(types ? types[t] : 0) * hidden;
  for (int c = threadIdx.x; c < hidden; c += blockDim.x) row[c] = to_float(w[c]) + to_float(p[c]) + to_float(ty[c]);
  __syncthreads();
  layer_norm_row(row, hidden, gamma, beta, eps, out + t * hidden, scratch);
}

template <typename T>
__global__ void add_layer_norm_kernel(const T* x, const T* residual, const float* gamma, const float* beta, float eps,
                                      T* out, int cols) {
  extern __shared__ float row[];
  __shared__ float scratch[32];
  const int64_t r = blockIdx.x;
  for (int c = threadIdx.x; c < cols; c += blockDim.x)
    row[c] = to_float(x[r * cols + c]) + (residual ? to_float(residual[r * cols + c]) : 0.0f);
  __syncthreads();
  layer_norm_row(row, cols, gamma, beta, eps, out + r * cols, scratch);
}

template <typename T>
__global__ void rms_norm_kernel(const T* x, const float* gamma, float eps, T* out, int cols) {
  extern __shared__ float row[];
  __shared__ float scratch[32];
  const int64_t r = blockIdx.x;
  float squares = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    row[c] = to_float(x[r * cols + c]);
    squares += row[c] * row[c];
  }
  const float inv = rsqrtf(block_sum(squares, scratch) / cols + eps);
  for (int c = threadIdx.x; c < cols; c += blockDim.x) out[r * cols + c] = from_float<T>(row[c] * inv * gamma[c]);
}

template <typename T>
cudaError_t launch_embed(const int32_t* ids, const int32_t* positions, const int32_t* types, const void* word,
                         const void* position, const void* type, const float* gamma, const float* beta, float eps,
                         void* out, int tokens, int hidden, cudaStream_t stream) {
  embed_layer_norm_kernel<T><<<tokens, kThreads, hidden * sizeof(float), stream>>>(
      ids, positions, types, static_cast<const T*>(word), static_cast<const T*>(position), static_cast<const T*>(type),
      gamma, beta, eps, static_cast<T*>(out), hidden);
  return cudaGetLastError();
}

}  // namespace


cudaError_t embed_layer_norm(DType dtype, const int32_t* ids, const int32_t* positions, const int32_t* types,
                             const void* word, const void* position, const void* type, const float* gamma,
                             const float* beta, float eps, void* out, int tokens, int hidden, cudaStream_t stream) {
  if (tokens <= 0) return cudaSuccess;
  SIE_DISPATCH_DTYPE(dtype, launch_embed, ids, positions, types, word, position, type, gamma, beta, eps, out, tokens,
                     hidden, stream);
}

namespace {
template <typename T>
cudaError_t launch_add_layer_norm(const void* x, const void* residual, const float* gamma, const float* beta, float eps,
                                  void* out, int rows, int cols, cudaStream_t stream) {
  add_layer_norm_kernel<T><<<rows, kThreads, cols * sizeof(float), stream>>>(
      static_cast<const T*>(x), static_cast<const T*>(residual), gamma, beta, eps, static_cast<T*>(out), cols);
  return cudaGetLastError();
}
template <typename T>
cudaError_t launch_rms_norm(const void* x, const float* gamma, float eps, void* out, int rows, int cols,
                            cudaStream_t stream) {
  rms_norm_kernel<T><<<rows, kThreads, cols * sizeof(float), stream>>>(static_cast<const T*>(x), gamma, eps,
                                                                        static_cast<T*>(out), cols);
  return cudaGetLastError();
}
}  // namespace

cudaError_t add_layer_norm(DType dtype, const void* x, const void* residual, const float* gamma, const float* beta,
                           float eps, void* out, int rows, int cols, cudaStream_t stream) {
  if (rows <= 0) return cudaSuccess;
  SIE_DISPATCH_DTYPE(dtype, launch_add_layer_norm, x, residual, gamma, beta, eps, out, rows, cols, stream);
}

cudaError_t rms_norm(DType dtype, const void* x, const float* gamma, float eps, void* out, int rows, int cols,
                     cudaStream_t stream) {
  if (rows <= 0) return cudaSuccess;
  SIE_DISPATCH_DTYPE(dtype, launch_rms_norm, x, gamma, eps, out, rows, cols, stream);
}

}  // namespace sie_cuda
