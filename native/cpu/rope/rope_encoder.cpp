#include "rope_encoder.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <tuple>

#include "../../core/engine_error.h"
#include "../gemm/bf16_gemm.h"
#include "../gemm/packed_gemm.h"
#include "../kernels/elementwise.h"
#include "../batch_validation.h"
#include "../row_tasks.h"

namespace sie {
namespace {

// x <- x / sqrt(mean(x^2) + eps) * gamma, over `cols` values.
void rms_norm(float* x, int cols, const float* gamma, float eps) {
  double sum = 0;
  for (int i = 0; i < cols; ++i) sum += double(x[i]) * x[i];
  const float scale = float(1.0 / std::sqrt(sum / cols + eps));
  for (int i = 0; i < cols; ++i) x[i] = x[i] * scale * gamma[i];
}

// HF's inverse frequencies: theta^(-2j/d); NewModel's NTK scaling (always on): (theta f)^(-2j/d) / f^(2/d).
std::vector<double> inverse_frequencies(double theta, int head_dim, double ntk_factor) {
  std::vector<double> inv(size_t(head_dim / 2));
  for (int j = 0; j < head_dim / 2; ++j) {
    const double exponent = 2.0 * j / head_dim;
    inv[size_t(j)] = ntk_factor > 0 ? 1.0 / std::pow(theta * ntk_factor, exponent) / std::pow(ntk_factor, 2.0 / head_dim)
                                    : 1.0 / std::pow(theta, exponent);
  }
  return inv;
}

}  // namespace

RopeEncoder::RopeEncoder(const WeightStore& file, RopeArchitecture architecture, const EncoderConfig& config, WeightFormat format)
    : config_(config), weights_(load_rope_weights(file, architecture, config, format)) {
  if (config.head_dim() % 2) throw EngineError(ErrorCode::BadConfig, "rotary attention needs an even head_dim");
  if (config.hidden_act != "gelu" && config.hidden_act != "silu")
    throw EngineError(ErrorCode::BadConfig, "hidden activation '" + config.hidden_act + "' is not supported (gelu, silu)");
  inv_freq_global_ = inverse_frequencies(config.rope_theta, config.head_dim(), config.rope_ntk_factor);
  inv_freq_local_ = inverse_frequencies(config.local_rope_theta > 0 ? config.local_rope_theta : config.rope_theta, config.head_dim(), config.rope_ntk_factor);
}

size_t RopeEncoder::workspace_bytes() const {
  size_t total = 0;
  for (const AlignedBuffer* b : {&hidden_, &normed_, &qkv_, &context_, &projected_, &gate_up_, &activated_}) total += b->bytes();
  for (const auto* group : {&scores_, &packed_keys_, &packed_values_})
    for (const auto& b : *group) total += b.bytes();
  for (const RotaryTable& table : tables_) total += (table.cos.size() + table.sin.size()) * sizeof(float);
  return total;
}

void RopeEncoder::validate(const TokenBatch& b) const {
  validate_token_batch(b, config_.max_positions, config_.vocab_size, weights_.token_type_embeddings.empty() ? 0 : config_.type_vocab_size);
}

void RopeEncoder::norm_rows(const NormWeights& norm, const float* in, float* out, int rows, ThreadPool& pool) const {
  const int h = config_.hidden_size;
  for_row_chunks(pool, rows, [&](int begin, int end) {
    if (out != in) std::copy(in + int64_t(begin) * h, in + int64_t(end) * h, out + int64_t(begin) * h);
    if (norm.kind == NormKind::LayerNorm) {
      add_layer_norm(out + int64_t(begin) * h, nullptr, end - begin, h, h, norm.gamma.data(), norm.beta.data(), weights_.norm_eps);
    } else {
      for (int r = begin; r < end; ++r) rms_norm(out + int64_t(r) * h, h, norm.gamma.data(), weights_.norm_eps);
    }
  });
}

void RopeEncoder::embed(const TokenBatch& b, ThreadPool& pool) {
  const int h = config_.hidden_size;
  const bool types = !weights_.token_type_embeddings.empty();
  for_row_chunks(pool, b.num_tokens, [&](int begin, int end) {
    for (int t = begin; t < end; ++t) {
      const float* word = weights_.word_embeddings.data() + int64_t(b.input_ids[t]) * h;
      float* dst = hidden_.data() + int64_t(t) * h;
      std::copy(word, word + h, dst);
      if (types) {
        const float* type = weights_.token_type_embeddings.data() + int64_t(b.token_type_ids ? b.token_type_ids[t] : 0) * h;
        for (int i = 0; i < h; ++i) dst[i] += type[i];
      }
    }
  });
  if (weights_.embedding_norm.present()) norm_rows(weights_.embedding_norm, hidden_.data(), hidden_.data(), b.num_tokens, pool);
}

const RopeEncoder::RotaryTable& RopeEncoder::rotary_table(bool local, int length) {
  RotaryTable& table = tables_[local ? 1 : 0];
  if (table.length >= length) return table;
  const std::vector<double>& inv = local ? inv_freq_local_ : inv_freq_global_;
  const int half = config_.head_dim() / 2;
  table.length = length;
  table.cos.resize(size_t(length) * half);
  table.sin.resize(size_t(length) * half);
  for (int p = 0; p < length; ++p)
    for (int j = 0; j < half; ++j) {
      const double angle = double(p) * inv[size_t(j)];
      table.cos[size_t(p) * half + j] = float(std::cos(angle));
      table.sin[size_t(p) * half + j] = float(std::sin(angle));
    }
  return table;
}

void RopeEncoder::prepare_query_key(const TokenBatch& b, const RopeLayerWeights& layer, const RotaryTable& table, ThreadPool& pool) {
  const int d = config_.head_dim(), half = d / 2, heads = config_.num_heads, kv = config_.kv_heads();
  const int64_t ld = int64_t(heads + 2 * kv) * d;
  const float scale = 1.0f / std::sqrt(float(d));
  pool.parallel_for(b.num_sequences, [&](int64_t s, int) {
    for (int t = b.offsets[s]; t < b.offsets[s + 1]; ++t) {
      const int position = t - b.offsets[s];
      const float* cos = table.cos.data() + int64_t(position) * half;
      const float* sin = table.sin.data() + int64_t(position) * half;
      float* row = qkv_.data() + int64_t(t) * ld;
      for (int head = 0; head < heads + kv; ++head) {
        float* x = row + int64_t(head) * d;
        const bool query = head < heads;
        const std::vector<float>& norm = query ? layer.q_norm : layer.k_norm;
        if (!norm.empty()) rms_norm(x, d, norm.data(), weights_.norm_eps);
        for (int j = 0; j < half; ++j) {  // rotate_half pairs: j with j + d/2
          const float x1 = x[j], x2 = x[j + half];
          x[j] = x1 * cos[j] - x2 * sin[j];
          x[j + half] = x2 * cos[j] + x1 * sin[j];
        }
        if (query)
          for (int j = 0; j < d; ++j) x[j] *= scale;
      }
    }
  });
}

void RopeEncoder::attention(const TokenBatch& b, bool local, ThreadPool& pool, const std::vector<int32_t>* query_rows) {
  const int d = config_.head_dim(), heads = config_.num_heads, kv = config_.kv_heads();
  const int64_t ld = int64_t(heads + 2 * kv) * d, out_ld = int64_t(heads) * d;
  const int group = heads / kv;
  const bool causal = config_.causal;
  const int window = local ? config_.local_attention / 2 : -1;
  const int longest = b.max_length();
  // The keys row i may see: [lo, hi).
  auto lo = [&](int i) { return window >= 0 ? std::max(0, i - window) : 0; };
  auto hi = [&](int i, int length) { return causal ? i + 1 : window >= 0 ? std::min(length, i + window + 1) : length; };
  const int visible = window >= 0 ? std::min(longest, 2 * window + 1) : longest;
  // A causal model's query block [q, q + block) sees keys [0, q + block): blocks of 64 queries
  // leave out most of the masked upper triangle that one block of the whole sequence computed and
  // threw away (half of Q·Kᵀ, softmax and P·V at any length).
  const int block = causal ? std::min(kCausalQueryBlock, attention_query_block(longest, visible)) : attention_query_block(longest, visible);
  const int max_keys = std::min(longest, block + (window >= 0 ? 2 * window : longest));
  scores_.resize(pool.size());
  packed_keys_.resize(pool.size());
  packed_values_.resize(pool.size());
  // A bf16 model computes Q·Kᵀ and P·V in bf16 too, with fp32 accumulation and an fp32
  // softmax (as PyTorch's CPU autocast does); K, V and P are rounded as they are packed.
  const bool bf16 = !weights_.layers.empty() && !weights_.layers.front().qkv.weight_bf16.empty() && !config_.fp32_attention;
  const CpuIsa isa = cpu_isa();
  const Bf16Layout panel_order = bf16_layout_for(isa);  // keys and values, packed for the kernel that reads them
  for (int w = 0; w < pool.size(); ++w) {
    scores_[w].resize(size_t(block) * max_keys);
    if (bf16) {
      packed_keys_[w].resize(size_t((bf16_packed_elements(max_keys, d) + 1) / 2));
      // The packed values, then the bf16 probabilities: whole 32-row blocks of k-padded rows.
      packed_values_[w].resize(size_t(bf16_packed_elements(d, max_keys) / 2 + int64_t(block + 31) / 32 * 32 * bf16_padded_k(max_keys) / 2 + 32));
    } else {
      packed_keys_[w].resize(size_t(packed_size(max_keys, d)));
      packed_values_[w].resize(size_t(packed_size(d, max_keys)));
    }
  }
  struct Task {
    int sequence, head, query_begin, query_end;
  };
  std::vector<Task> tasks;
  for (int s = 0; s < b.num_sequences; ++s) {
    const int length = b.offsets[s + 1] - b.offsets[s];
    for (int head = 0; head < heads; ++head) {
      if (query_rows) {
        const int q = (*query_rows)[size_t(s)] - b.offsets[s];
        tasks.push_back({s, head, q, q + 1});
      } else {
        for (int q = 0; q < length; q += block) tasks.push_back({s, head, q, std::min(length, q + block)});
      }
    }
  }
  // Longest sequences first; a kv head's blocks stay adjacent so a worker reuses its packed keys.
  std::stable_sort(tasks.begin(), tasks.end(), [&](const Task& x, const Task& y) {
    return b.offsets[x.sequence + 1] - b.offsets[x.sequence] > b.offsets[y.sequence + 1] - b.offsets[y.sequence];
  });
  using Packed = std::tuple<int, int, int, int>;  // sequence, kv head, first key, end key
  std::vector<Packed> packed_for(size_t(pool.size()), Packed{-1, -1, -1, -1});
  pool.parallel_for(int64_t(tasks.size()), [&](int64_t index, int worker) {
    const Task& task = tasks[size_t(index)];
    const int begin = b.offsets[task.sequence], length = b.offsets[task.sequence + 1] - begin;
    const int kv_head = task.head / group;
    const int k0 = lo(task.query_begin), k1 = hi(task.query_end - 1, length);
    const int keys = k1 - k0, rows = task.query_end - task.query_begin;
    const float* base = qkv_.data() + int64_t(begin) * ld;
    // Causal blocks see a prefix of the keys: all of them are packed once per (sequence, kv head)
    // and each block reads the first panels of K and the first k steps of each V panel.
    const bool prefix = causal && window < 0;
    const int packed_keys = prefix ? length : keys;
    const Packed wanted{task.sequence, kv_head, k0, prefix ? length : k1};
    const AmxTileScope tiles(bf16 ? isa : CpuIsa::Portable);
    auto* keys16 = reinterpret_cast<uint16_t*>(packed_keys_[worker].data());
    auto* values16 = reinterpret_cast<uint16_t*>(packed_values_[worker].data());
    if (packed_for[size_t(worker)] != wanted) {
      const float* key_rows = base + int64_t(k0) * ld + int64_t(heads + kv_head) * d;
      const float* value_rows = base + int64_t(k0) * ld + int64_t(heads + kv + kv_head) * d;
      if (bf16) {
        pack_bf16_nk_into(key_rows, packed_keys, d, ld, keys16, isa, panel_order);
        pack_bf16_kn_into(value_rows, packed_keys, d, ld, values16, isa, panel_order);
      } else {
        pack_nk(key_rows, packed_keys, d, ld, packed_keys_[worker].data());
        pack_kn(value_rows, packed_keys, d, ld, packed_values_[worker].data());
      }
      packed_for[size_t(worker)] = wanted;
    }
    float* scores = scores_[worker].data();
    const float* q = base + int64_t(task.query_begin) * ld + int64_t(task.head) * d;
    if (bf16) gemm_bf16_panels(rows, keys, d, q, ld, keys16, nullptr, scores, keys, nullptr, Epilogue::None, isa);
    else gemm_packed(rows, keys, d, q, ld, packed_keys_[worker].data(), nullptr, scores, keys, nullptr);
    for (int r = 0; r < rows; ++r) {  // keys outside this row's mask
      const int i = task.query_begin + r;
      float* row = scores + int64_t(r) * keys;
      for (int j = 0; j < lo(i) - k0; ++j) row[j] = -INFINITY;
      for (int j = hi(i, length) - k0; j < keys; ++j) row[j] = -INFINITY;
    }
    float* context = context_.data() + int64_t(begin + task.query_begin) * out_ld + int64_t(task.head) * d;
    // P·V one 32-column panel of V at a time where the block reads a prefix of its k steps (the
    // panels are laid out for all packed keys); one GEMM over all of d otherwise.
    const int panel_calls = prefix && keys < packed_keys ? (d + kBf16PanelWidth - 1) / kBf16PanelWidth : 1;
    const int panel_cols = panel_calls > 1 ? kBf16PanelWidth : d;
    if (bf16) {
      const int kp = bf16_padded_k(keys);
      uint16_t* probabilities = values16 + bf16_packed_elements(d, packed_keys);  // 2 KiB multiples: 64-byte aligned
      softmax_rows_to_bf16(scores, rows, keys, keys, probabilities, kp, kp);
      const int64_t panel_elements = int64_t(bf16_padded_k(packed_keys)) * kBf16PanelWidth;
      for (int j = 0; j < panel_calls; ++j)
        gemm_bf16_converted(rows, std::min(panel_cols, d - j * panel_cols), kp, probabilities, kp, values16 + j * panel_elements, nullptr,
                            context + j * panel_cols, out_ld, nullptr, Epilogue::None, isa);
      return;
    }
    softmax_rows(scores, rows, keys, keys);
    for (int j = 0; j < panel_calls; ++j)
      gemm_packed(rows, std::min(panel_cols, d - j * panel_cols), keys, scores, keys,
                  packed_values_[worker].data() + int64_t(j) * packed_keys * kPanelWidth, nullptr, context + j * panel_cols, out_ld, nullptr);
  });
}

void RopeEncoder::gated_mlp(const RopeLayerWeights& layer, const float* input, int tokens, ThreadPool& pool) {
  const int inter = config_.intermediate_size, h = config_.hidden_size;
  linear_forward(layer.gate_up, tokens, input, h, gate_up_.data(), 2 * inter, &pool);
  const int activated_at = layer.activate_first_half ? 0 : inter, other_at = layer.activate_first_half ? inter : 0;
  const bool gelu = config_.hidden_act == "gelu";
  for_row_chunks(pool, tokens, [&](int begin, int end) {
    for (int t = begin; t < end; ++t) {
      const float* row = gate_up_.data() + int64_t(t) * 2 * inter;
      float* out = activated_.data() + int64_t(t) * inter;
      std::copy(row + activated_at, row + activated_at + inter, out);
      if (gelu) gelu_erf(out, inter);
      else sigmoid_gate(out, inter, 1.0f);  // SiLU
      for (int j = 0; j < inter; ++j) out[j] *= row[other_at + j];
    }
  });
  linear_forward(layer.down, tokens, activated_.data(), inter, projected_.data(), h, &pool);
}

const float* RopeEncoder::forward(const TokenBatch& b, ThreadPool& pool, HiddenRows rows) {
  validate(b);
  const int t = b.num_tokens, h = config_.hidden_size, d = config_.head_dim();
  const int heads = config_.num_heads, kv = config_.kv_heads(), inter = config_.intermediate_size;
  const int qkv_width = (heads + 2 * kv) * d;
  for (AlignedBuffer* buffer : {&hidden_, &normed_, &projected_}) buffer->resize(size_t(t) * h);
  qkv_.resize(size_t(t) * qkv_width);
  context_.resize(size_t(t) * heads * d);
  gate_up_.resize(size_t(t) * 2 * inter);
  activated_.resize(size_t(t) * inter);
  embed(b, pool);
  const int longest = b.max_length();
  // With one row per sequence read (HiddenRows), the last layer past attention runs for those rows
  // alone, gathered to the front: per row the same arithmetic, so the same values.
  const std::vector<int32_t> picked = rows_read_per_sequence(b, rows);
  auto add_into_hidden = [&](const float* delta, int m) {
    for_row_chunks(pool, m, [&](int begin, int end) {
      float* x = hidden_.data() + int64_t(begin) * h;
      const float* y = delta + int64_t(begin) * h;
      for (int64_t i = 0, n = int64_t(end - begin) * h; i < n; ++i) x[i] += y[i];
    });
  };
  for (size_t l = 0; l < weights_.layers.size(); ++l) {
    const RopeLayerWeights& layer = weights_.layers[l];
    const bool local = config_.global_attn_every_n_layers > 0 && config_.local_attention > 0 && l % size_t(config_.global_attn_every_n_layers) != 0;
    const RotaryTable& table = rotary_table(local, longest);
    const bool cut = !picked.empty() && l + 1 == weights_.layers.size();
    const int m = cut ? b.num_sequences : t;  // rows past attention
    auto attend = [&]() {
      prepare_query_key(b, layer, table, pool);
      attention(b, local, pool, cut ? &picked : nullptr);
      if (cut) {
        gather_rows(context_.data(), int64_t(heads) * d, picked);
        gather_rows(hidden_.data(), h, picked);
      }
      linear_forward(layer.output, m, context_.data(), heads * d, projected_.data(), h, &pool);
    };
    if (weights_.pre_norm) {
      const float* source = hidden_.data();
      if (layer.attention_norm.present()) {
        norm_rows(layer.attention_norm, hidden_.data(), normed_.data(), t, pool);
        source = normed_.data();
      }
      linear_forward(layer.qkv, t, source, h, qkv_.data(), qkv_width, &pool);
      attend();
      add_into_hidden(projected_.data(), m);
      norm_rows(layer.mlp_norm, hidden_.data(), normed_.data(), m, pool);
      gated_mlp(layer, normed_.data(), m, pool);
      add_into_hidden(projected_.data(), m);
    } else {
      // Post-norm (NewModel): x = LN(x + attention(x)); x = LN(x + mlp(x)).
      linear_forward(layer.qkv, t, hidden_.data(), h, qkv_.data(), qkv_width, &pool);
      attend();
      for_row_chunks(pool, m, [&](int begin, int end) {
        add_layer_norm(projected_.data() + int64_t(begin) * h, hidden_.data() + int64_t(begin) * h, end - begin, h, h,
                       layer.attention_norm.gamma.data(), layer.attention_norm.beta.data(), weights_.norm_eps);
      });
      std::swap(hidden_, projected_);
      gated_mlp(layer, hidden_.data(), m, pool);
      for_row_chunks(pool, m, [&](int begin, int end) {
        add_layer_norm(projected_.data() + int64_t(begin) * h, hidden_.data() + int64_t(begin) * h, end - begin, h, h,
                       layer.mlp_norm.gamma.data(), layer.mlp_norm.beta.data(), weights_.norm_eps);
      });
      std::swap(hidden_, projected_);
    }
  }
  if (!picked.empty()) {
    if (weights_.final_norm.present()) norm_rows(weights_.final_norm, hidden_.data(), hidden_.data(), b.num_sequences, pool);
    scatter_rows(hidden_.data(), config_.hidden_size, picked);
    return hidden_.data();
  }
  if (weights_.final_norm.present()) norm_rows(weights_.final_norm, hidden_.data(), hidden_.data(), t, pool);
  return hidden_.data();
}

}  // namespace sie
