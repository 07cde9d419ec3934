// ColBERT (PyLate layout): every token's hidden state through the 1_Dense projection (no bias),
// then L2-normalised per token. One row of `out_features` per token.
#pragma once
#include <string>

#include "../bert/bert_weights.h"
#include "model_head.h"

namespace sie {

class TokenProjectionHead : public ModelHead {
 public:
  // projection_path: 1_Dense/model.safetensors holding linear.weight [out, hidden] (bias optional).
  TokenProjectionHead(const std::string& projection_path, int hidden_size, int out_features, WeightFormat format);
  ModelOutput run(const float* hidden, const TokenBatch& batch, ThreadPool& pool) override;
  size_t weight_bytes() const override { return projection_.bytes(); }

 private:
  PackedLinear projection_;
  int hidden_size_;
  int out_features_;
};

}  // namespace sie
