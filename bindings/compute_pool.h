// JS handle of a ThreadPool: one per Engine, shared by all its models.
#pragma once
#include <napi.h>

#include <memory>

#include "../native/core/thread_pool.h"

namespace sie_bindings {

class ComputePool : public Napi::ObjectWrap<ComputePool> {
 public:
  static Napi::Function define(Napi::Env env);
  explicit ComputePool(const Napi::CallbackInfo& info);
  std::shared_ptr<sie::ThreadPool> pool() const { return pool_; }
  static std::shared_ptr<sie::ThreadPool> unwrap(Napi::Value value);

 private:
  Napi::Value threads(const Napi::CallbackInfo& info);
  std::shared_ptr<sie::ThreadPool> pool_;
};

}  // namespace sie_bindings
