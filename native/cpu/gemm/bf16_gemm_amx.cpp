// The AMX kernel of gemm_bf16: a 32 x 32 block of Y is four 16 x 16 fp32 tiles (C0..C3), fed
// per 32-wide k step by two 16-row tiles of X (A0, A1) and the panel's two 1 KiB B tiles (B0,
// B1; see kBf16StepElements). A row block runs along its panels; each finished block is stored
// to a stack buffer, and its bias, GELU and store to Y run on the vector units while the next
// block's products run on the tile unit.
#include <immintrin.h>

#include <algorithm>

#include "bf16_gemm.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx512bf16,fma,amx-tile,amx-bf16")

#include "gemm_epilogue_bf16_out.h"

namespace sie {
namespace {

struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

TileConfig make_config() {
  TileConfig config;
  for (int t = 0; t < 8; ++t) {  // 0-3: C (16 x 16 fp32), 4-5: A (16 x 32 bf16), 6-7: B (16 k pairs x 16 columns)
    config.rows[t] = 16;
    config.colsb[t] = 64;
  }
  return config;
}

}  // namespace

// Nested begin/end pairs load the configuration once: attention runs two small GEMMs per head
// inside one task, and loading and releasing the tiles around each cost more than their products.
thread_local int amx_tile_depth = 0;

void amx_tiles_begin() {
  static const TileConfig config = make_config();
  if (amx_tile_depth++ == 0) _tile_loadconfig(&config);
}

void amx_tiles_end() {
  if (--amx_tile_depth == 0) _tile_release();
}

namespace {

// One 32-wide k step of the full block, C0..C3 += A0|A1 x B0|B1, in the order oneDNN's brgemm
// uses: A1 is loaded while the first product runs. (oneDNN loads B with the streaming hint,
// tileloaddt1; here that measured 0.8x, the panels being read again by the next row block.)
inline void step_full(const uint16_t* x, int64_t x_stride, int64_t a1_offset, const uint16_t* b) {
  _tile_loadd(4, x, x_stride);
  _tile_loadd(6, b, 64);
  _tile_loadd(7, b + kBf16HalfStepElements, 64);
  _tile_dpbf16ps(0, 4, 6);
  _tile_loadd(5, x + a1_offset, x_stride);
  _tile_dpbf16ps(1, 4, 7);
  _tile_dpbf16ps(2, 5, 6);
  _tile_dpbf16ps(3, 5, 7);
}

// Sixteen rows or fewer (a short request): one A tile against both B tiles.
inline void step_top(const uint16_t* x, int64_t x_stride, const uint16_t* b) {
  _tile_loadd(4, x, x_stride);
  _tile_loadd(6, b, 64);
  _tile_loadd(7, b + kBf16HalfStepElements, 64);
  _tile_dpbf16ps(0, 4, 6);
  _tile_dpbf16ps(1, 4, 7);
}

// A computed 32 x 32 block waiting in a stack buffer for its bias, GELU and store.
struct StagedBlock {
  alignas(64) float values[32 * 32];
  int col = 0, cols = 0;
};

struct BlockOutput {
  const float* bias;
  float* y;
  uint16_t* y16;
  int64_t ldy;
  Epilogue epilogue;

