#include "gemm_microkernels.h"

namespace sie {

// Baseline-ISA kernel for CPUs without AVX-512: same tiling, plain loops the compiler vectorises.
void microkernel_portable(int rows, int k, const float* x, int64_t ldx, const float* panel, const float* bias,
                          int cols, float* y, int64_t ldy) {
  float acc[kPortableTileRows][32] = {};
  for (int p = 0; p < k; ++p) {
    const float* b = panel + p * 32;
    for (int r = 0; r < rows; ++r) {
      const float a = x[r * ldx + p];
      for (int c = 0; c < 32; ++c) acc[r][c] += a * b[c];
    }
  }
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) y[r * ldy + c] = acc[r][c] + (bias ? bias[c] : 0.0f);
}

}  // namespace sie
