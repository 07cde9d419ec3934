#include "bert_weights.h"

#include <cmath>

#include "../../core/engine_error.h"

namespace sie {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

LayerNormWeights read_layer_norm(const WeightStore& file, const std::string& name, int size) {
  return {read_tensor(file, name + ".weight", {size}), read_tensor(file, name + ".bias", {size})};
}

}  // namespace

void validate_encoder_config(const EncoderConfig& c) {
  auto check = [](bool ok, const std::string& what) {
    if (!ok) throw EngineError(ErrorCode::BadConfig, "invalid model config: " + what);
  };
  check(c.hidden_size > 0 && c.hidden_size <= 8192, "hidden_size out of range");
  check(c.num_layers > 0 && c.num_layers <= 128, "num_hidden_layers out of range");
  check(c.num_heads > 0 && (c.head_dim_override > 0 || c.hidden_size % c.num_heads == 0), "hidden_size must be divisible by num_attention_heads");
  check(c.head_dim() > 0 && c.head_dim() <= 512, "head_dim out of range");
  check(c.kv_heads() > 0 && c.num_heads % c.kv_heads() == 0, "num_attention_heads must be a multiple of num_key_value_heads");
  check(c.intermediate_size > 0 && c.intermediate_size <= 65536, "intermediate_size out of range");
  check(c.vocab_size > 0, "vocab_size must be positive");
  check(c.max_positions > 0 && c.max_positions <= 65536, "max_position_embeddings out of range");
  check(c.type_vocab_size > 0, "type_vocab_size must be positive");
  check(c.layer_norm_eps > 0 && c.layer_norm_eps < 1, "layer_norm_eps out of range");
  check(c.position_padding_idx < c.max_positions - 1, "pad_token_id leaves no positions");
}

std::vector<float> read_tensor(const WeightStore& file, const std::string& name, std::vector<int64_t> shape) {
  const TensorView& tensor = file.get(name);
  if (tensor.shape != shape)
    throw EngineError(ErrorCode::BadWeights, file.path() + ": tensor '" + name + "' has shape " +
                                                 shape_text(tensor.shape) + ", expected " + shape_text(shape));
  return tensor_to_f32(tensor);
}

std::string bert_prefix(const WeightStore& file) {
  for (const char* prefix : {"bert.", "roberta."})
    if (file.has(std::string(prefix) + "embeddings.word_embeddings.weight")) return prefix;
  return "";
}

PackedLinear read_linear(const WeightStore& file, const std::string& name, int out_features, int in_features,
                         WeightFormat format) {
  const std::string prefix = name.empty() ? "" : name + ".";  // "" for a bare nn.Linear state dict
  const std::vector<float> w = read_tensor(file, prefix + "weight", {out_features, in_features});
  std::vector<float> bias = file.has(prefix + "bias") ? read_tensor(file, prefix + "bias", {out_features}) : std::vector<float>();
  return make_packed_linear(w.data(), std::move(bias), out_features, in_features, format);
}

FusedQkv read_fused_qkv(const WeightStore& file, const std::string& lp, int h, float q_scale) {
  FusedQkv qkv{std::vector<float>(size_t(3) * h * h), std::vector<float>(size_t(3) * h)};
  const char* parts[3] = {"query", "key", "value"};
  for (int i = 0; i < 3; ++i) {
    const std::string name = lp + "attention.self." + parts[i];
    const std::vector<float> w = read_tensor(file, name + ".weight", {h, h});
    const std::vector<float> b = read_tensor(file, name + ".bias", {h});
    const float scale = i == 0 ? q_scale : 1.0f;
    for (size_t j = 0; j < w.size(); ++j) qkv.weight[size_t(i) * h * h + j] = w[j] * scale;
    for (int j = 0; j < h; ++j) qkv.bias[size_t(i) * h + j] = b[j] * scale;
  }
  return qkv;
}

BertWeights load_bert_weights(const WeightStore& file, const EncoderConfig& c, WeightFormat format) {
  validate_encoder_config(c);
  const std::string p = bert_prefix(file);
  const int h = c.hidden_size;
  BertWeights w;
  w.word_embeddings = read_tensor(file, p + "embeddings.word_embeddings.weight", {c.vocab_size, h});
  w.position_embeddings = read_tensor(file, p + "embeddings.position_embeddings.weight", {c.max_positions, h});
  w.token_type_embeddings = read_tensor(file, p + "embeddings.token_type_embeddings.weight", {c.type_vocab_size, h});
  w.embedding_norm = read_layer_norm(file, p + "embeddings.LayerNorm", h);
  const float q_scale = 1.0f / std::sqrt(float(c.head_dim()));
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string lp = p + "encoder.layer." + std::to_string(l) + ".";
    BertLayerWeights layer;
    FusedQkv qkv = read_fused_qkv(file, lp, h, q_scale);
    layer.qkv = make_packed_linear(qkv.weight.data(), std::move(qkv.bias), 3 * h, h, format);
    layer.attention_output = read_linear(file, lp + "attention.output.dense", h, h, format);
    layer.attention_norm = read_layer_norm(file, lp + "attention.output.LayerNorm", h);
    layer.intermediate = read_linear(file, lp + "intermediate.dense", c.intermediate_size, h, format);
    layer.output = read_linear(file, lp + "output.dense", h, c.intermediate_size, format);
    layer.output_norm = read_layer_norm(file, lp + "output.LayerNorm", h);
    w.layers.push_back(std::move(layer));
  }
  return w;
}

size_t BertWeights::bytes() const {
  size_t floats = word_embeddings.size() + position_embeddings.size() + token_type_embeddings.size() +
                  2 * embedding_norm.gamma.size();
  size_t total = floats * sizeof(float);
  for (const auto& l : layers) {
    for (const PackedLinear* lin : {&l.qkv, &l.attention_output, &l.intermediate, &l.output}) total += lin->bytes();
    total += 4 * l.attention_norm.gamma.size() * sizeof(float);
  }
  return total;
}

}  // namespace sie
