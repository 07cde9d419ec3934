// What every encoder checks of a batch before touching memory with it: offsets that span the
// tokens, non-empty sequences within the model's length, ids inside the vocabulary and type ids
// inside the type table. Throws EngineError(INVALID_INPUT) naming the first problem.
#pragma once
#include <string>

#include "../backend/token_batch.h"
#include "../core/engine_error.h"

namespace sie {

// type_vocab_size 0: the model has no token types (type ids are not read).
inline void validate_token_batch(const TokenBatch& b, int max_length, int vocab_size, int type_vocab_size) {
  auto invalid = [](const std::string& what) { throw EngineError(ErrorCode::InvalidInput, what); };
  if (b.num_sequences <= 0) invalid("batch has no sequences");
  if (b.offsets[0] != 0 || b.offsets[b.num_sequences] != b.num_tokens) invalid("offsets do not span the token array");
  for (int s = 0; s < b.num_sequences; ++s) {
    const int length = b.offsets[s + 1] - b.offsets[s];
    if (length <= 0) invalid("sequence " + std::to_string(s) + " is empty");
    if (length > max_length)
      invalid("sequence " + std::to_string(s) + " has " + std::to_string(length) + " tokens, more than the model's " +
              std::to_string(max_length) + " positions");
  }
  for (int t = 0; t < b.num_tokens; ++t) {
    if (b.input_ids[t] < 0 || b.input_ids[t] >= vocab_size)
      invalid("token id " + std::to_string(b.input_ids[t]) + " is outside the vocabulary of " + std::to_string(vocab_size));
    if (type_vocab_size > 0 && b.token_type_ids && (b.token_type_ids[t] < 0 || b.token_type_ids[t] >= type_vocab_size))
      invalid("token type id " + std::to_string(b.token_type_ids[t]) + " is out of range");
  }
}

}  // namespace sie
