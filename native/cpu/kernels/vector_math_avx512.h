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

// erf as x P(x^2) / Q(x^2), a rational fit with P of degree 6 and Q of degree 4 in x^2 (the
// coefficients Eigen publishes for its float erf): 3.3e-7 absolute error at most in float
// arithmetic, against 5.4e-7 for Abramowitz & Stegun 7.1.26, which the kernels used before. It
// needs no exp, and so half the instructions: a GELU GEMM epilogue of 24 vectors took about 700
// cycles a tile with A&S on Zen 4, a sixth of the tile's products at k = 384. |x| is capped at 4,
// where erf rounds to 1.0f; the cap also keeps x^12 far from overflow. (A reciprocal estimate
// with a Newton step instead of the division measured the same.)
inline __m512 erf_ps(__m512 x) {
  x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(4.0f)), _mm512_set1_ps(-4.0f));
  const __m512 t = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(-2.72614225801306e-10f);
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(2.77068142495902e-08f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-2.10102402082508e-06f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-5.69250639462346e-05f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-7.34990630326855e-04f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-2.95459980854025e-03f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.60960333262415e-02f));
  __m512 q = _mm512_set1_ps(-1.45660718464996e-05f);
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(-2.13374055278905e-04f));
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(-1.68282697438203e-03f));
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(-7.37332916720468e-03f));
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(-1.42647390514189e-02f));
  return _mm512_div_ps(_mm512_mul_ps(x, p), q);
}

// 0.5 x (1 + erf(x / sqrt 2)).
inline __m512 gelu_ps(__m512 v) {
  const __m512 half_v = _mm512_mul_ps(_mm512_set1_ps(0.5f), v);
  return _mm512_fmadd_ps(half_v, erf_ps(_mm512_mul_ps(v, _mm512_set1_ps(0.70710678118654752f))), half_v);
}

}  // namespace avx512
}  // namespace sie
