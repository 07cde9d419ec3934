// Owning handles for device memory and pinned (page-locked) host memory. Pinned buffers let
// cudaMemcpyAsync overlap with kernels of another stream; pageable memory would serialise.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

#include "cuda_status.h"

namespace sie {

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes) { resize(bytes); }
  ~DeviceBuffer() { release(); }
  DeviceBuffer(DeviceBuffer&& other) noexcept : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // Grows to at least `bytes` (contents are not kept); never shrinks.
  void reserve(size_t bytes) {
    if (bytes > bytes_) resize(bytes);
  }
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  void resize(size_t bytes) {
    release();
    check_cuda(cudaMalloc(&data_, bytes == 0 ? 16 : bytes), "cudaMalloc");
    bytes_ = bytes;
  }
  void release() {
    if (data_) cudaFree(data_);
    data_ = nullptr;
    bytes_ = 0;
  }
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  ~PinnedBuffer() {
    if (data_) cudaFreeHost(data_);
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  void reserve(size_t bytes) {
    if (bytes <= bytes_) return;
    if (data_) cudaFreeHost(data_);
    data_ = nullptr;
    bytes_ = 0;
    check_cuda(cudaMallocHost(&data_, bytes), "cudaMallocHost");
    bytes_ = bytes;
  }
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace sie
