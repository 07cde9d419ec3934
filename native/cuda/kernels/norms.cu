// Row normalisations: the embedding sum fused with its LayerNorm, residual + LayerNorm, RMSNorm.
// The mean and the variance are two exact passes over an fp32 copy of the row (not
// E[x^2] - E[x]^2, which loses digits when the mean is large).
// residual + LayerNorm of fp16/bf16 rows up to 2048 wide (every encoder hidden size) runs one
// warp per row: 16-byte loads, the row held in registers, warp-shuffle sums, no block barriers.
// Other rows (fp32, odd widths) run one block per row with the row staged in shared memory.
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

// One warp per row, CHUNKS 8-value chunks per lane (cols <= CHUNKS * 256, cols % 8 == 0).
template <typename T, int CHUNKS>
__global__ void __launch_bounds__(256) add_layer_norm_warp_kernel(const T* x, const T* residual, const float* gamma,
                                                                   const float* beta, float eps, T* out, int rows, int cols) {
  const int64_t r = int64_t(blockIdx.x) * 8 + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (r >= rows) return;
  float v[CHUNKS][8];
  float sum = 0.0f;
#pragma unroll
  for (int c = 0; c < CHUNKS; ++c) {
    const int col = (c * 32 + lane) * 8;
    if (col < cols) {
      load8(x + r * cols + col, v[c]);
      if (residual) {
        float add[8];
        load8(residual + r * cols + col, add);
#pragma unroll
        for (int e = 0; e < 8; ++e) v[c][e] += add[e];
      }
#pragma unroll
      for (int e = 0; e < 8; ++e) sum += v[c][e];
    }
  }
  const float mean = warp_sum(sum) / cols;
  float squares = 0.0f;
#pragma unroll
  for (int c = 0; c < CHUNKS; ++c)
    if ((c * 32 + lane) * 8 < cols)
#pragma unroll
      for (int e = 0; e < 8; ++e) {
        const float d = v[c][e] - mean;
        squares += d * d;
      }
  const float inv = rsqrtf(warp_sum(squares) / cols + eps);
#pragma unroll
  for (int c = 0; c < CHUNKS; ++c) {
    const int col = (c * 32 + lane) * 8;
    if (col >= cols) continue;
    float g[8], b[8], y[8];
    *reinterpret_cast<float4*>(g) = *reinterpret_cast<const float4*>(gamma + col);
    *reinterpret_cast<float4*>(g + 4) = *reinterpret_cast<const float4*>(gamma + col + 4);
    *reinterpret_cast<float4*>(b) = *reinterpret_cast<const float4*>(beta + col);
    *reinterpret_cast<float4*>(b + 4) = *reinterpret_cast<const float4*>(beta + col + 4);
#pragma unroll
    for (int e = 0; e < 8; ++e) y[e] = (v[c][e] - mean) * inv * g[e] + b[e];
    store8(out + r * cols + col, y);
  }
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
bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

template <typename T, int CHUNKS>
cudaError_t launch_add_layer_norm_warp(const void* x, const void* residual, const float* gamma, const float* beta,
                                       float eps, void* out, int rows, int cols, cudaStream_t stream) {
  add_layer_norm_warp_kernel<T, CHUNKS><<<(rows + 7) / 8, 256, 0, stream>>>(
      static_cast<const T*>(x), static_cast<const T*>(residual), gamma, beta, eps, static_cast<T*>(out), rows, cols);
  return cudaGetLastError();
}

template <typename T>
cudaError_t launch_add_layer_norm(const void* x, const void* residual, const float* gamma, const float* beta, float eps,
                                  void* out, int rows, int cols, cudaStream_t stream) {
  if constexpr (sizeof(T) == 2) {
    const bool vector_ok = cols % 8 == 0 && cols <= 2048 && aligned16(x) && aligned16(out) && aligned16(gamma) &&
                           aligned16(beta) && (!residual || aligned16(residual));
    if (vector_ok) {
      if (cols <= 256) return launch_add_layer_norm_warp<T, 1>(x, residual, gamma, beta, eps, out, rows, cols, stream);
      if (cols <= 512) return launch_add_layer_norm_warp<T, 2>(x, residual, gamma, beta, eps, out, rows, cols, stream);
      if (cols <= 768) return launch_add_layer_norm_warp<T, 3>(x, residual, gamma, beta, eps, out, rows, cols, stream);
      if (cols <= 1024) return launch_add_layer_norm_warp<T, 4>(x, residual, gamma, beta, eps, out, rows, cols, stream);
      return launch_add_layer_norm_warp<T, 8>(x, residual, gamma, beta, eps, out, rows, cols, stream);
    }
  }
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
