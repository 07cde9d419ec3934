#include "safetensors_inspection.h"

#include "../native/weights/safetensors.h"
#include "error_translation.h"

namespace sie_bindings {

// inspectSafetensors(path) -> [{name, dtype, shape}]; throws BAD_WEIGHTS for a malformed file.
Napi::Value inspect_safetensors(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw argument_error(env, "path must be a string");
  return translate_errors(env, [&]() -> Napi::Value {
    sie::SafetensorsFile file(info[0].As<Napi::String>().Utf8Value());
    static const char* kNames[] = {"F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL"};
    Napi::Array out = Napi::Array::New(env);
    uint32_t i = 0;
    for (const auto& [name, view] : file.tensors()) {
      Napi::Object entry = Napi::Object::New(env);
      entry.Set("name", name);
      entry.Set("dtype", kNames[int(view.dtype)]);
      Napi::Array shape = Napi::Array::New(env, view.shape.size());
      for (uint32_t d = 0; d < view.shape.size(); ++d) shape.Set(d, double(view.shape[d]));
      entry.Set("shape", shape);
      out.Set(i++, entry);
    }
    return out;
  });
}

}  // namespace sie_bindings
