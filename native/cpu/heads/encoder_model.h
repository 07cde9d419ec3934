// A loaded CPU model: one encoder (BERT-family or rotary, native/cpu/encoder.h) and one head.
#pragma once
#include <memory>

#include "../../backend/model_description.h"
#include "../encoder.h"
#include "model_head.h"

namespace sie {

class EncoderModel {
 public:
  explicit EncoderModel(const ModelDescription& description);
  size_t weight_bytes() const { return encoder_->weight_bytes() + head_->weight_bytes(); }
  size_t workspace_bytes() const { return encoder_->workspace_bytes() + head_->workspace_bytes(); }
  // The caller holds the pool (acquire()), which also makes the workspace ours for the call.
  ModelOutput run(const TokenBatch& batch, ThreadPool& pool);

 private:
  std::unique_ptr<Encoder> encoder_;
  std::unique_ptr<ModelHead> head_;
};

}  // namespace sie
