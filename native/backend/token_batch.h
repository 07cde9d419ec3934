// A padding-free batch: the token ids of every sequence back to back, with offsets[s] ..
// offsets[s+1] the rows of sequence s. Views only; the caller owns the memory. This is what every
// backend's Model runs.
#pragma once
#include <algorithm>
#include <cstdint>

namespace sie {

// Which outputs a multi-output head computes for a batch (single-output heads ignore it).
enum OutputMask : uint32_t { kDenseOutput = 1, kSparseOutput = 2, kMultivectorOutput = 4, kAllOutputs = 7 };

struct TokenBatch {
  const int32_t* input_ids = nullptr;
  const int32_t* token_type_ids = nullptr;  // may be null: all zero
  const int32_t* offsets = nullptr;         // num_sequences + 1 entries
  int num_tokens = 0;
  int num_sequences = 0;
  uint32_t outputs = kAllOutputs;  // OutputMask bits
  int max_length() const {
    int longest = 0;
    for (int s = 0; s < num_sequences; ++s) longest = std::max(longest, offsets[s + 1] - offsets[s]);
    return longest;
  }
};

}  // namespace sie
