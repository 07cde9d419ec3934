// Attention's per-head packing of bf16 keys and values into bf16 panels (either Bf16Layout),
// with AVX-512: the scalar packers in bf16_gemm.cpp are their reference twins. Keys need a 16 x 16
// transpose of 32-bit k pairs per 16 pairs x 16 columns; values interleave two token rows into k pairs. These ran
// at 13 % of a short-batch bf16 forward as scalar loops (12 heads x every sequence x every layer).
#include <immintrin.h>

#include <algorithm>

#include "bf16_gemm.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw")

#include "../kernels/transpose_avx512.h"

namespace sie {
namespace {

inline __mmask32 first_lanes32(int count) { return count >= 32 ? __mmask32(0xFFFFFFFFu) : count <= 0 ? 0 : __mmask32((1u << count) - 1); }

}  // namespace

void pack_bf16_nk_from_bf16_avx512(const uint16_t* w, int n, int k, int64_t ld, uint16_t* dst, Bf16Layout layout) {
  const int kp = bf16_padded_k(k), panels = (n + kBf16PanelWidth - 1) / kBf16PanelWidth;
  for (int p = 0; p < panels; ++p) {
    uint16_t* panel = dst + int64_t(p) * kp * kBf16PanelWidth;
    for (int s = 0; s < kp / kBf16KBlock; ++s) {
      const __mmask32 lanes = first_lanes32(k - s * kBf16KBlock);
      for (int half = 0; half < 2; ++half) {
        // Row i: the 16 k pairs of this step for output column (row of w) 32p + 16 half + i.
        __m512i rows[16];
        for (int i = 0; i < 16; ++i) {
          const int row = p * kBf16PanelWidth + half * 16 + i;
          rows[i] = row < n ? _mm512_maskz_loadu_epi16(lanes, w + int64_t(row) * ld + s * kBf16KBlock) : _mm512_setzero_si512();
        }
        avx512::transpose_16x16_epi32(rows);  // row q: k pair q for the 16 columns
        for (int q = 0; q < 16; ++q)
          _mm512_storeu_si512(panel + 2 * bf16_panel_pair_index(16 * s + q, 16 * half, layout), rows[q]);
      }
    }
  }
}

void pack_bf16_kn_from_bf16_avx512(const uint16_t* b, int k, int n, int64_t ld, uint16_t* dst, Bf16Layout layout) {
  const int kp = bf16_padded_k(k), panels = (n + kBf16PanelWidth - 1) / kBf16PanelWidth;
  // Pairs (even[c], odd[c]) for columns 0-15, then 16-31 (vpermt2w indices; 32+ names `odd`).
  alignas(64) uint16_t low_index[32], high_index[32];
  for (int c = 0; c < 16; ++c) {
    low_index[2 * c] = uint16_t(c);
    low_index[2 * c + 1] = uint16_t(32 + c);
    high_index[2 * c] = uint16_t(16 + c);
    high_index[2 * c + 1] = uint16_t(48 + c);
  }
  const __m512i low = _mm512_load_si512(low_index), high = _mm512_load_si512(high_index);
  for (int p = 0; p < panels; ++p) {
    uint16_t* panel = dst + int64_t(p) * kp * kBf16PanelWidth;
    const int col = p * kBf16PanelWidth;
    const __mmask32 columns = first_lanes32(n - col);
    for (int kk = 0; kk < kp; kk += 2) {
      const __m512i even = kk < k ? _mm512_maskz_loadu_epi16(columns, b + int64_t(kk) * ld + col) : _mm512_setzero_si512();
      const __m512i odd = kk + 1 < k ? _mm512_maskz_loadu_epi16(columns, b + int64_t(kk + 1) * ld + col) : _mm512_setzero_si512();
      _mm512_storeu_si512(panel + bf16_panel_index(kk, 0, layout), _mm512_permutex2var_epi16(even, low, odd));
      _mm512_storeu_si512(panel + bf16_panel_index(kk, 16, layout), _mm512_permutex2var_epi16(even, high, odd));
    }
  }
}

}  // namespace sie

#pragma GCC pop_options
#else
namespace sie {
void pack_bf16_nk_from_bf16_avx512(const uint16_t*, int, int, int64_t, uint16_t*, Bf16Layout) {}
void pack_bf16_kn_from_bf16_avx512(const uint16_t*, int, int, int64_t, uint16_t*, Bf16Layout) {}
}  // namespace sie
#endif
