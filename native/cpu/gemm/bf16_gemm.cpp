#include "bf16_gemm.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "../../core/engine_error.h"
#include "gemm_task_grid.h"

namespace sie {

uint16_t float_to_bf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if ((bits & 0x7F800000u) == 0x7F800000u && (bits & 0x007FFFFFu)) return uint16_t((bits >> 16) | 0x0040u);  // quiet NaN
  bits += 0x7FFFu + ((bits >> 16) & 1u);  // round to nearest, ties to even
  return uint16_t(bits >> 16);
}

float bf16_to_float_exact(uint16_t bits) {
  const uint32_t wide = uint32_t(bits) << 16;
  float out;
  std::memcpy(&out, &wide, 4);
  return out;
}

static int padded_k(int k) { return (k + kBf16KBlock - 1) / kBf16KBlock * kBf16KBlock; }
int bf16_padded_k(int k) { return padded_k(k); }

PackedBf16Matrix pack_bf16_nk(const float* w, int n, int k, Bf16Layout layout) {
  PackedBf16Matrix packed;
  packed.n = n;
  packed.k = k;
  packed.k_padded = padded_k(k);
  packed.layout = layout;
  const int panels = (n + kBf16PanelWidth - 1) / kBf16PanelWidth;
  const int64_t panel_elements = int64_t(packed.k_padded) * kBf16PanelWidth;
  packed.panels.resize(size_t((panels * panel_elements + 1) / 2));  // zero-filled: padding stays 0
  uint16_t* out = reinterpret_cast<uint16_t*>(packed.panels.data());
  for (int p = 0; p < panels; ++p) {
    uint16_t* panel = out + p * panel_elements;
    const int cols = std::min(kBf16PanelWidth, n - p * kBf16PanelWidth);
    for (int c = 0; c < cols; ++c) {
      const float* row = w + int64_t(p * kBf16PanelWidth + c) * k;
      for (int kk = 0; kk < k; ++kk) panel[bf16_panel_index(kk, c, layout)] = float_to_bf16(row[kk]);
    }
  }
  return packed;
}

void convert_rows_to_bf16(const float* x, int64_t ldx, int rows, int k, uint16_t* out, int k_padded, int row_begin, int row_end,
                          CpuIsa isa) {
  for (int r = row_begin; r < row_end; ++r) {
    uint16_t* dst = out + int64_t(r) * k_padded;
    if (r >= rows) {
      std::memset(dst, 0, size_t(k_padded) * 2);
      continue;
    }
    const float* src = x + int64_t(r) * ldx;
    if (isa >= CpuIsa::Avx512Bf16) {
      convert_bf16_avx512bf16(src, dst, k);
    } else {
      for (int i = 0; i < k; ++i) dst[i] = float_to_bf16(src[i]);
    }
    std::memset(dst + k, 0, size_t(k_padded - k) * 2);
  }
}

void gemm_bf16(int m, int n, int k, const float* x, int64_t ldx, const PackedBf16Matrix& w, const float* bias, float* y,
               int64_t ldy, ThreadPool* pool, Epilogue epilogue, CpuIsa isa) {
  if (m <= 0 || n <= 0) return;
  if (w.n != n || w.k != k) throw EngineError(ErrorCode::Internal, "bf16 GEMM shape does not match its packed weights");
  if (w.layout != bf16_layout_for(isa)) throw EngineError(ErrorCode::Internal, "bf16 weights were packed for another kernel");
  gemm_bf16_panels(m, n, k, x, ldx, w.data(), bias, y, ldy, pool, epilogue, isa);
}

int64_t bf16_packed_elements(int n, int k) {
  return int64_t((n + kBf16PanelWidth - 1) / kBf16PanelWidth) * padded_k(k) * kBf16PanelWidth;
}

