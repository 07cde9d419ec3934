// Module entry: openBackend, the handle classes, the weights inspector, the names JS must
// agree with (error codes, head kinds), and the kernel probes.
#include <napi.h>

#include "../native/core/engine_error.h"
#include "../native/cpu/heads/head_registry.h"
#include "addon_data.h"
#include "backend_handle.h"
#include "image_ops.h"
#include "wire_format.h"
#include "kernel_probes.h"
#include "model_handle.h"
#include "weights_inspection.h"

namespace sie_bindings {
namespace {

Napi::Array string_array(Napi::Env env, const std::vector<std::string>& values) {
  Napi::Array out = Napi::Array::New(env, values.size());
  for (uint32_t i = 0; i < values.size(); ++i) out.Set(i, values[i]);
  return out;
}

std::vector<std::string> error_code_names() {
  std::vector<std::string> names;
  for (const auto& entry : sie::kErrorCodeNames) names.push_back(entry.name);
  return names;
}

}  // namespace

Napi::Object init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();  // owned by the environment, freed at its teardown
  env.SetInstanceData<AddonData>(data);
  data->backend_handle = Napi::Persistent(BackendHandle::define(env));
  data->model_handle = Napi::Persistent(ModelHandle::define(env));
  exports.Set("openBackend", Napi::Function::New(env, BackendHandle::open));
  exports.Set("inspectWeights", Napi::Function::New(env, inspect_weights));
  exports.Set("errorCodes", string_array(env, error_code_names()));
  exports.Set("headKinds", string_array(env, sie::head_kinds()));
  exports.Set("kernels", define_kernel_probes(env));
  exports.Set("images", define_image_ops(env));
  exports.Set("wire", define_wire_format(env));
  return exports;
}

}  // namespace sie_bindings

static Napi::Object init_module(Napi::Env env, Napi::Object exports) { return sie_bindings::init(env, exports); }

NODE_API_MODULE(sie_native, init_module)
