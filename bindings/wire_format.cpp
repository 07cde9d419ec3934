#include "wire_format.h"

#include <string>

#include "../native/wire/float32_json.h"
#include "typed_arrays.h"

namespace sie_bindings {
namespace {

// float32JsonArrays(vectors: Float32Array[]): string[], each "[v0,v1,...]" in shortest float32 form.
Napi::Value float32_json_arrays(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw argument_error(env, "float32JsonArrays(vectors: Float32Array[])");
  Napi::Array vectors = info[0].As<Napi::Array>();
  Napi::Array out = Napi::Array::New(env, vectors.Length());
  std::string text;
  for (uint32_t i = 0; i < vectors.Length(); ++i) {
    Napi::TypedArrayOf<float> vector = float32_array(vectors.Get(i), "each vector");
    text.clear();
    sie::append_float32_json_array(vector.Data(), vector.ElementLength(), text);
    out.Set(i, Napi::String::New(env, text));  // ASCII only, so UTF-8 is Latin-1 is the bytes
  }
  return out;
}

}  // namespace

Napi::Object define_wire_format(Napi::Env env) {
  Napi::Object wire = Napi::Object::New(env);
  wire.Set("float32JsonArrays", Napi::Function::New(env, float32_json_arrays));
  return wire;
}

}  // namespace sie_bindings