namespace {

// One row of `count` floats to bf16 (round to nearest even), vectorised where the CPU can.
void row_to_bf16(const float* src, uint16_t* dst, int count, CpuIsa isa) {
  if (isa >= CpuIsa::Avx512Bf16) convert_bf16_avx512bf16(src, dst, count);
  else for (int i = 0; i < count; ++i) dst[i] = float_to_bf16(src[i]);
}

}  // namespace

void pack_bf16_nk_into(const float* w, int n, int k, int64_t ld, uint16_t* dst, CpuIsa isa, Bf16Layout layout) {
  const int kp = padded_k(k);
  const int panels = (n + kBf16PanelWidth - 1) / kBf16PanelWidth;
  // A panel seen as 32-bit k pairs is the transpose of its rows seen the same way: each row is
  // rounded once into a line buffer, then its pairs are spread 32 columns apart.
  std::vector<uint16_t> line(static_cast<size_t>(kp), 0);
  uint32_t* out = reinterpret_cast<uint32_t*>(dst);
  const int pairs = kp / 2;
  for (int p = 0; p < panels; ++p) {
    uint32_t* panel = out + int64_t(p) * pairs * kBf16PanelWidth;
    for (int c = 0; c < kBf16PanelWidth; ++c) {
      const int row = p * kBf16PanelWidth + c;
      if (row < n) {
        row_to_bf16(w + int64_t(row) * ld, line.data(), k, isa);  // line[k..kp) stays zero
        const uint32_t* line_pairs = reinterpret_cast<const uint32_t*>(line.data());
        for (int q = 0; q < pairs; ++q) panel[bf16_panel_pair_index(q, c, layout)] = line_pairs[q];
      } else {
        for (int q = 0; q < pairs; ++q) panel[bf16_panel_pair_index(q, c, layout)] = 0;
      }
    }
  }
}

void pack_bf16_kn_into(const float* b, int k, int n, int64_t ld, uint16_t* dst, CpuIsa isa, Bf16Layout layout) {
  const int kp = padded_k(k);
  const int panels = (n + kBf16PanelWidth - 1) / kBf16PanelWidth;
  std::vector<uint16_t> even(kBf16PanelWidth), odd(kBf16PanelWidth);
  for (int p = 0; p < panels; ++p) {
    uint16_t* panel = dst + int64_t(p) * kp * kBf16PanelWidth;
    const int col = p * kBf16PanelWidth;
    const int cols = std::min(kBf16PanelWidth, n - col);
    // Rows kk and kk + 1 of B interleave into k pairs.
    for (int kk = 0; kk < kp; kk += 2) {
      std::fill(even.begin(), even.end(), uint16_t(0));
      std::fill(odd.begin(), odd.end(), uint16_t(0));
      if (kk < k) row_to_bf16(b + int64_t(kk) * ld + col, even.data(), cols, isa);
      if (kk + 1 < k) row_to_bf16(b + int64_t(kk + 1) * ld + col, odd.data(), cols, isa);
      for (int c = 0; c < kBf16PanelWidth; ++c) {
        panel[bf16_panel_index(kk, c, layout)] = even[size_t(c)];
        panel[bf16_panel_index(kk + 1, c, layout)] = odd[size_t(c)];
      }
    }
  }
}

void pack_bf16_nk_from_bf16_reference(const uint16_t* w, int n, int k, int64_t ld, uint16_t* dst, Bf16Layout layout) {
  const int pairs = padded_k(k) / 2, panels = (n + kBf16PanelWidth - 1) / kBf16PanelWidth;
  uint32_t* out = reinterpret_cast<uint32_t*>(dst);
  for (int p = 0; p < panels; ++p) {
    uint32_t* panel = out + int64_t(p) * pairs * kBf16PanelWidth;
    for (int c = 0; c < kBf16PanelWidth; ++c) {
      const int row = p * kBf16PanelWidth + c;
      for (int q = 0; q < pairs; ++q) {
        uint32_t pair = 0;
        // An odd k ends on a half pair: its second value is padding, not the next value in memory.
        if (row < n && 2 * q < k) std::memcpy(&pair, w + int64_t(row) * ld + 2 * q, 2 * q + 1 < k ? 4 : 2);
        panel[bf16_panel_pair_index(q, c, layout)] = pair;
      }
    }
  }
}

