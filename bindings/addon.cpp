// Module entry: registers the handle classes and the kernel probes.
#include <napi.h>

#include "addon_data.h"
#include "compute_pool.h"
#include "kernel_probes.h"
#include "model_handle.h"

namespace sie_bindings {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();  // owned by the environment, freed at its teardown
  env.SetInstanceData<AddonData>(data);
  Napi::Function model = ModelHandle::define(env);
  data->model_handle = Napi::Persistent(model);
  exports.Set("ComputePool", ComputePool::define(env));
  exports.Set("ModelHandle", model);
  exports.Set("loadModel", Napi::Function::New(env, ModelHandle::load));
  exports.Set("kernels", define_kernel_probes(env));
  return exports;
}

}  // namespace sie_bindings

static Napi::Object init_module(Napi::Env env, Napi::Object exports) { return sie_bindings::init(env, exports); }

NODE_API_MODULE(sie_native, init_module)
