// How a GEMM's work is cut into pool tasks, shared by the fp32 and bf16 GEMMs: blocks of rows
// (a block of X stays in L2 while panels pass over it), and, when there are too few row blocks
// to keep every thread busy, groups of panels too.
#pragma once
#include <algorithm>
#include <cstdint>

namespace sie {

// A small M (a short request: tens of rows) is one row block, so each panel of the weights is
// streamed from memory once and reused by every row tile while it is in cache; cutting such an M
// into blocks streamed the whole weight matrix once per block, and a short request's GEMM is
// bound by exactly that stream. Threads then split the panels.
constexpr int kSmallGemmRows = 128;

inline int gemm_block_rows(int m, int block_rows, int tile_rows) {
  return m <= kSmallGemmRows ? (m + tile_rows - 1) / tile_rows * tile_rows : block_rows;
}

struct GemmTaskGrid {
  int m = 0, block_rows = 0, row_blocks = 0, panels = 0, panels_per_group = 0, panel_groups = 0;

  // max_group_panels (0: no limit) caps a group so that its panels stay in L2 while the row blocks
  // pass over them: tasks are numbered group by group, so a thread's consecutive tasks share one.
  GemmTaskGrid(int m_, int panels_, int block_rows_, int threads, int max_group_panels = 0)
      : m(m_), block_rows(block_rows_), panels(panels_) {
    row_blocks = (m + block_rows - 1) / block_rows;
    // Eight tasks a thread: with four, 512 rows made 11 row blocks and one thread did 6 of them
    // (a GEMM harness on Zen 4 gained 1.5-2.5 % at eight, and a single 12-token request 1.8-4 %
    // in A/B from the finer panel groups).
    const int wanted_tasks = threads * 8;
    int groups = row_blocks >= wanted_tasks ? 1 : std::min(panels, (wanted_tasks + row_blocks - 1) / row_blocks);
    if (max_group_panels > 0) groups = std::max(groups, (panels + max_group_panels - 1) / max_group_panels);
    panels_per_group = (panels + groups - 1) / groups;
    panel_groups = (panels + panels_per_group - 1) / panels_per_group;
  }

  int64_t tasks() const { return int64_t(panel_groups) * row_blocks; }

  struct Task {
    int row_begin, row_end, panel_begin, panel_end;
  };

  Task task(int64_t t) const {
    const int group = int(t / row_blocks);
    const int block = int(t % row_blocks);
    const int row_begin = block * block_rows;
    return {row_begin, std::min(m, row_begin + block_rows), group * panels_per_group, std::min(panels, (group + 1) * panels_per_group)};
  }
};

}  // namespace sie
