// Weights to the device in the storage dtype: fp32 host tensors (as read by native/weights)
// are copied once and converted on the GPU, so a 1 GB embedding table costs no host-side copy
// per dtype.
#pragma once
#include <vector>

#include "../kernels/kernels.h"
#include "device_buffer.h"

namespace sie {

DeviceBuffer upload_as(sie_cuda::DType dtype, const std::vector<float>& host);
DeviceBuffer upload_f32(const std::vector<float>& host);

}  // namespace sie
