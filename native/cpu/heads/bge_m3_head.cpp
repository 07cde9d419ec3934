#include "bge_m3_head.h"

#include <algorithm>

#include "../kernels/pooling.h"

namespace sie {

BgeM3Head::BgeM3Head(const std::string& colbert_path, const std::string& sparse_path, int hidden_size, bool normalize,
                     WeightFormat format)
    : hidden_size_(hidden_size), normalize_(normalize) {
  const std::unique_ptr<WeightStore> colbert = open_weights(colbert_path);
  colbert_ = read_linear(*colbert, "", hidden_size, hidden_size, format);
  const std::unique_ptr<WeightStore> sparse = open_weights(sparse_path);
  sparse_weight_ = read_tensor(*sparse, "weight", {1, hidden_size});
  sparse_bias_ = read_tensor(*sparse, "bias", {1})[0];
}

size_t BgeM3Head::weight_bytes() const {
  return colbert_.bytes() + (sparse_weight_.size() + 1) * sizeof(float);
}

ModelOutput BgeM3Head::run(const float* hidden, const TokenBatch& batch, ThreadPool& pool) {
  const int h = hidden_size_, sequences = batch.num_sequences, tokens = batch.num_tokens;
  ModelOutput out;
  if (batch.outputs & kDenseOutput) {
    ModelOutput dense;
    dense.width = h;
    dense.values.resize(size_t(sequences) * h);
    pool_sequences(hidden, batch.offsets, sequences, h, PoolingMode::Cls, dense.values.data());
    if (normalize_) l2_normalize_rows(dense.values.data(), sequences, h);
    out.parts.push_back({"dense", std::move(dense)});
  }
  if (batch.outputs & kSparseOutput) {
    // One dot product per token: a [1, hidden] Linear is not worth a GEMM.
    ModelOutput sparse;
    sparse.width = 1;
    sparse.values.resize(size_t(tokens));
    for (int t = 0; t < tokens; ++t) {
      const float* row = hidden + int64_t(t) * h;
      float sum = sparse_bias_;
      for (int i = 0; i < h; ++i) sum += row[i] * sparse_weight_[size_t(i)];
      sparse.values[size_t(t)] = std::max(0.0f, sum);
    }
    out.parts.push_back({"sparse", std::move(sparse)});
  }
  if (batch.outputs & kMultivectorOutput) {
    const int rows = tokens - sequences;
    ModelOutput multivector;
    multivector.width = h;
    multivector.row_offsets.push_back(0);
    gathered_.resize(size_t(std::max(rows, 1)) * h);
    int at = 0;
    for (int s = 0; s < sequences; ++s) {
      const int first = batch.offsets[s] + 1, end = batch.offsets[s + 1];
      std::copy(hidden + int64_t(first) * h, hidden + int64_t(end) * h, gathered_.data() + int64_t(at) * h);
      at += end - first;
      multivector.row_offsets.push_back(at);
    }
    multivector.values.resize(size_t(rows) * h);
    if (rows > 0) {
      linear_forward(colbert_, rows, gathered_.data(), h, multivector.values.data(), h, &pool);
      if (normalize_) l2_normalize_rows(multivector.values.data(), rows, h);
    }
    out.parts.push_back({"multivector", std::move(multivector)});
  }
  return out;
}

}  // namespace sie
