#include "gemm_microkernels.h"

#include <cmath>

namespace sie {

// Baseline-ISA kernel for CPUs without AVX-512: same tiling, plain loops the compiler vectorises.
void microkernel_portable(int rows, int k, const float* x, int64_t ldx, const float* panel, const float* bias,
                          int cols, float* y, int64_t ldy, Epilogue epilogue) {
  float acc[kPortableTileRows][32] = {};
  for (int p = 0; p < k; ++p) {
    const float* b = panel + p * 32;
    for (int r = 0; r < rows; ++r) {
      const float a = x[r * ldx + p];
      for (int c = 0; c < 32; ++c) acc[r][c] += a * b[c];
    }
  }
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const float v = acc[r][c] + (bias ? bias[c] : 0.0f);
      y[r * ldy + c] = epilogue == Epilogue::Gelu ? 0.5f * v * (1.0f + std::erf(v * 0.70710678118654752f)) : v;
    }
}

}  // namespace sie
