// What a Model's forward returns, whatever the backend. Dense results are rows of `width`
// values: one per sequence, one per token, or, where row_offsets is set without indices,
// rows [row_offsets[i], row_offsets[i+1]) for sequence i. Sparse results (SPLADE) put sequence
// i's entries at [row_offsets[i], row_offsets[i+1]) of indices/values. A multi-output head
// (bge-m3) leaves the top level empty and returns one named part per output computed. Always
// host memory.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sie {

struct NamedOutput;

struct ModelOutput {
  std::vector<float> values;
  std::vector<int32_t> indices;
  std::vector<int32_t> row_offsets;
  int width = 0;
  bool sparse_entries = false;  // row_offsets index entries of indices/values, not rows of `width`
  std::vector<NamedOutput> parts;
};

struct NamedOutput {
  std::string name;  // "dense" | "sparse" | "multivector"
  ModelOutput output;
};

}  // namespace sie
