#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "elementwise.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx2,fma")

#include "vector_math_avx2.h"

namespace sie {

void gelu_erf_avx2(float* x, int64_t count) {
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) _mm256_storeu_ps(x + i, avx2::gelu_ps(_mm256_loadu_ps(x + i)));
  for (; i < count; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678118654752f));
}

void softmax_row_avx2(float* x, int cols) {
  const float max = *std::max_element(x, x + cols);
  const __m256 vmax = _mm256_set1_ps(max);
  __m256 vsum = _mm256_setzero_ps();
  int c = 0;
  for (; c + 8 <= cols; c += 8) {
    const __m256 e = avx2::exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + c), vmax));
    vsum = _mm256_add_ps(vsum, e);
    _mm256_storeu_ps(x + c, e);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, vsum);
  float sum = 0;
  for (float v : lanes) sum += v;
  for (; c < cols; ++c) sum += (x[c] = std::exp(x[c] - max));
  const float inv = 1.0f / sum, live = softmax_live_threshold(sum);
  for (int i = 0; i < cols; ++i) x[i] = x[i] >= live ? x[i] * inv : 0.0f;
}

}  // namespace sie

#pragma GCC pop_options
#else
namespace sie {
void gelu_erf_avx2(float*, int64_t) {}
void softmax_row_avx2(float*, int) {}
}  // namespace sie
#endif
