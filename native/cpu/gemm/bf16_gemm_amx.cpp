// The AMX kernel of gemm_bf16: a 32 x 32 block of Y is four 16 x 16 fp32 tiles (C0..C3), fed
// per 32-wide k block by two 16-row tiles of X (A0, A1) and two 16-column tiles of the panel
// (B0, B1: the panel's [k pair][32 columns][2] layout is AMX's VNNI layout with a 128-byte row
// stride). The tiles are stored to a 4 KiB block on the stack, then bias and GELU are applied
// with AVX-512 on the way to Y.
#include <immintrin.h>

#include <cstring>

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

void amx_tiles_begin() {
  static const TileConfig config = make_config();
  _tile_loadconfig(&config);
}

void amx_tiles_end() { _tile_release(); }

namespace {

// The four C tiles over the k blocks: C += A0|A1 x B0|B1.
inline void accumulate(int k_padded, const uint16_t* x, int64_t ldx, const uint16_t* panel) {
  const int64_t x_stride = ldx * 2;  // bytes
  for (int kb = 0; kb < k_padded; kb += 32) {
    _tile_loadd(4, x + kb, x_stride);
    _tile_loadd(5, x + 16 * ldx + kb, x_stride);
    const uint16_t* b = panel + (kb / 2) * 64;
    _tile_loadd(6, b, 128);
    _tile_loadd(7, b + 32, 128);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
}

// Sixteen rows or fewer (a short request): one A tile against both B tiles, half the loads and
// products of the full block.
inline void accumulate_top(int k_padded, const uint16_t* x, int64_t ldx, const uint16_t* panel) {
  const int64_t x_stride = ldx * 2;
  for (int kb = 0; kb < k_padded; kb += 32) {
    _tile_loadd(4, x + kb, x_stride);
    const uint16_t* b = panel + (kb / 2) * 64;
    _tile_loadd(6, b, 128);
    _tile_loadd(7, b + 32, 128);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
  }
}

}  // namespace

void bf16_block_amx(int rows, int k_padded, const uint16_t* x, int64_t ldx, const uint16_t* panel, const float* bias, int cols,
                    float* y, int64_t ldy, Epilogue epilogue, uint16_t* y16) {
  if (!y16 && epilogue == Epilogue::None && rows == 32 && cols == 32) {
    // A whole fp32 block with at most a bias: the tiles start from the bias (a tile load with a
    // zero stride repeats one row) and are stored straight into Y, with no bounce through the
    // stack. That bounce cost as much as the products when k is short (attention's Q·Kᵀ).
    if (bias) {
      _tile_loadd(0, bias, 0);
      _tile_loadd(1, bias + 16, 0);
      _tile_loadd(2, bias, 0);
      _tile_loadd(3, bias + 16, 0);
    } else {
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
    }
    accumulate(k_padded, x, ldx, panel);
    const int64_t y_stride = ldy * 4;  // bytes
    _tile_stored(0, y, y_stride);
    _tile_stored(1, y + 16, y_stride);
    _tile_stored(2, y + 16 * ldy, y_stride);
    _tile_stored(3, y + 16 * ldy + 16, y_stride);
    return;
  }
  alignas(64) float block[32 * 32];
  _tile_zero(0);
  _tile_zero(1);
  if (rows <= 16) {
    accumulate_top(k_padded, x, ldx, panel);
    _tile_stored(0, block, 128);
    _tile_stored(1, block + 16, 128);
  } else {
    _tile_zero(2);
    _tile_zero(3);
    accumulate(k_padded, x, ldx, panel);
    _tile_stored(0, block, 128);
    _tile_stored(1, block + 16, 128);
    _tile_stored(2, block + 16 * 32, 128);
    _tile_stored(3, block + 16 * 32 + 16, 128);
  }
  const avx512::TileColumns columns(bias, cols);
  if (y16) {
    for (int r = 0; r < rows; ++r)
      avx512::store_tile_row_bf16(columns, _mm512_load_ps(block + r * 32), _mm512_load_ps(block + r * 32 + 16), epilogue, y16 + r * ldy);
    return;
  }
  for (int r = 0; r < rows; ++r)
    avx512::store_tile_row(columns, _mm512_load_ps(block + r * 32), _mm512_load_ps(block + r * 32 + 16), epilogue, y + r * ldy);
}

}  // namespace sie

#pragma GCC pop_options
#else
namespace sie {
void amx_tiles_begin() {}
void amx_tiles_end() {}
void bf16_block_amx(int, int, const uint16_t*, int64_t, const uint16_t*, const float*, int, float*, int64_t, Epilogue, uint16_t*) {}
}  // namespace sie
#endif
