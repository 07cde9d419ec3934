#include "image_ops.h"

#include "../native/image/clip_pixel_values.h"
#include "../native/image/pil_bicubic_resize.h"
#include "typed_arrays.h"
#include "error_translation.h"

#include <algorithm>
#include <string>

namespace sie_bindings {
namespace {

// Resizes on a libuv worker thread, so decoding and resizing stay off the event loop and run
// beside model compute.
class ResizeWorker : public CodedAsyncWorker {
 public:
  ResizeWorker(Napi::Env env, Napi::Uint8Array rgb, int width, int height, int out_width, int out_height, bool reference)
      : CodedAsyncWorker(env), width_(width), height_(height), out_width_(out_width), out_height_(out_height), reference_(reference) {
    rgb_ = Napi::Persistent(rgb);
    data_ = rgb.Data();
  }

 protected:
  void Run() override {
    out_ = reference_ ? sie::resize_bicubic_rgb8_reference(data_, width_, height_, out_width_, out_height_)
                      : sie::resize_bicubic_rgb8(data_, width_, height_, out_width_, out_height_);
  }
  void OnOK() override {
    Napi::Uint8Array result = Napi::Uint8Array::New(Env(), out_.size());
    std::copy(out_.begin(), out_.end(), result.Data());
    deferred_.Resolve(result);
  }

 private:
  Napi::Reference<Napi::Uint8Array> rgb_;
  const uint8_t* data_;
  int width_, height_, out_width_, out_height_;
  bool reference_;
  std::vector<uint8_t> out_;
};

// CLIP's pixel values (resize, crop, rescale, normalise) on a libuv worker thread.
class ClipPixelsWorker : public CodedAsyncWorker {
 public:
  ClipPixelsWorker(Napi::Env env, Napi::Uint8Array rgb, int width, int height, const sie::ClipPixelSpec& spec)
      : CodedAsyncWorker(env), width_(width), height_(height), spec_(spec) {
    rgb_ = Napi::Persistent(rgb);
    data_ = rgb.Data();
  }

 protected:
  void Run() override { out_ = sie::clip_pixel_values(data_, width_, height_, spec_); }
  void OnOK() override { deferred_.Resolve(float32_array_from(Env(), std::move(out_))); }

 private:
  Napi::Reference<Napi::Uint8Array> rgb_;
  const uint8_t* data_;
  int width_, height_;
  sie::ClipPixelSpec spec_;
  std::vector<float> out_;
};

Napi::Uint8Array rgb_bytes(const Napi::CallbackInfo& info, const char* usage) {
  if (info.Length() < 3 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array || !info[1].IsNumber() ||
      !info[2].IsNumber())
    throw argument_error(info.Env(), usage);
  const Napi::Uint8Array rgb = info[0].As<Napi::Uint8Array>();
  const int64_t width = info[1].As<Napi::Number>().Int64Value(), height = info[2].As<Napi::Number>().Int64Value();
  if (width < 1 || height < 1 || width > (1 << 15) || height > (1 << 15) || rgb.ElementLength() != size_t(width) * size_t(height) * 3)
    throw argument_error(info.Env(), "rgb must hold width x height x 3 bytes");
  return rgb;
}

// resizeBicubicRgb(rgb: Uint8Array, width, height, outWidth, outHeight, twin?: 'reference'): Promise<Uint8Array>
Napi::Value resize_bicubic_rgb(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "resizeBicubicRgb(rgb: Uint8Array, width, height, outWidth, outHeight, twin?: 'reference')";
  const Napi::Uint8Array rgb = rgb_bytes(info, usage);
  if (info.Length() < 5 || !info[3].IsNumber() || !info[4].IsNumber()) throw argument_error(env, usage);
  const int width = info[1].As<Napi::Number>().Int32Value(), height = info[2].As<Napi::Number>().Int32Value();
  const int out_width = info[3].As<Napi::Number>().Int32Value(), out_height = info[4].As<Napi::Number>().Int32Value();
  const bool reference = info.Length() > 5 && info[5].IsString() && info[5].As<Napi::String>().Utf8Value() == "reference";
  auto* worker = new ResizeWorker(env, rgb, width, height, out_width, out_height, reference);
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

int32_t integer_field(const Napi::Object& spec, const char* name) {
  const Napi::Value value = spec.Get(name);
  if (!value.IsNumber()) throw argument_error(spec.Env(), std::string("spec.") + name + " must be a number");
  const double number = value.As<Napi::Number>().DoubleValue();
  if (number != double(int32_t(number))) throw argument_error(spec.Env(), std::string("spec.") + name + " must be an integer");
  return int32_t(number);
}

void triple_field(const Napi::Object& spec, const char* name, float* out) {
  const Napi::Value value = spec.Get(name);
  if (!value.IsArray() || value.As<Napi::Array>().Length() != 3) throw argument_error(spec.Env(), std::string("spec.") + name + " must be three numbers");
  for (uint32_t i = 0; i < 3; ++i) {
    const Napi::Value v = value.As<Napi::Array>().Get(i);
    if (!v.IsNumber()) throw argument_error(spec.Env(), std::string("spec.") + name + " must be three numbers");
    out[i] = float(v.As<Napi::Number>().DoubleValue());  // numpy's float32 mean and std
  }
}

// clipPixelValues(rgb, width, height, spec): Promise<Float32Array>, CHW. spec: resizeWidth,
// resizeHeight, left, top, cropWidth, cropHeight, rescale (a factor, or null: none), mean and
// std (three numbers each, or null: no normalisation).
Napi::Value clip_pixel_values(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "clipPixelValues(rgb: Uint8Array, width, height, spec)";
  const Napi::Uint8Array rgb = rgb_bytes(info, usage);
  if (info.Length() < 4 || !info[3].IsObject()) throw argument_error(env, usage);
  const Napi::Object object = info[3].As<Napi::Object>();
  sie::ClipPixelSpec spec;
  spec.resize_width = integer_field(object, "resizeWidth");
  spec.resize_height = integer_field(object, "resizeHeight");
  spec.left = integer_field(object, "left");
  spec.top = integer_field(object, "top");
  spec.crop_width = integer_field(object, "cropWidth");
  spec.crop_height = integer_field(object, "cropHeight");
  const Napi::Value rescale = object.Get("rescale");
  spec.rescale = rescale.IsNumber();
  if (spec.rescale) spec.rescale_factor = rescale.As<Napi::Number>().DoubleValue();
  spec.normalize = !object.Get("mean").IsNull() && !object.Get("mean").IsUndefined();
  if (spec.normalize) {
    triple_field(object, "mean", spec.mean);
    triple_field(object, "std", spec.std);
  }
  auto* worker = new ClipPixelsWorker(env, rgb, info[1].As<Napi::Number>().Int32Value(), info[2].As<Napi::Number>().Int32Value(), spec);
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

}  // namespace

Napi::Object define_image_ops(Napi::Env env) {
  Napi::Object ops = Napi::Object::New(env);
  ops.Set("resizeBicubicRgb", Napi::Function::New(env, resize_bicubic_rgb));
  ops.Set("clipPixelValues", Napi::Function::New(env, clip_pixel_values));
  return ops;
}

}  // namespace sie_bindings
