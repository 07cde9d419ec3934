// JS handle of a sie::Backend: openBackend({device, threads}) -> BackendHandle, whose
// loadModel(description) loads on a libuv worker thread and resolves to a ModelHandle.
#pragma once
#include <napi.h>

#include <memory>

#include "../native/backend/backend.h"

namespace sie_bindings {

class BackendHandle : public Napi::ObjectWrap<BackendHandle> {
 public:
  static Napi::Function define(Napi::Env env);
  explicit BackendHandle(const Napi::CallbackInfo& info);
  // openBackend(options) -> BackendHandle
  static Napi::Value open(const Napi::CallbackInfo& info);

 private:
  Napi::Value device(const Napi::CallbackInfo& info);
  Napi::Value load_model(const Napi::CallbackInfo& info);
  Napi::Value memory(const Napi::CallbackInfo& info);
  Napi::Value dtypes(const Napi::CallbackInfo& info);
  std::shared_ptr<sie::Backend> backend_;
};

}  // namespace sie_bindings
