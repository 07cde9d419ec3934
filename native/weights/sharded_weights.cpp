#include "sharded_weights.h"

#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

namespace sie {

ShardedWeights::ShardedWeights(const std::string& index_path) : WeightStore(index_path) {
  std::ifstream in(index_path);
  if (!in) throw_bad_weights(index_path, "cannot open the shard index");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json index;
  try {
    index = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw_bad_weights(index_path, std::string("shard index is not valid JSON: ") + e.what());
  }
  const auto map = index.find("weight_map");
  if (!index.is_object() || map == index.end() || !map->is_object() || map->empty())
    throw_bad_weights(index_path, "shard index has no weight_map object");
  const std::string directory = index_path.substr(0, index_path.find_last_of('/') + 1);

  std::map<std::string, std::vector<std::string>> tensors_by_shard;
  for (const auto& [tensor, shard] : map->items()) {
    if (!shard.is_string()) throw_bad_weights(index_path, "weight_map entry '" + tensor + "' is not a file name");
    const std::string file = shard.get<std::string>();
    if (file.empty() || file.find('/') != std::string::npos || file.find('\\') != std::string::npos || file == "." || file == ".." ||
        (file.size() > 11 && file.compare(file.size() - 11, 11, ".index.json") == 0))
      throw_bad_weights(index_path, "weight_map entry '" + tensor + "' names '" + file + "', which is not a shard next to the index");
    tensors_by_shard[file].push_back(tensor);
  }
  for (const auto& [file, names] : tensors_by_shard) {
    shards_.push_back(open_weights(directory + file));
    const WeightStore& shard = *shards_.back();
    for (const std::string& name : names)
      if (!shard.has(name)) throw_bad_weights(index_path, "weight_map puts '" + name + "' in " + file + ", which does not hold it");
    for (const auto& [name, view] : shard.tensors())
      if (!tensors_.emplace(name, view).second) throw_bad_weights(index_path, "tensor '" + name + "' is in more than one shard");
  }
}

}  // namespace sie
