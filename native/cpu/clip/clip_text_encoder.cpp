#include "clip_text_encoder.h"

#include "../../core/engine_error.h"
#include "../batch_validation.h"
#include "../kernels/elementwise.h"
#include "clip_text_pooling.h"

namespace sie {

ClipTowerShape clip_text_shape(const EncoderConfig& c) {
  if (c.hidden_act != "quick_gelu" && c.hidden_act != "gelu")
    throw EngineError(ErrorCode::BadConfig, "CLIP text hidden_act must be quick_gelu or gelu, got '" + c.hidden_act + "'");
  return {c.hidden_size, c.num_layers, c.num_heads, c.intermediate_size, c.layer_norm_eps, c.hidden_act == "quick_gelu"};
}

ClipTextEncoder::ClipTextEncoder(const WeightStore& file, const EncoderConfig& c, int pool_token_id, WeightFormat format)
    : config_(c), pool_token_id_(pool_token_id), tower_(file, "text_model.encoder.layers.", clip_text_shape(c), format) {
  token_embedding_ = read_tensor(file, "text_model.embeddings.token_embedding.weight", {c.vocab_size, c.hidden_size});
  position_embedding_ = read_tensor(file, "text_model.embeddings.position_embedding.weight", {c.max_positions, c.hidden_size});
  final_norm_ = {read_tensor(file, "text_model.final_layer_norm.weight", {c.hidden_size}),
                 read_tensor(file, "text_model.final_layer_norm.bias", {c.hidden_size})};
}

size_t ClipTextEncoder::weight_bytes() const {
  return (token_embedding_.size() + position_embedding_.size() + 2 * final_norm_.gamma.size()) * sizeof(float) + tower_.weight_bytes();
}

const float* ClipTextEncoder::forward(const TokenBatch& b, ThreadPool& pool, HiddenRows) {
  validate_token_batch(b, config_.max_positions, config_.vocab_size, 0);
  const int h = config_.hidden_size;
  hidden_.resize(size_t(b.num_tokens) * h);
  for (int s = 0; s < b.num_sequences; ++s)
    for (int t = b.offsets[s]; t < b.offsets[s + 1]; ++t) {
      const float* token = &token_embedding_[size_t(b.input_ids[t]) * h];
      const float* position = &position_embedding_[size_t(t - b.offsets[s]) * h];
      for (int i = 0; i < h; ++i) hidden_[size_t(t) * h + i] = token[i] + position[i];
    }
  pooled_rows_.resize(size_t(b.num_sequences));
  for (int s = 0; s < b.num_sequences; ++s) pooled_rows_[size_t(s)] = clip_text_pool_row(b, s, pool_token_id_);
  tower_.forward(hidden_.data(), b.offsets, b.num_sequences, /*causal=*/true, pool, pooled_rows_.data());
  for (const int32_t row : pooled_rows_)
    add_layer_norm(hidden_.data() + int64_t(row) * h, nullptr, 1, h, h, final_norm_.gamma.data(), final_norm_.beta.data(), config_.layer_norm_eps);
  return hidden_.data();
}

}  // namespace sie
