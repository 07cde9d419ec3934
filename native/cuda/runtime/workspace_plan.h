// Where one forward pass keeps its activations: a single device arena per stream slot, carved
// into aligned regions. Pure host arithmetic (tested without a GPU in test/cuda/host_tests.cpp):
// the model reserves plan_workspace(token budget) at load, so a batch within the budget never
// allocates, and a larger one grows the arena once.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../../backend/encoder_config.h"

namespace sie {

struct WorkspacePlan {
  // Byte offsets into the arena. Activations are in the storage dtype.
  size_t inputs = 0;        // int32: ids, types, positions, row_sequence (tokens each), offsets
                            // (sequences + 1), attention blocks (2 x blocks), gather rows (sequences)
  size_t hidden = 0;        // [tokens, hidden]
  size_t scratch = 0;       // [tokens, hidden]: projections before their LayerNorm
  size_t qkv = 0;           // [tokens, 3 * hidden]
  size_t context = 0;       // [tokens, hidden]
  size_t intermediate = 0;  // [tokens, intermediate]
  size_t head = 0;          // the head's own bytes (CudaHead::workspace_bytes)
  size_t total = 0;
  int32_t input_capacity = 0;  // int32 slots in the inputs region
};

constexpr size_t kArenaAlignment = 256;
// Blocks of 64 query rows never outnumber tokens + sequences (one partial block per sequence).
inline int64_t attention_block_bound(int tokens, int sequences) { return int64_t(tokens) / 64 + sequences; }

WorkspacePlan plan_workspace(const EncoderConfig& config, int dtype_bytes, int tokens, int sequences, size_t head_bytes);

}  // namespace sie
