// Everything a backend needs to load one model, device-neutral: the encoder architecture and
// shape (from config.json), the weight files, and which output head to build with its options.
// lib/families/ builds it; each backend decides how to lay the weights out for its device.
#pragma once
#include <string>

#include "encoder_config.h"

namespace sie {

struct HeadOptions {
  std::string kind;            // a name from native/cpu/heads/head_registry.cpp (kHeadKinds)
  std::string pooling;         // "pooled": mean | cls | last
  bool normalize = true;       // "pooled"
  std::string projection_path; // "token-projection": 1_Dense/model.safetensors; "bge-m3": colbert_linear.pt
  std::string sparse_path;     // "bge-m3": sparse_linear.pt
  int output_size = 0;         // "token-projection" width, or a classifier's label count
  // "clip-text": pool at the first position holding this id; -1: at the largest id (HF's rule
  // for legacy configs whose eos_token_id is 2).
  int pool_token_id = -1;
};

// CLIP's vision tower (architecture "clip"; the text tower is `encoder`).
struct VisionTowerConfig {
  int hidden_size = 0, num_layers = 0, num_heads = 0, intermediate_size = 0;
  int image_size = 0, patch_size = 0;
  float layer_norm_eps = 1e-5f;
  std::string hidden_act = "quick_gelu";
};

struct ModelDescription {
  std::string architecture;  // "bert" | "xlm-roberta" | "modernbert" | "gte-new" | "qwen3" | "clip"
  std::string dtype = "fp32";  // weights of the matrix products: "fp32" | "bf16" | "bf16x3" | "bf16x3q" (Backend::dtypes())
  std::string weights_path;
  EncoderConfig encoder;
  HeadOptions head;
  VisionTowerConfig vision;  // "clip" only
};

}  // namespace sie
