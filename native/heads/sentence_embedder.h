// A sentence-transformers dense embedder: BERT encoder, then pooling (mean / CLS / last token)
// and optional L2 normalisation, as modules.json and 1_Pooling/config.json describe.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "../bert/bert_encoder.h"
#include "../kernels/pooling.h"

namespace sie {

struct SentenceEmbedderOptions {
  std::string weights_path;
  BertConfig config;
  PoolingMode pooling = PoolingMode::Mean;
  bool normalize = true;
};

class SentenceEmbedder {
 public:
  explicit SentenceEmbedder(const SentenceEmbedderOptions& options);
  int dims() const { return encoder_->config().hidden_size; }
  size_t weight_bytes() const { return encoder_->weight_bytes(); }
  size_t workspace_bytes() const { return workspace_.bytes(); }
  // One embedding per sequence, [num_sequences, dims]. The caller holds the pool (acquire()),
  // which also makes the workspace exclusively ours for the call.
  std::vector<float> embed(const TokenBatch& batch, ThreadPool& pool);

 private:
  SentenceEmbedderOptions options_;
  std::unique_ptr<BertEncoder> encoder_;
  EncoderWorkspace workspace_;
};

}  // namespace sie
