// ModernBertForSequenceClassification's head (ModernBERT rerankers such as gte-reranker-modernbert-base):
// the last hidden states pooled per sequence (classifier_pooling: [CLS] or the mean of its
// tokens), then ModernBertPredictionHead (head.dense, GELU, head.norm: a LayerNorm whose bias
// is optional, as norm_bias allows), then the classifier. Raw logits [num_sequences, num_labels];
// lib/ applies sigmoid or softmax. Not the BERT pooler: no tanh, and a norm after the activation.
#pragma once
#include "../bert/bert_weights.h"
#include "../kernels/pooling.h"
#include "model_head.h"

namespace sie {

class ModernBertClassifierHead : public ModelHead {
 public:
  ModernBertClassifierHead(const WeightStore& file, int hidden_size, int num_labels, PoolingMode pooling, float norm_eps,
                           WeightFormat format);
  ModelOutput run(const float* hidden, const TokenBatch& batch, ThreadPool& pool) override;
  size_t weight_bytes() const override;
  HiddenRows rows_read(const TokenBatch&) const override {
    return pooling_ == PoolingMode::Cls ? HiddenRows::FirstOfEachSequence : HiddenRows::All;
  }

 private:
  PackedLinear dense_;
  LayerNormWeights norm_;
  PackedLinear classifier_;
  int hidden_size_, num_labels_;
  PoolingMode pooling_;
  float norm_eps_;
};

}  // namespace sie
