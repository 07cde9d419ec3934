#include "rope_weights.h"

#include "../../core/engine_error.h"

namespace sie {
namespace {

// Checkpoints saved from a *For* class carry a prefix ("model." for ModernBertFor* and
// Qwen3ForCausalLM, "new." for NewFor*); the bare model's names have none.
std::string prefix_of(const WeightStore& file, const std::string& probe) {
  for (const char* prefix : {"", "model.", "new."})
    if (file.has(prefix + probe)) return prefix;
  throw EngineError(ErrorCode::BadWeights, file.path() + ": missing tensor '" + probe + "'");
}

NormWeights read_norm(const WeightStore& file, const std::string& name, int size, NormKind kind) {
  NormWeights norm;
  norm.kind = kind;
  norm.gamma = read_tensor(file, name + ".weight", {size});
  norm.beta = kind == NormKind::LayerNorm && file.has(name + ".bias") ? read_tensor(file, name + ".bias", {size}) : std::vector<float>(size_t(size), 0.0f);
  return norm;
}

std::vector<float> read_matrix(const WeightStore& file, const std::string& name, int rows, int cols) {
  return read_tensor(file, name, {rows, cols});
}

std::vector<float> read_bias(const WeightStore& file, const std::string& name, int size) {
  return file.has(name) ? read_tensor(file, name, {size}) : std::vector<float>();
}

PackedLinear pack(const std::vector<float>& w, std::vector<float> bias, int out, int in, WeightFormat format) {
  return make_packed_linear(w.data(), std::move(bias), out, in, format);
}

}  // namespace

RopeArchitecture rope_architecture(const std::string& name) {
  if (name == "modernbert") return RopeArchitecture::ModernBert;
  if (name == "gte-new") return RopeArchitecture::GteNew;
  if (name == "qwen3") return RopeArchitecture::Qwen3;
  throw EngineError(ErrorCode::BadConfig, "no rotary encoder '" + name + "' (known: modernbert, gte-new, qwen3)");
}

RopeWeights load_rope_weights(const WeightStore& file, RopeArchitecture arch, const EncoderConfig& c, WeightFormat format) {
  validate_encoder_config(c);
  const int h = c.hidden_size, d = c.head_dim(), heads = c.num_heads, kv = c.kv_heads(), inter = c.intermediate_size;
  const int q_rows = heads * d, kv_rows = kv * d, qkv_rows = q_rows + 2 * kv_rows;
  RopeWeights w;
  w.architecture = arch;
  w.norm_eps = c.layer_norm_eps;
  if (arch == RopeArchitecture::ModernBert) {
    const std::string p = prefix_of(file, "embeddings.tok_embeddings.weight");
    w.word_embeddings = read_matrix(file, p + "embeddings.tok_embeddings.weight", c.vocab_size, h);
    w.embedding_norm = read_norm(file, p + "embeddings.norm", h, NormKind::LayerNorm);
    for (int l = 0; l < c.num_layers; ++l) {
      const std::string lp = p + "layers." + std::to_string(l) + ".";
      RopeLayerWeights layer;
      if (file.has(lp + "attn_norm.weight")) layer.attention_norm = read_norm(file, lp + "attn_norm", h, NormKind::LayerNorm);
      layer.qkv = pack(read_matrix(file, lp + "attn.Wqkv.weight", qkv_rows, h), read_bias(file, lp + "attn.Wqkv.bias", qkv_rows), qkv_rows, h, format);
      layer.output = pack(read_matrix(file, lp + "attn.Wo.weight", h, q_rows), read_bias(file, lp + "attn.Wo.bias", h), h, q_rows, format);
      layer.mlp_norm = read_norm(file, lp + "mlp_norm", h, NormKind::LayerNorm);
      layer.gate_up = pack(read_matrix(file, lp + "mlp.Wi.weight", 2 * inter, h), read_bias(file, lp + "mlp.Wi.bias", 2 * inter), 2 * inter, h, format);
      layer.activate_first_half = true;  // input, gate = Wi(x).chunk(2): act(input) * gate
      layer.down = pack(read_matrix(file, lp + "mlp.Wo.weight", h, inter), read_bias(file, lp + "mlp.Wo.bias", h), h, inter, format);
      w.layers.push_back(std::move(layer));
    }
    w.final_norm = read_norm(file, p + "final_norm", h, NormKind::LayerNorm);
  } else if (arch == RopeArchitecture::GteNew) {
    w.pre_norm = false;
    const std::string p = prefix_of(file, "embeddings.word_embeddings.weight");
    w.word_embeddings = read_matrix(file, p + "embeddings.word_embeddings.weight", c.vocab_size, h);
    if (file.has(p + "embeddings.token_type_embeddings.weight"))
      w.token_type_embeddings = read_matrix(file, p + "embeddings.token_type_embeddings.weight", c.type_vocab_size, h);
    w.embedding_norm = read_norm(file, p + "embeddings.LayerNorm", h, NormKind::LayerNorm);
    for (int l = 0; l < c.num_layers; ++l) {
      const std::string lp = p + "encoder.layer." + std::to_string(l) + ".";
      RopeLayerWeights layer;
      layer.qkv = pack(read_matrix(file, lp + "attention.qkv_proj.weight", qkv_rows, h), read_bias(file, lp + "attention.qkv_proj.bias", qkv_rows), qkv_rows, h, format);
      layer.output = pack(read_matrix(file, lp + "attention.o_proj.weight", h, q_rows), read_bias(file, lp + "attention.o_proj.bias", h), h, q_rows, format);
      layer.attention_norm = read_norm(file, lp + "attn_ln", h, NormKind::LayerNorm);
      layer.gate_up = pack(read_matrix(file, lp + "mlp.up_gate_proj.weight", 2 * inter, h), read_bias(file, lp + "mlp.up_gate_proj.bias", 2 * inter), 2 * inter, h, format);
      layer.activate_first_half = false;  // up, gate = split(up_gate_proj(x)): act(gate) * up
      layer.down = pack(read_matrix(file, lp + "mlp.down_proj.weight", h, inter), read_bias(file, lp + "mlp.down_proj.bias", h), h, inter, format);
      layer.mlp_norm = read_norm(file, lp + "mlp_ln", h, NormKind::LayerNorm);
      w.layers.push_back(std::move(layer));
    }
  } else {
    const std::string p = prefix_of(file, "embed_tokens.weight");
    w.word_embeddings = read_matrix(file, p + "embed_tokens.weight", c.vocab_size, h);
    for (int l = 0; l < c.num_layers; ++l) {
      const std::string lp = p + "layers." + std::to_string(l) + ".";
      RopeLayerWeights layer;
      layer.attention_norm = read_norm(file, lp + "input_layernorm", h, NormKind::RmsNorm);
      std::vector<float> qkv(size_t(qkv_rows) * h), qkv_bias;
      const struct { const char* name; int rows; int at; } parts[] = {{"q_proj", q_rows, 0}, {"k_proj", kv_rows, q_rows}, {"v_proj", kv_rows, q_rows + kv_rows}};
      bool any_bias = false;
      for (const auto& part : parts) any_bias |= file.has(lp + "self_attn." + part.name + ".bias");
      if (any_bias) qkv_bias.assign(size_t(qkv_rows), 0.0f);
      for (const auto& part : parts) {
        const std::vector<float> m = read_matrix(file, lp + "self_attn." + part.name + ".weight", part.rows, h);
        std::copy(m.begin(), m.end(), qkv.begin() + int64_t(part.at) * h);
        const std::vector<float> b = read_bias(file, lp + "self_attn." + part.name + ".bias", part.rows);
        if (!b.empty()) std::copy(b.begin(), b.end(), qkv_bias.begin() + part.at);
      }
      layer.qkv = pack(qkv, std::move(qkv_bias), qkv_rows, h, format);
      layer.q_norm = read_tensor(file, lp + "self_attn.q_norm.weight", {d});
      layer.k_norm = read_tensor(file, lp + "self_attn.k_norm.weight", {d});
      layer.output = pack(read_matrix(file, lp + "self_attn.o_proj.weight", h, q_rows), read_bias(file, lp + "self_attn.o_proj.bias", h), h, q_rows, format);
      layer.mlp_norm = read_norm(file, lp + "post_attention_layernorm", h, NormKind::RmsNorm);
      std::vector<float> gate_up = read_matrix(file, lp + "mlp.gate_proj.weight", inter, h);
      const std::vector<float> up = read_matrix(file, lp + "mlp.up_proj.weight", inter, h);
      gate_up.insert(gate_up.end(), up.begin(), up.end());
      layer.gate_up = pack(gate_up, {}, 2 * inter, h, format);
      layer.activate_first_half = true;  // act(gate_proj(x)) * up_proj(x)
      layer.down = pack(read_matrix(file, lp + "mlp.down_proj.weight", h, inter), {}, h, inter, format);
      w.layers.push_back(std::move(layer));
    }
    w.final_norm = read_norm(file, p + "norm", h, NormKind::RmsNorm);
  }
  return w;
}

size_t RopeWeights::bytes() const {
  size_t floats = word_embeddings.size() + token_type_embeddings.size() + 2 * (embedding_norm.gamma.size() + final_norm.gamma.size());
  size_t total = floats * sizeof(float);
  for (const auto& l : layers) {
    for (const PackedLinear* lin : {&l.qkv, &l.output, &l.gate_up, &l.down}) total += lin->bytes();
    total += (2 * (l.attention_norm.gamma.size() + l.mlp_norm.gamma.size()) + l.q_norm.size() + l.k_norm.size()) * sizeof(float);
  }
  return total;
}

}  // namespace sie
