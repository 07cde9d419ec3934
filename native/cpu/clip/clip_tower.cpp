#include "clip_tower.h"

#include <cmath>

#include "../../core/engine_error.h"
#include "../kernels/elementwise.h"

namespace sie {

ClipTower::ClipTower(const WeightStore& file, const std::string& prefix, const ClipTowerShape& s, WeightFormat format) : shape_(s) {
  if (s.hidden < 1 || s.heads < 1 || s.hidden % s.heads != 0 || s.layers < 1 || s.intermediate < 1)
    throw EngineError(ErrorCode::BadConfig, "CLIP tower: hidden_size must be a positive multiple of num_attention_heads");
  const int h = s.hidden;
  const float scale = 1.0f / std::sqrt(float(h / s.heads));
  for (int l = 0; l < s.layers; ++l) {
    const std::string lp = prefix + std::to_string(l) + ".";
    Layer layer;
    layer.norm1 = {read_tensor(file, lp + "layer_norm1.weight", {h}), read_tensor(file, lp + "layer_norm1.bias", {h})};
    layer.norm2 = {read_tensor(file, lp + "layer_norm2.weight", {h}), read_tensor(file, lp + "layer_norm2.bias", {h})};
    std::vector<float> w(size_t(3) * h * h), b(size_t(3) * h);
    const char* parts[3] = {"q_proj", "k_proj", "v_proj"};
    for (int i = 0; i < 3; ++i) {
      const std::vector<float> pw = read_tensor(file, lp + "self_attn." + parts[i] + ".weight", {h, h});
      const std::vector<float> pb = read_tensor(file, lp + "self_attn." + parts[i] + ".bias", {h});
      const float f = i == 0 ? scale : 1.0f;  // HF scales q after its bias: (W x + b) * scale
      for (size_t j = 0; j < pw.size(); ++j) w[size_t(i) * h * h + j] = pw[j] * f;
      for (int j = 0; j < h; ++j) b[size_t(i) * h + j] = pb[j] * f;
    }
    layer.qkv = make_packed_linear(w.data(), std::move(b), 3 * h, h, format);
    layer.out = read_linear(file, lp + "self_attn.out_proj", h, h, format);
    layer.fc1 = read_linear(file, lp + "mlp.fc1", s.intermediate, h, format);
    layer.fc2 = read_linear(file, lp + "mlp.fc2", h, s.intermediate, format);
    layers_.push_back(std::move(layer));
  }
}

size_t ClipTower::weight_bytes() const {
  size_t total = 0;
  for (const Layer& l : layers_) total += l.qkv.bytes() + l.out.bytes() + l.fc1.bytes() + l.fc2.bytes() + 4 * l.norm1.gamma.size() * 4;
  return total;
}

void ClipTower::forward(float* x, const int32_t* offsets, int sequences, bool causal, ThreadPool& pool) {
  const int h = shape_.hidden, heads = shape_.heads, d = h / heads, inter = shape_.intermediate;
  const int t = offsets[sequences];
  normed_.resize(size_t(t) * h);
  qkv_.resize(size_t(t) * 3 * h);
  context_.resize(size_t(t) * h);
  projected_.resize(size_t(t) * h);
  inner_.resize(size_t(t) * inter);
  for (Layer& layer : layers_) {
    std::copy(x, x + size_t(t) * h, normed_.begin());
    add_layer_norm(normed_.data(), nullptr, t, h, h, layer.norm1.gamma.data(), layer.norm1.beta.data(), shape_.eps);
    linear_forward(layer.qkv, t, normed_.data(), h, qkv_.data(), 3 * h, &pool);
    // One task per (sequence, head): softmax over the keys the mask allows, fp32 throughout.
    pool.parallel_for(int64_t(sequences) * heads, [&](int64_t task, int) {
      const int s = int(task / heads), head = int(task % heads);
      const int begin = offsets[s], length = offsets[s + 1] - begin;
      std::vector<float> scores(static_cast<size_t>(length));
      for (int i = 0; i < length; ++i) {
        const float* q = &qkv_[size_t(begin + i) * 3 * h + head * d];
        const int visible = causal ? i + 1 : length;
        float best = -INFINITY;
        for (int j = 0; j < visible; ++j) {
          const float* k = &qkv_[size_t(begin + j) * 3 * h + h + head * d];
          float dot = 0.0f;
          for (int c = 0; c < d; ++c) dot += q[c] * k[c];
          scores[size_t(j)] = dot;
          best = std::max(best, dot);
        }
        float total = 0.0f;
        for (int j = 0; j < visible; ++j) total += (scores[size_t(j)] = std::exp(scores[size_t(j)] - best));
        float* out = &context_[size_t(begin + i) * h + head * d];
        std::fill(out, out + d, 0.0f);
        for (int j = 0; j < visible; ++j) {
          const float p = scores[size_t(j)] / total;
          const float* v = &qkv_[size_t(begin + j) * 3 * h + 2 * h + head * d];
          for (int c = 0; c < d; ++c) out[c] += p * v[c];
        }
      }
    });
    linear_forward(layer.out, t, context_.data(), h, projected_.data(), h, &pool);
    for (size_t i = 0; i < size_t(t) * h; ++i) x[i] += projected_[i];
    std::copy(x, x + size_t(t) * h, normed_.begin());
    add_layer_norm(normed_.data(), nullptr, t, h, h, layer.norm2.gamma.data(), layer.norm2.beta.data(), shape_.eps);
    linear_forward(layer.fc1, t, normed_.data(), h, inner_.data(), inter, &pool, shape_.quick_gelu ? Epilogue::None : Epilogue::Gelu);
    if (shape_.quick_gelu) sigmoid_gate(inner_.data(), int64_t(inner_.size()), 1.702f);
    linear_forward(layer.fc2, t, inner_.data(), inter, projected_.data(), h, &pool);
    for (size_t i = 0; i < size_t(t) * h; ++i) x[i] += projected_[i];
  }
}

}  // namespace sie
