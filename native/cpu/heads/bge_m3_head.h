// BAAI/bge-m3's three outputs from one encoder forward, each computed only when the batch asks
// for it (TokenBatch::outputs):
//  - "dense": the <s> state of each sequence, L2-normalised when `normalize`;
//  - "sparse": relu(sparse_linear(h)) for every token, one weight per token (rows follow the
//    batch's tokens); lib/families/xlm-roberta/bge-m3.ts keeps the max per token id and drops
//    special tokens, as SIE's adapter does;
//  - "multivector": colbert_linear(h) for every token after <s>, L2-normalised per token when
//    `normalize`; sequence s owns rows [row_offsets[s], row_offsets[s+1]).
// colbert_linear.pt / sparse_linear.pt are torch state dicts ({weight, bias}) read through
// open_weights.
#pragma once
#include <string>

#include "../bert/bert_weights.h"
#include "model_head.h"

namespace sie {

class BgeM3Head : public ModelHead {
 public:
  BgeM3Head(const std::string& colbert_path, const std::string& sparse_path, int hidden_size, bool normalize, WeightFormat format);
  ModelOutput run(const float* hidden, const TokenBatch& batch, ThreadPool& pool) override;
  size_t weight_bytes() const override;
  size_t workspace_bytes() const override { return gathered_.capacity() * sizeof(float); }
  // The dense output is the CLS row; sparse weights and ColBERT vectors read every token.
  HiddenRows rows_read(const TokenBatch& batch) const override {
    return batch.outputs == kDenseOutput ? HiddenRows::FirstOfEachSequence : HiddenRows::All;
  }

 private:
  int hidden_size_;
  bool normalize_;
  PackedLinear colbert_;
  std::vector<float> sparse_weight_;
  float sparse_bias_ = 0;
  std::vector<float> gathered_;  // token rows after <s>, reused across batches
};

}  // namespace sie
