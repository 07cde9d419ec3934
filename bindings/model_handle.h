// JS handle of one loaded sie::Model, whatever its backend: run() on libuv worker threads, never
// on the event loop; results come back as zero-copy typed arrays.
#pragma once
#include <napi.h>

#include <memory>

#include "../native/backend/backend.h"

namespace sie_bindings {

class ModelHandle : public Napi::ObjectWrap<ModelHandle> {
 public:
  static Napi::Function define(Napi::Env env);
  explicit ModelHandle(const Napi::CallbackInfo& info);

 private:
  Napi::Value run(const Napi::CallbackInfo& info);
  Napi::Value run_now(const Napi::CallbackInfo& info);
  Napi::Value run_images(const Napi::CallbackInfo& info);
  Napi::Value info(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);
  std::shared_ptr<sie::Model> model_;
};

}  // namespace sie_bindings
