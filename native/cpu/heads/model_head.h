// What a model does with the encoder's last hidden states. One interface, one class per head:
// pooled sentence embeddings, ColBERT token vectors, SPLADE term weights, sequence and token
// classifiers. Each head reads its own tensors and checks their shapes at load; heads are made
// by name through head_registry.h.
#pragma once
#include <cstdint>

#include "../../backend/model_output.h"
#include "../../backend/token_batch.h"
#include "../bert/bert_weights.h"
#include "../hidden_rows.h"
#include "../thread_pool.h"

namespace sie {

class ModelHead {
 public:
  virtual ~ModelHead() = default;
  // hidden: [batch.num_tokens, hidden_size] from the encoder.
  virtual ModelOutput run(const float* hidden, const TokenBatch& batch, ThreadPool& pool) = 0;
  virtual size_t weight_bytes() const = 0;
  virtual size_t workspace_bytes() const { return 0; }
  // The rows of `hidden` run() reads for this batch; the encoder may skip computing the others.
  virtual HiddenRows rows_read(const TokenBatch&) const { return HiddenRows::All; }
};

// Every row of x [rows, in_features] through a packed Linear: the per-token heads' projection.
ModelOutput project_rows(const PackedLinear& linear, const float* x, int rows, int in_features, int out_features, ThreadPool& pool);

}  // namespace sie
