// The AVX2+FMA kernel of gemm_packed, for x86 CPUs without AVX-512: a 3 x 32 tile held in 12 of
// the 16 ymm registers (four 8-wide accumulators per row), the panel row in the other four.
#include <immintrin.h>

#include <cmath>

#include "gemm_microkernels.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx2,fma")

namespace sie {
namespace {

template <int MR>
void tile(int k, const float* x, int64_t ldx, const float* panel, const float* bias, int cols, float* y, int64_t ldy,
          Epilogue epilogue) {
  __m256 acc[MR][4];
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < 4; ++j) acc[r][j] = _mm256_setzero_ps();
  for (int p = 0; p < k; ++p) {
    __m256 b[4];
    for (int j = 0; j < 4; ++j) b[j] = _mm256_load_ps(panel + p * 32 + 8 * j);
    for (int r = 0; r < MR; ++r) {
      const __m256 a = _mm256_broadcast_ss(x + r * ldx + p);
      for (int j = 0; j < 4; ++j) acc[r][j] = _mm256_fmadd_ps(a, b[j], acc[r][j]);
    }
  }
  // The epilogue runs per element: GELU's erf has no AVX2 twin here, and the tile is small.
  for (int r = 0; r < MR; ++r) {
    alignas(32) float row[32];
    for (int j = 0; j < 4; ++j) _mm256_store_ps(row + 8 * j, acc[r][j]);
    for (int c = 0; c < cols; ++c) {
      const float v = row[c] + (bias ? bias[c] : 0.0f);
      y[r * ldy + c] = epilogue == Epilogue::Gelu ? 0.5f * v * (1.0f + std::erf(v * 0.70710678118654752f)) : v;
    }
  }
}

}  // namespace

void microkernel_avx2(int rows, int k, const float* x, int64_t ldx, const float* panel, const float* bias, int cols, float* y,
                      int64_t ldy, Epilogue epilogue) {
  switch (rows) {
    case 3: return tile<3>(k, x, ldx, panel, bias, cols, y, ldy, epilogue);
    case 2: return tile<2>(k, x, ldx, panel, bias, cols, y, ldy, epilogue);
    default: return tile<1>(k, x, ldx, panel, bias, cols, y, ldy, epilogue);
  }
}

}  // namespace sie

#pragma GCC pop_options
#else
namespace sie {
void microkernel_avx2(int, int, const float*, int64_t, const float*, const float*, int, float*, int64_t, Epilogue) {}
}  // namespace sie
#endif
