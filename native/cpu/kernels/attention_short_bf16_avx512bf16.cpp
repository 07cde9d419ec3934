// The register kernel of short_attention_bf16 (AVX512-BF16).
#include <immintrin.h>

#include <cstring>

#include "attention_short_bf16.h"
#include "elementwise.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx512bf16,fma")

#include "transpose_avx512.h"
#include "vector_math_avx512.h"

namespace sie {
namespace {

// Up to four query rows at a time: independent VDPBF16PS chains, so the products of one row do
// not wait on the previous row's (a chain of 16 dependent products would take 6 cycles each).
// Keys come in KeyBlocks blocks of 16 (sequences of up to 16 or 32 tokens).
// keys: pair p of keys 16b..16b+15 in lanes 16(KeyBlocks p + b)..+15. values: for each 16-column
// half c of the head, the pair t of tokens (2t, 2t + 1) in lanes 16(16c + t)..+15 (lane i:
// column 16c + i).
template <int Rows, int HeadDim, int KeyBlocks>
void rows_of_attention(int length, const uint16_t* q, int64_t ld, const uint32_t* keys, const uint32_t* values, uint16_t* out,
                       int64_t ld_out) {
  constexpr int kPairs = HeadDim / 2, kHalves = HeadDim / 16;
  // Scores: lane j of block b is key 16b + j.
  __m512 s[Rows][KeyBlocks];
  for (int r = 0; r < Rows; ++r)
    for (int b = 0; b < KeyBlocks; ++b) s[r][b] = _mm512_setzero_ps();
  for (int p = 0; p < kPairs; ++p) {
    __m512bh kp[KeyBlocks];
    for (int b = 0; b < KeyBlocks; ++b) kp[b] = (__m512bh)_mm512_load_si512(keys + (KeyBlocks * p + b) * 16);
    for (int r = 0; r < Rows; ++r) {
      int32_t pair;
      std::memcpy(&pair, q + r * ld + 2 * p, 4);
      const __m512bh a = (__m512bh)_mm512_set1_epi32(pair);
      for (int b = 0; b < KeyBlocks; ++b) s[r][b] = _mm512_dpbf16_ps(s[r][b], a, kp[b]);
    }
  }
  // Softmax per row, as softmax_row_to_bf16_avx512bf16 computes it for a row of <= 32 values
  // (its sum adds the two blocks lane by lane first, as here).
  __mmask16 live[KeyBlocks];
  for (int b = 0; b < KeyBlocks; ++b) {
    const int left = length - 16 * b;
    live[b] = left >= 16 ? __mmask16(0xFFFF) : left <= 0 ? __mmask16(0) : __mmask16((1u << left) - 1);
  }
  alignas(64) uint32_t probabilities[Rows][16];  // bf16 pairs of keys (2j, 2j + 1)
  for (int r = 0; r < Rows; ++r) {
    const __m512 lowest = _mm512_set1_ps(-3.4e38f);
    __m512 m = lowest;
    for (int b = 0; b < KeyBlocks; ++b) m = _mm512_mask_max_ps(m, live[b], m, s[r][b]);
    const __m512 max = _mm512_set1_ps(_mm512_reduce_max_ps(m));
    __m512 e[KeyBlocks];
    __m512 total = _mm512_setzero_ps();
    for (int b = 0; b < KeyBlocks; ++b) {
      e[b] = _mm512_maskz_mov_ps(live[b], avx512::exp_nonpositive_ps<4>(_mm512_sub_ps(s[r][b], max)));
      total = _mm512_add_ps(total, e[b]);
    }
    const float sum = _mm512_reduce_add_ps(total);
    const __m512 inv = _mm512_set1_ps(1.0f / sum), threshold = _mm512_set1_ps(softmax_live_threshold(sum));
    for (int b = 0; b < KeyBlocks; ++b) {
      const __m512 p = _mm512_maskz_mul_ps(_mm512_cmp_ps_mask(e[b], threshold, _CMP_GE_OQ), e[b], inv);
      _mm256_store_si256(reinterpret_cast<__m256i*>(probabilities[r] + 8 * b), (__m256i)_mm512_cvtneps_pbh(p));
    }
  }
  // Context: pairs of keys against pairs of value rows.
  const int key_pairs = (length + 1) / 2;
  __m512 acc[Rows][kHalves];
  for (int r = 0; r < Rows; ++r)
    for (int c = 0; c < kHalves; ++c) acc[r][c] = _mm512_setzero_ps();
  for (int t = 0; t < key_pairs; ++t) {
    __m512bh vp[kHalves];
    for (int c = 0; c < kHalves; ++c) vp[c] = (__m512bh)_mm512_load_si512(values + (c * 16 + t) * 16);
    for (int r = 0; r < Rows; ++r) {
      const __m512bh a = (__m512bh)_mm512_set1_epi32(int32_t(probabilities[r][t]));
      for (int c = 0; c < kHalves; ++c) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], a, vp[c]);
    }
  }
  for (int r = 0; r < Rows; ++r)
    for (int c = 0; c < kHalves / 2; ++c)
      _mm512_storeu_si512(out + r * ld_out + 32 * c, (__m512i)_mm512_cvtne2ps_pbh(acc[r][2 * c + 1], acc[r][2 * c]));
}

