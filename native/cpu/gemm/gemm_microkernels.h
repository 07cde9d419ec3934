// Micro-kernels of gemm_packed: each computes an MR x 32 tile of Y from MR rows of X and one
// packed panel, adds the bias and stores the first `cols` columns. Bodies live in one file per
// instruction set so that only the AVX-512 file is compiled for AVX-512.
#pragma once
#include <cstdint>

namespace sie {

// What happens to a finished tile before it is stored (after the bias).
enum class Epilogue { None, Gelu };

using MicroKernel = void (*)(int rows, int k, const float* x, int64_t ldx, const float* panel, const float* bias,
                             int cols, float* y, int64_t ldy, Epilogue epilogue);

// Tile height each kernel family computes per call (rows may be fewer at the edge).
constexpr int kAvx512TileRows = 12;
constexpr int kAvx2TileRows = 3;
constexpr int kPortableTileRows = 4;

void microkernel_avx512(int rows, int k, const float* x, int64_t ldx, const float* panel, const float* bias, int cols,
                        float* y, int64_t ldy, Epilogue epilogue);
void microkernel_avx2(int rows, int k, const float* x, int64_t ldx, const float* panel, const float* bias, int cols,
                      float* y, int64_t ldy, Epilogue epilogue);
void microkernel_portable(int rows, int k, const float* x, int64_t ldx, const float* panel, const float* bias,
                          int cols, float* y, int64_t ldy, Epilogue epilogue);

}  // namespace sie
