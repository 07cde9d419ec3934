#include "image_ops.h"

#include "../native/image/pil_bicubic_resize.h"
#include "error_translation.h"

#include <algorithm>

namespace sie_bindings {
namespace {

// resizeBicubicRgb(rgb: Uint8Array, width, height, outWidth, outHeight): Uint8Array
Napi::Value resize_bicubic_rgb(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw argument_error(env, "resizeBicubicRgb(rgb: Uint8Array, width, height, outWidth, outHeight)");
  for (size_t i = 1; i < 5; ++i)
    if (!info[i].IsNumber()) throw argument_error(env, "image sizes must be numbers");
  const Napi::Uint8Array rgb = info[0].As<Napi::Uint8Array>();
  const int width = info[1].As<Napi::Number>().Int32Value(), height = info[2].As<Napi::Number>().Int32Value();
  const int out_width = info[3].As<Napi::Number>().Int32Value(), out_height = info[4].As<Napi::Number>().Int32Value();
  if (width < 1 || height < 1 || rgb.ElementLength() != size_t(width) * size_t(height) * 3)
    throw argument_error(env, "rgb must hold width x height x 3 bytes");
  return translate_errors(env, [&]() -> Napi::Value {
    const std::vector<uint8_t> out = sie::resize_bicubic_rgb8(rgb.Data(), width, height, out_width, out_height);
    Napi::Uint8Array result = Napi::Uint8Array::New(env, out.size());
    std::copy(out.begin(), out.end(), result.Data());
    return result;
  });
}

}  // namespace

Napi::Object define_image_ops(Napi::Env env) {
  Napi::Object ops = Napi::Object::New(env);
  ops.Set("resizeBicubicRgb", Napi::Function::New(env, resize_bicubic_rgb));
  return ops;
}

}  // namespace sie_bindings
