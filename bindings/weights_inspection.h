// inspectWeights(path): the tensor table of a checkpoint (safetensors, torch zip or a shard
// index), validated by the same native readers that load it. lib/ uses it to size a model before
// loading it and to check weight files, so each format is parsed in one place only.
#pragma once
#include <napi.h>

namespace sie_bindings {

Napi::Value inspect_weights(const Napi::CallbackInfo& info);

}  // namespace sie_bindings
