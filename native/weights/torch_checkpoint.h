// A torch.save zip checkpoint (`pytorch_model.bin`, bge-m3's `colbert_linear.pt`): data.pkl read
// by the restricted unpickler with torch's weights-only allowlist (OrderedDict, tensor and
// parameter rebuilds, typed storages), storages mapped in place from the archive. The result
// must be a flat dict of name -> tensor. Strided views are copied out contiguous; a storage
// whose entry size disagrees with its element count, a view past its storage, or anything the
// allowlist refuses is BAD_WEIGHTS. The legacy (pre-1.6, non-zip) format is refused by name.
#pragma once
#include <string>
#include <vector>

#include "weight_store.h"

namespace sie {

// The reader itself, over bytes in memory (the fuzzers call it directly): views point into `bytes`
// or into `gathered` (strided tensors copied out).
void parse_torch_checkpoint(const uint8_t* bytes, size_t size, const std::string& path, std::map<std::string, TensorView>& tensors,
                            std::vector<std::vector<uint8_t>>& gathered);

class TorchCheckpointFile : public WeightStore {
 public:
  explicit TorchCheckpointFile(const std::string& path);

 private:
  MappedFile file_;
  std::vector<std::vector<uint8_t>> gathered_;  // strided tensors, made contiguous
};

}  // namespace sie
