// The BERT encoder forward on a padding-free batch: embeddings -> LayerNorm -> layers of
// self-attention and GELU FFN with residual LayerNorms. Attention runs per (sequence, head), so
// no work is spent on padding. Produces the last hidden state of every token, [num_tokens, H].
#pragma once
#include <vector>

#include "../../core/aligned_buffer.h"
#include "../hidden_rows.h"
#include "../thread_pool.h"
#include "../../backend/encoder_config.h"
#include "bert_weights.h"
#include "../../backend/token_batch.h"

namespace sie {

// Scratch memory of one forward, grown on demand and reused across calls.
struct EncoderWorkspace {
  AlignedBuffer hidden, qkv, context, projected, intermediate;
  // bf16 models: the inputs of the next GEMM kept in bf16 as they are produced, so activations
  // are not written in fp32 only to be read back and rounded (k-padded rows, 32-row blocks).
  AlignedBuffer hidden16, qkv16, context16, intermediate16;
  std::vector<AlignedBuffer> scores, packed_keys, packed_values;  // one per pool thread
  size_t bytes() const;
};

class BertEncoder {
 public:
  BertEncoder(const WeightStore& file, const EncoderConfig& config, WeightFormat format);
  const EncoderConfig& config() const { return config_; }
  size_t weight_bytes() const { return weights_.bytes(); }

  // Checks ids, type ids, offsets and lengths; throws EngineError(INVALID_INPUT).
  void validate(const TokenBatch& batch) const;
  // Returns workspace.hidden holding [num_tokens, hidden_size]: every row, or with one row per
  // sequence asked for (HiddenRows) only those, the last layer's attention then computed for those
  // queries and its projections, FFN and norms for those rows.
  const float* forward(const TokenBatch& batch, EncoderWorkspace& workspace, ThreadPool& pool, HiddenRows rows = HiddenRows::All) const;

 private:
  void embed(const TokenBatch& batch, float* out, ThreadPool& pool) const;
  // Writes the context to ws.context, or in bf16 to context16 (row stride hidden_size) when given;
  // reads Q, K and V from ws.qkv, or from qkv16 (bf16, row stride 3 x hidden_size) when given.
  // With query_rows (one token row per sequence), the context of those rows alone (keys: all rows).
  void attention(const TokenBatch& batch, EncoderWorkspace& ws, ThreadPool& pool, uint16_t* context16 = nullptr,
                 const uint16_t* qkv16 = nullptr, const std::vector<int32_t>* query_rows = nullptr) const;
  const float* forward_bf16(const TokenBatch& batch, EncoderWorkspace& ws, ThreadPool& pool, HiddenRows rows) const;
  // The last layer for one row per sequence (picked, from rows_read_per_sequence): Q, K and V for
  // every row (the keys need them), attention for the picked queries, then the output projection,
  // FFN and norms on those rows gathered together, written back to their rows.
  void last_layer_picked_rows(const BertLayerWeights& layer, const TokenBatch& batch, const std::vector<int32_t>& picked,
                              EncoderWorkspace& ws, ThreadPool& pool) const;
  void last_layer_picked_rows_bf16(const BertLayerWeights& layer, const TokenBatch& batch, const std::vector<int32_t>& picked,
                                   EncoderWorkspace& ws, ThreadPool& pool, bool context_direct) const;

  EncoderConfig config_;
  BertWeights weights_;
};

}  // namespace sie
