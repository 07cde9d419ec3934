#include "batch_split.h"

#include <atomic>

#include "../../core/engine_error.h"

namespace sie {

std::pair<OwnedBatch, OwnedBatch> split_batch(const TokenBatch& b) {
  const int half = b.num_sequences / 2;
  auto part = [&](int first, int last) {
    OwnedBatch owned;
    const int base = b.offsets[first];
    for (int s = first; s <= last; ++s) owned.offsets.push_back(b.offsets[s] - base);
    owned.batch.input_ids = b.input_ids + base;
    owned.batch.token_type_ids = b.token_type_ids ? b.token_type_ids + base : nullptr;
    owned.batch.offsets = owned.offsets.data();
    owned.batch.num_tokens = b.offsets[last] - base;
    owned.batch.num_sequences = last - first;
    owned.batch.outputs = b.outputs;
    return owned;
  };
  std::pair<OwnedBatch, OwnedBatch> halves{part(0, half), part(half, b.num_sequences)};
  // The vectors moved into the pair: point the views at their new storage.
  halves.first.batch.offsets = halves.first.offsets.data();
  halves.second.batch.offsets = halves.second.offsets.data();
  return halves;
}

ModelOutput join_outputs(ModelOutput first, const ModelOutput& second) {
  if (first.width != second.width || first.sparse_entries != second.sparse_entries || first.parts.size() != second.parts.size())
    throw EngineError(ErrorCode::Internal, "cannot join outputs of different shapes");
  // row_offsets index rows (or sparse entries) of values: the second half's shift by what the
  // first holds.
  const int32_t shift = first.sparse_entries ? int32_t(first.indices.size())
                                             : int32_t(first.width ? first.values.size() / size_t(first.width) : 0);
  if (!first.row_offsets.empty() && !second.row_offsets.empty()) {
    for (size_t i = 1; i < second.row_offsets.size(); ++i) first.row_offsets.push_back(second.row_offsets[i] + shift);
  }
  first.values.insert(first.values.end(), second.values.begin(), second.values.end());
  first.indices.insert(first.indices.end(), second.indices.begin(), second.indices.end());
  for (size_t i = 0; i < first.parts.size(); ++i) {
    if (first.parts[i].name != second.parts[i].name) throw EngineError(ErrorCode::Internal, "cannot join outputs of different parts");
    first.parts[i].output = join_outputs(std::move(first.parts[i].output), second.parts[i].output);
  }
  return first;
}

namespace {
std::atomic<uint64_t> g_oom_splits{0};
}

uint64_t oom_split_count() { return g_oom_splits.load(); }

ModelOutput run_splitting_on_oom(const TokenBatch& batch, const std::function<ModelOutput(const TokenBatch&)>& run) {
  try {
    return run(batch);
  } catch (const EngineError& error) {
    if (error.code() != ErrorCode::OutOfMemory || batch.num_sequences < 2) throw;
  }
  g_oom_splits.fetch_add(1);
  auto halves = split_batch(batch);
  ModelOutput first = run_splitting_on_oom(halves.first.batch, run);
  return join_outputs(std::move(first), run_splitting_on_oom(halves.second.batch, run));
}

}  // namespace sie
