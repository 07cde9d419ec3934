// What the heads do with the encoder's last hidden states: sentence pooling (mean, CLS, last
// token) with L2 normalisation, token rows to fp32 (normalised for ColBERT), row gathers for
// the classifiers' CLS rows, and the fp32 -> storage dtype conversion of weights at upload.
#include <algorithm>

#include "device_math.cuh"
#include "kernels.h"

namespace sie_cuda {
namespace {

constexpr int kThreads = 256;

// One block per sequence; the pooled row is staged in shared memory for the norm.
template <typename T>
__global__ void pool_kernel(const T* hidden, const int32_t* offsets, int hidden_size, Pooling pooling, bool normalize,
                            float* out) {
  extern __shared__ float row[];
  __shared__ float scratch[32];
  const int s = blockIdx.x, begin = offsets[s], end = offsets[s + 1];
  float squares = 0.0f;
  for (int c = threadIdx.x; c < hidden_size; c += blockDim.x) {
    float v;
    if (pooling == Pooling::Mean) {
      v = 0.0f;
      for (int t = begin; t < end; ++t) v += to_float(hidden[int64_t(t) * hidden_size + c]);
      v /= float(end - begin);
    } else {
      const int t = pooling == Pooling::Cls ? begin : end - 1;
      v = to_float(hidden[int64_t(t) * hidden_size + c]);
    }
    row[c] = v;
    squares += v * v;
  }
  // Matches torch's F.normalize: divide by max(norm, 1e-12).
  const float inv = normalize ? 1.0f / fmaxf(sqrtf(block_sum(squares, scratch)), 1e-12f) : 1.0f;
  for (int c = threadIdx.x; c < hidden_size; c += blockDim.x) out[int64_t(s) * hidden_size + c] = row[c] * inv;
}

template <typename T>
__global__ void rows_to_float_kernel(const T* in, int cols, bool normalize, float* out) {
  __shared__ float scratch[32];
  const int64_t r = blockIdx.x;
  float squares = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    const float v = to_float(in[r * cols + c]);
    squares += v * v;
  }
  const float inv = normalize ? 1.0f / fmaxf(sqrtf(block_sum(squares, scratch)), 1e-12f) : 1.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) out[r * cols + c] = to_float(in[r * cols + c]) * inv;
}

template <typename T>
__global__ void gather_rows_kernel(const T* src, const int32_t* rows, int cols, T* dst) {
  const int64_t i = blockIdx.x;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) dst[i * cols + c] = src[int64_t(rows[i]) * cols + c];
}

template <typename T>
__global__ void convert_kernel(const float* in, T* out, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = from_float<T>(in[i]);
}

template <typename T>
cudaError_t launch_pool(const void* hidden, const int32_t* offsets, int num_sequences, int hidden_size, Pooling pooling,
                        bool normalize, float* out, cudaStream_t stream) {
  pool_kernel<T><<<num_sequences, kThreads, hidden_size * sizeof(float), stream>>>(
      static_cast<const T*>(hidden), offsets, hidden_size, pooling, normalize, out);
  return cudaGetLastError();
}

template <typename T>
cudaError_t launch_rows_to_float(const void* in, int rows, int cols, bool normalize, float* out, cudaStream_t stream) {
  rows_to_float_kernel<T><<<rows, kThreads, 0, stream>>>(static_cast<const T*>(in), cols, normalize, out);
  return cudaGetLastError();
}

template <typename T>
cudaError_t launch_gather(const void* src, const int32_t* rows, int count, int cols, void* dst, cudaStream_t stream) {
  gather_rows_kernel<T><<<count, kThreads, 0, stream>>>(static_cast<const T*>(src), rows, cols, static_cast<T*>(dst));
  return cudaGetLastError();
}

template <typename T>
cudaError_t launch_convert(const float* in, void* out, int64_t n, cudaStream_t stream) {
  const int64_t blocks = std::min<int64_t>((n + kThreads - 1) / kThreads, 65535);
  convert_kernel<T><<<unsigned(blocks), kThreads, 0, stream>>>(in, static_cast<T*>(out), n);
  return cudaGetLastError();
}

}  // namespace

cudaError_t pool_sequences(DType dtype, const void* hidden, const int32_t* offsets, int num_sequences, int hidden_size,
                           Pooling pooling, bool normalize, float* out, cudaStream_t stream) {
  if (num_sequences <= 0) return cudaSuccess;
  SIE_DISPATCH_DTYPE(dtype, launch_pool, hidden, offsets, num_sequences, hidden_size, pooling, normalize, out, stream);
}

cudaError_t rows_to_float(DType dtype, const void* in, int rows, int cols, bool normalize, float* out,
                          cudaStream_t stream) {
  if (rows <= 0) return cudaSuccess;
  SIE_DISPATCH_DTYPE(dtype, launch_rows_to_float, in, rows, cols, normalize, out, stream);
}

cudaError_t gather_rows(DType dtype, const void* src, const int32_t* rows, int count, int cols, void* dst,
                        cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  SIE_DISPATCH_DTYPE(dtype, launch_gather, src, rows, count, cols, dst, stream);
}

cudaError_t convert_from_float(DType dtype, const float* in, void* out, int64_t n, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  SIE_DISPATCH_DTYPE(dtype, launch_convert, in, out, n, stream);
}

}  // namespace sie_cuda
