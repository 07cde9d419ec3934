// libFuzzer target: the safetensors header parser (length bound, JSON, dtypes, shapes, offsets,
// overlaps) on arbitrary bytes. Any input must parse or throw EngineError; ASan and UBSan catch
// the rest. Built and run by test/fuzz-native.test.ts (see test/fuzz/README.md).
#include <cstdint>
#include <map>

#include "../../native/core/engine_error.h"
#include "../../native/weights/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::map<std::string, sie::TensorView> tensors;
  try {
    sie::parse_safetensors(data, size, "fuzz", tensors);
    for (const auto& [name, view] : tensors)
      if (view.dtype == sie::DType::F32 || view.dtype == sie::DType::F16 || view.dtype == sie::DType::BF16) (void)sie::tensor_to_f32(view);
  } catch (const sie::EngineError&) {
  }
  return 0;
}
