// What a model does with the encoder's last hidden states. One interface, one class per family:
// pooled sentence embeddings, ColBERT token vectors, SPLADE term weights, sequence and token
// classifiers. Each head reads its own tensors and checks their shapes at load.
#pragma once
#include <cstdint>
#include <vector>

#include "../bert/token_batch.h"
#include "../core/thread_pool.h"

namespace sie {

// A head's result. Dense results are rows of `width` values, one per sequence or per token;
// sparse results (SPLADE) put row i's entries at [row_offsets[i], row_offsets[i+1]) of
// indices/values.
struct HeadOutput {
  std::vector<float> values;
  std::vector<int32_t> indices;
  std::vector<int32_t> row_offsets;
  int width = 0;
};

class ModelHead {
 public:
  virtual ~ModelHead() = default;
  // hidden: [batch.num_tokens, hidden_size] from the encoder.
  virtual HeadOutput run(const float* hidden, const TokenBatch& batch, ThreadPool& pool) = 0;
  virtual size_t weight_bytes() const = 0;
  virtual size_t workspace_bytes() const { return 0; }
};

}  // namespace sie
