// Which rows of an encoder's last hidden state its head reads. A head that reads one row per
// sequence (CLS pooling and sequence classifiers read the first, last-token pooling the last,
// bge-m3's dense output by itself the first) lets the encoder run its last layer past attention
// for those rows only: nothing else of that layer's output is ever read, and on a 6-layer
// reranker it is a sixth of the work.
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

#include "../backend/token_batch.h"

namespace sie {

enum class HiddenRows { All, FirstOfEachSequence, LastOfEachSequence };

// The row each sequence's head reads (empty for All, or where every row is read anyway: a batch of
// one-token sequences).
inline std::vector<int32_t> rows_read_per_sequence(const TokenBatch& b, HiddenRows rows) {
  if (rows == HiddenRows::All || b.num_tokens == b.num_sequences) return {};
  std::vector<int32_t> picked(size_t(b.num_sequences));
  for (int s = 0; s < b.num_sequences; ++s) picked[size_t(s)] = rows == HiddenRows::FirstOfEachSequence ? b.offsets[s] : b.offsets[s + 1] - 1;
  return picked;
}

// Moves row picked[s] to row s for every sequence, in place. picked[s] >= s (one row per
// sequence, in order), and rows are taken in order, so no row is overwritten before it is read.
template <class T>
void gather_rows(T* rows, int64_t ld, const std::vector<int32_t>& picked) {
  for (size_t s = 0; s < picked.size(); ++s)
    if (picked[s] != int32_t(s)) std::memcpy(rows + int64_t(s) * ld, rows + int64_t(picked[s]) * ld, size_t(ld) * sizeof(T));
}

// The inverse: row s back to row picked[s], last first for the same reason.
template <class T>
void scatter_rows(T* rows, int64_t ld, const std::vector<int32_t>& picked) {
  for (size_t s = picked.size(); s-- > 0;)
    if (picked[s] != int32_t(s)) std::memcpy(rows + int64_t(picked[s]) * ld, rows + int64_t(s) * ld, size_t(ld) * sizeof(T));
}

}  // namespace sie
