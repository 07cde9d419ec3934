// libFuzzer target: the torch zip reader (central directory, zip64, local headers) and the
// restricted unpickler (opcodes, memo, marks, allowed globals, storages, tensor views) on
// arbitrary bytes. Any input must parse or throw EngineError; ASan and UBSan catch the rest.
#include <cstdint>
#include <map>
#include <vector>

#include "../../native/core/engine_error.h"
#include "../../native/weights/torch_checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::map<std::string, sie::TensorView> tensors;
  std::vector<std::vector<uint8_t>> gathered;
  try {
    sie::parse_torch_checkpoint(data, size, "fuzz", tensors, gathered);
    for (const auto& [name, view] : tensors)
      if (view.dtype == sie::DType::F32 || view.dtype == sie::DType::F16 || view.dtype == sie::DType::BF16) (void)sie::tensor_to_f32(view);
  } catch (const sie::EngineError&) {
  }
  return 0;
}
