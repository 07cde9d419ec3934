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
};

struct ModelDescription {
  std::string architecture;  // "bert" | "xlm-roberta"
  std::string dtype = "fp32";  // weights of the matrix products: "fp32" | "bf16" (Backend::dtypes())
  std::string weights_path;
  EncoderConfig encoder;
  HeadOptions head;
};

}  // namespace sie
