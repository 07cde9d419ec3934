// The BERT-family encoder (BERT, RoBERTa, XLM-RoBERTa) on the GPU, in one storage dtype:
// embeddings + LayerNorm, then per layer the fused QKV GEMM (1/sqrt(head_dim) folded into Q),
// varlen attention, the output projection with the residual fused into its epilogue, LayerNorm,
// the FFN up-projection with GELU fused, the down-projection with the residual, LayerNorm.
// Reads the same tensors as the CPU encoder (native/cpu/bert/bert_weights.h).
#pragma once
#include <vector>

#include "../../backend/encoder_config.h"
#include "../../weights/weight_store.h"
#include "../kernels/kernels.h"
#include "device_batch.h"
#include "device_buffer.h"
#include "workspace_plan.h"

namespace sie {

class CudaBertEncoder {
 public:
  CudaBertEncoder(const WeightStore& file, const EncoderConfig& config, sie_cuda::DType dtype);
  // Leaves the last hidden state [tokens, hidden] at arena + plan.hidden.
  void forward(const DeviceBatch& batch, const WorkspacePlan& plan, char* arena, cudaStream_t stream) const;
  size_t weight_bytes() const { return weight_bytes_; }
  const EncoderConfig& config() const { return config_; }

 private:
  struct Layer {
    DeviceBuffer qkv_weight, qkv_bias, output_weight, output_bias, attention_gamma, attention_beta;
    DeviceBuffer up_weight, up_bias, down_weight, down_bias, output_gamma, output_beta;
  };
  EncoderConfig config_;
  sie_cuda::DType dtype_;
  DeviceBuffer word_, position_, type_, embedding_gamma_, embedding_beta_;
  std::vector<Layer> layers_;
  size_t weight_bytes_ = 0;
};

}  // namespace sie
