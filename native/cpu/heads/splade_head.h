// SPLADE term weights (BertForMaskedLM): MLM transform (dense -> GELU -> LayerNorm), decoder
// (tied to the word embeddings unless stored) + bias, then max over a sequence's tokens of
// log(1 + relu(logit)). Since log1p(relu(.)) is monotonic, the max is taken over raw logits and
// the transform applied once per vocabulary entry. Logits are computed a block of tokens at a
// time, so at most kTokenBlock x vocab floats exist at once. Output: sparse rows sorted by index.
#pragma once
#include "../bert/bert_weights.h"
#include "model_head.h"

namespace sie {

class SpladeHead : public ModelHead {
 public:
  SpladeHead(const WeightStore& file, const EncoderConfig& config, WeightFormat format);
  ModelOutput run(const float* hidden, const TokenBatch& batch, ThreadPool& pool) override;
  size_t weight_bytes() const override;
  size_t workspace_bytes() const override { return logits_.bytes() + transformed_.bytes(); }

  static constexpr int kTokenBlock = 48;

 private:
  PackedLinear transform_;
  LayerNormWeights transform_norm_;
  PackedLinear decoder_;
  int hidden_size_;
  int vocab_size_;
  float eps_;
  AlignedBuffer logits_, transformed_;
};

}  // namespace sie
