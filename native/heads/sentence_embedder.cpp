#include "sentence_embedder.h"

namespace sie {

SentenceEmbedder::SentenceEmbedder(const SentenceEmbedderOptions& options) : options_(options) {
  // The mapping is only needed while the weights are converted and packed.
  SafetensorsFile file(options.weights_path);
  encoder_ = std::make_unique<BertEncoder>(file, options.config);
}

std::vector<float> SentenceEmbedder::embed(const TokenBatch& batch, ThreadPool& pool) {
  const float* hidden = encoder_->forward(batch, workspace_, pool);
  std::vector<float> out(size_t(batch.num_sequences) * dims());
  pool_sequences(hidden, batch.offsets, batch.num_sequences, dims(), options_.pooling, out.data());
  if (options_.normalize) l2_normalize_rows(out.data(), batch.num_sequences, dims());
  return out;
}

}  // namespace sie
