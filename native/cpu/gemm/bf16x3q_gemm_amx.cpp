// The AMX kernel of gemm_bf16x3q. A 32 x 32 block of Y runs two passes over k into the same four
// 16 x 16 tiles (C0..C3; the tile configuration is gemm_bf16's, which fits both):
//  1. bf16, per 32-wide k step: the panel's two W_hi tiles are loaded once and multiplied by X_hi
//     and by X_lo (TDPBF16PS), so W_hi is read once where bf16x3 read it twice;
//  2. int8, per 64-wide k step: the step's 1 KiB of nibbles is split into the two int8 B tiles on
//     the vector units, and multiplied by X's int8 rows (TDPBSUD: signed X, unsigned q + 8).
// The fp32 and int32 results are stored to a stack block; its correction, bias, GELU and store
// run on the vector units a few rows per k step of the next block, as in bf16_gemm_amx.cpp.
#include <immintrin.h>

#include <algorithm>

#include "bf16x3q_gemm.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx512bf16,fma,amx-tile,amx-bf16,amx-int8")

#include "gemm_epilogue_avx512.h"

namespace sie {
namespace {

constexpr int kPrefetchSteps = 8;

// C0..C3 += (X_hi + X_lo) x W_hi over one 32-wide k step, both 16-row halves of X.
inline void bf16_step_full(const uint16_t* x_hi, const uint16_t* x_lo, int64_t x_stride, int64_t half_offset, const uint16_t* b) {
  _tile_loadd(4, x_hi, x_stride);
  _tile_loadd(6, b, 64);
  _tile_loadd(7, b + kBf16HalfStepElements, 64);
  _tile_dpbf16ps(0, 4, 6);
  _tile_loadd(5, x_hi + half_offset, x_stride);
  _tile_dpbf16ps(1, 4, 7);
  _tile_dpbf16ps(2, 5, 6);
  _tile_loadd(4, x_lo, x_stride);
  _tile_dpbf16ps(3, 5, 7);
  _tile_dpbf16ps(0, 4, 6);
  _tile_loadd(5, x_lo + half_offset, x_stride);
  _tile_dpbf16ps(1, 4, 7);
  _tile_dpbf16ps(2, 5, 6);
  _tile_dpbf16ps(3, 5, 7);
}

// Sixteen rows or fewer: C0, C1 only.
inline void bf16_step_top(const uint16_t* x_hi, const uint16_t* x_lo, int64_t x_stride, const uint16_t* b) {
  _tile_loadd(4, x_hi, x_stride);
  _tile_loadd(6, b, 64);
  _tile_loadd(7, b + kBf16HalfStepElements, 64);
  _tile_dpbf16ps(0, 4, 6);
  _tile_loadd(5, x_lo, x_stride);
  _tile_dpbf16ps(1, 4, 7);
  _tile_dpbf16ps(0, 5, 6);
  _tile_dpbf16ps(1, 5, 7);
}

// One 64-k step's nibbles -> the two int8 B tiles (low nibbles: columns 0-15, high: 16-31).
inline void unpack_lo4_step(const uint8_t* nibbles, uint8_t* tiles) {
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  for (int row = 0; row < 16; ++row) {
    const __m512i v = _mm512_load_si512(nibbles + row * 64);
    _mm512_store_si512(tiles + row * 64, _mm512_and_si512(v, low4));
    _mm512_store_si512(tiles + 1024 + row * 64, _mm512_and_si512(_mm512_srli_epi16(v, 4), low4));
  }
}

inline void int8_step(bool full, const int8_t* a, int64_t a_stride, int64_t half_offset, const uint8_t* tiles) {
  _tile_loadd(4, a, a_stride);
  _tile_loadd(6, tiles, 64);
  _tile_loadd(7, tiles + 1024, 64);
  _tile_dpbsud(0, 4, 6);
  if (full) _tile_loadd(5, a + half_offset, a_stride);
  _tile_dpbsud(1, 4, 7);
  if (full) {
    _tile_dpbsud(2, 5, 6);
    _tile_dpbsud(3, 5, 7);
  }
}

inline void zero_tiles(bool full) {
  _tile_zero(0);
  _tile_zero(1);
  if (full) {
    _tile_zero(2);
    _tile_zero(3);
  }
}

// C0..C3 -> a 32 x 32 block of 4-byte values (fp32 or int32), rows 128 bytes apart.
inline void store_tiles(bool full, void* block) {
  char* out = static_cast<char*>(block);
  _tile_stored(0, out, 128);
  _tile_stored(1, out + 64, 128);
  if (full) {
    _tile_stored(2, out + 16 * 128, 128);
    _tile_stored(3, out + 16 * 128 + 64, 128);
  }
}

struct StagedBlock {
  alignas(64) float values[32 * 32];
  alignas(64) int32_t correction[32 * 32];  // Σ a (q + 8), per row and column
  int col = 0, cols = 0;
};

struct BlockOutput {
  const Bf16x3qRows& x;
  const float* lo_scale;
  const float* bias;
  float* y;
  int64_t ldy;
  Epilogue epilogue;

