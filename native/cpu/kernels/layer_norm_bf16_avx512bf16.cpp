// LayerNorm rows that also write their bf16 rounding, the input of the next bf16 GEMM, while the
// values are still in registers (a separate conversion pass re-read every row).
#include <immintrin.h>

#include <cstdint>

#include "elementwise.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx512bf16,fma")

#include "layer_norm_avx512.h"

namespace sie {

void add_layer_norm_row_bf16_avx512bf16(float* x, const float* residual, int cols, const float* gamma, const float* beta, float eps,
                                        uint16_t* out, int cols_padded) {
  avx512::add_layer_norm_row(x, residual, cols, gamma, beta, eps, [&](int c, __mmask16 mask, __m512 v) {
    _mm512_mask_storeu_ps(x + c, mask, v);
    _mm256_mask_storeu_epi16(out + c, mask, (__m256i)_mm512_cvtneps_pbh(v));
  });
  for (int c = cols; c < cols_padded; ++c) out[c] = 0;
}

}  // namespace sie

#pragma GCC pop_options
#else
namespace sie {
void add_layer_norm_row_bf16_avx512bf16(float*, const float*, int, const float*, const float*, float, uint16_t*, int) {}
}  // namespace sie
#endif
