// "--device cuda" / "cuda:N" to a device index, and the checks that make a device usable:
// a driver (libcuda is loaded by the statically linked runtime only when first needed, so this
// build loads on machines without one), the device's existence, and sm_80 or newer (the
// tensor-core kernels use mma.sync bf16 and cp.async).
#pragma once
#include <cstddef>
#include <string>

namespace sie {

// 0 for "cuda", N for "cuda:N"; INVALID_ARGUMENT for anything else.
int parse_cuda_device(const std::string& device);

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  int major = 0, minor = 0;
  size_t total_bytes = 0;
};

// DEVICE_UNAVAILABLE, saying why, where the device cannot run this build's kernels.
CudaDeviceInfo open_cuda_device(int index);

}  // namespace sie
