#include "splade_head.h"

#include <algorithm>
#include <cmath>

#include "../kernels/elementwise.h"

namespace sie {

SpladeHead::SpladeHead(const WeightStore& file, const EncoderConfig& config, WeightFormat format)
    : hidden_size_(config.hidden_size), vocab_size_(config.vocab_size), eps_(config.layer_norm_eps) {
  const int h = hidden_size_;
  transform_ = read_linear(file, "cls.predictions.transform.dense", h, h, format);
  transform_norm_ = {read_tensor(file, "cls.predictions.transform.LayerNorm.weight", {h}),
                     read_tensor(file, "cls.predictions.transform.LayerNorm.bias", {h})};
  const std::string tied = bert_prefix(file) + "embeddings.word_embeddings.weight";
  const std::string decoder_name = file.has("cls.predictions.decoder.weight") ? "cls.predictions.decoder.weight" : tied;
  const std::vector<float> decoder = read_tensor(file, decoder_name, {vocab_size_, h});
  const char* bias_name = file.has("cls.predictions.bias") ? "cls.predictions.bias" : "cls.predictions.decoder.bias";
  decoder_ = make_packed_linear(decoder.data(), read_tensor(file, bias_name, {vocab_size_}), vocab_size_, h, format);
}

size_t SpladeHead::weight_bytes() const {
  return transform_.bytes() + decoder_.bytes();
}

ModelOutput SpladeHead::run(const float* hidden, const TokenBatch& batch, ThreadPool& pool) {
  const int h = hidden_size_, v = vocab_size_;
  transformed_.resize(size_t(batch.num_tokens) * h);
  linear_forward(transform_, batch.num_tokens, hidden, h, transformed_.data(), h, &pool, Epilogue::Gelu);
  add_layer_norm(transformed_.data(), nullptr, batch.num_tokens, h, h, transform_norm_.gamma.data(),
                 transform_norm_.beta.data(), eps_);
  logits_.resize(size_t(kTokenBlock) * v);
  std::vector<float> row_max(v);
  ModelOutput out;
  out.width = v;
  out.sparse_entries = true;
  out.row_offsets.push_back(0);
  for (int s = 0; s < batch.num_sequences; ++s) {
    std::fill(row_max.begin(), row_max.end(), -INFINITY);
    for (int t = batch.offsets[s]; t < batch.offsets[s + 1]; t += kTokenBlock) {
      const int rows = std::min(kTokenBlock, batch.offsets[s + 1] - t);
      linear_forward(decoder_, rows, transformed_.data() + int64_t(t) * h, h, logits_.data(), v, &pool);
      const int64_t chunks = (v + 4095) / 4096;
      pool.parallel_for(chunks, [&](int64_t chunk, int) {
        const int begin = int(chunk) * 4096, end = std::min(v, begin + 4096);
        for (int r = 0; r < rows; ++r) {
          const float* logits = logits_.data() + int64_t(r) * v;
          for (int j = begin; j < end; ++j) row_max[j] = std::max(row_max[j], logits[j]);
        }
      });
    }
    for (int j = 0; j < v; ++j) {
      if (row_max[j] > 0.0f) {
        out.indices.push_back(j);
        out.values.push_back(std::log1p(row_max[j]));
      }
    }
    out.row_offsets.push_back(int32_t(out.indices.size()));
  }
  return out;
}

}  // namespace sie
