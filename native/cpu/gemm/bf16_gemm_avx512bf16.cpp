// The AVX512-BF16 kernel of gemm_bf16: VDPBF16PS multiplies a broadcast pair of X values (one
// 32-bit lane: x[k], x[k+1]) with 16 columns' pairs and adds both products into fp32 lanes. Its
// panels are in Bf16Layout::Rows: k pair q is 128 bytes at q * kBf16RowElements, columns 0-15
// then 16-31, so each panel is read as one sequential stream.
#include <immintrin.h>

#include <cstring>

#include "bf16_gemm.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx512bf16,fma")

#include "gemm_epilogue_bf16_out.h"
#include "tile_rows_dispatch.h"

namespace sie {
namespace {

// How far ahead (in k pairs) each step prefetches its panel's two streams. A short request (12
// rows) spends only 24 VDPBF16PS on each 128 bytes of panel, too few to hide a load from L3:
// left to the hardware prefetcher, a MiniLM-shaped forward's GEMMs at 12 rows ran at 1.2-1.9 ms
// on Zen 4 (two threads, weights in L3), and with this at 0.72-0.86 ms. Larger M is unchanged.
constexpr int kPrefetchPairs = 32;

template <int MR>
void tile(int k_padded, const uint16_t* x, int64_t ldx, const uint16_t* panel, const float* bias, int cols, float* y,
          int64_t ldy, Epilogue epilogue, uint16_t* y16) {
  __m512 lo[MR], hi[MR];
  for (int r = 0; r < MR; ++r) lo[r] = hi[r] = _mm512_setzero_ps();
  for (int q = 0; q < k_padded / 2; ++q) {
    const uint16_t* pairs = panel + int64_t(q) * kBf16RowElements;
    const __m512bh b0 = (__m512bh)_mm512_load_si512(pairs);
    const __m512bh b1 = (__m512bh)_mm512_load_si512(pairs + kBf16RowHalfElements);
    // Past the panel's end this touches the next panel (what the next tile reads); it never faults.
    const uint16_t* ahead = pairs + kPrefetchPairs * kBf16RowElements;
    _mm_prefetch(reinterpret_cast<const char*>(ahead), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(ahead + kBf16RowHalfElements), _MM_HINT_T0);
    for (int r = 0; r < MR; ++r) {
      int32_t pair;
      std::memcpy(&pair, x + r * ldx + 2 * q, 4);
      const __m512bh a = (__m512bh)_mm512_set1_epi32(pair);
      lo[r] = _mm512_dpbf16_ps(lo[r], a, b0);
      hi[r] = _mm512_dpbf16_ps(hi[r], a, b1);
    }
  }
  const avx512::TileColumns columns(bias, cols);
  if (y16) {
    for (int r = 0; r < MR; ++r) avx512::store_tile_row_bf16(columns, lo[r], hi[r], epilogue, y16 + r * ldy);
    return;
  }
  for (int r = 0; r < MR; ++r) avx512::store_tile_row(columns, lo[r], hi[r], epilogue, y + r * ldy);
}

// The four lines (two panels, both halves) of k pair `pair` in the pair of panels at `first`.
inline void prefetch_pair_lines(const uint16_t* first, const uint16_t* second, int pair) {
  const int64_t at = int64_t(pair) * kBf16RowElements;
  _mm_prefetch(reinterpret_cast<const char*>(first + at), _MM_HINT_T0);
  _mm_prefetch(reinterpret_cast<const char*>(first + at + kBf16RowHalfElements), _MM_HINT_T0);
  _mm_prefetch(reinterpret_cast<const char*>(second + at), _MM_HINT_T0);
  _mm_prefetch(reinterpret_cast<const char*>(second + at + kBf16RowHalfElements), _MM_HINT_T0);
}

// MR rows against two adjacent panels (64 columns). Each broadcast pair of X now feeds four
// VDPBF16PS instead of two: per k pair, 6 broadcasts and 4 panel loads for 24 products, against
// 12 and 2 in the 12 x 32 tile. On Zen 4 (one core, operands in L1) that ran at 223-230 GFLOP/s
// against 214-222, with VDPBF16PS alone at 233.
template <int MR>
void tile64(int k_padded, const uint16_t* x, int64_t ldx, const uint16_t* panel, const uint16_t* panel2, const float* bias,
            int cols, float* y, int64_t ldy, Epilogue epilogue, uint16_t* y16, const PairPrefetch& prefetch) {
  __m512 acc[4][MR];
  for (int r = 0; r < MR; ++r) acc[0][r] = acc[1][r] = acc[2][r] = acc[3][r] = _mm512_setzero_ps();
  const int pairs = k_padded / 2;
  // The next pair's k pairs [pass, pass + 1) * pairs / passes, one every `passes` steps: the
  // position is (pass * pairs + q) / passes, kept as a quotient and remainder.
  const uint16_t* next = prefetch.next;
  const uint16_t* next2 = next ? next + int64_t(k_padded) * kBf16PanelWidth : nullptr;
  int next_pair = next ? (prefetch.pass * pairs) / prefetch.passes : 0;
  int next_rest = next ? (prefetch.pass * pairs) % prefetch.passes : 0;
  if (next) prefetch_pair_lines(next, next2, next_pair);
  for (int q = 0; q < pairs; ++q) {
    const int64_t step = int64_t(q) * kBf16RowElements;
    const __m512bh b0 = (__m512bh)_mm512_load_si512(panel + step);
    const __m512bh b1 = (__m512bh)_mm512_load_si512(panel + step + kBf16RowHalfElements);
    const __m512bh b2 = (__m512bh)_mm512_load_si512(panel2 + step);
    const __m512bh b3 = (__m512bh)_mm512_load_si512(panel2 + step + kBf16RowHalfElements);
    if (prefetch.own_ahead) prefetch_pair_lines(panel, panel2, q + kPrefetchPairs);
    if (next && ++next_rest == prefetch.passes) {
      next_rest = 0;
      prefetch_pair_lines(next, next2, ++next_pair);
    }
    for (int r = 0; r < MR; ++r) {
      int32_t pair;
      std::memcpy(&pair, x + r * ldx + 2 * q, 4);
      const __m512bh a = (__m512bh)_mm512_set1_epi32(pair);
      acc[0][r] = _mm512_dpbf16_ps(acc[0][r], a, b0);
      acc[1][r] = _mm512_dpbf16_ps(acc[1][r], a, b1);
      acc[2][r] = _mm512_dpbf16_ps(acc[2][r], a, b2);
      acc[3][r] = _mm512_dpbf16_ps(acc[3][r], a, b3);
    }
  }
  const avx512::TileColumns first(bias, 32), second(bias ? bias + 32 : nullptr, cols - 32);
  if (y16) {
    for (int r = 0; r < MR; ++r) {
      avx512::store_tile_row_bf16(first, acc[0][r], acc[1][r], epilogue, y16 + r * ldy);
      avx512::store_tile_row_bf16(second, acc[2][r], acc[3][r], epilogue, y16 + r * ldy + 32);
    }
    return;
  }
  for (int r = 0; r < MR; ++r) {
    avx512::store_tile_row(first, acc[0][r], acc[1][r], epilogue, y + r * ldy);
    avx512::store_tile_row(second, acc[2][r], acc[3][r], epilogue, y + r * ldy + 32);
  }
}

}  // namespace

void bf16_tile64_avx512bf16(int rows, int k_padded, const uint16_t* x, int64_t ldx, const uint16_t* panel, const uint16_t* panel2,
                            const float* bias, int cols, float* y, int64_t ldy, Epilogue epilogue, uint16_t* y16, PairPrefetch prefetch) {
  dispatch_tile_rows<kBf16WideTileRows>(rows, [&](auto mr) {
    tile64<decltype(mr)::value>(k_padded, x, ldx, panel, panel2, bias, cols, y, ldy, epilogue, y16, prefetch);
  });
}

void bf16_tile_avx512bf16(int rows, int k_padded, const uint16_t* x, int64_t ldx, const uint16_t* panel, const float* bias,
                          int cols, float* y, int64_t ldy, Epilogue epilogue, uint16_t* y16) {
  dispatch_tile_rows<12>(rows, [&](auto mr) { tile<decltype(mr)::value>(k_padded, x, ldx, panel, bias, cols, y, ldy, epilogue, y16); });
}

void convert_bf16_avx512bf16(const float* src, uint16_t* dst, int count) {
  int i = 0;
  for (; i + 16 <= count; i += 16) _mm256_storeu_si256((__m256i*)(dst + i), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + i)));
  if (i < count) {
    const __mmask16 mask = __mmask16((1u << (count - i)) - 1);
    _mm256_mask_storeu_epi16(dst + i, mask, (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(mask, src + i)));
  }
}

