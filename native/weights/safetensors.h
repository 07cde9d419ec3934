// A memory-mapped safetensors file. The header is parsed with nlohmann/json and validated
// completely before any tensor is handed out: header length bound, JSON shape, known dtypes,
// shape x dtype size == byte length, offsets inside the file, no overlapping tensors. Any
// violation is EngineError(BAD_WEIGHTS) naming the tensor.
#pragma once
#include <string>

#include "weight_store.h"

namespace sie {

// The parser itself, over bytes in memory (the fuzzers call it directly); views point into `bytes`.
void parse_safetensors(const uint8_t* bytes, size_t size, const std::string& path, std::map<std::string, TensorView>& tensors);

class SafetensorsFile : public WeightStore {
 public:
  explicit SafetensorsFile(const std::string& path);

 private:
  MappedFile file_;
};

}  // namespace sie