  // Y = fp32 part + x_scale * lo_scale * (Σ a (q + 8) - 8 Σ a), then bias and GELU.
  void finish_rows(const StagedBlock& block, const avx512::TileColumns& columns, int row_begin, int row_end) const {
    const __m512 scale_lo = _mm512_loadu_ps(lo_scale + block.col), scale_hi = _mm512_loadu_ps(lo_scale + block.col + 16);
    for (int r = row_begin; r < row_end; ++r) {
      const __m512i offset = _mm512_set1_epi32(8 * x.a_sum[r]);
      const __m512 row_scale = _mm512_set1_ps(x.a_scale[r]);
      const __m512 c_lo = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_load_si512(block.correction + r * 32), offset));
      const __m512 c_hi = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_load_si512(block.correction + r * 32 + 16), offset));
      const __m512 lo = _mm512_fmadd_ps(c_lo, _mm512_mul_ps(row_scale, scale_lo), _mm512_load_ps(block.values + r * 32));
      const __m512 hi = _mm512_fmadd_ps(c_hi, _mm512_mul_ps(row_scale, scale_hi), _mm512_load_ps(block.values + r * 32 + 16));
      avx512::store_tile_row(columns, lo, hi, epilogue, y + r * ldy + block.col);
    }
  }
};

}  // namespace

void bf16x3q_row_block_amx(int rows, const Bf16x3qRows& x, const PackedBf16x3qMatrix& w, int panel_begin, int panel_end,
                           const float* bias, float* y, int64_t ldy, Epilogue epilogue) {
  const BlockOutput output{x, w.lo_scale.data(), bias, y, ldy, epilogue};
  const int kp = w.hi.k_padded;
  const int steps = kp / kBf16KBlock, steps64 = w.k_padded64 / kLo4KStep;
  const int64_t panel_elements = int64_t(kp) * kBf16PanelWidth;
  const int64_t lo_panel_bytes = int64_t(steps64) * kLo4StepBytes;
  const int64_t x_stride = x.ldx * 2;  // bytes
  const bool full = rows > 16;
  const char* panels_end = reinterpret_cast<const char*>(w.hi.data() + panel_end * panel_elements);
  const int rows_per_step = (rows + steps + steps64 - 1) / (steps + steps64);
  alignas(64) uint8_t b_tiles[2 * 1024];
  StagedBlock staged[2];
  StagedBlock* pending = nullptr;
  avx512::TileColumns pending_columns(nullptr, 0);
  int done = 0;  // k steps of the current block, for the epilogue's pace
  auto finish_some = [&]() {
    if (!pending) return;
    const int r = done++ * rows_per_step;
    output.finish_rows(*pending, pending_columns, std::min(rows, r), std::min(rows, r + rows_per_step));
  };
  for (int p = panel_begin; p < panel_end; ++p) {
    StagedBlock& block = staged[(p - panel_begin) & 1];
    done = 0;
    zero_tiles(full);
    const uint16_t* panel = w.hi.data() + p * panel_elements;
    for (int s = 0; s < steps; ++s) {
      // The first row block of a task streams the panels from memory; the tile loads, which
      // wait for the products before them, leave the stream idle unless the lines are asked
      // for ahead (here 8 steps, 16 KiB; 1.05-1.1x at batch 1). Later row blocks find them in L2.
      if (x.first) {
        const char* ahead = reinterpret_cast<const char*>(panel + (s + kPrefetchSteps) * kBf16StepElements);
        if (ahead < panels_end)
          for (int line = 0; line < kBf16StepElements * 2 / 64; ++line) _mm_prefetch(ahead + line * 64, _MM_HINT_T1);
      }
      const uint16_t* x_hi = x.x + s * kBf16KBlock;
      if (full) bf16_step_full(x_hi, x_hi + x.x_lo_offset, x_stride, 16 * x.ldx, panel + s * kBf16StepElements);
      else bf16_step_top(x_hi, x_hi + x.x_lo_offset, x_stride, panel + s * kBf16StepElements);
      finish_some();
    }
    store_tiles(full, block.values);
    zero_tiles(full);
    const uint8_t* nibbles = w.lo4_data() + p * lo_panel_bytes;
    for (int s = 0; s < steps64; ++s) {
      unpack_lo4_step(nibbles + s * kLo4StepBytes, b_tiles);
      int8_step(full, x.a + s * kLo4KStep, x.lda, 16 * x.lda, b_tiles);
      finish_some();
    }
    store_tiles(full, block.correction);
    block.col = p * kBf16PanelWidth;
    block.cols = std::min(kBf16PanelWidth, w.hi.n - block.col);
    pending = &block;
    pending_columns = avx512::TileColumns(bias ? bias + block.col : nullptr, block.cols);
  }
  if (pending) output.finish_rows(*pending, pending_columns, 0, rows);
}

}  // namespace sie

#pragma GCC pop_options
#else
namespace sie {
void bf16x3q_row_block_amx(int, const Bf16x3qRows&, const PackedBf16x3qMatrix&, int, int, const float*, float*, int64_t, Epilogue) {}
}  // namespace sie
#endif
