// Softmax of one row of attention scores, written as bf16 probabilities for the bf16 P·V GEMM:
// the normalising pass rounds and stores bf16 directly instead of writing fp32 to be rounded by
// a second pass. The statistics (max, sum of exponentials) stay fp32.
#include <immintrin.h>

#include <cstdint>

#include "elementwise.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx512bf16,fma")

#include "softmax_avx512.h"

namespace sie {

void softmax_row_to_bf16_avx512bf16(float* x, int cols, uint16_t* out, int cols_padded) {
  const float sum = avx512::exponentiate_row<4>(x, cols);  // rounded to bf16 next: degree 4 is ample
  const __m512 inv = _mm512_set1_ps(1.0f / sum), live = _mm512_set1_ps(softmax_live_threshold(sum));
  // Whole 16-value groups up to cols_padded: lanes past cols are stored as zero (k padding).
  for (int c = 0; c < cols_padded; c += 16) {
    const int left = cols - c;
    const __mmask16 mask = left >= 16 ? __mmask16(0xFFFF) : left <= 0 ? __mmask16(0) : __mmask16((1u << left) - 1);
    const __m512 e = _mm512_maskz_loadu_ps(mask, x + c);
    const __m512 p = _mm512_maskz_mul_ps(_mm512_cmp_ps_mask(e, live, _CMP_GE_OQ), e, inv);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + c), (__m256i)_mm512_cvtneps_pbh(p));
  }
}

}  // namespace sie

#pragma GCC pop_options
#else
namespace sie {
void softmax_row_to_bf16_avx512bf16(float*, int, uint16_t*, int) {}
}  // namespace sie
#endif
