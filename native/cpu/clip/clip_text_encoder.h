// CLIP's text tower as an Encoder: token + position embeddings, the causal pre-LN transformer,
// final_layer_norm. The pooling at the end-of-text token and the projection are the "clip-text"
// head (native/cpu/heads/clip_text_head.h), the only head CLIP has: the last layer and the final
// norm run for those rows alone (clip_text_pooling.h), and the other rows are left unfinished.
#pragma once
#include "../encoder.h"
#include "clip_tower.h"

namespace sie {

class ClipTextEncoder : public Encoder {
 public:
  ClipTextEncoder(const WeightStore& file, const EncoderConfig& config, int pool_token_id, WeightFormat format);
  // Pools at the end-of-text row itself (its last layer runs for those rows alone): `rows` is
  // not needed.
  const float* forward(const TokenBatch& batch, ThreadPool& pool, HiddenRows rows) override;
  size_t weight_bytes() const override;
  size_t workspace_bytes() const override { return hidden_.capacity() * sizeof(float); }

 private:
  EncoderConfig config_;
  int pool_token_id_;
  std::vector<float> token_embedding_, position_embedding_;
  LayerNormWeights final_norm_;
  ClipTower tower_;
  std::vector<float> hidden_;
  std::vector<int32_t> pooled_rows_;
};

ClipTowerShape clip_text_shape(const EncoderConfig& config);

}  // namespace sie
