// The decimal search of write_float32_shortest for eight values at once, in 64-bit lanes: the
// 64 x 32-bit products split into two 32 x 32-bit ones (vpmuludq), the interval tests become
// lane masks and the choices blends, so nothing depends on the branch predictor. The scalar
// search stays as its twin (test/wire-format.test.ts; bench/float32-shortest-exhaustive.cpp
// compares both with std::to_chars on every float32).
#include "float32_shortest.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "float32_decimal_table.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl")
// GCC 12's intrinsics start their "undefined" vectors as `__m512i __Y = __Y;`, which -Wall reports
// at every shift by immediate inlined here.
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace sie {
namespace {

inline __m512i u64(uint64_t value) { return _mm512_set1_epi64(int64_t(value)); }

// floor(x * g / 2^64), lowest bit set when a fraction was cut; bits 0-31 of the fraction left
// out, as in the scalar scaled_round_to_odd. x < 2^30.
inline __m512i scaled_round_to_odd(__m512i g_high, __m512i g_low, __m512i x) {
  const __m512i sum = _mm512_add_epi64(_mm512_mul_epu32(g_high, x), _mm512_srli_epi64(_mm512_mul_epu32(g_low, x), 32));
  const __m512i whole = _mm512_srli_epi64(sum, 32);
  return _mm512_mask_or_epi64(whole, _mm512_test_epi64_mask(sum, u64(0xFFFFFFFFu)), whole, u64(1));
}

// value / 10 for value < 2^32.
inline __m512i tenth(__m512i value) { return _mm512_srli_epi64(_mm512_mul_epu32(value, u64(0xCCCCCCCDu)), 35); }
inline __m512i times_ten(__m512i value) { return _mm512_add_epi64(_mm512_slli_epi64(value, 3), _mm512_slli_epi64(value, 1)); }

}  // namespace

uint32_t float32_shortest_digits_x8(const float* values, uint32_t digits_out[8], int32_t exponents_out[8]) {
  const __m512i bits = _mm512_maskz_cvtepu32_epi64(0xFF, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(values)));
  const __m512i field = _mm512_and_si512(_mm512_srli_epi64(bits, 23), u64(0xFF));
  const __m512i fraction = _mm512_and_si512(bits, u64(0x7FFFFF));
  const __mmask8 special = _mm512_cmpeq_epi64_mask(field, u64(0)) | _mm512_cmpeq_epi64_mask(field, u64(0xFF));
  const __mmask8 asymmetric = _mm512_cmpeq_epi64_mask(fraction, u64(0)) & _mm512_cmpgt_epi64_mask(field, u64(1)) & ~special;
  const __m512i c = _mm512_or_si512(fraction, u64(1u << 23));
  // Row of the table: field * 2 + asymmetric, 16 bytes each ({k, h} then g); special lanes read row 2.
  const __m512i row = _mm512_mask_mov_epi64(_mm512_add_epi64(_mm512_slli_epi64(field, 1), _mm512_maskz_mov_epi64(asymmetric, u64(1))), special, u64(2));
  const long long* table = reinterpret_cast<const long long*>(kFloat32DecimalScales);
  const __m512i k_and_h = _mm512_i64gather_epi64(_mm512_slli_epi64(row, 1), table, 8);
  const __m512i g = _mm512_i64gather_epi64(_mm512_add_epi64(_mm512_slli_epi64(row, 1), u64(1)), table, 8);
  const __m512i k = _mm512_srai_epi64(_mm512_slli_epi64(k_and_h, 32), 32);
  const __m512i h = _mm512_srli_epi64(k_and_h, 32);
  const __m512i g_high = _mm512_srli_epi64(g, 32), g_low = _mm512_and_si512(g, u64(0xFFFFFFFFu));
  const __m512i excluded = _mm512_and_si512(c, u64(1));

  const __m512i cb = _mm512_slli_epi64(c, 2);
  const __m512i cb_low = _mm512_mask_add_epi64(_mm512_sub_epi64(cb, u64(2)), asymmetric, _mm512_sub_epi64(cb, u64(2)), u64(1));
  const __m512i cb_high = _mm512_add_epi64(cb, u64(2));
  const __m512i vb = scaled_round_to_odd(g_high, g_low, _mm512_sllv_epi64(cb, h));
  const __m512i vb_low = _mm512_add_epi64(scaled_round_to_odd(g_high, g_low, _mm512_sllv_epi64(cb_low, h)), excluded);
  const __m512i vb_high = _mm512_sub_epi64(scaled_round_to_odd(g_high, g_low, _mm512_sllv_epi64(cb_high, h)), excluded);

  // In the scalar search "low + excluded <= x" and "x + excluded <= high": the same tests with
  // the excluded bit moved onto the bounds.
  const __m512i s = _mm512_srli_epi64(vb, 2), t = _mm512_add_epi64(s, u64(1));
  const __m512i s_tenth = tenth(s);
  const __m512i s10 = times_ten(s_tenth), t10 = _mm512_add_epi64(s10, u64(10));
  const __mmask8 s10_in = _mm512_cmple_epu64_mask(vb_low, _mm512_slli_epi64(s10, 2));
  const __mmask8 t10_in = _mm512_cmple_epu64_mask(_mm512_slli_epi64(t10, 2), vb_high);
  const __mmask8 s_in = _mm512_cmple_epu64_mask(vb_low, _mm512_slli_epi64(s, 2));
  const __mmask8 t_in = _mm512_cmple_epu64_mask(_mm512_slli_epi64(t, 2), vb_high);
  const __m512i middle = _mm512_add_epi64(_mm512_slli_epi64(s, 2), u64(2));
  const __mmask8 s_even = _mm512_testn_epi64_mask(s, u64(1));
  const __mmask8 nearer_s = _mm512_cmplt_epu64_mask(vb, middle) | (_mm512_cmpeq_epi64_mask(vb, middle) & s_even);
  const __mmask8 one_in = s_in ^ t_in;
  const __mmask8 pick_s = (one_in & s_in) | (~one_in & nearer_s);
  const __mmask8 shorter = s10_in ^ t10_in;
  const __m512i one_digit_shorter = _mm512_mask_add_epi64(s_tenth, ~s10_in, s_tenth, u64(1));
  __m512i digits = _mm512_mask_blend_epi64(shorter, _mm512_mask_blend_epi64(pick_s, t, s), one_digit_shorter);
  __m512i exponent = _mm512_mask_add_epi64(k, shorter, k, u64(1));
  digits = _mm512_mask_mov_epi64(digits, special, u64(1));  // keeps the loop below finite
  for (;;) {
    const __m512i next = tenth(digits);
    const __mmask8 zero_last = _mm512_cmpeq_epi64_mask(times_ten(next), digits) & ~special;
    if (!zero_last) break;
    digits = _mm512_mask_mov_epi64(digits, zero_last, next);
    exponent = _mm512_mask_add_epi64(exponent, zero_last, exponent, u64(1));
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(digits_out), _mm512_cvtepi64_epi32(digits));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(exponents_out), _mm512_cvtepi64_epi32(exponent));
  return special;
}

}  // namespace sie

#pragma GCC pop_options
#else
namespace sie {
uint32_t float32_shortest_digits_x8(const float*, uint32_t*, int32_t*) { return 0xFF; }
}  // namespace sie
#endif
