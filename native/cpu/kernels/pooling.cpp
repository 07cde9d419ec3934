#include "pooling.h"

#include <algorithm>
#include <cmath>

namespace sie {

void pool_sequences(const float* tokens, const int32_t* offsets, int num_sequences, int hidden, PoolingMode mode,
                    float* out) {
  for (int s = 0; s < num_sequences; ++s) {
    const int begin = offsets[s], end = offsets[s + 1];
    float* dst = out + int64_t(s) * hidden;
    if (mode == PoolingMode::Cls || mode == PoolingMode::LastToken) {
      const int row = mode == PoolingMode::Cls ? begin : end - 1;
      std::copy(tokens + int64_t(row) * hidden, tokens + int64_t(row + 1) * hidden, dst);
      continue;
    }
    std::fill(dst, dst + hidden, 0.0f);
    for (int t = begin; t < end; ++t) {
      const float* src = tokens + int64_t(t) * hidden;
      for (int h = 0; h < hidden; ++h) dst[h] += src[h];
    }
    const float inv = 1.0f / float(std::max(1, end - begin));
    for (int h = 0; h < hidden; ++h) dst[h] *= inv;
  }
}

void l2_normalize_rows(float* x, int rows, int cols) {
  for (int r = 0; r < rows; ++r) {
    float* row = x + int64_t(r) * cols;
    double sum = 0;
    for (int c = 0; c < cols; ++c) sum += double(row[c]) * row[c];
    // torch's F.normalize divides by max(norm, 1e-12).
    const float inv = float(1.0 / std::max(std::sqrt(sum), 1e-12));
    for (int c = 0; c < cols; ++c) row[c] *= inv;
  }
}

}  // namespace sie
