// The end of a bf16 GEMM tile whose consumer is another bf16 GEMM: bias and GELU as in
// store_tile_row, then the row rounded to bf16 (nearest even) and stored as 32 values, zeros past
// `cols`, so the next GEMM reads zero k-padding. Include only from files compiled for
// AVX512-BF16 (after their #pragma GCC target).
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "gemm_epilogue_avx512.h"

namespace sie {
namespace avx512 {

inline void store_tile_row_bf16(const TileColumns& c, __m512 lo, __m512 hi, Epilogue epilogue, uint16_t* y) {
  finish_tile_row(c, lo, hi, epilogue);
  lo = _mm512_maskz_mov_ps(c.lo, lo);
  hi = _mm512_maskz_mov_ps(c.hi, hi);
  _mm512_storeu_si512(y, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
}

}  // namespace avx512
}  // namespace sie
