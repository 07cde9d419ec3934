#include "encoder_model.h"

#include "head_registry.h"

#include "../../core/engine_error.h"

namespace sie {

EncoderModel::EncoderModel(const ModelDescription& description) {
  // The mapping is only needed while the weights are converted and packed.
  const std::unique_ptr<WeightStore> weights = open_weights(description.weights_path);
  const WeightFormat format = description.dtype == "bf16"     ? WeightFormat::Bf16
                              : description.dtype == "bf16x3" ? WeightFormat::Bf16x3
                              : description.dtype == "bf16x3q" ? WeightFormat::Bf16x3q
                                                               : WeightFormat::Fp32;
  encoder_ = make_encoder(description, *weights, format);
  head_ = make_head(description.head, description.encoder, *weights, format);
  if (description.architecture == "clip")
    vision_ = std::make_unique<ClipVisionModel>(*weights, description.vision, description.head.output_size, description.head.normalize, format);
}

ModelOutput EncoderModel::run_images(const ImageBatch& batch, ThreadPool& pool) {
  if (!vision_) throw EngineError(ErrorCode::InvalidInput, "this model takes no images");
  return vision_->run(batch, pool);
}

ModelOutput EncoderModel::run(const TokenBatch& batch, ThreadPool& pool) {
  const float* hidden = encoder_->forward(batch, pool, head_->rows_read(batch));
  return head_->run(hidden, batch, pool);
}

}  // namespace sie
