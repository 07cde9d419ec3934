// GPU L2 normalisation of rows, the CUDA twin of sie::l2_normalize_rows (native/kernels/pooling.h).
#pragma once

namespace sie_cuda {

// x is device memory, [rows, cols]; each row becomes a unit vector (zero rows stay zero).
// Returns a cudaError_t value as int so that callers need no CUDA headers.
int l2_normalize_rows(float* x, int rows, int cols, void* stream);

}  // namespace sie_cuda
