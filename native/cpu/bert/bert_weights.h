// The encoder's weights in compute layout: fp32, Q/K/V fused into one packed matrix with the
// 1/sqrt(head_dim) attention scale folded into Q, every Linear packed for gemm_packed.
#pragma once
#include <string>
#include <vector>

#include "../gemm/packed_linear.h"
#include "../../weights/weight_store.h"
#include "../../backend/encoder_config.h"

namespace sie {

struct LayerNormWeights {
  std::vector<float> gamma, beta;
};

struct BertLayerWeights {
  PackedLinear qkv;        // [3H, H]
  PackedLinear attention_output;
  LayerNormWeights attention_norm;
  PackedLinear intermediate;
  PackedLinear output;
  LayerNormWeights output_norm;
};

struct BertWeights {
  std::vector<float> word_embeddings, position_embeddings, token_type_embeddings;
  LayerNormWeights embedding_norm;
  std::vector<BertLayerWeights> layers;
  size_t bytes() const;
};

// Finds the encoder's tensors with or without a "bert." prefix, checks every shape against the
// config and converts F16/BF16 to fp32. Throws EngineError(BAD_WEIGHTS) naming the tensor.
// Linear layers are packed in `format`; embeddings and LayerNorms stay fp32.
BertWeights load_bert_weights(const WeightStore& file, const EncoderConfig& config, WeightFormat format);

// Reads a tensor under the encoder's prefix with exactly the expected shape, as fp32.
std::vector<float> read_tensor(const WeightStore& file, const std::string& name, std::vector<int64_t> shape);
// "" or "bert.", whichever the file uses for its encoder.
std::string bert_prefix(const WeightStore& file);
PackedLinear read_linear(const WeightStore& file, const std::string& name, int out_features, int in_features,
                         WeightFormat format);

// One layer's attention.self.{query,key,value} stacked into one [3H, H] matrix and [3H] bias, the
// query rows and bias scaled by q_scale (1/sqrt(head_dim)). Both backends' BERT encoders use it.
struct FusedQkv {
  std::vector<float> weight, bias;
};
FusedQkv read_fused_qkv(const WeightStore& file, const std::string& layer_prefix, int hidden, float q_scale);

}  // namespace sie
