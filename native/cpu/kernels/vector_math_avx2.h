// AVX2+FMA exp, erf and GELU on 8 floats: the same approximations as vector_math_avx512.h
// (degree-6 Taylor e^r after range reduction; Abramowitz & Stegun 7.1.26 erf), for CPUs without
// AVX-512. Include only from files compiled for AVX2 (after their #pragma GCC target).
#pragma once
#include <immintrin.h>

namespace sie {
namespace avx2 {

// Lanes below -87.33 return 0, as in the AVX-512 twin: no denormal results (or products of them).
inline __m256 exp_ps(__m256 x) {
  const __m256 normal = _mm256_cmp_ps(x, _mm256_set1_ps(-87.33f), _CMP_NLT_UQ);
  x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.7f)), _mm256_set1_ps(-87.33f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187045e-06f), r);
  __m256 p = _mm256_set1_ps(1.0f / 720);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  // 2^n by building the exponent bits; the clamp above keeps n within the normal range.
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(bits)), normal);
}

// The AVX-512 twin's rational erf, capped at 4 the same way.
inline __m256 erf_ps(__m256 x) {
  x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(4.0f)), _mm256_set1_ps(-4.0f));
  const __m256 t = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(-2.72614225801306e-10f);
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(2.77068142495902e-08f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-2.10102402082508e-06f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-5.69250639462346e-05f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-7.34990630326855e-04f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-2.95459980854025e-03f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.60960333262415e-02f));
  __m256 q = _mm256_set1_ps(-1.45660718464996e-05f);
  q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(-2.13374055278905e-04f));
  q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(-1.68282697438203e-03f));
  q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(-7.37332916720468e-03f));
  q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(-1.42647390514189e-02f));
  return _mm256_div_ps(_mm256_mul_ps(x, p), q);
}

inline __m256 gelu_ps(__m256 v) {
  const __m256 half_v = _mm256_mul_ps(_mm256_set1_ps(0.5f), v);
  return _mm256_fmadd_ps(half_v, erf_ps(_mm256_mul_ps(v, _mm256_set1_ps(0.70710678118654752f))), half_v);
}

}  // namespace avx2
}  // namespace sie
