// The CUDA kernels of the encoder and its heads, as host-callable launches. Tensors are device
// memory in one storage dtype (fp32, fp16 or bf16) passed as void*; every kernel accumulates in
// fp32. Each launch returns the cudaError_t of the launch (cudaSuccess or the first failure),
// never throws, and does not synchronise. Each has a plain C++ twin in native/cuda/reference
// (cpu_twins.h) that test/cuda/kernel_tests.cu compares it with.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace sie_cuda {

enum class DType { F32, F16, BF16 };
inline int dtype_size(DType t) { return t == DType::F32 ? 4 : 2; }

// word[ids[t]] + position[positions[t]] + type[types[t]] (types may be null: type 0), then
// LayerNorm(gamma, beta, eps), one row of `hidden` per token. Tables, gamma and beta are in
// `dtype` and fp32 respectively.
cudaError_t embed_layer_norm(DType dtype, const int32_t* ids, const int32_t* positions, const int32_t* types,
                             const void* word, const void* position, const void* type, const float* gamma,
                             const float* beta, float eps, void* out, int tokens, int hidden, cudaStream_t stream);

// out = LayerNorm(x (+ residual)) per row; out may alias x. residual may be null.
cudaError_t add_layer_norm(DType dtype, const void* x, const void* residual, const float* gamma, const float* beta,
                           float eps, void* out, int rows, int cols, cudaStream_t stream);
// out = x / sqrt(mean(x^2) + eps) * gamma, per row (RMSNorm of Qwen3 and other decoders).
cudaError_t rms_norm(DType dtype, const void* x, const float* gamma, float eps, void* out, int rows, int cols,
                     cudaStream_t stream);

enum class Activation { None, GeluErf, GeluTanh, Tanh };

// y[M,N] = act(x[M,K] . w[N,K]^T + bias[N]) + residual[M,N]: nn.Linear with its epilogue fused.
// bias (fp32) and residual may be null. Row strides are in elements. K must be a multiple of 8
// for fp16/bf16 (16-byte tensor-core loads). fp16/bf16 run on tensor cores (mma.sync, cp.async
// pipeline); fp32 on a tiled SIMT kernel.
struct GemmArgs {
  const void* x = nullptr;
  int ldx = 0;
  const void* w = nullptr;
  int ldw = 0;
  const float* bias = nullptr;
  Activation activation = Activation::None;
  const void* residual = nullptr;
  int ldr = 0;
  void* y = nullptr;
  int ldy = 0;
  int m = 0, n = 0, k = 0;
  // SPLADE: instead of storing y, fold max(0, value) into sequence_max[row_sequence[row] * n + col]
  // (fp32, zeroed by the caller). The tokens x vocab logits never reach global memory.
  const int32_t* row_sequence = nullptr;
  float* sequence_max = nullptr;
};
cudaError_t gemm(DType dtype, const GemmArgs& args, cudaStream_t stream);
// One kernel by name, for the run-time chooser (native/cuda/runtime/gemm_selector.h) and tests.
// Auto is gemm()'s own choice by shape; a tensor-core kernel the arguments cannot use (K or a
// row stride not a multiple of 8) falls back to SIMT.
// Hopper128x128 / Hopper128x256 are the wgmma + TMA kernels (gemm_wgmma.cu): they return
// cudaErrorNotSupported where the device lacks sm_90a code or the arguments break their limits
// (16-byte aligned operands, row strides a multiple of 8, no SPLADE fold). HopperPersistent128x128
// is the 128x128 wgmma kernel with resident blocks that walk the tiles, HopperPingPong128x128 the
// same with the two consumer warpgroups taking alternate tiles (same limits).
enum class GemmKernel {
  Auto,
  TensorCore128x128,
  TensorCore64x64,
  TensorCore128x256,
  Simt,
  Hopper128x128,
  Hopper128x256,
  HopperPersistent128x128,
  HopperPingPong128x128
};
cudaError_t gemm_with(GemmKernel kernel, DType dtype, const GemmArgs& args, cudaStream_t stream);
cudaError_t gemm_hopper(GemmKernel kernel, DType dtype, const GemmArgs& args, cudaStream_t stream);
// Whether this process's device runs the sm_90a wgmma kernels.
bool hopper_gemm_available();
// y[m, n] = act(y + bias) in place: the epilogue of a product computed elsewhere (cuBLASLt).
cudaError_t bias_activation(DType dtype, void* y, int ldy, const float* bias, Activation act, int m, int n,
                            cudaStream_t stream);
