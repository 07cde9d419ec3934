// A sharded checkpoint: `model.safetensors.index.json` or `pytorch_model.bin.index.json`, whose
// weight_map names the shard holding each tensor. Shards are opened once each (either format),
// must sit next to the index, and must hold every tensor the map assigns them; a tensor in two
// shards is BAD_WEIGHTS.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "weight_store.h"

namespace sie {

class ShardedWeights : public WeightStore {
 public:
  explicit ShardedWeights(const std::string& index_path);

 private:
  std::vector<std::unique_ptr<WeightStore>> shards_;
};

}  // namespace sie
