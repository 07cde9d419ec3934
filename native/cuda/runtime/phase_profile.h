// Where an encoder forward pass spends its GPU time, by kind of step (embeddings, each GEMM of a
// layer, attention, LayerNorm), for tuning: SIE_CUDA_PHASES=1 records a CUDA event after every step of
// each forward pass, sums the gaps per step name (GPU time, and the host's time to enqueue the
// step), and prints the totals to stderr at exit.
// Recorded passes run one at a time (a process-wide lock), so no other stream's kernels fall
// between two marks. Off by default: it serialises the stream slots and waits for each pass.
// A driver discards its warm-up passes with PhaseRecorder::reset(): the first pass of each shape
// holds one-time work inside its GEMM steps (the GEMM chooser timing every candidate, loading
// cuBLASLt and each kernel's module), all of it in whichever step met it first.
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
  // Forgets the totals recorded so far (the warm-up passes).
  static void reset();
  // Closes the step that began at the previous mark (or at construction) under `name`.
  void mark(const char* name);

 private:
  std::unique_lock<std::mutex> one_at_a_time_;
  cudaStream_t stream_;
  struct Mark {
    std::string name;
    cudaEvent_t event;
    double host_ms;  // when the host recorded it
  };
  std::vector<Mark> marks_;
};

}  // namespace sie
