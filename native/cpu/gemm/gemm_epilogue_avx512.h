// The end of every AVX-512 GEMM tile: add the bias, apply the epilogue (GELU) and store the
// first `cols` of 32 columns. Shared by the fp32 and bf16 kernels; include only from files
// compiled for AVX-512 (after their #pragma GCC target).
#pragma once
#include <immintrin.h>

#include "../kernels/vector_math_avx512.h"
#include "gemm_microkernels.h"

namespace sie {
namespace avx512 {

struct TileColumns {
  __mmask16 lo, hi;
  __m512 bias_lo, bias_hi;
  TileColumns(const float* bias, int cols) {
    lo = cols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1);
    hi = cols >= 32 ? __mmask16(0xFFFF) : cols <= 16 ? __mmask16(0) : __mmask16((1u << (cols - 16)) - 1);
    bias_lo = bias ? _mm512_maskz_loadu_ps(lo, bias) : _mm512_setzero_ps();
    bias_hi = bias ? _mm512_maskz_loadu_ps(hi, bias + 16) : _mm512_setzero_ps();
  }
};

// Bias, then the epilogue, on one 32-column row of a tile.
inline void finish_tile_row(const TileColumns& c, __m512& lo, __m512& hi, Epilogue epilogue) {
  lo = _mm512_add_ps(lo, c.bias_lo);
  hi = _mm512_add_ps(hi, c.bias_hi);
  if (epilogue == Epilogue::Gelu) {
    lo = gelu_ps(lo);
    hi = gelu_ps(hi);
  }
}

inline void store_tile_row(const TileColumns& c, __m512 lo, __m512 hi, Epilogue epilogue, float* y) {
  finish_tile_row(c, lo, hi, epilogue);
  _mm512_mask_storeu_ps(y, c.lo, lo);
  _mm512_mask_storeu_ps(y + 16, c.hi, hi);
}

}  // namespace avx512
}  // namespace sie
