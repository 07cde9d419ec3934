// What a Model's forward returns, whatever the backend. Dense results are rows of `width`
// values, one per sequence or per token; sparse results (SPLADE) put row i's entries at
// [row_offsets[i], row_offsets[i+1]) of indices/values. Always host memory.
#pragma once
#include <cstdint>
#include <vector>

namespace sie {

struct ModelOutput {
  std::vector<float> values;
  std::vector<int32_t> indices;
  std::vector<int32_t> row_offsets;
  int width = 0;
};

}  // namespace sie
