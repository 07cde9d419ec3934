#include "image_ops.h"

#include "../native/image/pil_bicubic_resize.h"
#include "error_translation.h"

#include <algorithm>

namespace sie_bindings {
namespace {

// Resizes on a libuv worker thread, so decoding and resizing stay off the event loop and run
// beside model compute.
class ResizeWorker : public CodedAsyncWorker {
 public:
  ResizeWorker(Napi::Env env, Napi::Uint8Array rgb, int width, int height, int out_width, int out_height)
      : CodedAsyncWorker(env), width_(width), height_(height), out_width_(out_width), out_height_(out_height) {
    rgb_ = Napi::Persistent(rgb);
    data_ = rgb.Data();
  }

 protected:
  void Run() override { out_ = sie::resize_bicubic_rgb8(data_, width_, height_, out_width_, out_height_); }
  void OnOK() override {
    Napi::Uint8Array result = Napi::Uint8Array::New(Env(), out_.size());
    std::copy(out_.begin(), out_.end(), result.Data());
    deferred_.Resolve(result);
  }

 private:
  Napi::Reference<Napi::Uint8Array> rgb_;
  const uint8_t* data_;
  int width_, height_, out_width_, out_height_;
  std::vector<uint8_t> out_;
};

// resizeBicubicRgb(rgb: Uint8Array, width, height, outWidth, outHeight): Promise<Uint8Array>
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
  auto* worker = new ResizeWorker(env, rgb, width, height, out_width, out_height);
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

}  // namespace

Napi::Object define_image_ops(Napi::Env env) {
  Napi::Object ops = Napi::Object::New(env);
  ops.Set("resizeBicubicRgb", Napi::Function::New(env, resize_bicubic_rgb));
  return ops;
}

}  // namespace sie_bindings
