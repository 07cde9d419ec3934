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

// Exponentials below this give a probability under FLT_MIN once divided by `sum`: every softmax
// path writes 0 for them rather than compute a denormal (a microcode assist each; see exp_ps in
// vector_math_avx512.h). Twice FLT_MIN, since 1/sum is rounded.
inline float softmax_live_threshold(float sum) { return 2.3509887e-38f * sum; }

// Each of `rows` rows of `cols` values (row stride ld) becomes its softmax.
void softmax_rows(float* x, int rows, int cols, int64_t ld);
void softmax_rows_reference(float* x, int rows, int cols, int64_t ld);

// Row softmax written as bf16 (round to nearest even) to out (row stride ld_out), each row zero
// from cols to cols_padded (a multiple of 16); x is used as scratch. The fast body needs
// AVX512-BF16 (bf16 models only run where the CPU has it); the twin is the reference softmax
// rounded by the scalar bf16 rounding.
void softmax_rows_to_bf16(float* x, int rows, int cols, int64_t ld, uint16_t* out, int64_t ld_out, int cols_padded);
void softmax_rows_to_bf16_reference(float* x, int rows, int cols, int64_t ld, uint16_t* out, int64_t ld_out, int cols_padded);

// x <- LayerNorm(x + residual) * gamma + beta over rows of `cols` (row stride ld for both).
// residual may be null.
void add_layer_norm(float* x, const float* residual, int rows, int cols, int64_t ld, const float* gamma,
                    const float* beta, float eps);
void add_layer_norm_reference(float* x, const float* residual, int rows, int cols, int64_t ld, const float* gamma,
                              const float* beta, float eps);

// add_layer_norm, and each row also rounded to bf16 (nearest even) into out (row stride ld_out),
// zero from cols to cols_padded: the input of a bf16 model's next GEMM. The fused body needs
// AVX512-BF16; elsewhere, and in the twin, the rows are normalised and then rounded.
void add_layer_norm_to_bf16(float* x, const float* residual, int rows, int cols, int64_t ld, const float* gamma, const float* beta,
                            float eps, uint16_t* out, int64_t ld_out, int cols_padded);
void add_layer_norm_to_bf16_reference(float* x, const float* residual, int rows, int cols, int64_t ld, const float* gamma,
                                      const float* beta, float eps, uint16_t* out, int64_t ld_out, int cols_padded);

// Vectorised bodies, defined in elementwise_avx512.cpp and elementwise_avx2.cpp.
void gelu_erf_avx512(float* x, int64_t count);
void sigmoid_gate_avx512(float* x, int64_t count, float alpha);
void softmax_row_avx512(float* x, int cols);
void softmax_row_to_bf16_avx512bf16(float* x, int cols, uint16_t* out, int cols_padded);
void add_layer_norm_row_avx512(float* x, const float* residual, int cols, const float* gamma, const float* beta, float eps);
void add_layer_norm_row_bf16_avx512bf16(float* x, const float* residual, int cols, const float* gamma, const float* beta, float eps,
                                        uint16_t* out, int cols_padded);
void gelu_erf_avx2(float* x, int64_t count);
void softmax_row_avx2(float* x, int cols);

}  // namespace sie
