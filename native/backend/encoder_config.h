// Shape and numerics of one transformer encoder, read by lib/families from config.json and
// checked against the weight file's shapes at load.
#pragma once
#include <string>

namespace sie {

struct EncoderConfig {
  int hidden_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  int intermediate_size = 0;
  int vocab_size = 0;
  int max_positions = 0;
  int type_vocab_size = 0;
  float layer_norm_eps = 1e-12f;
  // RoBERTa/XLM-R position ids: the running count of non-pad tokens plus this id (HF's
  // create_position_ids_from_input_ids), so the first token sits at padding_idx + 1. -1: BERT's 0, 1, 2...
  int position_padding_idx = -1;
  // The longest sequence the position table allows.
  int max_sequence_length() const { return position_padding_idx >= 0 ? max_positions - position_padding_idx - 1 : max_positions; }

  // Rotary encoders (ModernBERT, GTE NewModel, Qwen3); BERT leaves these at their defaults.
  int num_kv_heads = 0;                 // grouped-query attention (Qwen3); 0 = num_heads
  int head_dim_override = 0;            // Qwen3 states head_dim; 0 = hidden_size / num_heads
  double rope_theta = 10000.0;
  double local_rope_theta = 0.0;        // ModernBERT's local layers; 0 = rope_theta
  double rope_ntk_factor = 0.0;         // NewModel's "ntk" rope_scaling, applied at every length; 0 = none
  int global_attn_every_n_layers = 0;   // ModernBERT: layer i is local unless i % n == 0; 0 = all global
  int local_attention = 0;              // ModernBERT window: a local layer sees |i - j| <= local_attention / 2
  bool causal = false;                  // decoder embedders (Qwen3)
  // A bf16 model computes attention in bf16 too unless this is set: the fidelity gate's second
  // try, for models whose outputs move too far with bf16 attention (bge-m3's sparse weights).
  bool fp32_attention = false;
  std::string hidden_act = "gelu";      // gelu | silu (the gated MLP's activation)

  int head_dim() const { return head_dim_override > 0 ? head_dim_override : hidden_size / num_heads; }
  int kv_heads() const { return num_kv_heads > 0 ? num_kv_heads : num_heads; }
};

void validate_encoder_config(const EncoderConfig& config);

}  // namespace sie
