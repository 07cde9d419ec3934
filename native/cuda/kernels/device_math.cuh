// Device-side helpers shared by the kernels: the storage types (fp32, fp16, bf16) with their
// conversions, warp and block reductions, and the activations the GEMM epilogue fuses. Every
// kernel computes in fp32 whatever it stores.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>

namespace sie_cuda {

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ float from_float<float>(float v) { return v; }
template <>
__device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

// Eight consecutive 16-bit values (one 16-byte load or store; p 16-byte aligned) as fp32.
template <typename T>
__device__ __forceinline__ void load8(const T* p, float (&v)[8]) {
  static_assert(sizeof(T) == 2, "16-bit storage types only");
  const uint4 bits = *reinterpret_cast<const uint4*>(p);
  const T* h = reinterpret_cast<const T*>(&bits);
#pragma unroll
  for (int i = 0; i < 8; ++i) v[i] = to_float(h[i]);
}
template <typename T>
__device__ __forceinline__ void store8(T* p, const float (&v)[8]) {
  static_assert(sizeof(T) == 2, "16-bit storage types only");
  uint4 bits;
  T* h = reinterpret_cast<T*>(&bits);
#pragma unroll
  for (int i = 0; i < 8; ++i) h[i] = from_float<T>(v[i]);
  *reinterpret_cast<uint4*>(p) = bits;
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Sum over the whole block; `scratch` holds one float per warp. Every thread gets the total.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = (blockDim.x + 31) / 32;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float total = 0.0f;
  for (int w = 0; w < warps; ++w) total += scratch[w];
  return total;
}

// The activations a GEMM epilogue applies after the bias (Activation in kernels.h).
__device__ __forceinline__ float gelu_erf(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }
__device__ __forceinline__ float gelu_tanh(float x) {
  return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
}

// Calls FN<float|__half|__nv_bfloat16>(...) for a DType and returns its result.
#define SIE_DISPATCH_DTYPE(dtype, FN, ...)                                  \
  switch (dtype) {                                                         \
    case DType::F32: return FN<float>(__VA_ARGS__);                        \
    case DType::F16: return FN<__half>(__VA_ARGS__);                       \
    case DType::BF16: return FN<__nv_bfloat16>(__VA_ARGS__);               \
  }                                                                        \
  return cudaErrorInvalidValue

}  // namespace sie_cuda
