// The weights of the rotary encoders in one compute layout, whatever the checkpoint's names:
// ModernBERT (pre-norm, LayerNorm without bias, fused Wqkv, GeGLU on the first half of Wi),
// Alibaba's NewModel / GTE (post-norm LayerNorm, fused qkv_proj with bias, token types, GeGLU on the
// second half of up_gate_proj) and Qwen3 (pre-norm RMSNorm, separate q/k/v fused here, per-head
// q_norm/k_norm, SwiGLU with gate_proj stacked first). Every shape is checked against the config.
#pragma once
#include <string>
#include <vector>

#include "../bert/bert_weights.h"

namespace sie {

enum class RopeArchitecture { ModernBert, GteNew, Qwen3 };
enum class NormKind { LayerNorm, RmsNorm };

struct NormWeights {
  NormKind kind = NormKind::LayerNorm;
  std::vector<float> gamma, beta;  // beta zeros where the checkpoint has no bias
  bool present() const { return !gamma.empty(); }
};

struct RopeLayerWeights {
  NormWeights attention_norm;   // pre-norm: before attention (absent in ModernBERT's layer 0); post-norm: after
  PackedLinear qkv;             // [(heads + 2 kv_heads) * head_dim, hidden]
  std::vector<float> q_norm, k_norm;  // Qwen3: RMSNorm over head_dim, before RoPE
  PackedLinear output;          // [hidden, heads * head_dim]
  NormWeights mlp_norm;
  PackedLinear gate_up;         // [2 * intermediate, hidden]
  bool activate_first_half = true;  // which half goes through the activation
  PackedLinear down;            // [hidden, intermediate]
};

struct RopeWeights {
  RopeArchitecture architecture;
  bool pre_norm = true;
  std::vector<float> word_embeddings, token_type_embeddings;
  NormWeights embedding_norm;   // absent for Qwen3
  std::vector<RopeLayerWeights> layers;
  NormWeights final_norm;       // absent for NewModel (post-norm)
  float norm_eps = 1e-5f;
  size_t bytes() const;
};

RopeArchitecture rope_architecture(const std::string& name);  // BAD_CONFIG for an unknown one
RopeWeights load_rope_weights(const WeightStore& file, RopeArchitecture architecture, const EncoderConfig& config,
                              WeightFormat format);

}  // namespace sie
