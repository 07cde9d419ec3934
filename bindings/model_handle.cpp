#include "model_handle.h"

#include "addon_data.h"
#include "error_translation.h"
#include "typed_arrays.h"

namespace sie_bindings {
namespace {

Napi::Int32Array int32_array_from(Napi::Env env, const std::vector<int32_t>& values) {
  Napi::Int32Array out = Napi::Int32Array::New(env, values.size());
  std::copy(values.begin(), values.end(), out.Data());
  return out;
}

Napi::Object output_to_js(Napi::Env env, sie::ModelOutput& output) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("width", output.width);
  result.Set("values", float32_array_from(env, std::move(output.values)));
  if (output.sparse_entries) result.Set("indices", int32_array_from(env, output.indices));
  if (!output.row_offsets.empty()) result.Set("rowOffsets", int32_array_from(env, output.row_offsets));
  if (!output.parts.empty()) {
    Napi::Object parts = Napi::Object::New(env);
    for (sie::NamedOutput& part : output.parts) parts.Set(part.name, output_to_js(env, part.output));
    result.Set("parts", parts);
  }
  return result;
}

uint32_t output_mask(const Napi::Value& value) {
  if (value.IsUndefined()) return sie::kAllOutputs;
  if (!value.IsArray()) throw argument_error(value.Env(), "outputs must be an array of output names");
  const Napi::Array names = value.As<Napi::Array>();
  uint32_t mask = 0;
  for (uint32_t i = 0; i < names.Length(); ++i) {
    const Napi::Value name = names.Get(i);
    const std::string text = name.IsString() ? name.As<Napi::String>().Utf8Value() : "";
    if (text == "dense") mask |= sie::kDenseOutput;
    else if (text == "sparse") mask |= sie::kSparseOutput;
    else if (text == "multivector") mask |= sie::kMultivectorOutput;
    else throw argument_error(value.Env(), "outputs may hold 'dense', 'sparse' and 'multivector'");
  }
  return mask;
}

class RunWorker : public CodedAsyncWorker {
 public:
  RunWorker(Napi::Env env, std::shared_ptr<sie::Model> model, Napi::TypedArrayOf<int32_t> ids,
            Napi::TypedArrayOf<int32_t> type_ids, Napi::TypedArrayOf<int32_t> offsets, uint32_t outputs)
      : CodedAsyncWorker(env), model_(std::move(model)) {
    // Keep the input arrays alive (and read them in place) until the work is done.
    inputs_ = Napi::Persistent(Napi::Object::New(env));
    inputs_.Value().Set("ids", ids);
    inputs_.Value().Set("typeIds", type_ids);
    inputs_.Value().Set("offsets", offsets);
    batch_.input_ids = ids.Data();
    batch_.token_type_ids = type_ids.Data();
    batch_.offsets = offsets.Data();
    batch_.num_tokens = int(ids.ElementLength());
    batch_.num_sequences = int(offsets.ElementLength()) - 1;
    batch_.outputs = outputs;
  }

 protected:
  void Run() override { output_ = model_->run(batch_); }
  void OnOK() override { deferred_.Resolve(output_to_js(Env(), output_)); }

 private:
  std::shared_ptr<sie::Model> model_;
  Napi::ObjectReference inputs_;
  sie::TokenBatch batch_;
  sie::ModelOutput output_;
};

class RunImagesWorker : public CodedAsyncWorker {
 public:
  RunImagesWorker(Napi::Env env, std::shared_ptr<sie::Model> model, Napi::Float32Array pixels, int count, int height, int width)
      : CodedAsyncWorker(env), model_(std::move(model)) {
    pixels_ = Napi::Persistent(pixels);
    batch_.pixels = pixels.Data();
    batch_.count = count;
    batch_.height = height;
    batch_.width = width;
  }

 protected:
  void Run() override { output_ = model_->run_images(batch_); }
  void OnOK() override { deferred_.Resolve(output_to_js(Env(), output_)); }

 private:
  std::shared_ptr<sie::Model> model_;
  Napi::Reference<Napi::Float32Array> pixels_;
  sie::ImageBatch batch_;
  sie::ModelOutput output_;
};

}  // namespace

Napi::Function ModelHandle::define(Napi::Env env) {
  return DefineClass(env, "ModelHandle",
                     {InstanceMethod<&ModelHandle::run>("run"), InstanceMethod<&ModelHandle::run_now>("runNow"),
                      InstanceMethod<&ModelHandle::run_images>("runImages"),
                      InstanceAccessor<&ModelHandle::info>("info"),
                      InstanceMethod<&ModelHandle::dispose>("dispose")});
}

