// One transformer encoder forward behind one interface: the BERT family (bert/) and the rotary
// encoders (rope/: ModernBERT, GTE NewModel, Qwen3). Each keeps its own reusable workspace; the
// caller holds the thread pool for the whole call, which also makes the workspace its own.
#pragma once
#include <memory>

#include "../backend/model_description.h"
#include "../backend/token_batch.h"
#include "../weights/weight_store.h"
#include "gemm/packed_linear.h"
#include "hidden_rows.h"
#include "thread_pool.h"

namespace sie {

class Encoder {
 public:
  virtual ~Encoder() = default;
  // The last hidden state, [num_tokens, hidden_size], valid until the next call: every row, or
  // with HiddenRows::FirstOfEachSequence only rows offsets[s] (the others hold stale values) where
  // the encoder can save the work. Throws EngineError(INVALID_INPUT) for ids, types or lengths
  // the model cannot take.
  virtual const float* forward(const TokenBatch& batch, ThreadPool& pool, HiddenRows rows) = 0;
  virtual size_t weight_bytes() const = 0;
  virtual size_t workspace_bytes() const = 0;
};

// The encoder of description.architecture: "bert" and "xlm-roberta" (BERT blocks), "modernbert",
// "gte-new", "qwen3" (rotary). BAD_CONFIG for any other.
std::unique_ptr<Encoder> make_encoder(const ModelDescription& description, const WeightStore& weights, WeightFormat format);

}  // namespace sie