void pack_bf16_kn_from_bf16_reference(const uint16_t* b, int k, int n, int64_t ld, uint16_t* dst, Bf16Layout layout) {
  const int kp = padded_k(k), panels = (n + kBf16PanelWidth - 1) / kBf16PanelWidth;
  for (int p = 0; p < panels; ++p) {
    uint16_t* panel = dst + int64_t(p) * kp * kBf16PanelWidth;
    const int col = p * kBf16PanelWidth;
    const int cols = std::min(kBf16PanelWidth, n - col);
    for (int kk = 0; kk < kp; kk += 2) {
      const uint16_t* even = kk < k ? b + int64_t(kk) * ld + col : nullptr;
      const uint16_t* odd = kk + 1 < k ? b + int64_t(kk + 1) * ld + col : nullptr;
      for (int c = 0; c < kBf16PanelWidth; ++c) {
        panel[bf16_panel_index(kk, c, layout)] = even && c < cols ? even[c] : 0;
        panel[bf16_panel_index(kk + 1, c, layout)] = odd && c < cols ? odd[c] : 0;
      }
    }
  }
}

void pack_bf16_nk_from_bf16(const uint16_t* w, int n, int k, int64_t ld, uint16_t* dst, CpuIsa isa, Bf16Layout layout) {
  if (isa >= CpuIsa::Avx512) pack_bf16_nk_from_bf16_avx512(w, n, k, ld, dst, layout);
  else pack_bf16_nk_from_bf16_reference(w, n, k, ld, dst, layout);
}

void pack_bf16_kn_from_bf16(const uint16_t* b, int k, int n, int64_t ld, uint16_t* dst, CpuIsa isa, Bf16Layout layout) {
  if (isa >= CpuIsa::Avx512) pack_bf16_kn_from_bf16_avx512(b, k, n, ld, dst, layout);
  else pack_bf16_kn_from_bf16_reference(b, k, n, ld, dst, layout);
}

void gemm_bf16_panels(int m, int n, int k, const float* x, int64_t ldx, const uint16_t* panels, const float* bias, float* y,
                      int64_t ldy, ThreadPool* pool, Epilogue epilogue, CpuIsa isa) {
  if (m <= 0 || n <= 0) return;
  if (isa < CpuIsa::Avx512Bf16) throw EngineError(ErrorCode::Internal, "bf16 GEMM needs AVX512-BF16 or AMX");
  const int rows_padded = (m + 31) / 32 * 32;
  const int kp = padded_k(k);

  // The rounded copy of X lives as long as the calling thread and only grows.
  thread_local AlignedBuffer scratch;
  scratch.resize(size_t(int64_t(rows_padded) * kp / 2 + 16));
  uint16_t* xb = reinterpret_cast<uint16_t*>(scratch.data());
  const int convert_blocks = (rows_padded + 31) / 32;
  auto convert = [&](int64_t block, int) {
    convert_rows_to_bf16(x, ldx, m, k, xb, kp, int(block) * 32, std::min(rows_padded, int(block + 1) * 32), isa);
  };
  if (pool && convert_blocks > 1) pool->parallel_for(convert_blocks, convert);
  else for (int64_t b = 0; b < convert_blocks; ++b) convert(b, 0);

  gemm_bf16_converted(m, n, kp, xb, kp, panels, bias, y, ldy, pool, epilogue, isa);
}

