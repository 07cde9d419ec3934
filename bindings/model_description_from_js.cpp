#include "model_description_from_js.h"

#include <string>

#include "error_translation.h"

namespace sie_bindings {
namespace {

Napi::Object object_field(const Napi::Object& o, const char* key, const std::string& where) {
  Napi::Value v = o.Get(key);
  if (!v.IsObject()) throw argument_error(o.Env(), where + key + " must be an object");
  return v.As<Napi::Object>();
}

int int_field(const Napi::Object& o, const char* key, const std::string& where) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw argument_error(o.Env(), where + key + " must be a number");
  return v.As<Napi::Number>().Int32Value();
}

std::string string_field(const Napi::Object& o, const char* key, const std::string& where, bool required) {
  Napi::Value v = o.Get(key);
  if (v.IsString()) return v.As<Napi::String>().Utf8Value();
  if (required || !v.IsUndefined()) throw argument_error(o.Env(), where + key + " must be a string");
  return {};
}

}  // namespace

sie::ModelDescription model_description_from_js(const Napi::Value& value) {
  if (!value.IsObject()) throw argument_error(value.Env(), "model description must be an object");
  const Napi::Object o = value.As<Napi::Object>();
  sie::ModelDescription d;
  d.architecture = string_field(o, "architecture", "", true);
  d.weights_path = string_field(o, "weightsPath", "", true);
  d.dtype = string_field(o, "dtype", "", false);
  if (d.dtype.empty()) d.dtype = "fp32";
  // Which of these a backend computes is its own answer (Backend::dtypes(), DEVICE_UNAVAILABLE).
  if (d.dtype != "fp32" && d.dtype != "fp16" && d.dtype != "bf16" && d.dtype != "bf16x3" && d.dtype != "bf16x3q")
    throw argument_error(o.Env(), "dtype must be 'fp32', 'fp16', 'bf16', 'bf16x3' or 'bf16x3q'");
  const Napi::Object e = object_field(o, "encoder", "");
  d.encoder.hidden_size = int_field(e, "hiddenSize", "encoder.");
  d.encoder.num_layers = int_field(e, "numLayers", "encoder.");
  d.encoder.num_heads = int_field(e, "numHeads", "encoder.");
  d.encoder.intermediate_size = int_field(e, "intermediateSize", "encoder.");
  d.encoder.vocab_size = int_field(e, "vocabSize", "encoder.");
  d.encoder.max_positions = int_field(e, "maxPositions", "encoder.");
  d.encoder.type_vocab_size = int_field(e, "typeVocabSize", "encoder.");
  if (!e.Get("layerNormEps").IsNumber()) throw argument_error(o.Env(), "encoder.layerNormEps must be a number");
  d.encoder.layer_norm_eps = e.Get("layerNormEps").As<Napi::Number>().FloatValue();
  d.encoder.position_padding_idx = e.Get("positionPaddingIdx").IsUndefined() ? -1 : int_field(e, "positionPaddingIdx", "encoder.");
  // Rotary encoders: every field optional, defaults as EncoderConfig's.
  auto optional_int = [&](const char* key, int* out) {
    if (!e.Get(key).IsUndefined()) *out = int_field(e, key, "encoder.");
  };
  auto optional_double = [&](const char* key, double* out) {
    const Napi::Value v = e.Get(key);
    if (v.IsUndefined()) return;
    if (!v.IsNumber()) throw argument_error(o.Env(), std::string("encoder.") + key + " must be a number");
    *out = v.As<Napi::Number>().DoubleValue();
  };
  optional_int("numKvHeads", &d.encoder.num_kv_heads);
  optional_int("headDim", &d.encoder.head_dim_override);
  optional_double("ropeTheta", &d.encoder.rope_theta);
  optional_double("localRopeTheta", &d.encoder.local_rope_theta);
  optional_double("ropeNtkFactor", &d.encoder.rope_ntk_factor);
  optional_int("globalAttnEveryNLayers", &d.encoder.global_attn_every_n_layers);
  optional_int("localAttention", &d.encoder.local_attention);
  d.encoder.causal = e.Get("causal").ToBoolean();
  d.encoder.fp32_attention = o.Get("fp32Attention").ToBoolean();
  const std::string act = string_field(e, "hiddenAct", "encoder.", false);
  if (!act.empty()) d.encoder.hidden_act = act;
  const Napi::Object h = object_field(o, "head", "");
  d.head.kind = string_field(h, "kind", "head.", true);
  d.head.pooling = string_field(h, "pooling", "head.", false);
  d.head.normalize = h.Get("normalize").ToBoolean();
  d.head.projection_path = string_field(h, "projectionPath", "head.", false);
  d.head.sparse_path = string_field(h, "sparsePath", "head.", false);
  if (!h.Get("outputSize").IsUndefined()) d.head.output_size = int_field(h, "outputSize", "head.");
  if (!h.Get("poolTokenId").IsUndefined()) d.head.pool_token_id = int_field(h, "poolTokenId", "head.");
  if (!o.Get("vision").IsUndefined()) {
    const Napi::Object v = object_field(o, "vision", "");
    d.vision.hidden_size = int_field(v, "hiddenSize", "vision.");
    d.vision.num_layers = int_field(v, "numLayers", "vision.");
    d.vision.num_heads = int_field(v, "numHeads", "vision.");
    d.vision.intermediate_size = int_field(v, "intermediateSize", "vision.");
    d.vision.image_size = int_field(v, "imageSize", "vision.");
    d.vision.patch_size = int_field(v, "patchSize", "vision.");
    if (!v.Get("layerNormEps").IsNumber()) throw argument_error(o.Env(), "vision.layerNormEps must be a number");
    d.vision.layer_norm_eps = v.Get("layerNormEps").As<Napi::Number>().FloatValue();
    d.vision.hidden_act = string_field(v, "hiddenAct", "vision.", true);
  }
  return d;
}

}  // namespace sie_bindings
