#include "device_upload.h"

namespace sie {

DeviceBuffer upload_f32(const std::vector<float>& host) {
  DeviceBuffer buffer(host.size() * sizeof(float));
  check_cuda(cudaMemcpy(buffer.data(), host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice), "weight upload");
  return buffer;
}

DeviceBuffer upload_as(sie_cuda::DType dtype, const std::vector<float>& host) {
  if (dtype == sie_cuda::DType::F32) return upload_f32(host);
  DeviceBuffer staging = upload_f32(host);
  DeviceBuffer buffer(host.size() * size_t(sie_cuda::dtype_size(dtype)));
  check_cuda(sie_cuda::convert_from_float(dtype, static_cast<const float*>(staging.data()), buffer.data(),
                                          int64_t(host.size()), nullptr),
             "weight conversion");
  check_cuda(cudaDeviceSynchronize(), "weight conversion");
  return buffer;
}

}  // namespace sie
