#include "weights_inspection.h"

#include "../native/weights/weight_store.h"
#include "error_translation.h"

namespace sie_bindings {

// inspectWeights(path) -> [{name, dtype, shape}]; throws BAD_WEIGHTS for a malformed file.
Napi::Value inspect_weights(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw argument_error(env, "path must be a string");
  return translate_errors(env, [&]() -> Napi::Value {
    const std::unique_ptr<sie::WeightStore> store = sie::open_weights(info[0].As<Napi::String>().Utf8Value());
    Napi::Array out = Napi::Array::New(env);
    uint32_t i = 0;
    for (const auto& [name, view] : store->tensors()) {
      Napi::Object entry = Napi::Object::New(env);
      entry.Set("name", name);
      entry.Set("dtype", sie::dtype_name(view.dtype));
      Napi::Array shape = Napi::Array::New(env, view.shape.size());
      for (uint32_t d = 0; d < view.shape.size(); ++d) shape.Set(d, double(view.shape[d]));
      entry.Set("shape", shape);
      out.Set(i++, entry);
    }
    return out;
  });
}

}  // namespace sie_bindings
