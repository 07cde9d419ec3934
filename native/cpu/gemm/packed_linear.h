// A Linear layer in compute layout: its weight packed once at load, in fp32 (packed_gemm.h), in
// bf16 (bf16_gemm.h), as bf16x3's two halves (gemm_bf16x3: fp32-grade products on AMX) or as
// bf16x3q's bf16 and 4-bit halves (bf16x3q_gemm.h: the same grade in 2.5 bytes a weight), and its
// bias in fp32. linear_forward runs it with whichever kernel the weight was packed for, so layers
// and heads never branch on the format. A bf16x3 layer takes and gives fp32 rows like an fp32 one:
// encoders run their fp32 forward pass over it.
#pragma once
#include <vector>

#include "../../core/cpu_features.h"
#include "bf16_gemm.h"
#include "bf16x3q_gemm.h"
#include "packed_gemm.h"

namespace sie {

enum class WeightFormat { Fp32, Bf16, Bf16x3, Bf16x3q };

struct PackedLinear {
  PackedMatrix weight;      // fp32 panels (empty in a bf16 layer)
  PackedBf16Matrix weight_bf16;  // bf16 panels (empty in an fp32 layer)
  PackedBf16x3Matrix weight_x3;  // bf16x3 halves (empty unless the format is Bf16x3)
  PackedBf16x3qMatrix weight_x3q;  // bf16x3q halves (empty unless the format is Bf16x3q)
  std::vector<float> bias;  // always present (zeros when the checkpoint has none)
  int out_features = 0;
  int in_features = 0;
  size_t bytes() const { return weight.panels.bytes() + weight_bf16.bytes() + weight_x3.bytes() + weight_x3q.bytes() + bias.size() * sizeof(float); }
};

// w: row-major [out][in], as torch stores a Linear weight.
PackedLinear make_packed_linear(const float* w, std::vector<float> bias, int out_features, int in_features, WeightFormat format);

// y[m, out] = x[m, in] · Wᵀ + bias, then the epilogue.
void linear_forward(const PackedLinear& linear, int m, const float* x, int64_t ldx, float* y, int64_t ldy, ThreadPool* pool,
                    Epilogue epilogue = Epilogue::None);

// A bf16 layer with its input already in bf16 (rows ldxb apart, zero past in_features up to the
// weights' k_padded, whole 32-row blocks): y in fp32, or, with y16, in bf16 for the next layer.
void linear_forward_bf16(const PackedLinear& linear, int m, const uint16_t* xb, int64_t ldxb, float* y, uint16_t* y16, int64_t ldy,
                         ThreadPool* pool, Epilogue epilogue = Epilogue::None);

}  // namespace sie
