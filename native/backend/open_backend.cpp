#include <string>

#include "../core/engine_error.h"
#include "../cpu/cpu_backend.h"
#include "backend.h"
#ifdef SIE_WITH_CUDA_BACKEND
#include "../cuda/runtime/cuda_backend.h"
#endif

namespace sie {

std::unique_ptr<Backend> open_backend(const BackendOptions& options) {
  if (options.device == "cpu") return std::make_unique<CpuBackend>(options.threads);
  if (options.device == "cuda" || options.device.rfind("cuda:", 0) == 0) {
#ifdef SIE_WITH_CUDA_BACKEND
    return std::make_unique<CudaBackend>(options.device, options.threads, options.workspace_tokens);
#else
    throw EngineError(ErrorCode::DeviceUnavailable,
                      "this build of sie-server is CPU-only; install the CUDA build (README: GPU) to use --device cuda");
#endif
  }
  throw EngineError(ErrorCode::InvalidArgument, "unknown device '" + options.device + "' (known: cpu, cuda, cuda:N)");
}

}  // namespace sie