template <int HeadDim, int KeyBlocks>
void attention_rows(int length, const uint16_t* q, const uint16_t* k, const uint16_t* v, int64_t ld, int row_begin, int row_end,
                    uint16_t* out, int64_t ld_out) {
  // K and V rearranged in registers into the pairs VDPBF16PS reads (up to 8 KiB on the stack):
  // the general packers fill whole 32-key, 32-token panels, mostly zeros for short sequences.
  alignas(64) uint32_t keys[HeadDim / 2 * 16 * KeyBlocks];
  alignas(64) uint32_t values[HeadDim / 16 * 16 * 16];
  for (int block = 0; block < HeadDim / 32; ++block) {
    for (int b = 0; b < KeyBlocks; ++b) {
      // Row j: key 16b + j's 16 pairs of this 32-column block; after the transpose, row p: pair
      // p of those 16 keys.
      __m512i rows[16];
      for (int j = 0; j < 16; ++j)
        rows[j] = 16 * b + j < length ? _mm512_loadu_si512(k + (16 * b + j) * ld + 32 * block) : _mm512_setzero_si512();
      avx512::transpose_16x16_epi32(rows);
      for (int p = 0; p < 16; ++p) _mm512_store_si512(keys + (KeyBlocks * (16 * block + p) + b) * 16, rows[p]);
    }
  }
  // vpermt2w indices: (even[c], odd[c]) for columns 0-15, then 16-31; 32 and up name `odd`.
  alignas(64) static constexpr uint16_t kLow[32] = {0, 32, 1, 33, 2, 34, 3, 35, 4, 36, 5, 37, 6, 38, 7, 39,
                                                    8, 40, 9, 41, 10, 42, 11, 43, 12, 44, 13, 45, 14, 46, 15, 47};
  alignas(64) static constexpr uint16_t kHigh[32] = {16, 48, 17, 49, 18, 50, 19, 51, 20, 52, 21, 53, 22, 54, 23, 55,
                                                     24, 56, 25, 57, 26, 58, 27, 59, 28, 60, 29, 61, 30, 62, 31, 63};
  const __m512i low = _mm512_load_si512(kLow), high = _mm512_load_si512(kHigh);
  for (int t = 0; 2 * t < length; ++t) {
    for (int block = 0; block < HeadDim / 32; ++block) {
      const __m512i even = _mm512_loadu_si512(v + 2 * t * ld + 32 * block);
      const __m512i odd = 2 * t + 1 < length ? _mm512_loadu_si512(v + (2 * t + 1) * ld + 32 * block) : _mm512_setzero_si512();
      _mm512_store_si512(values + ((2 * block) * 16 + t) * 16, _mm512_permutex2var_epi16(even, low, odd));
      _mm512_store_si512(values + ((2 * block + 1) * 16 + t) * 16, _mm512_permutex2var_epi16(even, high, odd));
    }
  }
  int i = row_begin;
  for (; i + 4 <= row_end; i += 4)
    rows_of_attention<4, HeadDim, KeyBlocks>(length, q + i * ld, ld, keys, values, out + i * ld_out, ld_out);
  for (; i < row_end; ++i) rows_of_attention<1, HeadDim, KeyBlocks>(length, q + i * ld, ld, keys, values, out + i * ld_out, ld_out);
}

}  // namespace

void short_attention_bf16(int length, int head_dim, const uint16_t* q, const uint16_t* k, const uint16_t* v, int64_t ld,
                          int row_begin, int row_end, uint16_t* out, int64_t ld_out) {
  if (length <= 16) {
    if (head_dim == 32) attention_rows<32, 1>(length, q, k, v, ld, row_begin, row_end, out, ld_out);
    else attention_rows<64, 1>(length, q, k, v, ld, row_begin, row_end, out, ld_out);
  } else {
    if (head_dim == 32) attention_rows<32, 2>(length, q, k, v, ld, row_begin, row_end, out, ld_out);
    else attention_rows<64, 2>(length, q, k, v, ld, row_begin, row_end, out, ld_out);
  }
}

}  // namespace sie

#pragma GCC pop_options
#else
namespace sie {
void short_attention_bf16(int, int, const uint16_t*, const uint16_t*, const uint16_t*, int64_t, int, int, uint16_t*, int64_t) {}
}  // namespace sie
#endif
