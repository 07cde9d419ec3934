#include "modernbert_classifier_head.h"

#include "../../core/engine_error.h"
#include "../kernels/elementwise.h"

namespace sie {

ModernBertClassifierHead::ModernBertClassifierHead(const WeightStore& file, int hidden_size, int num_labels, PoolingMode pooling,
                                                   float norm_eps, WeightFormat format)
    : hidden_size_(hidden_size), num_labels_(num_labels), pooling_(pooling), norm_eps_(norm_eps) {
  if (pooling == PoolingMode::LastToken)
    throw EngineError(ErrorCode::BadConfig, "ModernBERT classifiers pool by 'cls' or 'mean' (classifier_pooling)");
  dense_ = read_linear(file, "head.dense", hidden_size, hidden_size, format);
  norm_.gamma = read_tensor(file, "head.norm.weight", {hidden_size});
  norm_.beta = file.has("head.norm.bias") ? read_tensor(file, "head.norm.bias", {hidden_size}) : std::vector<float>(size_t(hidden_size), 0.0f);
  classifier_ = read_linear(file, "classifier", num_labels, hidden_size, format);
}

size_t ModernBertClassifierHead::weight_bytes() const {
  return dense_.bytes() + classifier_.bytes() + 2 * norm_.gamma.size() * sizeof(float);
}

ModelOutput ModernBertClassifierHead::run(const float* hidden, const TokenBatch& batch, ThreadPool& pool) {
  const int b = batch.num_sequences, h = hidden_size_;
  std::vector<float> pooled(size_t(b) * h), transformed(size_t(b) * h);
  pool_sequences(hidden, batch.offsets, b, h, pooling_, pooled.data());
  // norm(gelu(dense(x))): the GEMM's GELU epilogue is the exact (erf) form, ACT2FN["gelu"].
  linear_forward(dense_, b, pooled.data(), h, transformed.data(), h, &pool, Epilogue::Gelu);
  add_layer_norm(transformed.data(), nullptr, b, h, h, norm_.gamma.data(), norm_.beta.data(), norm_eps_);
  ModelOutput out;
  out.width = num_labels_;
  out.values.resize(size_t(b) * num_labels_);
  linear_forward(classifier_, b, transformed.data(), h, out.values.data(), num_labels_, &pool);
  return out;
}

}  // namespace sie
