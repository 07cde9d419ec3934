// Classification heads of the Hugging Face BERT families:
//  - SequenceClassifierHead (BertForSequenceClassification): tanh pooler on [CLS], then the
//    classifier; raw logits [num_sequences, num_labels] (cross-encoders have one label). The
//    RoBERTa/XLM-R head (classifier.dense -> tanh -> classifier.out_proj on <s>) is the same
//    computation under other tensor names, read from whichever layout the file holds.
//  - TokenClassifierHead (BertForTokenClassification): the classifier on every token; raw
//    logits [num_tokens, num_labels].
// Softmax / sigmoid and label names are applied in lib/, as the Python libraries do.
#pragma once
#include "../bert/bert_weights.h"
#include "model_head.h"

namespace sie {

class SequenceClassifierHead : public ModelHead {
 public:
  SequenceClassifierHead(const WeightStore& file, int hidden_size, int num_labels, WeightFormat format);
  ModelOutput run(const float* hidden, const TokenBatch& batch, ThreadPool& pool) override;
  size_t weight_bytes() const override;
  HiddenRows rows_read(const TokenBatch&) const override { return HiddenRows::FirstOfEachSequence; }  // the CLS token

 private:
  PackedLinear pooler_;
  PackedLinear classifier_;
  int hidden_size_;
  int num_labels_;
};

class TokenClassifierHead : public ModelHead {
 public:
  TokenClassifierHead(const WeightStore& file, int hidden_size, int num_labels, WeightFormat format);
  ModelOutput run(const float* hidden, const TokenBatch& batch, ThreadPool& pool) override;
  size_t weight_bytes() const override { return classifier_.bytes(); }

 private:
  PackedLinear classifier_;
  int hidden_size_;
  int num_labels_;
};

}  // namespace sie
