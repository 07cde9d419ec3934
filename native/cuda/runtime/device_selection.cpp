#include "device_selection.h"

#include <cuda_runtime.h>

#include <cctype>

#include "../../core/engine_error.h"

namespace sie {

int parse_cuda_device(const std::string& device) {
  if (device == "cuda") return 0;
  const std::string prefix = "cuda:";
  const std::string index = device.rfind(prefix, 0) == 0 ? device.substr(prefix.size()) : "";
  bool digits = !index.empty() && index.size() <= 4;
  for (char c : index) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (!digits) throw EngineError(ErrorCode::InvalidArgument, "device must be 'cuda' or 'cuda:N', got '" + device + "'");
  return std::stoi(index);
}

CudaDeviceInfo open_cuda_device(int index) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess || count == 0) {
    cudaGetLastError();
    // cudart reports a missing libcuda.so.1 as an "insufficient" driver: say what it means.
    const std::string why = status == cudaSuccess ? "none present"
                            : status == cudaErrorInsufficientDriver
                                ? "no NVIDIA driver for CUDA 13 (libcuda.so.1 missing or older than 580)"
                                : cudaGetErrorString(status);
    throw EngineError(ErrorCode::DeviceUnavailable, "no usable CUDA device: " + why);
  }
  if (index >= count)
    throw EngineError(ErrorCode::DeviceUnavailable,
                      "cuda:" + std::to_string(index) + " does not exist (this machine has " + std::to_string(count) + ")");
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, index) != cudaSuccess)
    throw EngineError(ErrorCode::DeviceUnavailable, "cannot read the properties of cuda:" + std::to_string(index));
  if (prop.major < 8)
    throw EngineError(ErrorCode::DeviceUnavailable, std::string(prop.name) + " is sm_" + std::to_string(prop.major) +
                                                        std::to_string(prop.minor) + "; sie-server's CUDA kernels need sm_80 or newer");
  return {index, prop.name, prop.major, prop.minor, prop.totalGlobalMem};
}

}  // namespace sie
