// CLIP's text embedding from the text tower's last hidden states: the state at the end-of-text
// token (the first position holding pool_token_id, or, for legacy configs whose eos_token_id is
// 2, the position of the largest id, as HF's CLIPTextTransformer does), through text_projection
// (no bias), L2-normalised when asked. [num_sequences, projection_dim].
#pragma once
#include "../bert/bert_weights.h"
#include "model_head.h"

namespace sie {

class ClipTextHead : public ModelHead {
 public:
  ClipTextHead(const WeightStore& file, int hidden_size, int projection_dim, int pool_token_id, bool normalize, WeightFormat format);
  ModelOutput run(const float* hidden, const TokenBatch& batch, ThreadPool& pool) override;
  size_t weight_bytes() const override { return projection_.bytes(); }

 private:
  PackedLinear projection_;
  int hidden_size_, projection_dim_, pool_token_id_;
  bool normalize_;
};

}  // namespace sie
