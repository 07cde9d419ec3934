// Which kernel computes a GEMM of a given shape: chosen by measurement, once per shape, on the
// first batch that needs it. The candidates are our mma.sync kernels (128x128, 64x64 and
// 128x256 tiles), on Hopper our wgmma + TMA kernels (128x128 and 128x256 tiles, and the 128x128
// tile with persistent blocks, cooperative and ping-pong), and, where
// libcublasLt.so.13 loads and supports the epilogue, cuBLASLt. A winner other than the mma.sync
// kernels is taken only if it also agrees with the 128x128 mma.sync kernel on sampled rows. Shapes are keyed
// by (device, dtype, m rounded up to a power of two, n, k, epilogue). fp32 has one kernel (SIMT).
// SIE_CUDA_GEMM=auto (default) | ours (our kernels only) | cublaslt (cuBLASLt wherever it can) |
// heuristic (no measurement: gemm()'s own rule). SIE_CUDA_WGMMA=off leaves the wgmma kernels out
// (an operator's escape hatch). The persistent cooperative and ping-pong kernels are candidates
// only with SIE_CUDA_WGMMA_PERSISTENT=on / SIE_CUDA_WGMMA_PINGPONG=on until a GPU check has run
// them (bench/gpu-check.sh turns them on).
// SIE_CUDA_GEMM_LOG=1 prints each choice.
#pragma once
#include <array>
#include <map>
#include <mutex>
#include <string>

#include "../kernels/kernels.h"

namespace sie {

class GemmSelector {
 public:
  static GemmSelector& instance();
  // Runs the product on `stream` with the kernel chosen for its shape; throws EngineError.
  void run(sie_cuda::DType dtype, const sie_cuda::GemmArgs& args, cudaStream_t stream);
  enum class Choice { Ours128, Ours64, Ours256, Hopper128, Hopper256, HopperPersistent128, HopperPingPong128, CublasLt };
  static const char* name(Choice choice);

 private:
  GemmSelector();
  using Key = std::array<int64_t, 8>;
  Choice measure(sie_cuda::DType dtype, const sie_cuda::GemmArgs& args, cudaStream_t stream, const Key& key);
  cudaError_t launch(Choice choice, sie_cuda::DType dtype, const sie_cuda::GemmArgs& args, cudaStream_t stream);
  std::string mode_;
  bool log_ = false;
  bool wgmma_ = true;
  bool wgmma_persistent_ = false;
  bool wgmma_pingpong_ = false;
  std::mutex mutex_;
  std::map<Key, Choice> chosen_;
};

}  // namespace sie
