#include "encoder_model.h"

#include "../core/engine_error.h"
#include "classifier_heads.h"
#include "pooled_embedding_head.h"
#include "splade_head.h"
#include "token_projection_head.h"

namespace sie {
namespace {

std::unique_ptr<ModelHead> make_head(const EncoderModelOptions& o, const SafetensorsFile& file) {
  const int h = o.config.hidden_size;
  const bool needs_size = o.head == HeadKind::TokenProjection || o.head == HeadKind::SequenceClassifier ||
                          o.head == HeadKind::TokenClassifier;
  if (needs_size && (o.output_size < 1 || o.output_size > 65536))
    throw EngineError(ErrorCode::BadConfig, "head output size must be between 1 and 65536");
  switch (o.head) {
    case HeadKind::PooledEmbedding: return std::make_unique<PooledEmbeddingHead>(h, o.pooling, o.normalize);
    case HeadKind::TokenProjection: return std::make_unique<TokenProjectionHead>(o.projection_path, h, o.output_size);
    case HeadKind::Splade: return std::make_unique<SpladeHead>(file, o.config);
    case HeadKind::SequenceClassifier: return std::make_unique<SequenceClassifierHead>(file, h, o.output_size);
    case HeadKind::TokenClassifier: return std::make_unique<TokenClassifierHead>(file, h, o.output_size);
  }
  throw EngineError(ErrorCode::BadConfig, "unknown head kind");
}

}  // namespace

EncoderModel::EncoderModel(const EncoderModelOptions& options) {
  // The mapping is only needed while the weights are converted and packed.
  SafetensorsFile file(options.weights_path);
  encoder_ = std::make_unique<BertEncoder>(file, options.config);
  head_ = make_head(options, file);
}

HeadOutput EncoderModel::run(const TokenBatch& batch, ThreadPool& pool) {
  const float* hidden = encoder_->forward(batch, workspace_, pool);
  return head_->run(hidden, batch, pool);
}

}  // namespace sie
