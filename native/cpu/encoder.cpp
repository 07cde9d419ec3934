#include "clip/clip_text_encoder.h"
#include "encoder.h"

#include "../core/engine_error.h"
#include "bert/bert_encoder.h"
#include "rope/rope_encoder.h"

namespace sie {
namespace {

// The BERT encoder with its workspace, behind the common interface.
class BertFamilyEncoder : public Encoder {
 public:
  BertFamilyEncoder(const WeightStore& weights, const EncoderConfig& config, WeightFormat format) : encoder_(weights, config, format) {}
  const float* forward(const TokenBatch& batch, ThreadPool& pool, HiddenRows rows) override {
    return encoder_.forward(batch, workspace_, pool, rows);
  }
  size_t weight_bytes() const override { return encoder_.weight_bytes(); }
  size_t workspace_bytes() const override { return workspace_.bytes(); }

 private:
  BertEncoder encoder_;
  EncoderWorkspace workspace_;
};

}  // namespace

std::unique_ptr<Encoder> make_encoder(const ModelDescription& d, const WeightStore& weights, WeightFormat format) {
  // XLM-RoBERTa is the BERT encoder with RoBERTa positions (EncoderConfig::position_padding_idx).
  if (d.architecture == "bert" || d.architecture == "xlm-roberta") {
    if ((d.architecture == "xlm-roberta") != (d.encoder.position_padding_idx >= 0))
      throw EngineError(ErrorCode::BadConfig, "positionPaddingIdx is set for xlm-roberta (its pad_token_id) and only for it");
    return std::make_unique<BertFamilyEncoder>(weights, d.encoder, format);
  }
  if (d.architecture == "clip") return std::make_unique<ClipTextEncoder>(weights, d.encoder, d.head.pool_token_id, format);
  if (d.architecture == "modernbert" || d.architecture == "gte-new" || d.architecture == "qwen3")
    return std::make_unique<RopeEncoder>(weights, rope_architecture(d.architecture), d.encoder, format);
  throw EngineError(ErrorCode::BadConfig, "the CPU backend has no encoder for architecture '" + d.architecture + "'");
}

}  // namespace sie
