// Element-wise and row-wise kernels of the transformer forward. Each has a plain double-precision
// twin (`*_reference`) that test/native-kernels.test.ts compares it with.
#pragma once
#include <cstdint>

namespace sie {

// x <- 0.5 x (1 + erf(x / sqrt 2)), the exact-erf GELU of BERT ("gelu" in config.json).
void gelu_erf(float* x, int64_t count);
void gelu_erf_reference(float* x, int64_t count);

// x <- x * sigmoid(alpha * x): SiLU (alpha 1, Qwen3's SwiGLU gate) and CLIP's quick_gelu
// (alpha 1.702).
void sigmoid_gate(float* x, int64_t count, float alpha);
void sigmoid_gate_reference(float* x, int64_t count, float alpha);

// Each of `rows` rows of `cols` values (row stride ld) becomes its softmax.
void softmax_rows(float* x, int rows, int cols, int64_t ld);
void softmax_rows_reference(float* x, int rows, int cols, int64_t ld);

// x <- LayerNorm(x + residual) * gamma + beta over rows of `cols` (row stride ld for both).
// residual may be null.
void add_layer_norm(float* x, const float* residual, int rows, int cols, int64_t ld, const float* gamma,
                    const float* beta, float eps);
void add_layer_norm_reference(float* x, const float* residual, int rows, int cols, int64_t ld, const float* gamma,
                              const float* beta, float eps);

// Vectorised bodies, defined in elementwise_avx512.cpp and elementwise_avx2.cpp.
void gelu_erf_avx512(float* x, int64_t count);
void sigmoid_gate_avx512(float* x, int64_t count, float alpha);
void softmax_row_avx512(float* x, int cols);
void gelu_erf_avx2(float* x, int64_t count);
void softmax_row_avx2(float* x, int cols);

}  // namespace sie
