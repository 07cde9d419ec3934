// A loaded CPU model: the BERT encoder and one head, with the forward workspace they reuse.
#pragma once
#include <memory>

#include "../../backend/model_description.h"
#include "../bert/bert_encoder.h"
#include "model_head.h"

namespace sie {

class EncoderModel {
 public:
  explicit EncoderModel(const ModelDescription& description);
  size_t weight_bytes() const { return encoder_->weight_bytes() + head_->weight_bytes(); }
  size_t workspace_bytes() const { return workspace_.bytes() + head_->workspace_bytes(); }
  // The caller holds the pool (acquire()), which also makes the workspace ours for the call.
  ModelOutput run(const TokenBatch& batch, ThreadPool& pool);

 private:
  std::unique_ptr<BertEncoder> encoder_;
  std::unique_ptr<ModelHead> head_;
  EncoderWorkspace workspace_;
};

}  // namespace sie