  void finish_rows(const StagedBlock& block, const avx512::TileColumns& columns, int row_begin, int row_end) const {
    for (int r = row_begin; r < row_end; ++r) {
      const __m512 lo = _mm512_load_ps(block.values + r * 32), hi = _mm512_load_ps(block.values + r * 32 + 16);
      if (y16) avx512::store_tile_row_bf16(columns, lo, hi, epilogue, y16 + r * ldy + block.col);
      else avx512::store_tile_row(columns, lo, hi, epilogue, y + r * ldy + block.col);
    }
  }
};

}  // namespace

void bf16_row_block_amx(int rows, int k_padded, const uint16_t* x, int64_t ldx, const uint16_t* panels, int panel_begin,
                        int panel_end, int n, const float* bias, float* y, int64_t ldy, Epilogue epilogue, uint16_t* y16,
                        const Bf16x3Operands* x3) {
  const BlockOutput output{bias, y, y16, ldy, epilogue};
  const int64_t panel_elements = int64_t(k_padded) * kBf16PanelWidth;
  const int64_t x_stride = ldx * 2;  // bytes
  const int64_t a1_offset = 16 * ldx;
  const int steps = k_padded / 32;
  const bool full = rows > 16;
  // bf16x3 runs three passes over k into the same tiles: X_hi·W_hi, X_hi·W_lo, X_lo·W_hi.
  const int passes = x3 ? 3 : 1;
  // The epilogue of block p - 1 is spread over block p's k steps, a few rows per step, so the
  // vector units finish one block while the tile unit computes the next. Done after each block,
  // it held the tile unit idle, as long as the products themselves when k is short.
  const int rows_per_step = (rows + steps * passes - 1) / (steps * passes);
  // fp32 output with neither bias nor GELU, and whole tiles of rows (16 or 32): attention's
  // scores, Q·Kᵀ with k = 64 or 32. There a block is one or two k steps, and staging it for the
  // vector epilogue cost more than its products (130-210 GFLOP/s on 256 x 256 x 32, one core).
  const bool store_direct = !y16 && !bias && epilogue == Epilogue::None && (rows == 32 || rows == 16);
  const int64_t y_stride = ldy * 4;  // bytes
  StagedBlock staged[2];
  StagedBlock* pending = nullptr;
  avx512::TileColumns pending_columns(nullptr, 0);
  for (int p = panel_begin; p < panel_end; ++p) {
    _tile_zero(0);
    _tile_zero(1);
    if (full) {
      _tile_zero(2);
      _tile_zero(3);
    }
    int done = 0;  // steps over all passes, for the epilogue's pace
    for (int pass = 0; pass < passes; ++pass) {
      const uint16_t* xs = pass == 2 ? x + x3->x_lo_offset : x;
      const uint16_t* panel = (pass == 1 ? x3->lo_panels : panels) + p * panel_elements;
      for (int s = 0; s < steps; ++s, ++done) {
        if (full) step_full(xs + s * 32, x_stride, a1_offset, panel + s * kBf16StepElements);
        else step_top(xs + s * 32, x_stride, panel + s * kBf16StepElements);
        if (pending) {
          const int r = done * rows_per_step;
          output.finish_rows(*pending, pending_columns, std::min(rows, r), std::min(rows, r + rows_per_step));
        }
      }
    }
    const int col = p * kBf16PanelWidth, cols = std::min(kBf16PanelWidth, n - col);
    if (store_direct && cols == kBf16PanelWidth) {
      // A whole block of plain fp32 output goes from the tiles to Y: no staging and no vector pass.
      float* out = y + col;
      _tile_stored(0, out, y_stride);
      _tile_stored(1, out + 16, y_stride);
      if (full) {
        _tile_stored(2, out + 16 * ldy, y_stride);
        _tile_stored(3, out + 16 * ldy + 16, y_stride);
      }
      continue;
    }
    StagedBlock& block = staged[(p - panel_begin) & 1];
    block.col = col;
    block.cols = cols;
    _tile_stored(0, block.values, 128);
    _tile_stored(1, block.values + 16, 128);
    if (full) {
      _tile_stored(2, block.values + 16 * 32, 128);
      _tile_stored(3, block.values + 16 * 32 + 16, 128);
    }
    pending = &block;
    pending_columns = avx512::TileColumns(bias ? bias + block.col : nullptr, block.cols);
  }
  if (pending) output.finish_rows(*pending, pending_columns, 0, rows);
}

}  // namespace sie

#pragma GCC pop_options
#else
namespace sie {
void amx_tiles_begin() {}
void amx_tiles_end() {}
void bf16_row_block_amx(int, int, const uint16_t*, int64_t, const uint16_t*, int, int, int, const float*, float*, int64_t, Epilogue, uint16_t*,
                        const Bf16x3Operands*) {}
}  // namespace sie
#endif
