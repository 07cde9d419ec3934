// The tensors of one checkpoint, whatever file format holds them: safetensors, a torch zip
// (`pytorch_model.bin`, `*.pt`, read by a restricted unpickler), or a sharded checkpoint (an
// `*.index.json` naming several files of either kind). Loaders ask for tensors by name and never
// see the format. Every view stays valid while the store is alive.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sie {

enum class DType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, Bool };

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);  // safetensors' spelling: "F32", "BF16", ...

struct TensorView {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const uint8_t* data;  // contiguous, row-major; owned by the store
  size_t byte_length;
  int64_t element_count() const;
};

class WeightStore {
 public:
  virtual ~WeightStore() = default;
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  // BAD_WEIGHTS naming the tensor and the file when it is absent.
  const TensorView& get(const std::string& name) const;
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const std::string& path() const { return path_; }

 protected:
  explicit WeightStore(std::string path) : path_(std::move(path)) {}
  std::string path_;
  std::map<std::string, TensorView> tensors_;
};

// A read-only mapping of a whole file.
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

// Opens a checkpoint file by what it is: `*.index.json` is a sharded checkpoint, a file starting
// with a zip signature a torch checkpoint, anything else safetensors. Throws BAD_WEIGHTS.
std::unique_ptr<WeightStore> open_weights(const std::string& path);

// Copies a tensor of any float dtype into fp32 (F16 and BF16 widened exactly, F64 rounded).
std::vector<float> tensor_to_f32(const TensorView& tensor);
float f16_to_f32(uint16_t bits);
float bf16_to_f32(uint16_t bits);

[[noreturn]] void throw_bad_weights(const std::string& path, const std::string& what);

}  // namespace sie
