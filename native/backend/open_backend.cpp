#include <string>

#include "../core/engine_error.h"
#include "../cpu/cpu_backend.h"
#include "backend.h"

namespace sie {

std::unique_ptr<Backend> open_backend(const BackendOptions& options) {
  if (options.device == "cpu") return std::make_unique<CpuBackend>(options.threads);
  if (options.device == "cuda" || options.device.rfind("cuda:", 0) == 0)
    throw EngineError(ErrorCode::DeviceUnavailable, "this build of sie-server has no CUDA backend yet; use --device cpu");
  throw EngineError(ErrorCode::InvalidArgument, "unknown device '" + options.device + "' (known: cpu, cuda, cuda:N)");
}

}  // namespace sie
