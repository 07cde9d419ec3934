// What every backend keeps of the models it loaded: weak references, so a model unloaded by the
// registry frees itself, and the sum of the memory of those still alive for Backend::memory().
#pragma once
#include <memory>
#include <vector>

namespace sie {

// Bytes of weights and workspace of the models still alive; drops the expired references.
// The caller holds the lock that guards `models`.
template <typename M>
size_t live_model_bytes(std::vector<std::weak_ptr<M>>& models) {
  size_t used = 0;
  std::vector<std::weak_ptr<M>> live;
  for (auto& weak : models)
    if (auto model = weak.lock()) {
      used += model->weight_bytes() + model->workspace_bytes();
      live.push_back(weak);
    }
  models = std::move(live);
  return used;
}

}  // namespace sie
