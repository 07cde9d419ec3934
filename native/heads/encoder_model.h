// A loaded model: the BERT encoder and one head, with the forward workspace they reuse.
#pragma once
#include <memory>
#include <string>

#include "../bert/bert_encoder.h"
#include "../kernels/pooling.h"
#include "model_head.h"

namespace sie {

enum class HeadKind { PooledEmbedding, TokenProjection, Splade, SequenceClassifier, TokenClassifier };

struct EncoderModelOptions {
  std::string weights_path;
  BertConfig config;
  HeadKind head = HeadKind::PooledEmbedding;
  PoolingMode pooling = PoolingMode::Mean;  // PooledEmbedding
  bool normalize = true;                    // PooledEmbedding
  std::string projection_path;              // TokenProjection: 1_Dense/model.safetensors
  int output_size = 0;                      // TokenProjection width, or classifier label count
};

class EncoderModel {
 public:
  explicit EncoderModel(const EncoderModelOptions& options);
  size_t weight_bytes() const { return encoder_->weight_bytes() + head_->weight_bytes(); }
  size_t workspace_bytes() const { return workspace_.bytes() + head_->workspace_bytes(); }
  // The caller holds the pool (acquire()), which also makes the workspace ours for the call.
  HeadOutput run(const TokenBatch& batch, ThreadPool& pool);

 private:
  std::unique_ptr<BertEncoder> encoder_;
  std::unique_ptr<ModelHead> head_;
  EncoderWorkspace workspace_;
};

}  // namespace sie
