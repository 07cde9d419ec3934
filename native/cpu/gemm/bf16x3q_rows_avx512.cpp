// quantize_rows_int8 on AVX-512: X's rows to int8 for bf16x3q's correction term, the same numbers
// as the plain loop (the same float product, then round to nearest even) sixteen at a time. At
// batch 1 the plain loop and its calls to nearbyintf took 14 % of a CLIP image's forward pass
// (perf, cpu-clock samples).
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "bf16x3q_gemm.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl")

namespace sie {

void quantize_rows_int8_avx512(const float* x, int64_t ldx, int row_begin, int row_end, int m, int k, int8_t* a, int64_t lda,
                               float* scale, int32_t* row_sum) {
  const __m512 sign_off = _mm512_castsi512_ps(_mm512_set1_epi32(0x7FFFFFFF));
  for (int r = row_begin; r < row_end; ++r) {
    int8_t* out = a + int64_t(r) * lda;
    std::memset(out, 0, size_t(lda));
    scale[r] = 0;
    row_sum[r] = 0;
    if (r >= m) continue;
    const float* row = x + int64_t(r) * ldx;
    __m512 largest_v = _mm512_setzero_ps();
    for (int i = 0; i < k; i += 16) {
      const __mmask16 mask = k - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (k - i)) - 1);
      largest_v = _mm512_max_ps(largest_v, _mm512_and_ps(_mm512_maskz_loadu_ps(mask, row + i), sign_off));
    }
    const float largest = _mm512_reduce_max_ps(largest_v);
    if (!(largest > 0) || !std::isfinite(largest)) continue;
    const __m512 inverse = _mm512_set1_ps(127.0f / largest);
    const __m512 top = _mm512_set1_ps(127.0f), bottom = _mm512_set1_ps(-127.0f);
    __m512i sum = _mm512_setzero_si512();
    for (int i = 0; i < k; i += 16) {
      const __mmask16 mask = k - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (k - i)) - 1);
      const __m512 v = _mm512_min_ps(top, _mm512_max_ps(bottom, _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, row + i), inverse)));
      const __m512i q = _mm512_cvtps_epi32(v);  // MXCSR's default: nearest, ties to even
      sum = _mm512_add_epi32(sum, q);
      _mm_mask_storeu_epi8(out + i, mask, _mm512_cvtepi32_epi8(q));
    }
    scale[r] = largest / 127.0f;
    row_sum[r] = _mm512_reduce_add_epi32(sum);
  }
}

}  // namespace sie

#pragma GCC pop_options
#endif
