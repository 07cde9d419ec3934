// Shape and numerics of one transformer encoder, read by lib/families from config.json and
// checked against the weight file's shapes at load.
#pragma once

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
  int head_dim() const { return hidden_size / num_heads; }
};

void validate_encoder_config(const EncoderConfig& config);

}  // namespace sie
