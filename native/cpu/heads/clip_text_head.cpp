#include "clip_text_head.h"

#include "../clip/clip_projection.h"
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
    int at = b.offsets[s];  // no end-of-text token: position 0, as argmax of all-false gives
    for (int t = b.offsets[s]; t < b.offsets[s + 1]; ++t) {
      if (pool_token_id_ < 0 ? b.input_ids[t] > b.input_ids[at] : b.input_ids[t] == pool_token_id_) {
        at = t;
        if (pool_token_id_ >= 0) break;
      }
    }
    std::copy(hidden + size_t(at) * h, hidden + size_t(at + 1) * h, &pooled[size_t(s) * h]);
  }
  return project_clip_rows(projection_, b.num_sequences, pooled.data(), h, normalize_, pool);
}

}  // namespace sie
