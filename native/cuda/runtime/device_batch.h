// One batch's index arrays on the device (in the arena's inputs region), with the host batch
// they came from. Built by CudaModel from a TokenBatch; read by the encoder and the heads.
#pragma once
#include <cstdint>

#include "../../backend/token_batch.h"

namespace sie {

struct DeviceBatch {
  const TokenBatch* host = nullptr;
  int tokens = 0, sequences = 0, max_length = 0;
  const int32_t* ids = nullptr;
  const int32_t* types = nullptr;         // null: every token has type 0
  const int32_t* positions = nullptr;     // BERT 0..n-1, RoBERTa padding_idx + 1.. (per sequence)
  const int32_t* row_sequence = nullptr;  // the sequence of every token
  const int32_t* offsets = nullptr;
  const int32_t* first_rows = nullptr;    // offsets[s] per sequence (the CLS rows)
  const int32_t* block_sequence = nullptr;  // the attention kernel's work list
  const int32_t* block_query = nullptr;
  int blocks = 0;
};

}  // namespace sie
