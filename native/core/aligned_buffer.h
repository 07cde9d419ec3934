// Owning, 64-byte aligned float storage (one cache line / one AVX-512 register), zero-filled.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

namespace sie {

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t count) { resize(count); }

  void resize(size_t count) {
    if (count <= capacity_) {
      size_ = count;
      return;
    }
    size_t bytes = ((count * sizeof(float) + 63) / 64) * 64;
    float* raw = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!raw) throw std::bad_alloc();
    std::memset(raw, 0, bytes);
    data_.reset(raw);
    size_ = capacity_ = count;
  }
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  size_t size() const { return size_; }
  size_t bytes() const { return capacity_ * sizeof(float); }

 private:
  struct FreeDeleter {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, FreeDeleter> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace sie
