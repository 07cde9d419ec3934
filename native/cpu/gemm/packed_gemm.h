// Y[m, n] = X[m, k] · W[n, k]^T (+ bias[n]): the product of every Linear layer and of attention.
// The right-hand matrix is packed once into panels of kPanelWidth columns, laid out [k][32], so the
// micro-kernel streams it contiguously; weights are packed at load time, attention operands per
// call. Rows of X and Y are read and written in place with their own leading dimensions.
#pragma once
#include <cstdint>

#include "../../core/aligned_buffer.h"
#include "../thread_pool.h"
#include "gemm_microkernels.h"

namespace sie {

constexpr int kPanelWidth = 32;

struct PackedMatrix {
  int n = 0;  // output columns
  int k = 0;  // reduction length
  AlignedBuffer panels;  // ceil(n / 32) panels of k x 32 floats, zero-padded
  static int panel_count(int n) { return (n + kPanelWidth - 1) / kPanelWidth; }
};

// Floats needed to pack an n x k operand.
inline int64_t packed_size(int n, int k) { return int64_t(PackedMatrix::panel_count(n)) * k * kPanelWidth; }

// From a row-major [n][k] matrix (a torch Linear weight), row stride ldw.
void pack_nk(const float* w, int n, int k, int64_t ldw, float* dst);
// From a row-major [k][n] matrix (attention's V), row stride ldb.
void pack_kn(const float* b, int k, int n, int64_t ldb, float* dst);
PackedMatrix pack_linear_weights(const float* w, int n, int k);

// Multiplies with the packed operand; pool may be null (runs on the calling thread).
// Epilogue::Gelu applies the exact-erf GELU to each tile while it is still in registers.
void gemm_packed(int m, int n, int k, const float* x, int64_t ldx, const float* packed, const float* bias, float* y,
                 int64_t ldy, ThreadPool* pool, Epilogue epilogue = Epilogue::None);

// The plain twin: triple loop in double precision over the unpacked [n][k] weights.
void gemm_reference(int m, int n, int k, const float* x, int64_t ldx, const float* w, int64_t ldw,
                    const float* bias, float* y, int64_t ldy);

// Which micro-kernel gemm_packed uses on this CPU ("avx512", "avx2" or "portable").
const char* gemm_kernel_name();

}  // namespace sie
