// The AVX2+FMA kernel of gemm_packed, for x86 CPUs without AVX-512: a 3 x 32 tile held in 12 of
// the 16 ymm registers (four 8-wide accumulators per row).
#include <immintrin.h>


#include "gemm_microkernels.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx2,fma")

#include "../kernels/vector_math_avx2.h"

namespace sie {
namespace {

// Rows past `rows` read row 0 again and are not stored, so one unrolled body serves 1-3 rows.
// Named accumulators rather than arrays: GCC keeps arrays of vectors in memory across this loop.
void tile(int rows, int k, const float* x, int64_t ldx, const float* panel, const float* bias, int cols, float* y, int64_t ldy,
          Epilogue epilogue) {
  const float* x0 = x;
  const float* x1 = rows > 1 ? x + ldx : x;
  const float* x2 = rows > 2 ? x + 2 * ldx : x;
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c03 = c00;
  __m256 c10 = c00, c11 = c00, c12 = c00, c13 = c00;
  __m256 c20 = c00, c21 = c00, c22 = c00, c23 = c00;
  for (int p = 0; p < k; ++p) {
    const __m256 a0 = _mm256_broadcast_ss(x0 + p), a1 = _mm256_broadcast_ss(x1 + p), a2 = _mm256_broadcast_ss(x2 + p);
    const float* b = panel + p * 32;
    __m256 v = _mm256_load_ps(b);
    c00 = _mm256_fmadd_ps(a0, v, c00), c10 = _mm256_fmadd_ps(a1, v, c10), c20 = _mm256_fmadd_ps(a2, v, c20);
    v = _mm256_load_ps(b + 8);
    c01 = _mm256_fmadd_ps(a0, v, c01), c11 = _mm256_fmadd_ps(a1, v, c11), c21 = _mm256_fmadd_ps(a2, v, c21);
    v = _mm256_load_ps(b + 16);
    c02 = _mm256_fmadd_ps(a0, v, c02), c12 = _mm256_fmadd_ps(a1, v, c12), c22 = _mm256_fmadd_ps(a2, v, c22);
    v = _mm256_load_ps(b + 24);
    c03 = _mm256_fmadd_ps(a0, v, c03), c13 = _mm256_fmadd_ps(a1, v, c13), c23 = _mm256_fmadd_ps(a2, v, c23);
  }
  const __m256 out[3][4] = {{c00, c01, c02, c03}, {c10, c11, c12, c13}, {c20, c21, c22, c23}};
  __m256 bias_v[4];
  // A full tile stores with plain moves: VMASKMOVPS stores are slow on AMD cores (Zen 4 included),
  // and every tile but a matrix's last column one is full.
  if (cols == 32) {
    for (int q = 0; q < 4; ++q) bias_v[q] = bias ? _mm256_loadu_ps(bias + 8 * q) : _mm256_setzero_ps();
    for (int r = 0; r < rows; ++r)
      for (int q = 0; q < 4; ++q) {
        __m256 v = _mm256_add_ps(out[r][q], bias_v[q]);
        if (epilogue == Epilogue::Gelu) v = avx2::gelu_ps(v);
        _mm256_storeu_ps(y + r * ldy + 8 * q, v);
      }
    return;
  }
  // Lane j of block q is stored when column 8q + j < cols.
  __m256i keep[4];
  for (int q = 0; q < 4; ++q) {
    keep[q] = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols - 8 * q), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    bias_v[q] = bias ? _mm256_maskload_ps(bias + 8 * q, keep[q]) : _mm256_setzero_ps();
  }
  for (int r = 0; r < rows; ++r)
    for (int q = 0; q < 4; ++q) {
      __m256 v = _mm256_add_ps(out[r][q], bias_v[q]);
      if (epilogue == Epilogue::Gelu) v = avx2::gelu_ps(v);
      _mm256_maskstore_ps(y + r * ldy + 8 * q, keep[q], v);
    }
}

}  // namespace

void microkernel_avx2(int rows, int k, const float* x, int64_t ldx, const float* panel, const float* bias, int cols, float* y,
                      int64_t ldy, Epilogue epilogue) {
  tile(rows, k, x, ldx, panel, bias, cols, y, ldy, epilogue);
}

}  // namespace sie

#pragma GCC pop_options
#else
namespace sie {
void microkernel_avx2(int, int, const float*, int64_t, const float*, const float*, int, float*, int64_t, Epilogue) {}
}  // namespace sie
#endif
