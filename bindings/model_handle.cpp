#include "model_handle.h"

#include "addon_data.h"
#include "compute_pool.h"
#include "error_translation.h"
#include "typed_arrays.h"

namespace sie_bindings {
namespace {

int int_field(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw argument_error(o.Env(), std::string("options.") + key + " must be a number");
  return v.As<Napi::Number>().Int32Value();
}

std::string string_field(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

sie::HeadKind parse_head(Napi::Env env, const std::string& head) {
  if (head == "pooled") return sie::HeadKind::PooledEmbedding;
  if (head == "token-projection") return sie::HeadKind::TokenProjection;
  if (head == "splade") return sie::HeadKind::Splade;
  if (head == "sequence-classifier") return sie::HeadKind::SequenceClassifier;
  if (head == "token-classifier") return sie::HeadKind::TokenClassifier;
  throw argument_error(env, "options.head must be one of pooled, token-projection, splade, sequence-classifier, token-classifier");
}

sie::EncoderModelOptions parse_options(const Napi::Value& value) {
  Napi::Env env = value.Env();
  if (!value.IsObject()) throw argument_error(env, "options must be an object");
  const Napi::Object o = value.As<Napi::Object>();
  sie::EncoderModelOptions options;
  if (!o.Get("weightsPath").IsString()) throw argument_error(env, "options.weightsPath must be a string");
  options.weights_path = string_field(o, "weightsPath");
  options.config.hidden_size = int_field(o, "hiddenSize");
  options.config.num_layers = int_field(o, "numLayers");
  options.config.num_heads = int_field(o, "numHeads");
  options.config.intermediate_size = int_field(o, "intermediateSize");
  options.config.vocab_size = int_field(o, "vocabSize");
  options.config.max_positions = int_field(o, "maxPositions");
  options.config.type_vocab_size = int_field(o, "typeVocabSize");
  if (!o.Get("layerNormEps").IsNumber()) throw argument_error(env, "options.layerNormEps must be a number");
  options.config.layer_norm_eps = o.Get("layerNormEps").As<Napi::Number>().FloatValue();
  options.head = parse_head(env, string_field(o, "head"));
  if (options.head == sie::HeadKind::PooledEmbedding) {
    const std::string pooling = string_field(o, "pooling");
    if (pooling == "mean") options.pooling = sie::PoolingMode::Mean;
    else if (pooling == "cls") options.pooling = sie::PoolingMode::Cls;
    else if (pooling == "last") options.pooling = sie::PoolingMode::LastToken;
    else throw argument_error(env, "options.pooling must be 'mean', 'cls' or 'last'");
    options.normalize = o.Get("normalize").ToBoolean();
  } else if (options.head != sie::HeadKind::Splade) {
    options.output_size = int_field(o, "outputSize");
  }
  options.projection_path = string_field(o, "projectionPath");
  return options;
}

class LoadWorker : public CodedAsyncWorker {
 public:
  LoadWorker(Napi::Env env, sie::EncoderModelOptions options) : CodedAsyncWorker(env), options_(std::move(options)) {}

 protected:
  void Run() override { model_ = std::make_shared<sie::EncoderModel>(options_); }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object handle =
        AddonData::of(env).model_handle.New({Napi::External<std::shared_ptr<sie::EncoderModel>>::New(env, &model_)});
    deferred_.Resolve(handle);
  }

 private:
  sie::EncoderModelOptions options_;
  std::shared_ptr<sie::EncoderModel> model_;
};

Napi::Int32Array int32_array_from(Napi::Env env, const std::vector<int32_t>& values) {
  Napi::Int32Array out = Napi::Int32Array::New(env, values.size());
  std::copy(values.begin(), values.end(), out.Data());
  return out;
}

class RunWorker : public CodedAsyncWorker {
 public:
  RunWorker(Napi::Env env, std::shared_ptr<sie::EncoderModel> model, std::shared_ptr<sie::ThreadPool> pool,
            Napi::TypedArrayOf<int32_t> ids, Napi::TypedArrayOf<int32_t> type_ids, Napi::TypedArrayOf<int32_t> offsets)
      : CodedAsyncWorker(env), model_(std::move(model)), pool_(std::move(pool)) {
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
  }

 protected:
  void Run() override {
    auto lock = pool_->acquire();
    output_ = model_->run(batch_, *pool_);
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object result = Napi::Object::New(env);
    result.Set("width", output_.width);
    result.Set("values", float32_array_from(env, std::move(output_.values)));
    if (!output_.row_offsets.empty()) {
      result.Set("indices", int32_array_from(env, output_.indices));
      result.Set("rowOffsets", int32_array_from(env, output_.row_offsets));
    }
    deferred_.Resolve(result);
  }

 private:
  std::shared_ptr<sie::EncoderModel> model_;
  std::shared_ptr<sie::ThreadPool> pool_;
  Napi::ObjectReference inputs_;
  sie::TokenBatch batch_;
  sie::HeadOutput output_;
};

}  // namespace

Napi::Function ModelHandle::define(Napi::Env env) {
  return DefineClass(env, "ModelHandle",
                     {InstanceMethod<&ModelHandle::run>("run"), InstanceAccessor<&ModelHandle::info>("info"),
                      InstanceMethod<&ModelHandle::dispose>("dispose")});
}

ModelHandle::ModelHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelHandle>(info) {
  if (info.Length() != 1 || !info[0].IsExternal())
    throw argument_error(info.Env(), "ModelHandle is created by loadModel()");
  model_ = std::move(*info[0].As<Napi::External<std::shared_ptr<sie::EncoderModel>>>().Data());
}

Napi::Value ModelHandle::load(const Napi::CallbackInfo& info) {
  auto* worker = new LoadWorker(info.Env(), parse_options(info[0]));  // AsyncWorker deletes itself when done
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

Napi::Value ModelHandle::run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!model_) throw coded_error(env, "MODEL_DISPOSED", "this model has been unloaded");
  if (info.Length() != 4) throw argument_error(env, "run(pool, ids, typeIds, offsets)");
  auto pool = ComputePool::unwrap(info[0]);
  auto ids = int32_array(info[1], "ids");
  auto type_ids = int32_array(info[2], "typeIds");
  auto offsets = int32_array(info[3], "offsets");
  if (type_ids.ElementLength() != ids.ElementLength()) throw argument_error(env, "typeIds must be as long as ids");
  if (offsets.ElementLength() < 2) throw argument_error(env, "offsets must hold at least two entries");
  const int32_t* o = offsets.Data();
  const size_t n = offsets.ElementLength();
  if (o[0] != 0 || size_t(o[n - 1]) != ids.ElementLength())
    throw argument_error(env, "offsets must start at 0 and end at ids.length");
  for (size_t i = 1; i < n; ++i)
    if (o[i] < o[i - 1]) throw argument_error(env, "offsets must not decrease");
  auto* worker = new RunWorker(env, model_, pool, ids, type_ids, offsets);
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
  return out;
}

Napi::Value ModelHandle::dispose(const Napi::CallbackInfo& info) {
  // Work already queued holds its own reference, so it finishes before the weights go.
  model_.reset();
  return info.Env().Undefined();
}

}  // namespace sie_bindings