void gemm_bf16_converted(int m, int n, int kp, const uint16_t* xb, int64_t ldxb, const uint16_t* panels, const float* bias,
                         float* y, int64_t ldy, ThreadPool* pool, Epilogue epilogue, CpuIsa isa, uint16_t* y16,
                         const Bf16x3Operands* x3) {
  if (m <= 0 || n <= 0) return;
  if (isa < CpuIsa::Avx512Bf16) throw EngineError(ErrorCode::Internal, "bf16 GEMM needs AVX512-BF16 or AMX");
  if (x3 && isa < CpuIsa::Amx) throw EngineError(ErrorCode::Internal, "the bf16x3 GEMM needs AMX");
  const bool amx = isa >= CpuIsa::Amx;
  // AMX works on 32-row blocks (two 16-row tiles), the register kernel on 12-row tiles. An AMX
  // task is one 32-row block against its panels: the block's X tiles stay in L1 while the
  // panels stream past (sequential reads the L2 prefetcher follows); 64-row tasks measured
  // 0.7-0.95x of that on Sapphire Rapids, the X tiles falling out of L1.
  const int tile_rows = amx ? 32 : 12;
  const int block_rows = amx ? 32 : tile_rows * 4;
  // Weights over 1 MiB (bge-m3's 1024 x 4096 FFN: 8 MiB in bf16) are cut into panel groups of
  // about 1 MiB, half of a Sapphire Rapids core's L2, so each row block reads its panels from L2
  // rather than L3: 1.2-1.3x on bge-m3's FFN shapes.
  const int64_t panel_bytes = int64_t(kp) * kBf16PanelWidth * 2;
  const int max_group_panels = int(std::max<int64_t>(1, (int64_t(1) << 20) / panel_bytes));
  const GemmTaskGrid grid(m, (n + kBf16PanelWidth - 1) / kBf16PanelWidth, gemm_block_rows(m, block_rows, tile_rows), pool ? pool->size() : 1,
                          max_group_panels);
  const int64_t panel_elements = int64_t(kp) * kBf16PanelWidth;
  auto run_task = [&](int64_t t, int) {
    const GemmTaskGrid::Task task = grid.task(t);
    if (amx) {
      amx_tiles_begin();
      for (int r = task.row_begin; r < task.row_end; r += tile_rows)
        bf16_row_block_amx(std::min(tile_rows, task.row_end - r), kp, xb + int64_t(r) * ldxb, ldxb, panels, task.panel_begin,
                           task.panel_end, n, bias, y16 ? nullptr : y + int64_t(r) * ldy, ldy, epilogue,
                           y16 ? y16 + int64_t(r) * ldy : nullptr, x3);
      amx_tiles_end();
      return;
    }
    // Row tiles outside, panels inside: a tile's 12 rows of X stay in L1 while the group's
    // panels stream from L2. Panels outside re-read all four tiles of X (36 KiB at k = 384, over
    // L1 with the panel) for every panel: 1.005-1.028x slower on Zen 4 (A/B, MiniLM-shaped,
    // short, long and mixed batches, both orders).
    // Pairs of panels go through the 6 x 64 tile; a lone panel (attention's narrow GEMMs, an odd
    // last one) through the 12 x 32 tile. A task of at most 12 rows (a short request, whose GEMMs
    // stream their weights from L3 or memory) stays on the 12 x 32 tile, which reads each panel
    // once for all its rows.
    // Where row r, column col of the result goes: y in fp32, or y16 in bf16.
    auto out_at = [&](int r, int col) { return y16 ? nullptr : y + int64_t(r) * ldy + col; };
    auto out16_at = [&](int r, int col) { return y16 ? y16 + int64_t(r) * ldy + col : nullptr; };
    // `rows` rows from row r against panel p (the 12 x 32 tile), or panels p and p + 1 (6 x 64).
    auto tile32 = [&](int r, int rows, int p) {
      const int col = p * kBf16PanelWidth;
      bf16_tile_avx512bf16(rows, kp, xb + int64_t(r) * ldxb, ldxb, panels + p * panel_elements, bias ? bias + col : nullptr,
                           std::min(kBf16PanelWidth, n - col), out_at(r, col), ldy, epilogue, out16_at(r, col));
    };
    auto tile64 = [&](int r, int rows, int p, PairPrefetch prefetch) {
      const int col = p * kBf16PanelWidth;
      bf16_tile64_avx512bf16(rows, kp, xb + int64_t(r) * ldxb, ldxb, panels + p * panel_elements, panels + (p + 1) * panel_elements,
                             bias ? bias + col : nullptr, std::min(2 * kBf16PanelWidth, n - col), out_at(r, col), ldy, epilogue,
                             out16_at(r, col), prefetch);
    };
    // A short request (over 12 rows, at most kBf16ShortRows: its task holds all of them, the row
    // blocks being 48) takes each pair of panels through all its 6-row passes before the next
    // pair. The first pass reads the pair from memory; spread over all the passes, the next pair
    // is fetched while they compute.
    if (task.panel_end - task.panel_begin >= 2 && m > tile_rows && m <= kBf16ShortRows) {
      const int passes = (m + kBf16WideTileRows - 1) / kBf16WideTileRows;
      int p = task.panel_begin;
      for (; p + 1 < task.panel_end; p += 2) {
        for (int pass = 0; pass < passes; ++pass) {
          PairPrefetch prefetch;
          prefetch.own_ahead = p == task.panel_begin && pass == 0;
          prefetch.next = p + 3 < task.panel_end ? panels + (p + 2) * panel_elements : nullptr;
          prefetch.pass = pass;
          prefetch.passes = passes;
          const int r = pass * kBf16WideTileRows;
          tile64(r, std::min(kBf16WideTileRows, m - r), p, prefetch);
        }
      }
      if (p < task.panel_end)
        for (int r = 0; r < m; r += tile_rows) tile32(r, std::min(tile_rows, m - r), p);
      return;
    }
    if (task.panel_end - task.panel_begin >= 2 && task.row_end - task.row_begin > tile_rows) {
      for (int r = task.row_begin; r < task.row_end; r += kBf16WideTileRows) {
        const int rows = std::min(kBf16WideTileRows, task.row_end - r);
        int p = task.panel_begin;
        for (; p + 1 < task.panel_end; p += 2) tile64(r, rows, p, PairPrefetch{});
        if (p < task.panel_end) tile32(r, rows, p);
      }
      return;
    }
    for (int r = task.row_begin; r < task.row_end; r += tile_rows) {
      const int rows = std::min(tile_rows, task.row_end - r);
      for (int p = task.panel_begin; p < task.panel_end; ++p) tile32(r, rows, p);
    }
  };
  const int64_t tasks = grid.tasks();
  if (pool && tasks > 1) pool->parallel_for(tasks, run_task);
  else for (int64_t t = 0; t < tasks; ++t) run_task(t, 0);
}

