#include "wire_format.h"

#include <cstring>
#include <string>
#include <vector>

#include "../native/wire/float32_json.h"
#include "typed_arrays.h"

namespace sie_bindings {
namespace {

// float32JsonArrays(vectors: Float32Array[], printer?: 'scalar' | 'reference'): string[], each
// "[v0,v1,...]" in shortest float32 form, by the fastest printer the CPU runs, the scalar one, or
// std::to_chars (the twin the others are tested against).
Napi::Value float32_json_arrays(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw argument_error(env, "float32JsonArrays(vectors: Float32Array[], printer?: 'scalar' | 'reference')");
  const std::string name = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  const sie::Float32Printer printer = name == "reference" ? sie::Float32Printer::Reference : name == "scalar" ? sie::Float32Printer::Scalar : sie::Float32Printer::Fastest;
  Napi::Array vectors = info[0].As<Napi::Array>();
  Napi::Array out = Napi::Array::New(env, vectors.Length());
  std::string text;
  for (uint32_t i = 0; i < vectors.Length(); ++i) {
    Napi::TypedArrayOf<float> vector = float32_array(vectors.Get(i), "each vector");
    text.clear();
    sie::append_float32_json_array(vector.Data(), vector.ElementLength(), text, printer);
    out.Set(i, Napi::String::New(env, text));  // ASCII only, so UTF-8 is Latin-1 is the bytes
  }
  return out;
}

// float32JsonJoinInto(vectors: Float32Array[], parts: string[], target: Uint8Array): number writes
// the UTF-8 bytes of parts[0] + json(vectors[0]) + parts[1] + ... + json(vectors[n-1]) + parts[n]
// into target and returns how many it wrote. A target that might be too small is left untouched
// and the answer is minus the bytes it needs. A whole response body in a Buffer the server reuses:
// a fresh 150 KiB Buffer per batch answer was external memory that drove V8 into a full GC every
// few dozen answers (about 0.7 ms per answer on the event loop); before that, a 150 KiB string
// was flattened, measured and re-encoded for each one.
Napi::Value float32_json_join_into(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsArray() || !info[1].IsArray() || !info[2].IsTypedArray() ||
      info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw argument_error(env, "float32JsonJoinInto(vectors: Float32Array[], parts: string[], target: Uint8Array)");
  Napi::Array vectors = info[0].As<Napi::Array>(), parts = info[1].As<Napi::Array>();
  Napi::Uint8Array target = info[2].As<Napi::Uint8Array>();
  if (parts.Length() != vectors.Length() + 1) throw argument_error(env, "parts must have one more entry than vectors");
  std::vector<std::string> texts(parts.Length());
  size_t floats = 0, bytes = 0;
  for (uint32_t i = 0; i < parts.Length(); ++i) {
    if (!parts.Get(i).IsString()) throw argument_error(env, "each part must be a string");
    texts[i] = parts.Get(i).As<Napi::String>().Utf8Value();
    bytes += texts[i].size();
  }
  std::vector<Napi::TypedArrayOf<float>> arrays;
  arrays.reserve(vectors.Length());
  for (uint32_t i = 0; i < vectors.Length(); ++i) {
    arrays.push_back(float32_array(vectors.Get(i), "each vector"));
    floats += arrays.back().ElementLength();
  }
  // The bound covers every value at its longest; the printers may also store up to
  // kFloat32JsonSpareBytes past the end of what they write.
  const size_t needed = bytes + sie::float32_json_array_max_bytes(floats) + 2 * arrays.size() + sie::kFloat32JsonSpareBytes;
  if (target.ByteLength() < needed) return Napi::Number::New(env, -double(needed));
  char* const body = reinterpret_cast<char*>(target.Data());
  char* at = body;
  for (size_t i = 0; i < arrays.size(); ++i) {
    std::memcpy(at, texts[i].data(), texts[i].size());
    at = sie::write_float32_json_array(arrays[i].Data(), arrays[i].ElementLength(), at + texts[i].size());
  }
  std::memcpy(at, texts.back().data(), texts.back().size());
  at += texts.back().size();
  return Napi::Number::New(env, double(at - body));
}

}  // namespace

Napi::Object define_wire_format(Napi::Env env) {
  Napi::Object wire = Napi::Object::New(env);
  wire.Set("float32JsonArrays", Napi::Function::New(env, float32_json_arrays));
  wire.Set("float32JsonJoinInto", Napi::Function::New(env, float32_json_join_into));
  return wire;
}

}  // namespace sie_bindings
