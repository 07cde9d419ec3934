#include "bert_encoder.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <string>

#include "../../core/engine_error.h"
#include "../kernels/attention_short_bf16.h"
#include "../kernels/elementwise.h"
#include "../batch_validation.h"
#include "../row_tasks.h"

namespace sie {

size_t EncoderWorkspace::bytes() const {
  size_t total = hidden.bytes() + qkv.bytes() + context.bytes() + projected.bytes() + intermediate.bytes() + hidden16.bytes() +
                 qkv16.bytes() + context16.bytes() + intermediate16.bytes();
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

// With copy16, each normalised row is also rounded to bf16 there (rows copy_ld apart) while it is
// still in registers: the next GEMM's input of a bf16 model.
void parallel_add_layer_norm(ThreadPool& pool, float* x, const float* residual, int rows, int cols,
                             const LayerNormWeights& norm, float eps, uint16_t* copy16 = nullptr, int copy_ld = 0) {
  for_row_chunks(pool, rows, [&](int begin, int end) {
    float* chunk = x + int64_t(begin) * cols;
    const float* chunk_residual = residual ? residual + int64_t(begin) * cols : nullptr;
    if (copy16)
      add_layer_norm_to_bf16(chunk, chunk_residual, end - begin, cols, cols, norm.gamma.data(), norm.beta.data(), eps,
                             copy16 + int64_t(begin) * copy_ld, copy_ld, copy_ld);
    else
      add_layer_norm(chunk, chunk_residual, end - begin, cols, cols, norm.gamma.data(), norm.beta.data(), eps);
  });
}

// Room for `rows` bf16 rows of `ld` values, plus one more 32-row block: the AMX kernel reads whole
// 32-row blocks of X, and attention's query blocks start at any row.
void reserve_bf16_rows(AlignedBuffer& buffer, int rows, int ld) {
  buffer.resize(size_t((int64_t(rows + 63) / 32 * 32 * ld + 1) / 2 + 32));
}
uint16_t* bf16_data(AlignedBuffer& buffer) { return reinterpret_cast<uint16_t*>(buffer.data()); }

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

void BertEncoder::attention(const TokenBatch& b, EncoderWorkspace& ws, ThreadPool& pool, uint16_t* context16, const uint16_t* qkv16,
                            const std::vector<int32_t>* query_rows) const {
  const int h = config_.hidden_size, heads = config_.num_heads, d = config_.head_dim();
  const int64_t qkv_ld = 3 * h;
  const int longest = b.max_length();
  // Scores are computed for a block of query rows against all keys, so a worker's scratch is
  // bounded by the tile budget whatever the length: an 8192-token input never materialises
  // 8192 x 8192 scores per head. Each row's softmax is still exact (one pass over all keys).
  const int block = attention_query_block(longest, longest);
  // A bf16 model computes Q·Kᵀ and P·V in bf16 with fp32 accumulation as well, as PyTorch's CPU
  // autocast does (its bmm runs in bf16); softmax stays fp32. K and V are rounded as they are
  // packed, Q and P as the GEMM reads them.
  const bool bf16 = !weights_.layers.empty() && !weights_.layers.front().qkv.weight_bf16.empty() && !config_.fp32_attention;
  const CpuIsa isa = cpu_isa();
  const Bf16Layout panel_order = bf16_layout_for(isa);  // keys and values, packed for the kernel that reads them
  for (int w = 0; w < pool.size(); ++w) {
    ws.scores[w].resize(size_t(block) * longest);
    if (bf16) {
      ws.packed_keys[w].resize(size_t((bf16_packed_elements(longest, d) + 1) / 2));
      ws.packed_values[w].resize(size_t((bf16_packed_elements(d, longest) + 1) / 2));
      // The probabilities in bf16, whole 32-row blocks of k-padded rows (after the packed values).
      ws.packed_values[w].resize(ws.packed_values[w].size() + size_t((block + 31) / 32 * 32) * bf16_padded_k(longest) / 2 + 32);
    } else {
      ws.packed_keys[w].resize(size_t(packed_size(longest, d)));
      ws.packed_values[w].resize(size_t(packed_size(d, longest)));
    }
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
    for (int head = 0; head < heads; head += heads_per_task) {
      if (query_rows) tasks.push_back({s, head, (*query_rows)[size_t(s)] - b.offsets[s], (*query_rows)[size_t(s)] - b.offsets[s] + 1});
      else for (int q = 0; q < length; q += block) tasks.push_back({s, head, q, std::min(length, q + block)});
    }
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
    const AmxTileScope tiles(bf16 ? isa : CpuIsa::Portable);
    for (int head = task.head, last = task.head + heads_per_task; head < last; ++head) {
      // The fp32 projections, unless attention reads the bf16 ones (ws.qkv is then unused).
      const float* q = qkv16 ? nullptr : ws.qkv.data() + int64_t(begin) * qkv_ld + head * d;
      const float* k = q ? q + h : nullptr;
      const float* v = q ? q + 2 * h : nullptr;
      // The fp32 context, unless the bf16 context is written instead (ws.context is then unused).
      float* context = context16 ? nullptr : ws.context.data() + int64_t(begin + task.query_begin) * h + head * d;
      if (bf16) {
        auto* keys = reinterpret_cast<uint16_t*>(ws.packed_keys[worker].data());
        auto* values = reinterpret_cast<uint16_t*>(ws.packed_values[worker].data());
        // With qkv16 the projections are already bf16: packing is a re-layout, and Q is read in
        // place (d is a multiple of 32, so a head's slice is exactly k-padded).
        const uint16_t* q16 = qkv16 ? qkv16 + int64_t(begin) * qkv_ld + head * d : nullptr;
        if (q16 && context16 && short_attention_bf16_fits(length, d, isa)) {
          // A sequence of at most 32 tokens: scores, softmax and context in registers.
          short_attention_bf16(length, d, q16, q16 + h, q16 + 2 * h, qkv_ld, task.query_begin, task.query_end,
                               context16 + int64_t(begin) * h + head * d, h);
          continue;
        }
        if (packed_for[size_t(worker)] != std::make_pair(task.sequence, head)) {
          if (q16) {
            pack_bf16_nk_from_bf16(q16 + h, length, d, qkv_ld, keys, isa, panel_order);
            pack_bf16_kn_from_bf16(q16 + 2 * h, length, d, qkv_ld, values, isa, panel_order);
          } else {
            pack_bf16_nk_into(k, length, d, qkv_ld, keys, isa, panel_order);
            pack_bf16_kn_into(v, length, d, qkv_ld, values, isa, panel_order);
          }
          packed_for[size_t(worker)] = {task.sequence, head};
        }
        if (q16) {
          gemm_bf16_converted(rows, length, d, q16 + int64_t(task.query_begin) * qkv_ld, qkv_ld, keys, nullptr, scores, length, nullptr,
                              Epilogue::None, isa);
        } else {
          gemm_bf16_panels(rows, length, d, q + int64_t(task.query_begin) * qkv_ld, qkv_ld, keys, nullptr, scores, length, nullptr,
                           Epilogue::None, isa);
        }
        const int kp = bf16_padded_k(length);
        uint16_t* probabilities = values + bf16_packed_elements(d, length);  // 2 KiB multiples: 64-byte aligned
        softmax_rows_to_bf16(scores, rows, length, length, probabilities, kp, kp);
        uint16_t* out16 = context16 ? context16 + int64_t(begin + task.query_begin) * h + head * d : nullptr;
        gemm_bf16_converted(rows, d, kp, probabilities, kp, values, nullptr, context, h, nullptr, Epilogue::None, isa, out16);
        continue;
      }
      if (packed_for[size_t(worker)] != std::make_pair(task.sequence, head)) {
        pack_nk(k, length, d, qkv_ld, ws.packed_keys[worker].data());
        pack_kn(v, length, d, qkv_ld, ws.packed_values[worker].data());
        packed_for[size_t(worker)] = {task.sequence, head};
      }
      gemm_packed(rows, length, d, q + int64_t(task.query_begin) * qkv_ld, qkv_ld, ws.packed_keys[worker].data(), nullptr, scores,
                  length, nullptr);
      softmax_rows(scores, rows, length, length);
      gemm_packed(rows, d, length, scores, length, ws.packed_values[worker].data(), nullptr, context, h, nullptr);
    }
  });
}

const float* BertEncoder::forward(const TokenBatch& b, EncoderWorkspace& ws, ThreadPool& pool, HiddenRows rows) const {
  validate(b);
  if (!weights_.layers.empty() && !weights_.layers.front().qkv.weight_bf16.empty()) return forward_bf16(b, ws, pool, rows);
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
  const std::vector<int32_t> picked = rows_read_per_sequence(b, rows);
  for (size_t i = 0; i < weights_.layers.size(); ++i) {
    const BertLayerWeights& layer = weights_.layers[i];
    if (!picked.empty() && i + 1 == weights_.layers.size()) {
      last_layer_picked_rows(layer, b, picked, ws, pool);
      break;
    }
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

const float* BertEncoder::forward_bf16(const TokenBatch& b, EncoderWorkspace& ws, ThreadPool& pool, HiddenRows rows) const {
  const int h = config_.hidden_size, inter = config_.intermediate_size, t = b.num_tokens, d = config_.head_dim();
  const float eps = config_.layer_norm_eps;
  const int hp = bf16_padded_k(h), ip = bf16_padded_k(inter);
  const CpuIsa isa = cpu_isa();
  // When heads fall on 32-column panel boundaries, the QKV projection is written in bf16 and
  // attention reads it in place, and the attention GEMM writes each head's panels straight into
  // the bf16 context; otherwise Q, K, V and the context go through fp32 and are rounded.
  const bool context_direct = !config_.fp32_attention && d % 32 == 0 && h % 32 == 0;
  ws.hidden.resize(size_t(t) * h);
  ws.projected.resize(size_t(t) * h);
  if (context_direct) {
    reserve_bf16_rows(ws.qkv16, t, 3 * h);
  } else {
    ws.qkv.resize(size_t(t) * 3 * h);
    ws.context.resize(size_t(t) * h);
  }
  reserve_bf16_rows(ws.hidden16, t, hp);
  reserve_bf16_rows(ws.context16, t, hp);
  reserve_bf16_rows(ws.intermediate16, t, ip);
  ws.scores.resize(pool.size());
  ws.packed_keys.resize(pool.size());
  ws.packed_values.resize(pool.size());
  uint16_t* qkv16 = bf16_data(ws.qkv16);
  uint16_t* hidden16 = bf16_data(ws.hidden16);
  uint16_t* context16 = bf16_data(ws.context16);
  uint16_t* intermediate16 = bf16_data(ws.intermediate16);

  embed(b, ws.hidden.data(), pool);
  for_row_chunks(pool, t, [&](int begin, int end) { convert_rows_to_bf16(ws.hidden.data(), h, t, h, hidden16, hp, begin, end, isa); });
  const std::vector<int32_t> picked = rows_read_per_sequence(b, rows);
  for (size_t i = 0; i < weights_.layers.size(); ++i) {
    const BertLayerWeights& layer = weights_.layers[i];
    if (!picked.empty() && i + 1 == weights_.layers.size()) {
      last_layer_picked_rows_bf16(layer, b, picked, ws, pool, context_direct);
      break;
    }
    if (context_direct) {
      linear_forward_bf16(layer.qkv, t, hidden16, hp, nullptr, qkv16, 3 * h, &pool);
      attention(b, ws, pool, context16, qkv16);
    } else {
      linear_forward_bf16(layer.qkv, t, hidden16, hp, ws.qkv.data(), nullptr, 3 * h, &pool);
      attention(b, ws, pool);
      for_row_chunks(pool, t, [&](int begin, int end) { convert_rows_to_bf16(ws.context.data(), h, t, h, context16, hp, begin, end, isa); });
    }
    linear_forward_bf16(layer.attention_output, t, context16, hp, ws.projected.data(), nullptr, h, &pool);
    parallel_add_layer_norm(pool, ws.projected.data(), ws.hidden.data(), t, h, layer.attention_norm, eps, hidden16, hp);
    std::swap(ws.hidden, ws.projected);
    linear_forward_bf16(layer.intermediate, t, hidden16, hp, nullptr, intermediate16, ip, &pool, Epilogue::Gelu);
    linear_forward_bf16(layer.output, t, intermediate16, ip, ws.projected.data(), nullptr, h, &pool);
    parallel_add_layer_norm(pool, ws.projected.data(), ws.hidden.data(), t, h, layer.output_norm, eps, hidden16, hp);
    std::swap(ws.hidden, ws.projected);
  }
  return ws.hidden.data();
}

// Per row this is the arithmetic of the whole layer (the same kernels, rows never mixed), so the
// picked rows come out as they would from every row's layer.
void BertEncoder::last_layer_picked_rows(const BertLayerWeights& layer, const TokenBatch& b, const std::vector<int32_t>& picked,
                                         EncoderWorkspace& ws, ThreadPool& pool) const {
  const int h = config_.hidden_size, inter = config_.intermediate_size, t = b.num_tokens, r = b.num_sequences;
  const float eps = config_.layer_norm_eps;
  linear_forward(layer.qkv, t, ws.hidden.data(), h, ws.qkv.data(), 3 * h, &pool);  // keys and values of every row
  attention(b, ws, pool, nullptr, nullptr, &picked);
  gather_rows(ws.context.data(), h, picked);
  gather_rows(ws.hidden.data(), h, picked);
  linear_forward(layer.attention_output, r, ws.context.data(), h, ws.projected.data(), h, &pool);
  parallel_add_layer_norm(pool, ws.projected.data(), ws.hidden.data(), r, h, layer.attention_norm, eps);
  linear_forward(layer.intermediate, r, ws.projected.data(), h, ws.intermediate.data(), inter, &pool, Epilogue::Gelu);
  linear_forward(layer.output, r, ws.intermediate.data(), inter, ws.hidden.data(), h, &pool);
  parallel_add_layer_norm(pool, ws.hidden.data(), ws.projected.data(), r, h, layer.output_norm, eps);
  scatter_rows(ws.hidden.data(), h, picked);
}

void BertEncoder::last_layer_picked_rows_bf16(const BertLayerWeights& layer, const TokenBatch& b, const std::vector<int32_t>& picked,
                                              EncoderWorkspace& ws, ThreadPool& pool, bool context_direct) const {
  const int h = config_.hidden_size, t = b.num_tokens, r = b.num_sequences;
  const int hp = bf16_padded_k(h), ip = bf16_padded_k(config_.intermediate_size);
  const float eps = config_.layer_norm_eps;
  uint16_t* hidden16 = bf16_data(ws.hidden16);
  uint16_t* context16 = bf16_data(ws.context16);
  uint16_t* intermediate16 = bf16_data(ws.intermediate16);
  if (context_direct) {
    uint16_t* qkv16 = bf16_data(ws.qkv16);
    linear_forward_bf16(layer.qkv, t, hidden16, hp, nullptr, qkv16, 3 * h, &pool);
    attention(b, ws, pool, context16, qkv16, &picked);
    gather_rows(context16, hp, picked);
  } else {
    linear_forward_bf16(layer.qkv, t, hidden16, hp, ws.qkv.data(), nullptr, 3 * h, &pool);
    attention(b, ws, pool, nullptr, nullptr, &picked);
    gather_rows(ws.context.data(), h, picked);
    convert_rows_to_bf16(ws.context.data(), h, r, h, context16, hp, 0, r, cpu_isa());
  }
  gather_rows(ws.hidden.data(), h, picked);
  linear_forward_bf16(layer.attention_output, r, context16, hp, ws.projected.data(), nullptr, h, &pool);
  parallel_add_layer_norm(pool, ws.projected.data(), ws.hidden.data(), r, h, layer.attention_norm, eps, hidden16, hp);
  linear_forward_bf16(layer.intermediate, r, hidden16, hp, nullptr, intermediate16, ip, &pool, Epilogue::Gelu);
  linear_forward_bf16(layer.output, r, intermediate16, ip, ws.hidden.data(), nullptr, h, &pool);
  parallel_add_layer_norm(pool, ws.hidden.data(), ws.projected.data(), r, h, layer.output_norm, eps);
  scatter_rows(ws.hidden.data(), h, picked);
}

}  // namespace sie
