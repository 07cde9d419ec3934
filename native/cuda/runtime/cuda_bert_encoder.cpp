#include "cuda_bert_encoder.h"

#include <cmath>
#include <cstdlib>
#include <string>

#include "../../cpu/bert/bert_weights.h"
#include "device_upload.h"
#include "gemm_selector.h"
#include "phase_profile.h"

namespace sie {
namespace {

// The pipelined attention kernel is opt-in until a GPU check has run it (written without a GPU,
// 2026-11-28): SIE_CUDA_ATTENTION_PIPELINED=on. Read once per process.
bool pipelined_attention_requested() {
  static const bool on = [] {
    const char* value = std::getenv("SIE_CUDA_ATTENTION_PIPELINED");
    return value && std::string(value) == "on";
  }();
  return on;
}

}  // namespace

CudaBertEncoder::CudaBertEncoder(const WeightStore& file, const EncoderConfig& c, sie_cuda::DType dtype)
    : config_(c), dtype_(dtype) {
  validate_encoder_config(c);
  const std::string p = bert_prefix(file);
  const int h = c.hidden_size, inter = c.intermediate_size;
  auto add = [this](DeviceBuffer buffer) {
    weight_bytes_ += buffer.bytes();
    return buffer;
  };
  word_ = add(upload_as(dtype, read_tensor(file, p + "embeddings.word_embeddings.weight", {c.vocab_size, h})));
  position_ = add(upload_as(dtype, read_tensor(file, p + "embeddings.position_embeddings.weight", {c.max_positions, h})));
  type_ = add(upload_as(dtype, read_tensor(file, p + "embeddings.token_type_embeddings.weight", {c.type_vocab_size, h})));
  embedding_gamma_ = add(upload_f32(read_tensor(file, p + "embeddings.LayerNorm.weight", {h})));
  embedding_beta_ = add(upload_f32(read_tensor(file, p + "embeddings.LayerNorm.bias", {h})));
  const float q_scale = 1.0f / std::sqrt(float(c.head_dim()));
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string lp = p + "encoder.layer." + std::to_string(l) + ".";
    Layer layer;
    const FusedQkv qkv = read_fused_qkv(file, lp, h, q_scale);
    layer.qkv_weight = add(upload_as(dtype, qkv.weight));
    layer.qkv_bias = add(upload_f32(qkv.bias));
    layer.output_weight = add(upload_as(dtype, read_tensor(file, lp + "attention.output.dense.weight", {h, h})));
    layer.output_bias = add(upload_f32(read_tensor(file, lp + "attention.output.dense.bias", {h})));
    layer.attention_gamma = add(upload_f32(read_tensor(file, lp + "attention.output.LayerNorm.weight", {h})));
    layer.attention_beta = add(upload_f32(read_tensor(file, lp + "attention.output.LayerNorm.bias", {h})));
    layer.up_weight = add(upload_as(dtype, read_tensor(file, lp + "intermediate.dense.weight", {inter, h})));
    layer.up_bias = add(upload_f32(read_tensor(file, lp + "intermediate.dense.bias", {inter})));
    layer.down_weight = add(upload_as(dtype, read_tensor(file, lp + "output.dense.weight", {h, inter})));
    layer.down_bias = add(upload_f32(read_tensor(file, lp + "output.dense.bias", {h})));
    layer.output_gamma = add(upload_f32(read_tensor(file, lp + "output.LayerNorm.weight", {h})));
    layer.output_beta = add(upload_f32(read_tensor(file, lp + "output.LayerNorm.bias", {h})));
    layers_.push_back(std::move(layer));
  }
}

void CudaBertEncoder::forward(const DeviceBatch& b, const WorkspacePlan& plan, char* arena, cudaStream_t stream) const {
  using namespace sie_cuda;
  const int h = config_.hidden_size, inter = config_.intermediate_size, t = b.tokens;
  const float eps = config_.layer_norm_eps;
  void* hidden = arena + plan.hidden;
  void* scratch = arena + plan.scratch;
  void* qkv = arena + plan.qkv;
  void* context = arena + plan.context;
  void* intermediate = arena + plan.intermediate;
  auto f32 = [](const DeviceBuffer& buffer) { return static_cast<const float*>(buffer.data()); };

  PhaseRecorder phases(stream);
  check_cuda(embed_layer_norm(dtype_, b.ids, b.positions, b.types, word_.data(), position_.data(), type_.data(),
                              f32(embedding_gamma_), f32(embedding_beta_), eps, hidden, t, h, stream),
             "embeddings");
  phases.mark("embeddings");
  auto linear = [&](const char* phase, const void* x, int k, const DeviceBuffer& w, const DeviceBuffer& bias,
                    Activation act, const void* residual, void* y, int n) {
    GemmArgs g;
    g.x = x, g.ldx = k, g.w = w.data(), g.ldw = k, g.bias = f32(bias), g.activation = act;
    g.residual = residual, g.ldr = n, g.y = y, g.ldy = n, g.m = t, g.n = n, g.k = k;
    GemmSelector::instance().run(dtype_, g, stream);
    phases.mark(phase);
  };
  AttentionArgs a;
  a.qkv = qkv, a.ld = 3 * h, a.q_col = 0, a.k_col = h, a.v_col = 2 * h;
  a.context = context, a.ld_context = h;
  a.offsets = b.offsets, a.num_sequences = b.sequences, a.num_tokens = t;
  a.heads = config_.num_heads, a.kv_heads = config_.num_heads, a.head_dim = config_.head_dim();
  a.block_sequence = b.block_sequence, a.block_query = b.block_query, a.num_blocks = b.blocks, a.max_length = b.max_length;
  a.pipelined = pipelined_attention_requested();
  for (const Layer& layer : layers_) {
    linear("gemm qkv", hidden, h, layer.qkv_weight, layer.qkv_bias, Activation::None, nullptr, qkv, 3 * h);
    check_cuda(attention(dtype_, a, stream), "attention");
    phases.mark("attention");
    linear("gemm attention output", context, h, layer.output_weight, layer.output_bias, Activation::None, hidden, scratch, h);
    check_cuda(add_layer_norm(dtype_, scratch, nullptr, f32(layer.attention_gamma), f32(layer.attention_beta), eps, hidden,
                              t, h, stream),
               "LayerNorm");
    phases.mark("layer norm");
    linear("gemm ffn up + gelu", hidden, h, layer.up_weight, layer.up_bias, Activation::GeluErf, nullptr, intermediate, inter);
    linear("gemm ffn down", intermediate, inter, layer.down_weight, layer.down_bias, Activation::None, hidden, scratch, h);
    check_cuda(add_layer_norm(dtype_, scratch, nullptr, f32(layer.output_gamma), f32(layer.output_beta), eps, hidden, t, h,
                              stream),
               "LayerNorm");
    phases.mark("layer norm");
  }
}

}  // namespace sie
