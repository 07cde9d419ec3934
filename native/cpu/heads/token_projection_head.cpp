#include "token_projection_head.h"

#include "../kernels/pooling.h"
#include "../../weights/weight_store.h"

namespace sie {

TokenProjectionHead::TokenProjectionHead(const std::string& projection_path, int hidden_size, int out_features, WeightFormat format)
    : hidden_size_(hidden_size), out_features_(out_features) {
  const std::unique_ptr<WeightStore> file = open_weights(projection_path);
  projection_ = read_linear(*file, "linear", out_features, hidden_size, format);
}

ModelOutput TokenProjectionHead::run(const float* hidden, const TokenBatch& batch, ThreadPool& pool) {
  ModelOutput out = project_rows(projection_, hidden, batch.num_tokens, hidden_size_, out_features_, pool);
  l2_normalize_rows(out.values.data(), batch.num_tokens, out_features_);
  return out;
}

}  // namespace sie
