// The rotary encoders' forward on a padding-free batch (ModernBERT, GTE NewModel, Qwen3):
// embeddings [-> LayerNorm], then per layer fused QKV, optional per-head RMSNorm of q and k,
// rotary positions (rotate-half pairs, 0..len-1 per sequence, a theta per layer kind, NTK scaling
// where configured), attention that is full, causal or a sliding window, grouped-query heads,
// and a gated MLP, with pre- or post-norm residuals; a final norm where the model has one.
// Attention runs in blocks of query rows over only the keys the mask lets them see, so memory
// stays linear in the sequence length and a local layer's cost in its window.
#pragma once
#include <vector>

#include "../../core/aligned_buffer.h"
#include "../encoder.h"
#include "rope_weights.h"

namespace sie {

class RopeEncoder : public Encoder {
 public:
  RopeEncoder(const WeightStore& file, RopeArchitecture architecture, const EncoderConfig& config, WeightFormat format);
  const float* forward(const TokenBatch& batch, ThreadPool& pool, HiddenRows rows) override;
  size_t weight_bytes() const override { return weights_.bytes(); }
  size_t workspace_bytes() const override;

 private:
  struct RotaryTable {
    int length = 0;
    std::vector<float> cos, sin;  // [length][head_dim / 2]
  };
  void validate(const TokenBatch& batch) const;
  void embed(const TokenBatch& batch, ThreadPool& pool);
  // cos / sin of every position up to `length` for the global or the local theta.
  const RotaryTable& rotary_table(bool local, int length);
  void prepare_query_key(const TokenBatch& batch, const RopeLayerWeights& layer, const RotaryTable& table, ThreadPool& pool);
  // With query_rows (one token row per sequence), the context of those rows alone.
  void attention(const TokenBatch& batch, bool local, ThreadPool& pool, const std::vector<int32_t>* query_rows = nullptr);
  void gated_mlp(const RopeLayerWeights& layer, const float* input, int tokens, ThreadPool& pool);
  void norm_rows(const NormWeights& norm, const float* in, float* out, int rows, ThreadPool& pool) const;

  EncoderConfig config_;
  RopeWeights weights_;
  std::vector<double> inv_freq_global_, inv_freq_local_;
  RotaryTable tables_[2];  // [0]: global theta, [1]: local theta
  AlignedBuffer hidden_, normed_, qkv_, context_, projected_, gate_up_, activated_;
  std::vector<AlignedBuffer> scores_, packed_keys_, packed_values_;  // per worker
};

}  // namespace sie