ModelHandle::ModelHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelHandle>(info) {
  if (info.Length() != 1 || !info[0].IsExternal())
    throw argument_error(info.Env(), "ModelHandle is created by BackendHandle.loadModel()");
  model_ = std::move(*info[0].As<Napi::External<std::shared_ptr<sie::Model>>>().Data());
}

namespace {

// run()'s and runNow()'s arguments, checked: (ids, typeIds, offsets[, outputs]).
struct RunArguments {
  Napi::TypedArrayOf<int32_t> ids, type_ids, offsets;
  uint32_t outputs;
};

RunArguments run_arguments(const Napi::CallbackInfo& info, const char* usage) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || info.Length() > 4) throw argument_error(env, usage);
  RunArguments args{int32_array(info[0], "ids"), int32_array(info[1], "typeIds"), int32_array(info[2], "offsets"), 0};
  if (args.type_ids.ElementLength() != args.ids.ElementLength()) throw argument_error(env, "typeIds must be as long as ids");
  if (args.offsets.ElementLength() < 2) throw argument_error(env, "offsets must hold at least two entries");
  const int32_t* o = args.offsets.Data();
  const size_t n = args.offsets.ElementLength();
  if (o[0] != 0 || size_t(o[n - 1]) != args.ids.ElementLength())
    throw argument_error(env, "offsets must start at 0 and end at ids.length");
  for (size_t i = 1; i < n; ++i)
    if (o[i] < o[i - 1]) throw argument_error(env, "offsets must not decrease");
  args.outputs = output_mask(info.Length() > 3 ? info[3] : env.Undefined());
  return args;
}

}  // namespace

Napi::Value ModelHandle::run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!model_) throw coded_error(env, sie::ErrorCode::ModelDisposed, "this model has been unloaded");
  const RunArguments args = run_arguments(info, "run(ids, typeIds, offsets[, outputs])");
  auto* worker = new RunWorker(env, model_, args.ids, args.type_ids, args.offsets, args.outputs);
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

// runNow(ids, typeIds, offsets[, outputs]): the outputs, computed on this (the event loop's)
// thread, if the backend is idle now; null if it is busy or runs its batches elsewhere.
Napi::Value ModelHandle::run_now(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!model_) throw coded_error(env, sie::ErrorCode::ModelDisposed, "this model has been unloaded");
  const RunArguments args = run_arguments(info, "runNow(ids, typeIds, offsets[, outputs])");
  sie::TokenBatch batch;
  batch.input_ids = args.ids.Data();
  batch.token_type_ids = args.type_ids.Data();
  batch.offsets = args.offsets.Data();
  batch.num_tokens = int(args.ids.ElementLength());
  batch.num_sequences = int(args.offsets.ElementLength()) - 1;
  batch.outputs = args.outputs;
  std::optional<sie::ModelOutput> output = translate_errors(env, [&]() { return model_->run_if_idle(batch); });
  if (!output) return env.Null();
  return output_to_js(env, *output);
}

// runImages(pixels: Float32Array, count, height, width): count x 3 x height x width, CHW.
Napi::Value ModelHandle::run_images(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!model_) throw coded_error(env, sie::ErrorCode::ModelDisposed, "this model has been unloaded");
  if (info.Length() != 4 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw argument_error(env, "runImages(pixels: Float32Array, count, height, width)");
  for (size_t i = 1; i < 4; ++i)
    if (!info[i].IsNumber()) throw argument_error(env, "count, height and width must be numbers");
  const Napi::Float32Array pixels = info[0].As<Napi::Float32Array>();
  const int count = info[1].As<Napi::Number>().Int32Value(), height = info[2].As<Napi::Number>().Int32Value(),
            width = info[3].As<Napi::Number>().Int32Value();
  if (count < 1 || height < 1 || width < 1 || pixels.ElementLength() != size_t(count) * 3 * size_t(height) * size_t(width))
    throw argument_error(env, "pixels must hold count x 3 x height x width values");
  auto* worker = new RunImagesWorker(env, model_, pixels, count, height, width);
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

Napi::Value ModelHandle::info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  if (!model_) return out;
  out.Set("weightBytes", double(model_->weight_bytes()));
  out.Set("workspaceBytes", double(model_->workspace_bytes()));
  out.Set("maxBatchesInFlight", model_->max_batches_in_flight());
  return out;
}

Napi::Value ModelHandle::dispose(const Napi::CallbackInfo& info) {
  // Work already queued holds its own reference, so it finishes before the weights go.
  model_.reset();
  return info.Env().Undefined();
}

}  // namespace sie_bindings
