// Attention of one head over a sequence of at most 32 tokens, in bf16 with fp32 accumulation:
// softmax(Q Kᵀ) V for a range of query rows, with the scores, their softmax and the context kept
// in registers. The general route (bert_encoder.cpp) packs K and V, runs the bf16 GEMM for the
// scores, a softmax pass over memory and the GEMM again for P·V: for the 16-token sequences of
// short requests that was 4-5 % of a bf16 forward on Zen 4, most of it set-up around products of
// a few hundred cycles. The arithmetic is the general route's, step for step (the same pair
// order in VDPBF16PS, the same degree-4 exponential and rounding of P), so the two agree bit for
// bit; bf16-kernels.test.ts checks that, and both against a double-precision twin.
#pragma once
#include <cstdint>

#include "../../core/cpu_features.h"

namespace sie {

constexpr int kShortAttentionMaxLength = 32;

// Whether the register kernel covers this head: AVX512-BF16, at most 32 tokens, and a head
// dimension of 32 or 64 (whole 32-column panels, as the bf16 encoder's fused Q/K/V rows have).
bool short_attention_bf16_fits(int length, int head_dim, CpuIsa isa);

// q, k, v: the head's first row of Q, K and V (bf16, rows `ld` apart; the scale is already in
// Q). Rows [row_begin, row_end) of the context go to out (bf16, rows ld_out apart).
void short_attention_bf16(int length, int head_dim, const uint16_t* q, const uint16_t* k, const uint16_t* v, int64_t ld,
                          int row_begin, int row_end, uint16_t* out, int64_t ld_out);

// The plain twin: scores and P·V in double from the same bf16 values, the softmax in double, P
// rounded to bf16 as the kernels round it, the context rounded to bf16.
void short_attention_bf16_reference(int length, int head_dim, const uint16_t* q, const uint16_t* k, const uint16_t* v, int64_t ld,
                                    int row_begin, int row_end, uint16_t* out, int64_t ld_out);

}  // namespace sie
