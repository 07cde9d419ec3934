#include "compute_pool.h"

#include <thread>

#include "error_translation.h"

namespace sie_bindings {

Napi::Function ComputePool::define(Napi::Env env) {
  return DefineClass(env, "ComputePool", {InstanceAccessor<&ComputePool::threads>("threads")});
}

ComputePool::ComputePool(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ComputePool>(info) {
  int threads = int(std::thread::hardware_concurrency());
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    if (!info[0].IsNumber()) throw argument_error(info.Env(), "threads must be a number");
    threads = info[0].As<Napi::Number>().Int32Value();
  }
  if (threads < 1 || threads > 1024) throw argument_error(info.Env(), "threads must be between 1 and 1024");
  pool_ = std::make_shared<sie::ThreadPool>(threads);
}

Napi::Value ComputePool::threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), pool_->size()); }

std::shared_ptr<sie::ThreadPool> ComputePool::unwrap(Napi::Value value) {
  if (!value.IsObject()) throw argument_error(value.Env(), "expected a ComputePool");
  Napi::Object object = value.As<Napi::Object>();
  // InstanceOf against the stored constructor would need instance data; the tag check is enough.
  if (!object.Has("threads")) throw argument_error(value.Env(), "expected a ComputePool");
  return Napi::ObjectWrap<ComputePool>::Unwrap(object)->pool();
}

}  // namespace sie_bindings
