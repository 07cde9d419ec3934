#include "head_registry.h"

#include "../../core/engine_error.h"
#include "bge_m3_head.h"
#include "classifier_heads.h"
#include "clip_text_head.h"
#include "modernbert_classifier_head.h"
#include "pooled_embedding_head.h"
#include "splade_head.h"
#include "token_projection_head.h"

namespace sie {
namespace {

PoolingMode pooling_mode(const std::string& name) {
  if (name == "mean") return PoolingMode::Mean;
  if (name == "cls") return PoolingMode::Cls;
  if (name == "last") return PoolingMode::LastToken;
  throw EngineError(ErrorCode::BadConfig, "pooling must be 'mean', 'cls' or 'last', got '" + name + "'");
}

int output_size(const HeadOptions& o) {
  if (o.output_size < 1 || o.output_size > 65536)
    throw EngineError(ErrorCode::BadConfig, "head '" + o.kind + "' needs an output size between 1 and 65536");
  return o.output_size;
}

using HeadFactory = std::unique_ptr<ModelHead> (*)(const HeadOptions&, const EncoderConfig&, const WeightStore&, WeightFormat);

struct HeadKind {
  const char* name;
  HeadFactory make;
};

const HeadKind kHeadKinds[] = {
    {"pooled", [](const HeadOptions& o, const EncoderConfig& c, const WeightStore&, WeightFormat) -> std::unique_ptr<ModelHead> {
       return std::make_unique<PooledEmbeddingHead>(c.hidden_size, pooling_mode(o.pooling), o.normalize);
     }},
    {"token-projection", [](const HeadOptions& o, const EncoderConfig& c, const WeightStore&, WeightFormat w) -> std::unique_ptr<ModelHead> {
       return std::make_unique<TokenProjectionHead>(o.projection_path, c.hidden_size, output_size(o), w);
     }},
    {"splade", [](const HeadOptions&, const EncoderConfig& c, const WeightStore& f, WeightFormat w) -> std::unique_ptr<ModelHead> {
       return std::make_unique<SpladeHead>(f, c, w);
     }},
    {"sequence-classifier", [](const HeadOptions& o, const EncoderConfig& c, const WeightStore& f, WeightFormat w) -> std::unique_ptr<ModelHead> {
       return std::make_unique<SequenceClassifierHead>(f, c.hidden_size, output_size(o), w);
     }},
    {"bge-m3", [](const HeadOptions& o, const EncoderConfig& c, const WeightStore&, WeightFormat w) -> std::unique_ptr<ModelHead> {
       return std::make_unique<BgeM3Head>(o.projection_path, o.sparse_path, c.hidden_size, o.normalize, w);
     }},
    {"token-classifier", [](const HeadOptions& o, const EncoderConfig& c, const WeightStore& f, WeightFormat w) -> std::unique_ptr<ModelHead> {
       return std::make_unique<TokenClassifierHead>(f, c.hidden_size, output_size(o), w);
     }},
    {"clip-text", [](const HeadOptions& o, const EncoderConfig& c, const WeightStore& f, WeightFormat w) -> std::unique_ptr<ModelHead> {
       return std::make_unique<ClipTextHead>(f, c.hidden_size, output_size(o), o.pool_token_id, o.normalize, w);
     }},
    {"modernbert-classifier", [](const HeadOptions& o, const EncoderConfig& c, const WeightStore& f, WeightFormat w) -> std::unique_ptr<ModelHead> {
       return std::make_unique<ModernBertClassifierHead>(f, c.hidden_size, output_size(o), pooling_mode(o.pooling), c.layer_norm_eps, w);
     }},
};

}  // namespace

std::unique_ptr<ModelHead> make_head(const HeadOptions& options, const EncoderConfig& encoder, const WeightStore& weights,
                                     WeightFormat format) {
  for (const HeadKind& kind : kHeadKinds)
    if (options.kind == kind.name) return kind.make(options, encoder, weights, format);
  std::string known;
  for (const HeadKind& kind : kHeadKinds) known += std::string(known.empty() ? "" : ", ") + kind.name;
  throw EngineError(ErrorCode::BadConfig, "unknown head '" + options.kind + "' (known: " + known + ")");
}

std::vector<std::string> head_kinds() {
  std::vector<std::string> names;
  for (const HeadKind& kind : kHeadKinds) names.push_back(kind.name);
  return names;
}

}  // namespace sie