// The plain twin on the device: one thread per output, same epilogue. Tests and fallback only.
cudaError_t gemm_reference(DType dtype, const GemmArgs& args, cudaStream_t stream);

// Attention over packed variable-length sequences: rows offsets[s] .. offsets[s+1] of qkv are
// sequence s. Per token, qkv holds queries at column q_col + head * head_dim and keys/values at
// k_col / v_col + kv_head * head_dim (kv_head = head / (heads / kv_heads)), row stride ld.
// Queries must already carry the 1/sqrt(head_dim) scale. context[t, head * head_dim] receives
// softmax(q k^T) v. head_dim 32, 64 or 128 on tensor cores (fp16/bf16, online softmax, no
// scores in global memory); any head_dim <= 256 on the SIMT kernel (fp32).
struct AttentionArgs {
  const void* qkv = nullptr;
  int ld = 0;
  int q_col = 0, k_col = 0, v_col = 0;
  void* context = nullptr;
  int ld_context = 0;
  const int32_t* offsets = nullptr;  // device, num_sequences + 1
  int num_sequences = 0;
  int num_tokens = 0;
  int heads = 0, kv_heads = 0, head_dim = 0;
  bool causal = false;
  // Work list of the tensor-core kernel, from plan_attention_blocks(): per block of 64 query
  // rows, its sequence and first row. Device memory.
  const int32_t* block_sequence = nullptr;
  const int32_t* block_query = nullptr;
  int num_blocks = 0;
  int max_length = 0;
  // The tensor-core kernel that loads the next key and value tiles while it computes this one
  // (attention.cu). Opt-in (SIE_CUDA_ATTENTION_PIPELINED=on) until a GPU check has run it.
  bool pipelined = false;
};
constexpr int kAttentionQueryBlock = 64;
cudaError_t attention(DType dtype, const AttentionArgs& args, cudaStream_t stream);
cudaError_t attention_reference(DType dtype, const AttentionArgs& args, cudaStream_t stream);
// Fills block_sequence / block_query (host memory, room for count_attention_blocks) for a batch.
int count_attention_blocks(const int32_t* offsets, int num_sequences);
void plan_attention_blocks(const int32_t* offsets, int num_sequences, int32_t* block_sequence, int32_t* block_query);

enum class Pooling { Mean, Cls, LastToken };
// out[s, :] (fp32) = pooled rows of sequence s, L2-normalised when `normalize`.
cudaError_t pool_sequences(DType dtype, const void* hidden, const int32_t* offsets, int num_sequences, int hidden_size,
                           Pooling pooling, bool normalize, float* out, cudaStream_t stream);
// out[r, :] (fp32) = in[r, :], L2-normalised per row when `normalize` (ColBERT token vectors).
cudaError_t rows_to_float(DType dtype, const void* in, int rows, int cols, bool normalize, float* out,
                          cudaStream_t stream);
// dst[i, :] = src[rows[i], :] (the CLS rows a sequence classifier reads).
cudaError_t gather_rows(DType dtype, const void* src, const int32_t* rows, int count, int cols, void* dst,
                        cudaStream_t stream);
// Converts n fp32 values to `dtype` (weights at upload).
cudaError_t convert_from_float(DType dtype, const float* in, void* out, int64_t n, cudaStream_t stream);

}  // namespace sie_cuda
