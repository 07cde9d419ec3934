#include "weight_store.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>

#include "../core/engine_error.h"
#include "safetensors.h"
#include "sharded_weights.h"
#include "torch_checkpoint.h"
#include "zip_archive.h"

namespace sie {
namespace {

void bad_weights(const std::string& path, const std::string& what) { throw_bad_weights(path, what); }

}  // namespace

void throw_bad_weights(const std::string& path, const std::string& what) {
  throw EngineError(ErrorCode::BadWeights, path + ": " + what);
}

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F64: case DType::I64: return 8;
    case DType::F32: case DType::I32: return 4;
    case DType::F16: case DType::BF16: case DType::I16: return 2;
    default: return 1;
  }
}

const char* dtype_name(DType dtype) {
  static const char* kNames[] = {"F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL"};
  return kNames[int(dtype)];
}

std::unique_ptr<WeightStore> open_weights(const std::string& path) {
  const std::string index_suffix = ".index.json";
  if (path.size() > index_suffix.size() && path.compare(path.size() - index_suffix.size(), index_suffix.size(), index_suffix) == 0)
    return std::make_unique<ShardedWeights>(path);
  uint8_t magic[4] = {0, 0, 0, 0};
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    const size_t got = std::fread(magic, 1, 4, f);
    std::fclose(f);
    if (looks_like_zip(magic, got) || (got >= 2 && magic[0] == 0x80 && magic[1] <= 5)) return std::make_unique<TorchCheckpointFile>(path);
  }
  return std::make_unique<SafetensorsFile>(path);
}

const TensorView& WeightStore::get(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) bad_weights(path_, "missing tensor '" + name + "'");
  return it->second;
}

int64_t TensorView::element_count() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

MappedFile::MappedFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) bad_weights(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    bad_weights(path, "not a regular file");
  }
  size_ = size_t(st.st_size);
  if (size_ > 0) {
    void* mapped = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapped == MAP_FAILED) {
      ::close(fd);
      bad_weights(path, std::string("mmap failed: ") + std::strerror(errno));
    }
    data_ = static_cast<const uint8_t*>(mapped);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1F;
  uint32_t mantissa = h & 0x3FF;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      exponent = 127 - 15 + 1;
      while (!(mantissa & 0x400)) {
        mantissa <<= 1;
        --exponent;
      }
      bits = sign | (exponent << 23) | ((mantissa & 0x3FF) << 13);
    }
  } else if (exponent == 31) {
    bits = sign | 0x7F800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

float bf16_to_f32(uint16_t h) {
  const uint32_t bits = uint32_t(h) << 16;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

std::vector<float> tensor_to_f32(const TensorView& tensor) {
  const size_t n = size_t(tensor.element_count());
  std::vector<float> out(n);
  switch (tensor.dtype) {
    case DType::F32:
      if (n > 0) std::memcpy(out.data(), tensor.data, n * 4);  // an empty vector's data() may be null
      break;
    case DType::F16:
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t bits;
        std::memcpy(&bits, tensor.data + 2 * i, 2);
        out[i] = tensor.dtype == DType::F16 ? f16_to_f32(bits) : bf16_to_f32(bits);
      }
      break;
    case DType::F64:
      for (size_t i = 0; i < n; ++i) {
        double v;
        std::memcpy(&v, tensor.data + 8 * i, 8);
        out[i] = float(v);
      }
      break;
    default:
      throw EngineError(ErrorCode::BadWeights, "tensor '" + tensor.name + "' is not a floating-point tensor");
  }
  return out;
}

}  // namespace sie
