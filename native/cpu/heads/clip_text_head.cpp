#include "clip_text_head.h"

#include "../clip/clip_projection.h"
#include "../clip/clip_text_pooling.h"
#include "../kernels/pooling.h"

namespace sie {

ClipTextHead::ClipTextHead(const WeightStore& file, int hidden_size, int projection_dim, int pool_token_id, bool normalize,
                           WeightFormat format)
    : hidden_size_(hidden_size), projection_dim_(projection_dim), pool_token_id_(pool_token_id), normalize_(normalize) {
  projection_ = read_linear(file, "text_projection", projection_dim, hidden_size, format);
}

ModelOutput ClipTextHead::run(const float* hidden, const TokenBatch& b, ThreadPool& pool) {
  const int h = hidden_size_;
  std::vector<float> pooled(size_t(b.num_sequences) * h);
  for (int s = 0; s < b.num_sequences; ++s) {
    const int at = clip_text_pool_row(b, s, pool_token_id_);
    std::copy(hidden + size_t(at) * h, hidden + size_t(at + 1) * h, &pooled[size_t(s) * h]);
  }
  return project_clip_rows(projection_, b.num_sequences, pooled.data(), h, normalize_, pool);
}

}  // namespace sie
