// How the encoders cut row-wise and attention work into pool tasks, shared by the BERT and the
// rotary encoders.
#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>

#include "thread_pool.h"

namespace sie {

// Row-wise work (norms, embeddings, residuals) in chunks of rows, so the pool's per-task overhead stays small.
inline void for_row_chunks(ThreadPool& pool, int rows, const std::function<void(int begin, int end)>& fn) {
  constexpr int kRowsPerTask = 16;
  const int64_t tasks = (rows + kRowsPerTask - 1) / kRowsPerTask;
  pool.parallel_for(tasks, [&](int64_t task, int) {
    const int begin = int(task) * kRowsPerTask;
    fn(begin, std::min(rows, begin + kRowsPerTask));
  });
}

// Query rows per attention block of a causal model: block [q, q + 64) sees keys [0, q + 64).
constexpr int kCausalQueryBlock = 64;

// Query rows per attention block when each row sees `keys` keys: a worker's scores stay within
// 512 Ki floats (2 MiB) beyond a 16-row minimum, whatever the sequence length, so no seq x seq
// matrix is ever held.
inline int attention_query_block(int longest, int keys) {
  constexpr int64_t kScoreTileFloats = 512 * 1024;
  constexpr int kMinQueryBlock = 16;
  return std::max(kMinQueryBlock, std::min(longest, int(kScoreTileFloats / std::max(1, keys))));
}

}  // namespace sie
