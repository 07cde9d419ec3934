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

// float32JsonJoin(vectors: Float32Array[], parts: string[]): Buffer, the UTF-8 bytes of
// parts[0] + json(vectors[0]) + parts[1] + ... + json(vectors[n-1]) + parts[n]. A whole response
// body as one Buffer: Node then writes it to the socket as it is, where a 150 KiB string was
// flattened, measured and re-encoded on the event loop for every batch answer.
Napi::Value float32_json_join(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsArray()) throw argument_error(env, "float32JsonJoin(vectors: Float32Array[], parts: string[])");
  Napi::Array vectors = info[0].As<Napi::Array>(), parts = info[1].As<Napi::Array>();
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
  // Not a std::string: its resize would write every byte once before the values do.
  const size_t capacity = bytes + sie::float32_json_array_max_bytes(floats) + 2 * arrays.size() + sie::kFloat32JsonSpareBytes;
  char* const body = new char[capacity];
  char* at = body;
  for (size_t i = 0; i < arrays.size(); ++i) {
    std::memcpy(at, texts[i].data(), texts[i].size());
    at = sie::write_float32_json_array(arrays[i].Data(), arrays[i].ElementLength(), at + texts[i].size());
  }
  std::memcpy(at, texts.back().data(), texts.back().size());
  at += texts.back().size();
  return Napi::Buffer<char>::New(env, body, size_t(at - body), [](Napi::Env, char* owned) { delete[] owned; });
}

}  // namespace

Napi::Object define_wire_format(Napi::Env env) {
  Napi::Object wire = Napi::Object::New(env);
  wire.Set("float32JsonArrays", Napi::Function::New(env, float32_json_arrays));
  wire.Set("float32JsonJoin", Napi::Function::New(env, float32_json_join));
  return wire;
}

}  // namespace sie_bindings
