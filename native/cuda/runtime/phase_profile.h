// Where a forward pass spends its GPU time, by kind of step (GEMM shapes, attention, LayerNorm,
// embeddings, heads), for tuning: SIE_CUDA_PHASES=1 records a CUDA event after every step of
// each forward pass, sums the gaps per step name, and prints the totals to stderr at exit.
// Recorded passes run one at a time (a process-wide lock), so no other stream's kernels fall
// between two marks. Off by default: it serialises the stream slots and waits for each pass.
#pragma once
#include <cuda_runtime.h>

#include <mutex>
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
  std::unique_lock<std::mutex> one_at_a_time_;
  cudaStream_t stream_;
  std::vector<std::pair<std::string, cudaEvent_t>> marks_;
};

}  // namespace sie
