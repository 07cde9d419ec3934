// The first two passes of a row softmax, shared by the fp32 and the bf16-output kernels: the row
// max, then each value replaced by exp(value - max); returns the sum of the exponentials.
// Include only from files compiled for AVX-512 (after their #pragma GCC target).
#pragma once
#include <immintrin.h>

#include "vector_math_avx512.h"

namespace sie {
namespace avx512 {

// Four independent max and sum chains over 64 values a step, then 16 at a time for the rest: one
// chain waited on the previous vector's max or add (4 cycles each) for every 16 values. Degree is
// exp_nonpositive_ps's; the sum's order differs from the one-chain loop only in rounding.
template <int Degree>
inline float exponentiate_row(float* x, int cols) {
  __m512 m0 = _mm512_set1_ps(-3.4e38f), m1 = m0, m2 = m0, m3 = m0;
  int c = 0;
  for (; c + 64 <= cols; c += 64) {
    m0 = _mm512_max_ps(m0, _mm512_loadu_ps(x + c));
    m1 = _mm512_max_ps(m1, _mm512_loadu_ps(x + c + 16));
    m2 = _mm512_max_ps(m2, _mm512_loadu_ps(x + c + 32));
    m3 = _mm512_max_ps(m3, _mm512_loadu_ps(x + c + 48));
  }
  for (; c < cols; c += 16) {
    const int left = cols - c;
    const __mmask16 mask = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    m0 = _mm512_mask_max_ps(m0, mask, m0, _mm512_maskz_loadu_ps(mask, x + c));
  }
  const __m512 max = _mm512_set1_ps(_mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3))));
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  c = 0;
  for (; c + 64 <= cols; c += 64) {
    const __m512 e0 = exp_nonpositive_ps<Degree>(_mm512_sub_ps(_mm512_loadu_ps(x + c), max));
    const __m512 e1 = exp_nonpositive_ps<Degree>(_mm512_sub_ps(_mm512_loadu_ps(x + c + 16), max));
    const __m512 e2 = exp_nonpositive_ps<Degree>(_mm512_sub_ps(_mm512_loadu_ps(x + c + 32), max));
    const __m512 e3 = exp_nonpositive_ps<Degree>(_mm512_sub_ps(_mm512_loadu_ps(x + c + 48), max));
    s0 = _mm512_add_ps(s0, e0);
    s1 = _mm512_add_ps(s1, e1);
    s2 = _mm512_add_ps(s2, e2);
    s3 = _mm512_add_ps(s3, e3);
    _mm512_storeu_ps(x + c, e0);
    _mm512_storeu_ps(x + c + 16, e1);
    _mm512_storeu_ps(x + c + 32, e2);
    _mm512_storeu_ps(x + c + 48, e3);
  }
  for (; c < cols; c += 16) {
    const int left = cols - c;
    const __mmask16 mask = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    const __m512 e = exp_nonpositive_ps<Degree>(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, x + c), max));
    s0 = _mm512_mask_add_ps(s0, mask, s0, e);
    _mm512_mask_storeu_ps(x + c, mask, e);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

}  // namespace avx512
}  // namespace sie