void split_bf16x3_avx512bf16(const float* src, uint16_t* hi, uint16_t* lo, int count) {
  for (int i = 0; i < count; i += 16) {
    const __mmask16 mask = count - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (count - i)) - 1);
    const __m512 value = _mm512_maskz_loadu_ps(mask, src + i);
    const __m256i high = (__m256i)_mm512_cvtneps_pbh(value);
    const __m512 high_value = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(high), 16));  // exact
    const __m256i low = (__m256i)_mm512_cvtneps_pbh(_mm512_sub_ps(value, high_value));
    _mm256_mask_storeu_epi16(hi + i, mask, high);
    _mm256_mask_storeu_epi16(lo + i, mask, low);
  }
}

}  // namespace sie

#pragma GCC pop_options
#else
namespace sie {
void bf16_tile_avx512bf16(int, int, const uint16_t*, int64_t, const uint16_t*, const float*, int, float*, int64_t, Epilogue, uint16_t*) {}
void bf16_tile64_avx512bf16(int, int, const uint16_t*, int64_t, const uint16_t*, const uint16_t*, const float*, int, float*, int64_t,
                            Epilogue, uint16_t*, PairPrefetch) {}
void convert_bf16_avx512bf16(const float*, uint16_t*, int) {}
void split_bf16x3_avx512bf16(const float*, uint16_t*, uint16_t*, int) {}
}  // namespace sie
#endif
