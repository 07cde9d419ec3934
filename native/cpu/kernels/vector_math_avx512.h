// AVX-512 exp, erf and GELU on 16 floats, shared by the element-wise kernels and the GEMM
// epilogue. Include only from files compiled for AVX-512 (after their #pragma GCC target).
#pragma once
#include <immintrin.h>

namespace sie {
namespace avx512 {

// e^x on x already within [-87.33, 88.7]: x = n ln2 + r with |r| <= ln2/2, a Taylor polynomial
// for e^r of degree 6 (relative error < 2e-7 on that interval) or 4 (< 4.3e-5), and 2^n applied
// by scalef. Lanes outside `normal` return 0.
template <int Degree>
inline __m512 exp_reduced_ps(__m512 x, __mmask16 normal) {
  static_assert(Degree == 4 || Degree == 6, "degree 4 or 6");
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-06f), r);
  __m512 p = _mm512_set1_ps(1.0f / 24);
  if (Degree == 6) {
    p = _mm512_set1_ps(1.0f / 720);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  }
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_maskz_scalef_ps(normal, p, n);
}

// Below -87.33, where e^x is under FLT_MIN, a lane returns 0: a denormal result costs a microcode
// assist, 23x the time of the whole vector (measured: 103 ns against 4.4 ns per 16 values), and
// softmax rows spread wider than that, or sigmoids of large inputs, hit it. NaN lanes are not
// flushed.
inline __mmask16 exp_normal_lanes(__m512 x) { return _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.33f), _CMP_NLT_UQ); }

// e^x, degree 6.
inline __m512 exp_ps(__m512 x) {
  return exp_reduced_ps<6>(_mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.7f)), _mm512_set1_ps(-87.33f)), exp_normal_lanes(x));
}

// e^x for x <= 0 (softmax, after the row max is subtracted): no upper clamp to pay for, and the
// degree is the caller's: 6 as exp_ps, or 4 for probabilities rounded to bf16 next (half a bf16
// step is 2e-3).
template <int Degree>
inline __m512 exp_nonpositive_ps(__m512 x) {
  return exp_reduced_ps<Degree>(_mm512_max_ps(x, _mm512_set1_ps(-87.33f)), exp_normal_lanes(x));
}

// erf by Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7), odd-extended. |x| is capped at
// 4, where the formula already rounds to 1.0f (as erf does from 3.92): past about 9.3, e^(-x^2)
// is a denormal, and each denormal result or operand cost a microcode assist. Pre-GELU values
// that large made a GELU GEMM 6x slower than the same GEMM without it (bench harness, AMX).
inline __m512 erf_ps(__m512 x) {
  const __m512 ax = _mm512_min_ps(_mm512_abs_ps(x), _mm512_set1_ps(4.0f));
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

// 0.5 x (1 + erf(x / sqrt 2)).
inline __m512 gelu_ps(__m512 v) {
  const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f), inv_sqrt2 = _mm512_set1_ps(0.70710678118654752f);
  return _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, erf_ps(_mm512_mul_ps(v, inv_sqrt2))));
}

}  // namespace avx512
}  // namespace sie
