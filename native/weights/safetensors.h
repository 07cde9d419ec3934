// Memory-mapped safetensors file. The header is parsed with nlohmann/json and validated completely before any tensor is
// handed out: header length bound, JSON shape, known dtypes, shape x dtype size == byte length,
// offsets inside the file, no overlapping tensors. Any violation is EngineError(BAD_WEIGHTS)
// naming the tensor.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sie {

enum class DType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, Bool };

struct TensorView {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const uint8_t* data;  // into the mapping; valid while the file is open
  size_t byte_length;
  int64_t element_count() const;
};

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  const TensorView& get(const std::string& name) const;
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  MappedFile file_;
  std::map<std::string, TensorView> tensors_;
};

// Copies a tensor of any float dtype into fp32 (F16 and BF16 widened exactly).
std::vector<float> tensor_to_f32(const TensorView& tensor);
float f16_to_f32(uint16_t bits);
float bf16_to_f32(uint16_t bits);

}  // namespace sie
