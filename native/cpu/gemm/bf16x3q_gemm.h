// "bf16x3q": fp32-grade products on AMX that stream 2.5 bytes a weight instead of bf16x3's 4.
//
// bf16x3 splits W into bf16 halves, W_hi + W_lo. W_lo only has to correct W_hi's rounding, which
// is at most 2^-9 of each weight, so it needs few bits: here it is four, per output column
//   W_lo[j, k] ~ lo_scale[j] * q[j, k],   q in [-7, 7].
// What four bits leave out is about 1/30 of bf16's rounding error in the output's 1 - cosine
// (a ViT-B/32 tower: bf16 weights 1.1e-5, with the 4-bit correction 3.9e-7; fp32 parity is 1e-5).
// X stays exact as in bf16x3 (X_hi + X_lo, two bf16 tile products against W_hi), and the
// correction term is an int8 tile product: X rounded to int8 per row (x ~ x_scale[i] * a[i, k])
// against q + 8 stored unsigned:
//   Y = X_hi·W_hiᵀ + X_lo·W_hiᵀ + x_scale[i] * lo_scale[j] * (Σ_k a[i,k] (q[j,k] + 8) - 8 Σ_k a[i,k]) + bias.
// The int8 rounding of X touches only the correction, a 2^-9 term, so it costs nothing visible.
// A batch-1 forward is bound by streaming the weights; 2.5 bytes a weight is what lets CLIP's
// vision tower beat onnxruntime's fp32 there with fp32-grade vectors. What it does not reach is
// bf16x3's 1e-5-grade scalars: rerank scores move by about 1.5e-4, so the fidelity gate sends
// such models on to bf16x3 (lib/engine/loaded-model.ts).
#pragma once
#include <cstdint>
#include <vector>

#include "../../core/aligned_buffer.h"
#include "../thread_pool.h"
#include "bf16_gemm.h"

namespace sie {

// The int8 product works in 64-wide k steps: one AMX int8 B tile is 16 groups of 4 k x 16 columns.
constexpr int kLo4KStep = 64;
// One 64-k step of a 32-column panel: the two int8 B tiles (columns 0-15, 16-31) of 1 KiB each,
// stored as 1 KiB of nibbles: byte b holds the first tile's byte b low and the second's high.
constexpr int kLo4StepBytes = 1024;

struct PackedBf16x3qMatrix {
  PackedBf16Matrix hi;            // bf16(W), packed as pack_bf16_nk packs it
  AlignedBuffer lo4;              // per panel, per 64-k step, kLo4StepBytes of q + 8 nibbles
  std::vector<float> lo_scale;    // per output column, padded to whole panels with zeros
  int k_padded64 = 0;             // k rounded up to kLo4KStep
  size_t bytes() const { return hi.bytes() + lo4.bytes() + lo_scale.size() * sizeof(float); }
  bool empty() const { return hi.empty(); }
  const uint8_t* lo4_data() const { return reinterpret_cast<const uint8_t*>(lo4.data()); }
};

// The 4-bit code of W's rounding remainder, per row of W (an output column): the scale and
// q = round(lo / scale), clamped to [-7, 7]. One definition for the packer and the reference twin.
struct Lo4Row {
  float scale = 0;
  std::vector<int8_t> q;
};
Lo4Row quantize_lo4_row(const float* w_row, int k);

// X rounded to int8 per row: scale = max|x| / 127, a = round(x / scale) (nearest even), and the
// row's sum of a (the unsigned offset's correction). Rows of lda bytes, zero past k; rows from m
// to row_end are zero. The AVX-512 form (bf16x3q_rows_avx512.cpp) where the CPU has it, else the
// plain loop, which is also the reference twin's.
void quantize_rows_int8(const float* x, int64_t ldx, int row_begin, int row_end, int m, int k, int8_t* a, int64_t lda,
                        float* scale, int32_t* row_sum);
void quantize_rows_int8_reference(const float* x, int64_t ldx, int row_begin, int row_end, int m, int k, int8_t* a, int64_t lda,
                                  float* scale, int32_t* row_sum);
void quantize_rows_int8_avx512(const float* x, int64_t ldx, int row_begin, int row_end, int m, int k, int8_t* a, int64_t lda,
                               float* scale, int32_t* row_sum);

PackedBf16x3qMatrix pack_bf16x3q_nk(const float* w, int n, int k);

// Needs AMX (its int8 and bf16 tiles).
void gemm_bf16x3q(int m, int n, int k, const float* x, int64_t ldx, const PackedBf16x3qMatrix& w, const float* bias, float* y,
                  int64_t ldy, ThreadPool* pool, Epilogue epilogue);

// The plain twin: the same halves, the same 4-bit codes and int8 rows, summed in double.
void gemm_bf16x3q_reference(int m, int n, int k, const float* x, int64_t ldx, const float* w, const float* bias, float* y,
                            int64_t ldy, Epilogue epilogue);

// What the AMX row block reads of X: bf16 rows [X_hi | X_lo] (each k_padded long, ldx elements
// apart) and int8 rows (lda bytes apart) with their scales and sums, all for the block's rows.
struct Bf16x3qRows {
  const uint16_t* x;
  int64_t ldx;
  int64_t x_lo_offset;
  const int8_t* a;
  int64_t lda;
  const float* a_scale;
  const int32_t* a_sum;
  bool first;  // the task's first row block: the one that streams the panels from memory
};

// Rows [0, rows) of Y (rows <= 32) against panels [panel_begin, panel_end).
void bf16x3q_row_block_amx(int rows, const Bf16x3qRows& x, const PackedBf16x3qMatrix& w, int panel_begin, int panel_end,
                           const float* bias, float* y, int64_t ldy, Epilogue epilogue);

}  // namespace sie
