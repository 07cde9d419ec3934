// One row of LayerNorm(x + residual) * gamma + beta, shared by the fp32 kernel and the one that
// also writes the bf16 copy a bf16 GEMM reads next. Include only from files compiled for AVX-512
// (after their #pragma GCC target).
#pragma once
#include <immintrin.h>

#include <cmath>

namespace sie {
namespace avx512 {

inline __mmask16 first_lanes16(int left) { return left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1); }

// Two passes for the statistics (mean, then the squared deviations from it), as the reference
// computes them: one-pass E[x^2] - mean^2 loses digits on rows with a large mean. Each pass runs
// four chains over 64 values a step: one chain waited 3-4 cycles on its own add for every 16
// values, and a 384-wide row took about 380 cycles (2.2 % of a short bf16 forward on Zen 4).
// store(c, mask, value) writes the normalised values of columns [c, c + 16) under mask.
template <typename Store>
inline void add_layer_norm_row(float* x, const float* residual, int cols, const float* gamma, const float* beta, float eps,
                               Store&& store) {
  auto load = [&](int c, __mmask16 mask) {
    __m512 v = _mm512_maskz_loadu_ps(mask, x + c);
    if (residual) {
      v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, residual + c));
      _mm512_mask_storeu_ps(x + c, mask, v);
    }
    return v;
  };
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  int c = 0;
  for (; c + 64 <= cols; c += 64) {
    s0 = _mm512_add_ps(s0, load(c, 0xFFFF));
    s1 = _mm512_add_ps(s1, load(c + 16, 0xFFFF));
    s2 = _mm512_add_ps(s2, load(c + 32, 0xFFFF));
    s3 = _mm512_add_ps(s3, load(c + 48, 0xFFFF));
  }
  for (; c < cols; c += 16) s0 = _mm512_add_ps(s0, load(c, first_lanes16(cols - c)));
  const __m512 mean = _mm512_set1_ps(_mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3))) / float(cols));
  auto deviation = [&](int c, __mmask16 mask) { return _mm512_maskz_sub_ps(mask, _mm512_maskz_loadu_ps(mask, x + c), mean); };
  __m512 q0 = _mm512_setzero_ps(), q1 = q0, q2 = q0, q3 = q0;
  c = 0;
  for (; c + 64 <= cols; c += 64) {
    const __m512 d0 = deviation(c, 0xFFFF), d1 = deviation(c + 16, 0xFFFF), d2 = deviation(c + 32, 0xFFFF), d3 = deviation(c + 48, 0xFFFF);
    q0 = _mm512_fmadd_ps(d0, d0, q0);
    q1 = _mm512_fmadd_ps(d1, d1, q1);
    q2 = _mm512_fmadd_ps(d2, d2, q2);
    q3 = _mm512_fmadd_ps(d3, d3, q3);
  }
  for (; c < cols; c += 16) {
    const __m512 d = deviation(c, first_lanes16(cols - c));
    q0 = _mm512_fmadd_ps(d, d, q0);
  }
  const float variance = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(q0, q1), _mm512_add_ps(q2, q3))) / float(cols);
  const __m512 inv_std = _mm512_set1_ps(1.0f / std::sqrt(variance + eps));
  for (c = 0; c < cols; c += 16) {
    const __mmask16 mask = first_lanes16(cols - c);
    const __m512 normed = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, x + c), mean), inv_std);
    const __m512 g = _mm512_maskz_loadu_ps(mask, gamma + c);
    const __m512 b = beta ? _mm512_maskz_loadu_ps(mask, beta + c) : _mm512_setzero_ps();
    store(c, mask, _mm512_fmadd_ps(normed, g, b));
  }
}

}  // namespace avx512
}  // namespace sie
