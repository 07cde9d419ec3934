// The first two passes of a row softmax, shared by the fp32 and the bf16-output kernels: the row
// max, then each value replaced by exp(value - max); returns the sum of the exponentials.
// Include only from files compiled for AVX-512 (after their #pragma GCC target).
#pragma once
#include <immintrin.h>

#include "vector_math_avx512.h"

namespace sie {
namespace avx512 {

inline float exponentiate_row(float* x, int cols) {
  __m512 vmax = _mm512_set1_ps(-3.4e38f);
  for (int c = 0; c < cols; c += 16) {
    const int left = cols - c;
    const __mmask16 mask = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    vmax = _mm512_mask_max_ps(vmax, mask, vmax, _mm512_maskz_loadu_ps(mask, x + c));
  }
  const __m512 max = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
  __m512 vsum = _mm512_setzero_ps();
  for (int c = 0; c < cols; c += 16) {
    const int left = cols - c;
    const __mmask16 mask = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, x + c), max));
    vsum = _mm512_mask_add_ps(vsum, mask, vsum, e);
    _mm512_mask_storeu_ps(x + c, mask, e);
  }
  return _mm512_reduce_add_ps(vsum);
}

// Exponentials below this give a probability under FLT_MIN once divided by `sum`: the normalising
// passes write 0 for them rather than compute a denormal (a microcode assist each; see exp_ps).
inline float denormal_free_threshold(float sum) { return 2.3509887e-38f * sum; }  // 2 FLT_MIN: 1/sum is rounded

}  // namespace avx512
}  // namespace sie
