// The last step of both CLIP towers: pooled rows through the tower's projection (text_projection
// or visual_projection), L2-normalised unless the model was loaded with normalize off.
#pragma once
#include "../../backend/model_output.h"
#include "../gemm/packed_linear.h"
#include "../kernels/pooling.h"

namespace sie {

inline ModelOutput project_clip_rows(const PackedLinear& projection, int rows, const float* pooled, int hidden, bool normalize,
                                     ThreadPool& pool) {
  ModelOutput out;
  out.width = projection.out_features;
  out.values.resize(size_t(rows) * projection.out_features);
  linear_forward(projection, rows, pooled, hidden, out.values.data(), projection.out_features, &pool);
  if (normalize) l2_normalize_rows(out.values.data(), rows, projection.out_features);
  return out;
}

}  // namespace sie
