#include "clip_tower.h"

#include <cmath>

#include "../../core/engine_error.h"
#include "../gemm/packed_gemm.h"
#include "../kernels/elementwise.h"
#include "../row_tasks.h"

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

// normed_ <- LayerNorm(x), rows in parallel.
void ClipTower::normalized_copy(ThreadPool& pool, const float* x, int rows, const LayerNormWeights& norm) {
  const int h = shape_.hidden;
  for_row_chunks(pool, rows, [&](int begin, int end) {
    std::copy(x + int64_t(begin) * h, x + int64_t(end) * h, normed_.begin() + int64_t(begin) * h);
    add_layer_norm(normed_.data() + int64_t(begin) * h, nullptr, end - begin, h, h, norm.gamma.data(), norm.beta.data(), shape_.eps);
  });
}

// x += projected_ (the residual), rows in parallel.
void ClipTower::add_rows(ThreadPool& pool, float* x, int rows) {
  const int h = shape_.hidden;
  for_row_chunks(pool, rows, [&](int begin, int end) {
    for (int64_t i = int64_t(begin) * h; i < int64_t(end) * h; ++i) x[i] += projected_[size_t(i)];
  });
}

void ClipTower::attention(const int32_t* offsets, int sequences, bool causal, const int32_t* query_rows, ThreadPool& pool) {
  const int h = shape_.hidden, heads = shape_.heads, d = h / heads;
  // One task per (sequence, head), on the packed GEMM: scores = q k^T, the causal mask (text),
  // softmax, then context = scores v. Sequences are short (77 text tokens, 50-577 patches), so
  // one block of query rows covers a whole sequence.
  int longest = 0;
  for (int s = 0; s < sequences; ++s) longest = std::max(longest, offsets[s + 1] - offsets[s]);
  scores_.resize(size_t(pool.size()));
  packed_keys_.resize(size_t(pool.size()));
  packed_values_.resize(size_t(pool.size()));
  for (int w = 0; w < pool.size(); ++w) {
    scores_[size_t(w)].resize(size_t(longest) * longest);
    packed_keys_[size_t(w)].resize(size_t(packed_size(longest, d)));
    packed_values_[size_t(w)].resize(size_t(packed_size(d, longest)));
  }
  const int64_t ld = 3 * int64_t(h);
  pool.parallel_for(int64_t(sequences) * heads, [&](int64_t task, int worker) {
    const int s = int(task / heads), head = int(task % heads);
    const int begin = offsets[s], length = offsets[s + 1] - begin;
    const float* k = qkv_.data() + int64_t(begin) * ld + h + head * d;
    // All of the sequence's queries, or only query_rows[s] (its position in the sequence: first).
    const int first = query_rows ? query_rows[s] - begin : 0, queries = query_rows ? 1 : length;
    const float* q = qkv_.data() + int64_t(begin + first) * ld + head * d;
    float* context = context_.data() + (query_rows ? int64_t(s) : int64_t(begin)) * h + head * d;
    float* scores = scores_[size_t(worker)].data();
    pack_nk(k, length, d, ld, packed_keys_[size_t(worker)].data());
    pack_kn(k + h, length, d, ld, packed_values_[size_t(worker)].data());
    gemm_packed(queries, length, d, q, ld, packed_keys_[size_t(worker)].data(), nullptr, scores, length, nullptr);
    if (causal)
      for (int i = 0; i < queries; ++i) std::fill(scores + int64_t(i) * length + first + i + 1, scores + int64_t(i + 1) * length, -INFINITY);
    softmax_rows(scores, queries, length, length);
    gemm_packed(queries, d, length, scores, length, packed_values_[size_t(worker)].data(), nullptr, context, h, nullptr);
  });
}

// x += fc2(act(fc1(layer_norm2(x)))) over `rows` rows.
void ClipTower::mlp(ThreadPool& pool, const Layer& layer, float* x, int rows) {
  const int h = shape_.hidden, inter = shape_.intermediate;
  normalized_copy(pool, x, rows, layer.norm2);
  linear_forward(layer.fc1, rows, normed_.data(), h, inner_.data(), inter, &pool, shape_.quick_gelu ? Epilogue::None : Epilogue::Gelu);
  if (shape_.quick_gelu)
    for_row_chunks(pool, rows, [&](int begin, int end) {
      sigmoid_gate(inner_.data() + int64_t(begin) * inter, int64_t(end - begin) * inter, 1.702f);
    });
  linear_forward(layer.fc2, rows, inner_.data(), inter, projected_.data(), h, &pool);
  add_rows(pool, x, rows);
}

void ClipTower::forward(float* x, const int32_t* offsets, int sequences, bool causal, ThreadPool& pool, const int32_t* pooled_rows) {
  const int h = shape_.hidden, inter = shape_.intermediate;
  const int t = offsets[sequences];
  normed_.resize(size_t(t) * h);
  qkv_.resize(size_t(t) * 3 * h);
  context_.resize(size_t(t) * h);
  projected_.resize(size_t(t) * h);
  inner_.resize(size_t(t) * inter);
  for (const Layer& layer : layers_) {
    normalized_copy(pool, x, t, layer.norm1);
    linear_forward(layer.qkv, t, normed_.data(), h, qkv_.data(), 3 * h, &pool);
    if (pooled_rows && &layer == &layers_.back()) {
      // The pooled rows alone, gathered into rows 0 .. sequences - 1 of a compact copy of x.
      attention(offsets, sequences, causal, pooled_rows, pool);
      pooled_.resize(size_t(sequences) * h);
      for (int s = 0; s < sequences; ++s) std::copy(x + int64_t(pooled_rows[s]) * h, x + int64_t(pooled_rows[s] + 1) * h, pooled_.begin() + int64_t(s) * h);
      linear_forward(layer.out, sequences, context_.data(), h, projected_.data(), h, &pool);
      add_rows(pool, pooled_.data(), sequences);
      mlp(pool, layer, pooled_.data(), sequences);
      for (int s = 0; s < sequences; ++s) std::copy(pooled_.begin() + int64_t(s) * h, pooled_.begin() + int64_t(s + 1) * h, x + int64_t(pooled_rows[s]) * h);
      break;
    }
    attention(offsets, sequences, causal, nullptr, pool);
    linear_forward(layer.out, t, context_.data(), h, projected_.data(), h, &pool);
    add_rows(pool, x, t);
    mlp(pool, layer, x, t);
  }
}

}  // namespace sie
