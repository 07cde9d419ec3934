// A loaded CPU model: one encoder (BERT-family, rotary or CLIP text, native/cpu/encoder.h) and one
// head; CLIP adds its vision tower.
#pragma once
#include <memory>

#include "../../backend/model_description.h"
#include "../../backend/image_batch.h"
#include "../clip/clip_vision_model.h"
#include "../encoder.h"
#include "model_head.h"

namespace sie {

class EncoderModel {
 public:
  explicit EncoderModel(const ModelDescription& description);
  size_t weight_bytes() const { return encoder_->weight_bytes() + head_->weight_bytes() + (vision_ ? vision_->weight_bytes() : 0); }
  size_t workspace_bytes() const { return encoder_->workspace_bytes() + head_->workspace_bytes(); }
  // The caller holds the pool (acquire()), which also makes the workspace ours for the call.
  ModelOutput run(const TokenBatch& batch, ThreadPool& pool);
  // CLIP's vision tower; INVALID_INPUT for models without one.
  ModelOutput run_images(const ImageBatch& batch, ThreadPool& pool);

 private:
  std::unique_ptr<Encoder> encoder_;
  std::unique_ptr<ModelHead> head_;
  std::unique_ptr<ClipVisionModel> vision_;  // "clip" only
};

}  // namespace sie
