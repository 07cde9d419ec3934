#include "pooled_embedding_head.h"

namespace sie {

ModelOutput PooledEmbeddingHead::run(const float* hidden, const TokenBatch& batch, ThreadPool&) {
  ModelOutput out;
  out.width = hidden_size_;
  out.values.resize(size_t(batch.num_sequences) * hidden_size_);
  pool_sequences(hidden, batch.offsets, batch.num_sequences, hidden_size_, pooling_, out.values.data());
  if (normalize_) l2_normalize_rows(out.values.data(), batch.num_sequences, hidden_size_);
  return out;
}

}  // namespace sie
