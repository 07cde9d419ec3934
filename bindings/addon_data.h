// Per-environment data of the addon (constructors it needs to create objects from workers).
// Kept as N-API instance data, so each worker_thread has its own and there is no global state.
#pragma once
#include <napi.h>

namespace sie_bindings {

struct AddonData {
  Napi::FunctionReference backend_handle;
  Napi::FunctionReference model_handle;
  static AddonData& of(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }
};

}  // namespace sie_bindings
