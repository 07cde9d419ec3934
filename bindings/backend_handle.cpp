#include "backend_handle.h"

#include "addon_data.h"
#include "error_translation.h"
#include "model_description_from_js.h"

namespace sie_bindings {
namespace {

sie::BackendOptions backend_options(const Napi::Value& value) {
  Napi::Env env = value.Env();
  sie::BackendOptions options;
  if (value.IsUndefined()) return options;
  if (!value.IsObject()) throw argument_error(env, "backend options must be an object");
  const Napi::Object o = value.As<Napi::Object>();
  if (o.Has("device") && !o.Get("device").IsUndefined()) {
    if (!o.Get("device").IsString()) throw argument_error(env, "device must be a string");
    options.device = o.Get("device").As<Napi::String>().Utf8Value();
  }
  if (o.Has("threads") && !o.Get("threads").IsUndefined()) {
    if (!o.Get("threads").IsNumber()) throw argument_error(env, "threads must be a number");
    options.threads = o.Get("threads").As<Napi::Number>().Int32Value();
    if (options.threads < 1) throw argument_error(env, "threads must be between 1 and 1024");
  }
  if (o.Has("workspaceTokens") && !o.Get("workspaceTokens").IsUndefined()) {
    if (!o.Get("workspaceTokens").IsNumber()) throw argument_error(env, "workspaceTokens must be a number");
    options.workspace_tokens = o.Get("workspaceTokens").As<Napi::Number>().Int32Value();
    if (options.workspace_tokens < 0 || options.workspace_tokens > (1 << 22))
      throw argument_error(env, "workspaceTokens must be between 0 and 4194304");
  }
  return options;
}

class LoadWorker : public CodedAsyncWorker {
 public:
  LoadWorker(Napi::Env env, std::shared_ptr<sie::Backend> backend, sie::ModelDescription description)
      : CodedAsyncWorker(env), backend_(std::move(backend)), description_(std::move(description)) {}

 protected:
  void Run() override { model_ = backend_->load(description_); }
  void OnOK() override {
    Napi::Env env = Env();
    deferred_.Resolve(AddonData::of(env).model_handle.New({Napi::External<std::shared_ptr<sie::Model>>::New(env, &model_)}));
  }

 private:
  std::shared_ptr<sie::Backend> backend_;
  sie::ModelDescription description_;
  std::shared_ptr<sie::Model> model_;
};

}  // namespace

Napi::Function BackendHandle::define(Napi::Env env) {
  return DefineClass(env, "BackendHandle",
                     {InstanceAccessor<&BackendHandle::device>("device"), InstanceMethod<&BackendHandle::load_model>("loadModel"),
                      InstanceMethod<&BackendHandle::memory>("memory"), InstanceAccessor<&BackendHandle::dtypes>("dtypes")});
}

BackendHandle::BackendHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BackendHandle>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) throw argument_error(info.Env(), "BackendHandle is created by openBackend()");
  backend_ = std::move(*info[0].As<Napi::External<std::shared_ptr<sie::Backend>>>().Data());
}

Napi::Value BackendHandle::open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const sie::BackendOptions options = backend_options(info[0]);
  std::shared_ptr<sie::Backend> backend = translate_errors(env, [&]() { return std::shared_ptr<sie::Backend>(sie::open_backend(options)); });
  return AddonData::of(env).backend_handle.New({Napi::External<std::shared_ptr<sie::Backend>>::New(env, &backend)});
}

Napi::Value BackendHandle::device(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), backend_->device()); }

Napi::Value BackendHandle::load_model(const Napi::CallbackInfo& info) {
  auto* worker = new LoadWorker(info.Env(), backend_, model_description_from_js(info[0]));  // deletes itself when done
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

Napi::Value BackendHandle::dtypes(const Napi::CallbackInfo& info) {
  const std::vector<std::string> dtypes = backend_->dtypes();
  Napi::Array out = Napi::Array::New(info.Env(), dtypes.size());
  for (uint32_t i = 0; i < dtypes.size(); ++i) out.Set(i, dtypes[i]);
  return out;
}

Napi::Value BackendHandle::memory(const Napi::CallbackInfo& info) {
  const sie::DeviceMemory memory = backend_->memory();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("device", memory.device);
  out.Set("usedBytes", double(memory.used_bytes));
  out.Set("totalBytes", double(memory.total_bytes));
  return out;
}

}  // namespace sie_bindings