namespace {

// The halves of one value, rounded to nearest even: hi = bf16(v), lo = bf16(v - hi).
void split_bf16x3(float value, uint16_t& hi, uint16_t& lo) {
  hi = float_to_bf16(value);
  lo = float_to_bf16(value - bf16_to_float_exact(hi));
}

}  // namespace

PackedBf16x3Matrix pack_bf16x3_nk(const float* w, int n, int k) {
  std::vector<float> hi(size_t(n) * k), lo(size_t(n) * k);
  for (size_t i = 0; i < hi.size(); ++i) {
    uint16_t h, l;
    split_bf16x3(w[i], h, l);
    hi[i] = bf16_to_float_exact(h);
    lo[i] = bf16_to_float_exact(l);
  }
  return {pack_bf16_nk(hi.data(), n, k, Bf16Layout::AmxTiles), pack_bf16_nk(lo.data(), n, k, Bf16Layout::AmxTiles)};
}

void split_rows_bf16x3(const float* x, int64_t ldx, int m, int k, int kp, uint16_t* xb, int row_begin, int row_end) {
  const int64_t ldxb = 2 * int64_t(kp);
  for (int r = row_begin; r < row_end; ++r) {
    uint16_t* hi = xb + r * ldxb;
    uint16_t* lo = hi + kp;
    if (r >= m) {
      std::memset(hi, 0, size_t(ldxb) * 2);
      continue;
    }
    split_bf16x3_avx512bf16(x + int64_t(r) * ldx, hi, lo, k);
    std::memset(hi + k, 0, size_t(kp - k) * 2);
    std::memset(lo + k, 0, size_t(kp - k) * 2);
  }
}

