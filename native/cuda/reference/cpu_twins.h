// The plain C++ twins of the CUDA kernels (native/cuda/kernels/kernels.h): the same functions,
// written for clarity, accumulating in double. test/cuda/kernel_tests.cu compares every kernel
// with its twin; test/cuda/host_tests.cpp checks the twins themselves against hand-computed
// cases and the CPU engine's kernels. All tensors are fp32 host arrays, rows contiguous.
#pragma once
#include <cstdint>
#include <vector>

namespace sie_cuda_twin {

enum class Activation { None, GeluErf, GeluTanh, Tanh };
enum class Pooling { Mean, Cls, LastToken };

void embed_layer_norm(const int32_t* ids, const int32_t* positions, const int32_t* types, const float* word,
                      const float* position, const float* type, const float* gamma, const float* beta, float eps,
                      float* out, int tokens, int hidden);
void add_layer_norm(const float* x, const float* residual, const float* gamma, const float* beta, float eps, float* out,
                    int rows, int cols);
void rms_norm(const float* x, const float* gamma, float eps, float* out, int rows, int cols);
// y[m,n] = act(x . w^T + bias) + residual; bias and residual may be null.
void gemm(const float* x, const float* w, const float* bias, Activation act, const float* residual, float* y, int m,
          int n, int k);
// SPLADE fold: sequence_max[row_sequence[r], c] = max over rows of max(0, x . w^T + bias).
void gemm_sequence_max(const float* x, const float* w, const float* bias, const int32_t* row_sequence, int sequences,
                       float* sequence_max, int m, int n, int k);
// softmax(q k^T) v per sequence and head; same layout arguments as sie_cuda::AttentionArgs.
void attention(const float* qkv, int ld, int q_col, int k_col, int v_col, float* context, int ld_context,
               const int32_t* offsets, int num_sequences, int heads, int kv_heads, int head_dim, bool causal);
void pool_sequences(const float* hidden, const int32_t* offsets, int num_sequences, int hidden_size, Pooling pooling,
                    bool normalize, float* out);

}  // namespace sie_cuda_twin
