#include "bert_encoder.h"

#include <algorithm>
#include <functional>
#include <string>

#include "../../core/engine_error.h"
#include "../kernels/elementwise.h"
#include "../batch_validation.h"
#include "../row_tasks.h"

namespace sie {

size_t EncoderWorkspace::bytes() const {
  size_t total = hidden.bytes() + qkv.bytes() + context.bytes() + projected.bytes() + intermediate.bytes();
  for (const auto* group : {&scores, &packed_keys, &packed_values})
    for (const auto& b : *group) total += b.bytes();
  return total;
}

BertEncoder::BertEncoder(const WeightStore& file, const EncoderConfig& config, WeightFormat format)
    : config_(config), weights_(load_bert_weights(file, config, format)) {}

void BertEncoder::validate(const TokenBatch& b) const {
  validate_token_batch(b, config_.max_sequence_length(), config_.vocab_size, config_.type_vocab_size);
}

namespace {

void parallel_add_layer_norm(ThreadPool& pool, float* x, const float* residual, int rows, int cols,
                             const LayerNormWeights& norm, float eps) {
  for_row_chunks(pool, rows, [&](int begin, int end) {
    add_layer_norm(x + int64_t(begin) * cols, residual ? residual + int64_t(begin) * cols : nullptr, end - begin, cols,
                   cols, norm.gamma.data(), norm.beta.data(), eps);
  });
}

}  // namespace

void BertEncoder::embed(const TokenBatch& b, float* out, ThreadPool& pool) const {
  const int h = config_.hidden_size;
  const int pad = config_.position_padding_idx;
  pool.parallel_for(b.num_sequences, [&](int64_t s, int) {
    int non_pad = 0;
    for (int t = b.offsets[s]; t < b.offsets[s + 1]; ++t) {
      const float* word = weights_.word_embeddings.data() + int64_t(b.input_ids[t]) * h;
      int position = t - b.offsets[s];
      if (pad >= 0) position = b.input_ids[t] == pad ? pad : pad + ++non_pad;
      const float* pos = weights_.position_embeddings.data() + int64_t(position) * h;
      const int type = b.token_type_ids ? b.token_type_ids[t] : 0;
      const float* type_row = weights_.token_type_embeddings.data() + int64_t(type) * h;
      float* dst = out + int64_t(t) * h;
      for (int i = 0; i < h; ++i) dst[i] = word[i] + pos[i] + type_row[i];
    }
  });
  parallel_add_layer_norm(pool, out, nullptr, b.num_tokens, h, weights_.embedding_norm, config_.layer_norm_eps);
}

void BertEncoder::attention(const TokenBatch& b, EncoderWorkspace& ws, ThreadPool& pool) const {
  const int h = config_.hidden_size, heads = config_.num_heads, d = config_.head_dim();
  const int64_t qkv_ld = 3 * h;
  const int longest = b.max_length();
  // Scores are computed for a block of query rows against all keys, so a worker's scratch is
  // bounded by the tile budget whatever the length: an 8192-token input never materialises
  // 8192 x 8192 scores per head. Each row's softmax is still exact (one pass over all keys).
  const int block = attention_query_block(longest, longest);
  for (int w = 0; w < pool.size(); ++w) {
    ws.scores[w].resize(size_t(block) * longest);
    ws.packed_keys[w].resize(size_t(packed_size(longest, d)));
    ws.packed_values[w].resize(size_t(packed_size(d, longest)));
  }
  // With many sequences one task covers all heads of a sequence (fewer, larger tasks); with few,
  // each (sequence, head, query block) is its own task so every thread has work.
  const int heads_per_task = b.num_sequences >= 4 * pool.size() ? heads : 1;
  struct Task {
    int sequence, head, query_begin, query_end;
  };
  std::vector<Task> tasks;
  for (int s = 0; s < b.num_sequences; ++s) {
    const int length = b.offsets[s + 1] - b.offsets[s];
    for (int head = 0; head < heads; head += heads_per_task)
      for (int q = 0; q < length; q += block) tasks.push_back({s, head, q, std::min(length, q + block)});
  }
  // Longest sequences first, so the tail of the task list is short work; blocks of one
  // (sequence, head) stay adjacent so a worker reuses its packed keys and values.
  std::stable_sort(tasks.begin(), tasks.end(), [&](const Task& x, const Task& y) {
    return b.offsets[x.sequence + 1] - b.offsets[x.sequence] > b.offsets[y.sequence + 1] - b.offsets[y.sequence];
  });
  std::vector<std::pair<int, int>> packed_for(size_t(pool.size()), {-1, -1});  // (sequence, head) each worker holds
  pool.parallel_for(int64_t(tasks.size()), [&](int64_t index, int worker) {
    const Task& task = tasks[size_t(index)];
    const int begin = b.offsets[task.sequence], length = b.offsets[task.sequence + 1] - begin;
    const int rows = task.query_end - task.query_begin;
    float* scores = ws.scores[worker].data();
    for (int head = task.head, last = task.head + heads_per_task; head < last; ++head) {
      const float* q = ws.qkv.data() + int64_t(begin) * qkv_ld + head * d;
      const float* k = q + h;
      const float* v = q + 2 * h;
      if (packed_for[size_t(worker)] != std::make_pair(task.sequence, head)) {
        pack_nk(k, length, d, qkv_ld, ws.packed_keys[worker].data());
        pack_kn(v, length, d, qkv_ld, ws.packed_values[worker].data());
        packed_for[size_t(worker)] = {task.sequence, head};
      }
      gemm_packed(rows, length, d, q + int64_t(task.query_begin) * qkv_ld, qkv_ld, ws.packed_keys[worker].data(), nullptr, scores,
                  length, nullptr);
      softmax_rows(scores, rows, length, length);
      gemm_packed(rows, d, length, scores, length, ws.packed_values[worker].data(), nullptr,
                  ws.context.data() + int64_t(begin + task.query_begin) * h + head * d, h, nullptr);
    }
  });
}

const float* BertEncoder::forward(const TokenBatch& b, EncoderWorkspace& ws, ThreadPool& pool) const {
  validate(b);
  const int h = config_.hidden_size, inter = config_.intermediate_size, t = b.num_tokens;
  const float eps = config_.layer_norm_eps;
  ws.hidden.resize(size_t(t) * h);
  ws.qkv.resize(size_t(t) * 3 * h);
  ws.context.resize(size_t(t) * h);
  ws.projected.resize(size_t(t) * h);
  ws.intermediate.resize(size_t(t) * inter);
  ws.scores.resize(pool.size());
  ws.packed_keys.resize(pool.size());
  ws.packed_values.resize(pool.size());

  embed(b, ws.hidden.data(), pool);
  for (const BertLayerWeights& layer : weights_.layers) {
    linear_forward(layer.qkv, t, ws.hidden.data(), h, ws.qkv.data(), 3 * h, &pool);
    attention(b, ws, pool);
    linear_forward(layer.attention_output, t, ws.context.data(), h, ws.projected.data(), h, &pool);
    // hidden <- LayerNorm(projected + hidden): normalise in the projected buffer, then swap roles.
    parallel_add_layer_norm(pool, ws.projected.data(), ws.hidden.data(), t, h, layer.attention_norm, eps);
    std::swap(ws.hidden, ws.projected);
    linear_forward(layer.intermediate, t, ws.hidden.data(), h, ws.intermediate.data(), inter, &pool, Epilogue::Gelu);
    linear_forward(layer.output, t, ws.intermediate.data(), inter, ws.projected.data(), h, &pool);
    parallel_add_layer_norm(pool, ws.projected.data(), ws.hidden.data(), t, h, layer.output_norm, eps);
    std::swap(ws.hidden, ws.projected);
  }
  return ws.hidden.data();
}

}  // namespace sie
