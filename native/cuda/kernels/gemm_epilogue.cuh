// The GEMM epilogue every kernel applies to an fp32 accumulator: bias, activation, residual
// (y = act(acc + bias) + residual), shared by the mma.sync, wgmma and reference kernels so that
// each computes exactly the same function of its accumulator.
#pragma once
#include "device_math.cuh"
#include "kernels.h"

namespace sie_cuda {

__device__ __forceinline__ float activate(float v, Activation act) {
  switch (act) {
    case Activation::GeluErf: return gelu_erf(v);
    case Activation::GeluTanh: return gelu_tanh(v);
    case Activation::Tanh: return tanhf(v);
    default: return v;
  }
}

// Bias, activation and residual for one output element.
template <typename T>
__device__ __forceinline__ float epilogue_value(const GemmArgs& a, float acc, int row, int col) {
  float v = acc + (a.bias ? a.bias[col] : 0.0f);
  v = activate(v, a.activation);
  if (a.residual) v += to_float(static_cast<const T*>(a.residual)[int64_t(row) * a.ldr + col]);
  return v;
}

}  // namespace sie_cuda
