#include <immintrin.h>

#include <cstdint>

#include "elementwise.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,fma")

namespace sie {
namespace {

// e^x: x = n ln2 + r with |r| <= ln2/2, a degree-6 Taylor polynomial for e^r (relative error
// < 2e-7 on that interval), and 2^n applied by scalef, which saturates to 0 / inf cleanly.
inline __m512 exp_ps(__m512 x) {
  x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.7f)), _mm512_set1_ps(-103.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-06f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

// erf by Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7), odd-extended.
inline __m512 erf_ps(__m512 x) {
  const __m512 ax = _mm512_abs_ps(x);
  const __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(ax, _mm512_set1_ps(0.3275911f), _mm512_set1_ps(1.0f)));
  __m512 poly = _mm512_set1_ps(1.061405429f);
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(-1.453152027f));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(1.421413741f));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(-0.284496736f));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(0.254829592f));
  poly = _mm512_mul_ps(poly, t);
  const __m512 e = exp_ps(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), ax), ax));
  const __m512 y = _mm512_fnmadd_ps(poly, e, _mm512_set1_ps(1.0f));
  const __mmask16 negative = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
  return _mm512_mask_sub_ps(y, negative, _mm512_setzero_ps(), y);
}

}  // namespace

void gelu_erf_avx512(float* x, int64_t count) {
  const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f), inv_sqrt2 = _mm512_set1_ps(0.70710678118654752f);
  for (int64_t i = 0; i < count; i += 16) {
    const int64_t left = count - i;
    const __mmask16 mask = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    const __m512 v = _mm512_maskz_loadu_ps(mask, x + i);
    const __m512 g = _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, erf_ps(_mm512_mul_ps(v, inv_sqrt2))));
    _mm512_mask_storeu_ps(x + i, mask, g);
  }
}

void softmax_row_avx512(float* x, int cols) {
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
  const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vsum));
  for (int c = 0; c < cols; c += 16) {
    const int left = cols - c;
    const __mmask16 mask = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    _mm512_mask_storeu_ps(x + c, mask, _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, x + c), inv));
  }
}

}  // namespace sie

#pragma GCC pop_options
#else
namespace sie {
void gelu_erf_avx512(float*, int64_t) {}
void softmax_row_avx512(float*, int) {}
}  // namespace sie
#endif