void gemm_bf16x3(int m, int n, int k, const float* x, int64_t ldx, const PackedBf16x3Matrix& w, const float* bias, float* y,
                 int64_t ldy, ThreadPool* pool, Epilogue epilogue) {
  if (m <= 0 || n <= 0) return;
  if (w.hi.n != n || w.hi.k != k) throw EngineError(ErrorCode::Internal, "bf16x3 GEMM shape does not match its packed weights");
  const int rows_padded = (m + 31) / 32 * 32;
  const int kp = padded_k(k);
  // Each row of the scratch is [X_hi | X_lo], kp values each, zero past k and in padding rows.
  thread_local AlignedBuffer scratch;
  scratch.resize(size_t(int64_t(rows_padded) * kp + 16));
  uint16_t* xb = reinterpret_cast<uint16_t*>(scratch.data());
  const int64_t ldxb = 2 * int64_t(kp);
  auto split = [&](int64_t block, int) {
    split_rows_bf16x3(x, ldx, m, k, kp, xb, int(block) * 32, std::min(rows_padded, int(block + 1) * 32));
  };
  const int blocks = rows_padded / 32;
  if (pool && blocks > 1) pool->parallel_for(blocks, split);
  else for (int64_t b = 0; b < blocks; ++b) split(b, 0);
  const Bf16x3Operands x3{w.lo.data(), kp};
  gemm_bf16_converted(m, n, kp, xb, ldxb, w.hi.data(), bias, y, ldy, pool, epilogue, CpuIsa::Amx, nullptr, &x3);
}

void gemm_bf16x3_reference(int m, int n, int k, const float* x, int64_t ldx, const float* w, const float* bias, float* y, int64_t ldy,
                           Epilogue epilogue) {
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double sum = bias ? bias[j] : 0.0;
      for (int p = 0; p < k; ++p) {
        uint16_t xh, xl, wh, wl;
        split_bf16x3(x[int64_t(i) * ldx + p], xh, xl);
        split_bf16x3(w[int64_t(j) * k + p], wh, wl);
        const double a = bf16_to_float_exact(xh), b = bf16_to_float_exact(xl), c = bf16_to_float_exact(wh), d = bf16_to_float_exact(wl);
        sum += a * c + a * d + b * c;
      }
      if (epilogue == Epilogue::Gelu) sum = 0.5 * sum * (1.0 + std::erf(sum / std::sqrt(2.0)));
      y[int64_t(i) * ldy + j] = float(sum);
    }
}

void gemm_bf16_reference(int m, int n, int k, const float* x, int64_t ldx, const float* w, const float* bias, float* y,
                         int64_t ldy, Epilogue epilogue) {
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double sum = bias ? bias[j] : 0.0;
      for (int p = 0; p < k; ++p)
        sum += double(bf16_to_float_exact(float_to_bf16(x[int64_t(i) * ldx + p]))) * double(bf16_to_float_exact(float_to_bf16(w[int64_t(j) * k + p])));
      if (epilogue == Epilogue::Gelu) sum = 0.5 * sum * (1.0 + std::erf(sum / std::sqrt(2.0)));
      y[int64_t(i) * ldy + j] = float(sum);
    }
}

}  // namespace sie
