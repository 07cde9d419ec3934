// The register kernel of short_attention_bf16 (AVX512-BF16).
#include <immintrin.h>

#include <cstring>

#include "attention_short_bf16.h"
#include "elementwise.h"
#include "../gemm/bf16_gemm.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx512bf16,fma")

#include "vector_math_avx512.h"

namespace sie {
namespace {

// Up to four query rows at a time: independent VDPBF16PS chains, so the products of one row do
// not wait on the previous row's (a chain of 16 dependent products would take 6 cycles each).
template <int Rows, int HeadDim>
void rows_of_attention(int length, const uint16_t* q, int64_t ld, const uint32_t* keys, const uint32_t* values, int value_panel_pairs,
                       uint16_t* out, int64_t ld_out) {
  constexpr int kPairs = HeadDim / 2, kPanels = HeadDim / 32;
  // Scores: lane j is key j. keys holds pair p of every key in 16 consecutive lanes.
  __m512 s[Rows];
  for (int r = 0; r < Rows; ++r) s[r] = _mm512_setzero_ps();
  for (int p = 0; p < kPairs; ++p) {
    // Pairs 16-31 of a 64-wide head sit one 32-pair k step (512 pairs) further on in the panel.
    const __m512bh kp = (__m512bh)_mm512_load_si512(keys + (p / 16) * 512 + (p % 16) * 16);
    for (int r = 0; r < Rows; ++r) {
      int32_t pair;
      std::memcpy(&pair, q + r * ld + 2 * p, 4);
      s[r] = _mm512_dpbf16_ps(s[r], (__m512bh)_mm512_set1_epi32(pair), kp);
    }
  }
  // Softmax per row, as softmax_row_to_bf16_avx512bf16 computes it for a row of <= 16 values.
  const __mmask16 live_keys = __mmask16((1u << length) - 1);
  alignas(64) uint32_t probabilities[Rows][16];
  for (int r = 0; r < Rows; ++r) {
    const __m512 lowest = _mm512_set1_ps(-3.4e38f);
    const __m512 max = _mm512_set1_ps(_mm512_reduce_max_ps(_mm512_mask_max_ps(lowest, live_keys, lowest, s[r])));
    const __m512 e = _mm512_maskz_mov_ps(live_keys, avx512::exp_nonpositive_ps<4>(_mm512_sub_ps(s[r], max)));
    const float sum = _mm512_reduce_add_ps(e);
    const __m512 inv = _mm512_set1_ps(1.0f / sum);
    const __m512 p = _mm512_maskz_mul_ps(_mm512_cmp_ps_mask(e, _mm512_set1_ps(softmax_live_threshold(sum)), _CMP_GE_OQ), e, inv);
    _mm256_store_si256(reinterpret_cast<__m256i*>(probabilities[r]), (__m256i)_mm512_cvtneps_pbh(p));
  }
  // Context: pairs of keys against the values' panels (pair t of 16 columns: 16 lanes).
  const int key_pairs = (length + 1) / 2;
  __m512 acc[Rows][2 * kPanels];
  for (int r = 0; r < Rows; ++r)
    for (int c = 0; c < 2 * kPanels; ++c) acc[r][c] = _mm512_setzero_ps();
  for (int t = 0; t < key_pairs; ++t) {
    __m512bh vp[2 * kPanels];
    for (int c = 0; c < 2 * kPanels; ++c)
      vp[c] = (__m512bh)_mm512_load_si512(values + (c / 2) * value_panel_pairs + (c % 2) * 256 + t * 16);
    for (int r = 0; r < Rows; ++r) {
      const __m512bh a = (__m512bh)_mm512_set1_epi32(int32_t(probabilities[r][t]));
      for (int c = 0; c < 2 * kPanels; ++c) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], a, vp[c]);
    }
  }
  for (int r = 0; r < Rows; ++r)
    for (int c = 0; c < kPanels; ++c)
      _mm512_storeu_si512(out + r * ld_out + 32 * c, (__m512i)_mm512_cvtne2ps_pbh(acc[r][2 * c + 1], acc[r][2 * c]));
}

template <int HeadDim>
void attention_rows(int length, const uint16_t* q, const uint16_t* k, const uint16_t* v, int64_t ld, int row_begin, int row_end,
                    uint16_t* out, int64_t ld_out) {
  // Keys as one panel of 16 (of 32) columns over HeadDim; values as HeadDim / 32 panels over
  // 32 k-padded tokens: what the general route packs, in 2-4 KiB on the stack.
  alignas(64) uint16_t keys[32 * HeadDim];
  alignas(64) uint16_t values[HeadDim * 32];
  pack_bf16_nk_from_bf16_avx512(k, length, HeadDim, ld, keys);
  pack_bf16_kn_from_bf16_avx512(v, length, HeadDim, ld, values);
  const auto* key_pairs = reinterpret_cast<const uint32_t*>(keys);
  const auto* value_pairs = reinterpret_cast<const uint32_t*>(values);
  constexpr int kValuePanelPairs = 32 * 32 / 2;  // one panel: 32 k-padded tokens x 32 columns
  int i = row_begin;
  for (; i + 4 <= row_end; i += 4)
    rows_of_attention<4, HeadDim>(length, q + i * ld, ld, key_pairs, value_pairs, kValuePanelPairs, out + i * ld_out, ld_out);
  for (; i < row_end; ++i)
    rows_of_attention<1, HeadDim>(length, q + i * ld, ld, key_pairs, value_pairs, kValuePanelPairs, out + i * ld_out, ld_out);
}

}  // namespace

void short_attention_bf16(int length, int head_dim, const uint16_t* q, const uint16_t* k, const uint16_t* v, int64_t ld,
                          int row_begin, int row_end, uint16_t* out, int64_t ld_out) {
  if (head_dim == 32) attention_rows<32>(length, q, k, v, ld, row_begin, row_end, out, ld_out);
  else attention_rows<64>(length, q, k, v, ld, row_begin, row_end, out, ld_out);
}

}  // namespace sie

#pragma GCC pop_options
#else
namespace sie {
void short_attention_bf16(int, int, const uint16_t*, const uint16_t*, const uint16_t*, int64_t, int, int, uint16_t*, int64_t) {}
}  // namespace sie
#endif
