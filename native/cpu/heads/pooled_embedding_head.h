// Dense sentence embeddings: mean / CLS / last-token pooling, then optional L2 normalisation,
// as sentence-transformers' Pooling and Normalize modules do.
#pragma once
#include "../kernels/pooling.h"
#include "model_head.h"

namespace sie {

class PooledEmbeddingHead : public ModelHead {
 public:
  PooledEmbeddingHead(int hidden_size, PoolingMode pooling, bool normalize)
      : hidden_size_(hidden_size), pooling_(pooling), normalize_(normalize) {}
  ModelOutput run(const float* hidden, const TokenBatch& batch, ThreadPool& pool) override;
  size_t weight_bytes() const override { return 0; }
  HiddenRows rows_read(const TokenBatch&) const override {
    return pooling_ == PoolingMode::Cls ? HiddenRows::FirstOfEachSequence
           : pooling_ == PoolingMode::LastToken ? HiddenRows::LastOfEachSequence
                                                : HiddenRows::All;
  }

 private:
  int hidden_size_;
  PoolingMode pooling_;
  bool normalize_;
};

}  // namespace sie
