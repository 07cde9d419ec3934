// Checked access to the typed arrays JS hands in: the JS layer validates first, the glue
// still refuses wrong types and lengths rather than reading past a buffer.
#pragma once
#include <napi.h>

#include <string>

#include "error_translation.h"

namespace sie_bindings {

inline Napi::TypedArrayOf<int32_t> int32_array(const Napi::Value& value, const char* name) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw argument_error(value.Env(), std::string(name) + " must be an Int32Array");
  return value.As<Napi::TypedArrayOf<int32_t>>();
}

inline Napi::TypedArrayOf<float> float32_array(const Napi::Value& value, const char* name) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw argument_error(value.Env(), std::string(name) + " must be a Float32Array");
  return value.As<Napi::TypedArrayOf<float>>();
}

// Hands a vector's memory to JS as a Float32Array without copying; the finalizer frees it.
inline Napi::Float32Array float32_array_from(Napi::Env env, std::vector<float>&& values) {
  // An external buffer over no memory would arrive detached; an empty result gets a plain array.
  if (values.empty()) return Napi::Float32Array::New(env, 0);
  auto* owned = new std::vector<float>(std::move(values));  // owned by the ArrayBuffer's finalizer
  const size_t length = owned->size();
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
      env, owned->data(), length * sizeof(float), [](Napi::Env, void*, std::vector<float>* v) { delete v; }, owned);
  return Napi::Float32Array::New(env, length, buffer, 0);
}

}  // namespace sie_bindings
