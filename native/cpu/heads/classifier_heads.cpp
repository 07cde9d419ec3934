#include "classifier_heads.h"

#include <cmath>

namespace sie {

SequenceClassifierHead::SequenceClassifierHead(const WeightStore& file, int hidden_size, int num_labels, WeightFormat format)
    : hidden_size_(hidden_size), num_labels_(num_labels) {
  const bool roberta_layout = file.has("classifier.out_proj.weight");
  pooler_ = read_linear(file, roberta_layout ? "classifier.dense" : bert_prefix(file) + "pooler.dense", hidden_size, hidden_size, format);
  classifier_ = read_linear(file, roberta_layout ? "classifier.out_proj" : "classifier", num_labels, hidden_size, format);
}

size_t SequenceClassifierHead::weight_bytes() const {
  return pooler_.bytes() + classifier_.bytes();
}

ModelOutput SequenceClassifierHead::run(const float* hidden, const TokenBatch& batch, ThreadPool& pool) {
  const int b = batch.num_sequences;
  std::vector<float> cls(size_t(b) * hidden_size_), pooled(size_t(b) * hidden_size_);
  for (int s = 0; s < b; ++s)
    std::copy(hidden + int64_t(batch.offsets[s]) * hidden_size_, hidden + int64_t(batch.offsets[s] + 1) * hidden_size_,
              cls.data() + int64_t(s) * hidden_size_);
  linear_forward(pooler_, b, cls.data(), hidden_size_, pooled.data(), hidden_size_, &pool);
  for (float& v : pooled) v = std::tanh(v);
  ModelOutput out;
  out.width = num_labels_;
  out.values.resize(size_t(b) * num_labels_);
  linear_forward(classifier_, b, pooled.data(), hidden_size_, out.values.data(), num_labels_, &pool);
  return out;
}

TokenClassifierHead::TokenClassifierHead(const WeightStore& file, int hidden_size, int num_labels, WeightFormat format)
    : hidden_size_(hidden_size), num_labels_(num_labels) {
  classifier_ = read_linear(file, "classifier", num_labels, hidden_size, format);
}

ModelOutput TokenClassifierHead::run(const float* hidden, const TokenBatch& batch, ThreadPool& pool) {
  return project_rows(classifier_, hidden, batch.num_tokens, hidden_size_, num_labels_, pool);
}

ModelOutput project_rows(const PackedLinear& linear, const float* x, int rows, int in_features, int out_features, ThreadPool& pool) {
  ModelOutput out;
  out.width = out_features;
  out.values.resize(size_t(rows) * out_features);
  linear_forward(linear, rows, x, in_features, out.values.data(), out_features, &pool);
  return out;
}

}  // namespace sie
