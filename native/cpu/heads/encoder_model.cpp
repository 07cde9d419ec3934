#include "encoder_model.h"

#include "head_registry.h"

namespace sie {

EncoderModel::EncoderModel(const ModelDescription& description) {
  // The mapping is only needed while the weights are converted and packed.
  const std::unique_ptr<WeightStore> weights = open_weights(description.weights_path);
  const WeightFormat format = description.dtype == "bf16" ? WeightFormat::Bf16 : WeightFormat::Fp32;
  encoder_ = make_encoder(description, *weights, format);
  head_ = make_head(description.head, description.encoder, *weights, format);
}

ModelOutput EncoderModel::run(const TokenBatch& batch, ThreadPool& pool) {
  const float* hidden = encoder_->forward(batch, pool);
  return head_->run(hidden, batch, pool);
}

}  // namespace sie
