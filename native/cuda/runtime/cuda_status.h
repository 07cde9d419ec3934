// CUDA return codes to EngineError, so a GPU failure crosses N-API as a typed JS error:
// allocation failures are OUT_OF_MEMORY (the model splits the batch and retries), a missing
// driver or device is DEVICE_UNAVAILABLE, anything else INTERNAL with CUDA's own words.
#pragma once
#include <cuda_runtime.h>

#include <string>

#include "../../core/engine_error.h"

namespace sie {

inline ErrorCode cuda_error_code(cudaError_t status) {
  switch (status) {
    case cudaErrorMemoryAllocation: return ErrorCode::OutOfMemory;
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorInvalidDevice:
    case cudaErrorDevicesUnavailable:
    case cudaErrorNoKernelImageForDevice: return ErrorCode::DeviceUnavailable;
    default: return ErrorCode::Internal;
  }
}

inline void check_cuda(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clear a sticky-free error so the next call starts clean
  const ErrorCode code = cuda_error_code(status);
  const std::string prefix = code == ErrorCode::OutOfMemory ? "CUDA out of memory" : "CUDA error";
  throw EngineError(code, prefix + " in " + what + ": " + cudaGetErrorString(status));
}

}  // namespace sie
