// Where a forward pass spends its GPU time, by kind of step (GEMM shapes, attention, LayerNorm,
// embeddings, heads), for tuning: SIE_CUDA_PHASES=1 records a CUDA event after every step of
// each forward pass, sums the gaps per step name, and prints the totals to stderr at exit.
// Off by default: each recorded pass waits for its stream to finish.
#pragma once
#include <cuda_runtime.h>

#include <string>
#include <vector>

namespace sie {

class PhaseRecorder {
 public:
  explicit PhaseRecorder(cudaStream_t stream);
  ~PhaseRecorder();
  static bool enabled();
  // Closes the step that began at the previous mark (or at construction) under `name`.
  void mark(const char* name);

 private:
  cudaStream_t stream_;
  std::vector<std::pair<std::string, cudaEvent_t>> marks_;
};

}  // namespace sie
