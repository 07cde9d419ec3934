// cuBLASLt, loaded at run time with dlopen and never linked: a per-shape alternative to our own
// GEMM that the chooser (gemm_selector.h) takes only where it measures faster and agrees with
// ours. The declarations below are the few entry points and constants of cuBLASLt's public C
// API (cublasLt.h, CUDA 13) that we call; the header is not needed to build.
// Semantics match sie_cuda::gemm: y = act(x . w^T + bias) + residual, computed as
// D = W^T-op . X (column-major view of row-major buffers), C = residual with beta = 1; the bias
// in cuBLASLt's epilogue when there is no activation (and its heuristic offers that epilogue),
// else bias and activation in our own in-place pass. Not for the SPLADE fold or act with residual.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include <array>
#include <map>
#include <mutex>
#include <string>

#include "../kernels/kernels.h"

namespace sie {

class CublasLt {
 public:
  // The process's cuBLASLt, or null where libcublasLt.so.13 cannot be loaded (SIE_CUBLASLT may
  // name the file, or be "off"). Says why once, in unavailable_reason().
  static CublasLt* instance();
  static const std::string& unavailable_reason();
  // Whether run() can compute these arguments.
  static bool supports(sie_cuda::DType dtype, const sie_cuda::GemmArgs& args);
  // Enqueues the product on `stream`; cudaErrorNotSupported where cuBLASLt refuses the shape.
  cudaError_t run(sie_cuda::DType dtype, const sie_cuda::GemmArgs& args, cudaStream_t stream);

 private:
  CublasLt() = default;
  bool load(std::string& why);
  void clear_plans();
  struct Api;
  // Descriptors and the heuristic's algorithm per shape, made once: the heuristic query costs
  // tens of microseconds of host time, too much per call.
  struct Plan {
    void* desc = nullptr;
    void* a = nullptr;
    void* b = nullptr;
    void* c = nullptr;
    void* d = nullptr;
    struct {
      uint64_t data[8];
    } algo{};
    bool usable = false;
    bool bias_epilogue = false;  // the bias is added by cuBLASLt, not by our pass
  };
  Plan make_plan(int type, const sie_cuda::GemmArgs& args, int ldc, bool bias_epilogue);
  void destroy_plan(Plan& plan);
  Api* api_ = nullptr;
  void* handle_ = nullptr;
  std::mutex mutex_;
  std::map<std::array<int64_t, 8>, Plan> plans_;
  std::map<cudaStream_t, void*> workspaces_;
};

}  // namespace sie
