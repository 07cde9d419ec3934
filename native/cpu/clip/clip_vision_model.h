// CLIP's vision tower, image embeddings from preprocessed pixels: the patch embedding (a
// convolution with stride = kernel = patch, no bias, computed as one GEMM over the unfolded
// patches in (channel, row, column) order, the conv weight's own layout), the class token,
// position embeddings, pre_layrnorm, the pre-LN transformer over every patch, post_layernorm of
// the class token, visual_projection (no bias), L2-normalised when asked.
#pragma once
#include "../../backend/image_batch.h"
#include "../../backend/model_description.h"
#include "../../backend/model_output.h"
#include "clip_tower.h"

namespace sie {

class ClipVisionModel {
 public:
  ClipVisionModel(const WeightStore& file, const VisionTowerConfig& config, int projection_dim, bool normalize, WeightFormat format);
  ModelOutput run(const ImageBatch& batch, ThreadPool& pool);
  size_t weight_bytes() const;

 private:
  VisionTowerConfig config_;
  int grid_, projection_dim_;
  bool normalize_;
  PackedLinear patch_embedding_, projection_;
  std::vector<float> class_embedding_, position_embedding_;
  LayerNormWeights pre_norm_, post_norm_;
  ClipTower tower_;
  std::vector<float> patches_, hidden_;
};

}  // namespace sie
