// What a CUDA model does when a batch does not fit in device memory: split it by sequences into
// two halves, run each (recursively), and join their outputs as if one batch had run. Host-only
// logic, tested without a GPU (test/cuda/host_tests.cpp).
#pragma once
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "../../backend/model_output.h"
#include "../../backend/token_batch.h"

namespace sie {

// A TokenBatch with its own offsets (rebased to 0); ids and types still point into the parent.
struct OwnedBatch {
  std::vector<int32_t> offsets;
  TokenBatch batch;
};

// Sequences [0, half) and [half, n) of a batch of n >= 2 sequences.
std::pair<OwnedBatch, OwnedBatch> split_batch(const TokenBatch& batch);

// The output of `first` followed by `second`, as one batch of both would have produced.
ModelOutput join_outputs(ModelOutput first, const ModelOutput& second);

// run(batch); on EngineError(OUT_OF_MEMORY) with more than one sequence, halves and retries.
ModelOutput run_splitting_on_oom(const TokenBatch& batch, const std::function<ModelOutput(const TokenBatch&)>& run);
// How many batches this process has split after running out of memory (the GPU check reads it).
uint64_t oom_split_count();

}  // namespace sie
