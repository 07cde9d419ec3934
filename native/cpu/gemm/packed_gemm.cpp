#include "packed_gemm.h"

#include <algorithm>

#include "../../core/cpu_features.h"
#include "gemm_microkernels.h"
#include "gemm_task_grid.h"

namespace sie {

void pack_nk(const float* w, int n, int k, int64_t ldw, float* dst) {
  const int panels = PackedMatrix::panel_count(n);
  for (int p = 0; p < panels; ++p) {
    float* panel = dst + int64_t(p) * k * kPanelWidth;
    const int cols = std::min(kPanelWidth, n - p * kPanelWidth);
    for (int kk = 0; kk < k; ++kk) {
      float* row = panel + int64_t(kk) * kPanelWidth;
      for (int c = 0; c < cols; ++c) row[c] = w[int64_t(p * kPanelWidth + c) * ldw + kk];
      for (int c = cols; c < kPanelWidth; ++c) row[c] = 0.0f;
    }
  }
}

void pack_kn(const float* b, int k, int n, int64_t ldb, float* dst) {
  const int panels = PackedMatrix::panel_count(n);
  for (int p = 0; p < panels; ++p) {
    float* panel = dst + int64_t(p) * k * kPanelWidth;
    const int cols = std::min(kPanelWidth, n - p * kPanelWidth);
    for (int kk = 0; kk < k; ++kk) {
      const float* src = b + int64_t(kk) * ldb + p * kPanelWidth;
      float* row = panel + int64_t(kk) * kPanelWidth;
      for (int c = 0; c < cols; ++c) row[c] = src[c];
      for (int c = cols; c < kPanelWidth; ++c) row[c] = 0.0f;
    }
  }
}

PackedMatrix pack_linear_weights(const float* w, int n, int k) {
  PackedMatrix packed;
  packed.n = n;
  packed.k = k;
  packed.panels.resize(size_t(packed_size(n, k)));
  pack_nk(w, n, k, k, packed.panels.data());
  return packed;
}

namespace {

struct KernelChoice {
  MicroKernel kernel;
  int tile_rows;
  const char* name;
};

// One dispatch table for the fp32 kernels, by the ISA ladder (SIE_CPU_ISA caps it).
KernelChoice fp32_kernel() {
  if (cpu_isa() >= CpuIsa::Avx512) return {microkernel_avx512, kAvx512TileRows, "avx512"};
  if (cpu_isa() >= CpuIsa::Avx2) return {microkernel_avx2, kAvx2TileRows, "avx2"};
  return {microkernel_portable, kPortableTileRows, "portable"};
}

}  // namespace

const char* gemm_kernel_name() { return fp32_kernel().name; }

void gemm_packed(int m, int n, int k, const float* x, int64_t ldx, const float* packed, const float* bias, float* y,
                 int64_t ldy, ThreadPool* pool, Epilogue epilogue) {
  if (m <= 0 || n <= 0) return;
  const KernelChoice choice = fp32_kernel();
  const MicroKernel kernel = choice.kernel;
  const int tile_rows = choice.tile_rows;
  // Weights over 1 MiB (MiniLM's FFN: 2.4 MiB in fp32; bge-m3's: 16 MiB) are cut into panel groups
  // that stay in L2 while every row block passes; one group per task streamed the whole matrix
  // from L3 once per row block. Measured 1.0-1.24x on those shapes (interleaved, 2 threads).
  const int64_t panel_bytes = int64_t(k) * kPanelWidth * 4;
  const int max_group_panels = int(std::max<int64_t>(1, (int64_t(1) << 20) / panel_bytes));
  const GemmTaskGrid grid(m, PackedMatrix::panel_count(n), gemm_block_rows(m, tile_rows * 4, tile_rows), pool ? pool->size() : 1, max_group_panels);
  auto run_task = [&](int64_t t, int) {
    const GemmTaskGrid::Task task = grid.task(t);
    for (int p = task.panel_begin; p < task.panel_end; ++p) {
      const float* panel = packed + int64_t(p) * k * kPanelWidth;
      const int col = p * kPanelWidth;
      const int cols = std::min(kPanelWidth, n - col);
      for (int r = task.row_begin; r < task.row_end; r += tile_rows) {
        const int rows = std::min(tile_rows, task.row_end - r);
        kernel(rows, k, x + int64_t(r) * ldx, ldx, panel, bias ? bias + col : nullptr, cols, y + int64_t(r) * ldy + col,
               ldy, epilogue);
      }
    }
  };
  const int64_t tasks = grid.tasks();
  if (pool && tasks > 1) {
    pool->parallel_for(tasks, run_task);
  } else {
    for (int64_t t = 0; t < tasks; ++t) run_task(t, 0);
  }
}

void gemm_reference(int m, int n, int k, const float* x, int64_t ldx, const float* w, int64_t ldw, const float* bias,
                    float* y, int64_t ldy) {
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double sum = bias ? bias[j] : 0.0;
      for (int p = 0; p < k; ++p) sum += double(x[int64_t(i) * ldx + p]) * double(w[int64_t(j) * ldw + p]);
      y[int64_t(i) * ldy + j] = float(sum);
    }
}

}  // namespace sie
