// Y[m, n] = X[m, k] · W[n, k]^T (+ bias) with W held in bf16 and fp32 accumulation: the Linear
// layers of a bf16 model. X stays fp32 in the model; each call rounds it to bf16 (round to
// nearest even) into a scratch buffer first. Two kernels, chosen by CpuIsa:
//  - AMX (Sapphire Rapids and later): 16x16 fp32 tiles, TDPBF16PS over 32-wide k blocks;
//  - AVX512-BF16 (Zen 4, Cooper Lake and later): a 12x32 register tile, VDPBF16PS on k pairs.
// Both read panels of 32 columns over k_padded (k padded to 32), each k pair of a column as one
// 32-bit lane, so a zmm load (or one 64-byte AMX tile row) is 16 columns x one k pair; each packs
// its panels in its own order (Bf16Layout).
#pragma once
#include <cstdint>

#include "../../core/aligned_buffer.h"
#include "../../core/cpu_features.h"
#include "../thread_pool.h"
#include "gemm_microkernels.h"

namespace sie {

constexpr int kBf16PanelWidth = 32;
constexpr int kBf16KBlock = 32;

// The order of a panel's values, one per kernel family (the same size either way):
//  - AmxTiles: each 32-wide k step is two 1 KiB blocks, columns 0-15 then 16-31, and each block
//    is 16 k pairs x 16 columns x 2 (AMX's VNNI B tile with a 64-byte row stride). Each B tile is
//    thus 1 KiB of contiguous cache lines of its own, where [k pair][32 columns] rows had both
//    tiles of a step read halves of the same lines.
//  - Rows (the AVX512-BF16 register tiles): k pair q is one 128-byte row of the 32 columns'
//    pairs, rows in order, so a tile reads its panel as one sequential stream. With the AMX order
//    a step reads two lines 1 KiB apart, and on Zen 4 a 12-row tile then streamed cold weights
//    at 8-9 GB/s a core, against 16-17 GB/s in this order (bge-base-shaped, 2026-11-28).
// Panels are packed for the kernel that reads them: bf16_layout_for(its CpuIsa).
enum class Bf16Layout { Rows, AmxTiles };
inline Bf16Layout bf16_layout_for(CpuIsa isa) { return isa >= CpuIsa::Amx ? Bf16Layout::AmxTiles : Bf16Layout::Rows; }
constexpr int kBf16StepElements = kBf16KBlock * kBf16PanelWidth;  // 1024: one k step (AmxTiles)
constexpr int kBf16HalfStepElements = kBf16StepElements / 2;     // 512: its columns 16-31 (AmxTiles)
constexpr int kBf16RowElements = 2 * kBf16PanelWidth;             // 64: one k pair (Rows)
constexpr int kBf16RowHalfElements = kBf16RowElements / 2;        // 32: its columns 16-31 (Rows)
// Where the k pair `pair` of column `col` (0..31) sits in a panel, counted in k pairs (32 bits).
inline int64_t bf16_panel_pair_index(int pair, int col, Bf16Layout layout) {
  if (layout == Bf16Layout::Rows) return int64_t(pair) * kBf16PanelWidth + col;
  return int64_t(pair / 16) * (kBf16StepElements / 2) + (col / 16) * (kBf16HalfStepElements / 2) + (pair % 16) * 16 + (col % 16);
}
// Where k index kk of column col sits, in bf16 elements.
inline int64_t bf16_panel_index(int kk, int col, Bf16Layout layout) { return bf16_panel_pair_index(kk / 2, col, layout) * 2 + (kk & 1); }

struct PackedBf16Matrix {
  int n = 0;
  int k = 0;
  int k_padded = 0;      // k rounded up to kBf16KBlock
  Bf16Layout layout = Bf16Layout::Rows;
  AlignedBuffer panels;  // bf16 values, two per float slot
  const uint16_t* data() const { return reinterpret_cast<const uint16_t*>(panels.data()); }
  size_t bytes() const { return panels.bytes(); }
  bool empty() const { return n == 0; }
};

uint16_t float_to_bf16(float value);  // round to nearest even; NaN stays NaN
float bf16_to_float_exact(uint16_t bits);

// From a row-major [n][k] fp32 matrix (a torch Linear weight), for the kernels reading `layout`.
PackedBf16Matrix pack_bf16_nk(const float* w, int n, int k, Bf16Layout layout);

// The kernels' shared entry; isa must be Amx or Avx512Bf16 (and available on this CPU), and w
// packed in bf16_layout_for(isa).
void gemm_bf16(int m, int n, int k, const float* x, int64_t ldx, const PackedBf16Matrix& w, const float* bias, float* y,
               int64_t ldy, ThreadPool* pool, Epilogue epilogue, CpuIsa isa);

// With x3, the block is the bf16x3 product (see gemm_bf16x3): `x` holds X_hi, X_lo sits x_lo_offset
// elements on, and `panels` are W_hi's.
struct Bf16x3Operands {
  const uint16_t* lo_panels;
  int64_t x_lo_offset;
};

// The same product over panels packed into caller-owned memory: attention's keys and values,
// packed per (sequence, head) into a worker's scratch. `panels` holds bf16_packed_elements(n, k),
// packed in bf16_layout_for(isa) (as for gemm_bf16_converted).
void gemm_bf16_panels(int m, int n, int k, const float* x, int64_t ldx, const uint16_t* panels, const float* bias, float* y,
                      int64_t ldy, ThreadPool* pool, Epilogue epilogue, CpuIsa isa);
// The same with X already in bf16: rows ldxb elements apart, each zero from k to kp (kp = k
// rounded up to 32); the buffer must hold whole 32-row blocks (rows past m are read by the AMX
// kernel but only affect output rows it never stores).
// y16, when given, receives Y in bf16 instead of y (row stride ldy, a multiple of 32 at least n
// rounded up to 32; the columns from n to that are written as zeros: ready as the next GEMM's X).
// x3 (AMX only) makes it the bf16x3 product: xb holds X_hi, and x3 names X_lo and W_lo.
void gemm_bf16_converted(int m, int n, int kp, const uint16_t* xb, int64_t ldxb, const uint16_t* panels, const float* bias,
                         float* y, int64_t ldy, ThreadPool* pool, Epilogue epilogue, CpuIsa isa, uint16_t* y16 = nullptr,
                         const Bf16x3Operands* x3 = nullptr);
int64_t bf16_packed_elements(int n, int k);
int bf16_padded_k(int k);
// Packs W = [n][k] (row stride ld; attention's K: n keys of k dims) into panels, padding zeroed.
// isa picks the rounding code (vectorised where the CPU has it); layout, the panels' order.
void pack_bf16_nk_into(const float* w, int n, int k, int64_t ld, uint16_t* dst, CpuIsa isa, Bf16Layout layout);
// Packs W = Bᵀ from B = [k][n] (row stride ld; attention's V: k tokens of n dims), padding zeroed.
void pack_bf16_kn_into(const float* b, int k, int n, int64_t ld, uint16_t* dst, CpuIsa isa, Bf16Layout layout);
// The same from matrices already in bf16 (a bf16 model's fused qkv output): no rounding, only
// the re-layout. k must be even for the [n][k] form.
void pack_bf16_nk_from_bf16(const uint16_t* w, int n, int k, int64_t ld, uint16_t* dst, CpuIsa isa, Bf16Layout layout);
void pack_bf16_kn_from_bf16(const uint16_t* b, int k, int n, int64_t ld, uint16_t* dst, CpuIsa isa, Bf16Layout layout);
// Their plain twins, and the AVX-512 forms (bf16_pack_avx512.cpp) the two above pick where the CPU has them.
void pack_bf16_nk_from_bf16_reference(const uint16_t* w, int n, int k, int64_t ld, uint16_t* dst, Bf16Layout layout);
void pack_bf16_kn_from_bf16_reference(const uint16_t* b, int k, int n, int64_t ld, uint16_t* dst, Bf16Layout layout);
void pack_bf16_nk_from_bf16_avx512(const uint16_t* w, int n, int k, int64_t ld, uint16_t* dst, Bf16Layout layout);
void pack_bf16_kn_from_bf16_avx512(const uint16_t* b, int k, int n, int64_t ld, uint16_t* dst, Bf16Layout layout);

// fp32-grade products on AMX ("bf16x3"): each fp32 value is split into bf16 hi = bf16(v) and
// lo = bf16(v - hi), and Y = X_hi·W_hiᵀ + X_hi·W_loᵀ + X_lo·W_hiᵀ + bias, accumulated in fp32. The
// dropped terms (X_lo·W_lo and what hi + lo leaves out) are below 2^-16 of each product, where
// bf16 alone is 2^-8: three tile products run faster than the fp32 FMAs they stand in for.
// hi / lo: W's two halves packed as pack_bf16_nk packs them for AMX (pack_bf16x3_nk).
struct PackedBf16x3Matrix {
  PackedBf16Matrix hi, lo;
  size_t bytes() const { return hi.bytes() + lo.bytes(); }
  bool empty() const { return hi.empty(); }
};
PackedBf16x3Matrix pack_bf16x3_nk(const float* w, int n, int k);
// X's rows [row_begin, row_end) as bf16x3's halves: row r of xb is [X_hi | X_lo], kp values each
// (2 kp apart), zero past k, and all zero for r >= m (padding rows).
void split_rows_bf16x3(const float* x, int64_t ldx, int m, int k, int kp, uint16_t* xb, int row_begin, int row_end);
// Needs AMX.
void gemm_bf16x3(int m, int n, int k, const float* x, int64_t ldx, const PackedBf16x3Matrix& w, const float* bias, float* y,
                 int64_t ldy, ThreadPool* pool, Epilogue epilogue);
// The plain twin: the same three products of the same halves, summed in double.
void gemm_bf16x3_reference(int m, int n, int k, const float* x, int64_t ldx, const float* w, const float* bias, float* y, int64_t ldy,
                           Epilogue epilogue);

// The plain twin: X and W rounded to bf16 exactly as the kernels round them, then a double
// precision triple loop (GELU applied in double when asked).
void gemm_bf16_reference(int m, int n, int k, const float* x, int64_t ldx, const float* w, const float* bias, float* y,
                         int64_t ldy, Epilogue epilogue);

// Rows of X -> bf16 rows of length k_padded (zero tail), rows_padded rows (zero rows past m).
void convert_rows_to_bf16(const float* x, int64_t ldx, int rows, int k, uint16_t* out, int k_padded, int row_begin, int row_end,
                          CpuIsa isa);

// Micro-kernels (one file per instruction set).
// y16, when given, receives the tile in bf16 instead of y (same row stride ldy, all 32 columns
// written, zeros past cols).
void bf16_tile_avx512bf16(int rows, int k_padded, const uint16_t* x, int64_t ldx, const uint16_t* panel, const float* bias,
                          int cols, float* y, int64_t ldy, Epilogue epilogue, uint16_t* y16 = nullptr);
// rows <= kBf16WideTileRows against two adjacent panels (panel2 = the next one), 32 < cols <= 64.
constexpr int kBf16WideTileRows = 6;
// Up to this many rows a GEMM is a short request's: its weights, not its rows, are the work.
constexpr int kBf16ShortRows = 48;
// What a 6 x 64 tile fetches besides its own operands. By default its own panels, a little
// ahead. A short request runs several row passes over each pair of panels (from L2 after the
// first); with `next` set, pass `pass` of `passes` fetches its share of the next pair instead,
// so the weights keep streaming from memory while the later passes compute.
struct PairPrefetch {
  bool own_ahead = true;
  const uint16_t* next = nullptr;  // the next pair's first panel (its second follows it)
  int pass = 0;
  int passes = 1;
};
void bf16_tile64_avx512bf16(int rows, int k_padded, const uint16_t* x, int64_t ldx, const uint16_t* panel, const uint16_t* panel2,
                            const float* bias, int cols, float* y, int64_t ldy, Epilogue epilogue, uint16_t* y16 = nullptr,
                            PairPrefetch prefetch = {});
// Rows [0, rows) of Y (rows <= 32) against panels [panel_begin, panel_end), from 32 bf16 rows of X
// (row stride ldx elements; rows past `rows` are read and their results dropped). y / y16 point at
// the block's first row, column 0.
void bf16_row_block_amx(int rows, int k_padded, const uint16_t* x, int64_t ldx, const uint16_t* panels, int panel_begin,
                        int panel_end, int n, const float* bias, float* y, int64_t ldy, Epilogue epilogue, uint16_t* y16,
                        const Bf16x3Operands* x3 = nullptr);
// Loads the AMX tile configuration on the calling thread and releases it; nested pairs load it once.
void amx_tiles_begin();
void amx_tiles_end();
// Holds the tile configuration over a scope (a no-op below AMX), so GEMMs inside it skip their own.
class AmxTileScope {
 public:
  explicit AmxTileScope(CpuIsa isa) : active_(isa >= CpuIsa::Amx) {
    if (active_) amx_tiles_begin();
  }
  ~AmxTileScope() {
    if (active_) amx_tiles_end();
  }
  AmxTileScope(const AmxTileScope&) = delete;
  AmxTileScope& operator=(const AmxTileScope&) = delete;

 private:
  bool active_;
};
// avx512 conversion of `count` floats to bf16 (defined in the AVX512-BF16 file).
void convert_bf16_avx512bf16(const float* src, uint16_t* dst, int count);
// hi = bf16(src), lo = bf16(src - hi), both rounded to nearest even (bf16x3's halves).
void split_bf16x3_avx512bf16(const float* src, uint16_t* hi, uint16_t* lo, int count);

}  // namespace sie
