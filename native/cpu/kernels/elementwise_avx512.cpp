#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "elementwise.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,fma")

#include "layer_norm_avx512.h"
#include "softmax_avx512.h"
#include "vector_math_avx512.h"

namespace sie {

using avx512::exp_ps;
using avx512::gelu_ps;

void gelu_erf_avx512(float* x, int64_t count) {
  for (int64_t i = 0; i < count; i += 16) {
    const int64_t left = count - i;
    const __mmask16 mask = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    const __m512 v = _mm512_maskz_loadu_ps(mask, x + i);
    _mm512_mask_storeu_ps(x + i, mask, gelu_ps(v));
  }
}

void sigmoid_gate_avx512(float* x, int64_t count, float alpha) {
  const __m512 minus_alpha = _mm512_set1_ps(-alpha), one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < count; i += 16) {
    const int64_t left = count - i;
    const __mmask16 mask = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    const __m512 v = _mm512_maskz_loadu_ps(mask, x + i);
    // exp saturates to inf for very negative alpha * x, where the quotient is then 0.
    const __m512 e = exp_ps(_mm512_mul_ps(minus_alpha, v));
    _mm512_mask_storeu_ps(x + i, mask, _mm512_div_ps(v, _mm512_add_ps(one, e)));
  }
}

void softmax_row_avx512(float* x, int cols) {
  const float sum = avx512::exponentiate_row<6>(x, cols);
  const __m512 inv = _mm512_set1_ps(1.0f / sum), live = _mm512_set1_ps(softmax_live_threshold(sum));
  for (int c = 0; c < cols; c += 16) {
    const int left = cols - c;
    const __mmask16 mask = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    const __m512 e = _mm512_maskz_loadu_ps(mask, x + c);
    _mm512_mask_storeu_ps(x + c, mask, _mm512_maskz_mul_ps(_mm512_cmp_ps_mask(e, live, _CMP_GE_OQ), e, inv));
  }
}

void add_layer_norm_row_avx512(float* x, const float* residual, int cols, const float* gamma, const float* beta, float eps) {
  avx512::add_layer_norm_row(x, residual, cols, gamma, beta, eps, [&](int c, __mmask16 mask, __m512 v) { _mm512_mask_storeu_ps(x + c, mask, v); });
}

}  // namespace sie

#pragma GCC pop_options
#else
namespace sie {
void gelu_erf_avx512(float*, int64_t) {}
void softmax_row_avx512(float*, int) {}
void add_layer_norm_row_avx512(float*, const float*, int, const float*, const float*, float) {}
}  // namespace sie
#endif
