// CLIP's transformer, shared by its text and vision towers (HF CLIPEncoder): pre-LayerNorm
// blocks, each x + attn(layer_norm1(x)) then x + fc2(act(fc1(layer_norm2(x)))), attention with
// biased q/k/v/out projections and q scaled by head_dim^-0.5, quick_gelu (x * sigmoid(1.702 x))
// or exact GELU. Text attention is causal; vision attention sees every patch.
#pragma once
#include <string>
#include <vector>

#include "../bert/bert_weights.h"
#include "../../core/aligned_buffer.h"
#include "../thread_pool.h"

namespace sie {

struct ClipTowerShape {
  int hidden = 0, layers = 0, heads = 0, intermediate = 0;
  float eps = 1e-5f;
  bool quick_gelu = true;
};

class ClipTower {
 public:
  // prefix: "text_model.encoder.layers." or "vision_model.encoder.layers."
  ClipTower(const WeightStore& file, const std::string& prefix, const ClipTowerShape& shape, WeightFormat format);
  // x: [tokens, hidden], updated in place; sequence s is rows offsets[s] .. offsets[s + 1].
  // pooled_rows (one row of x per sequence), when given, are the only rows read afterwards: the
  // last layer then runs attention for their queries alone and its out-projection and MLP on
  // those rows alone (the other rows of x keep the previous layer's values). Their values are
  // the same as from the full layer: every other row's output of it feeds nothing.
  void forward(float* x, const int32_t* offsets, int sequences, bool causal, ThreadPool& pool, const int32_t* pooled_rows = nullptr);
  size_t weight_bytes() const;
  const ClipTowerShape& shape() const { return shape_; }

 private:
  void normalized_copy(ThreadPool& pool, const float* x, int rows, const LayerNormWeights& norm);
  void add_rows(ThreadPool& pool, float* x, int rows);
  // Attention over each sequence's keys and values (in qkv_) for `queries` query rows each: all
  // of them (query_rows null: context_ rows as x's), or the one row query_rows[s] (context_ row s).
  struct Layer;
  void attention(const int32_t* offsets, int sequences, bool causal, const int32_t* query_rows, ThreadPool& pool);
  void mlp(ThreadPool& pool, const Layer& layer, float* x, int rows);
  struct Layer {
    LayerNormWeights norm1, norm2;
    PackedLinear qkv, out, fc1, fc2;
  };
  ClipTowerShape shape_;
  std::vector<Layer> layers_;
  std::vector<float> normed_, qkv_, context_, projected_, inner_, pooled_;
  // One per pool thread; the packed GEMM reads its operands with aligned vector loads.
  std::vector<AlignedBuffer> scores_, packed_keys_, packed_values_;
};

}  // namespace sie
