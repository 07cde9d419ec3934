// Where CLIP's text embedding is read: the end-of-text token of each sequence, i.e. the first
// position holding pool_token_id, or, for legacy configs whose eos_token_id is 2 (pool_token_id
// < 0), the position of the largest id, as HF's CLIPTextTransformer does. With no such token,
// position 0 (argmax of all-false). One rule for the tower, which computes its last layer for
// these rows alone, and for the "clip-text" head, which reads them.
#pragma once
#include "../../backend/token_batch.h"

namespace sie {

inline int clip_text_pool_row(const TokenBatch& b, int s, int pool_token_id) {
  int at = b.offsets[s];
  for (int t = b.offsets[s]; t < b.offsets[s + 1]; ++t) {
    if (pool_token_id < 0 ? b.input_ids[t] > b.input_ids[at] : b.input_ids[t] == pool_token_id) {
      at = t;
      if (pool_token_id >= 0) break;
    }
  }
  return at;
}

}  // namespace sie
