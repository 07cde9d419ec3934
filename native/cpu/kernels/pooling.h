// Sentence pooling over a padding-free batch: sequence s owns rows [offsets[s], offsets[s+1]) of
// the token matrix. Each function also has its CUDA twin in native/cuda/ where one exists.
#pragma once
#include <cstdint>

namespace sie {

enum class PoolingMode { Mean, Cls, LastToken };

// out[s] = pool(tokens of sequence s); out is [num_sequences, hidden].
void pool_sequences(const float* tokens, const int32_t* offsets, int num_sequences, int hidden, PoolingMode mode,
                    float* out);
// Each row becomes a unit vector (rows of zeros stay zero, as torch.nn.functional.normalize does).
void l2_normalize_rows(float* x, int rows, int cols);

}  // namespace sie
