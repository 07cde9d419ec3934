#include "clip_vision_model.h"

#include <string>

#include "../../core/engine_error.h"
#include "../kernels/elementwise.h"
#include "../kernels/pooling.h"
#include "clip_projection.h"

namespace sie {
namespace {

ClipTowerShape vision_shape(const VisionTowerConfig& c) {
  if (c.hidden_act != "quick_gelu" && c.hidden_act != "gelu")
    throw EngineError(ErrorCode::BadConfig, "CLIP vision hidden_act must be quick_gelu or gelu, got '" + c.hidden_act + "'");
  if (c.patch_size < 1 || c.image_size < c.patch_size || c.image_size % c.patch_size != 0)
    throw EngineError(ErrorCode::BadConfig, "CLIP vision image_size must be a multiple of patch_size");
  return {c.hidden_size, c.num_layers, c.num_heads, c.intermediate_size, c.layer_norm_eps, c.hidden_act == "quick_gelu"};
}

}  // namespace

ClipVisionModel::ClipVisionModel(const WeightStore& file, const VisionTowerConfig& c, int projection_dim, bool normalize,
                                 WeightFormat format)
    : config_(c), grid_(c.image_size / std::max(1, c.patch_size)), projection_dim_(projection_dim), normalize_(normalize),
      tower_(file, "vision_model.encoder.layers.", vision_shape(c), format) {
  const int h = c.hidden_size, p = c.patch_size, patches = grid_ * grid_;
  const std::vector<float> conv = read_tensor(file, "vision_model.embeddings.patch_embedding.weight", {h, 3, p, p});
  patch_embedding_ = make_packed_linear(conv.data(), {}, h, 3 * p * p, format);
  class_embedding_ = read_tensor(file, "vision_model.embeddings.class_embedding", {h});
  position_embedding_ = read_tensor(file, "vision_model.embeddings.position_embedding.weight", {patches + 1, h});
  pre_norm_ = {read_tensor(file, "vision_model.pre_layrnorm.weight", {h}), read_tensor(file, "vision_model.pre_layrnorm.bias", {h})};
  post_norm_ = {read_tensor(file, "vision_model.post_layernorm.weight", {h}), read_tensor(file, "vision_model.post_layernorm.bias", {h})};
  projection_ = read_linear(file, "visual_projection", projection_dim, h, format);
}

size_t ClipVisionModel::weight_bytes() const {
  return patch_embedding_.bytes() + projection_.bytes() + tower_.weight_bytes() +
         (class_embedding_.size() + position_embedding_.size() + 4 * pre_norm_.gamma.size()) * sizeof(float);
}

ModelOutput ClipVisionModel::run(const ImageBatch& b, ThreadPool& pool) {
  const int size = config_.image_size, p = config_.patch_size, h = config_.hidden_size;
  if (b.count < 1 || b.channels != 3 || b.height != size || b.width != size)
    throw EngineError(ErrorCode::InvalidInput, "images must be 3 x " + std::to_string(size) + " x " + std::to_string(size) +
                                                   " pixel values for this model, got " + std::to_string(b.channels) + " x " +
                                                   std::to_string(b.height) + " x " + std::to_string(b.width));
  const int patches = grid_ * grid_, tokens = patches + 1, k = 3 * p * p;
  // Unfold: row (image, patch) holds the patch's pixels in (channel, row, column) order.
  patches_.resize(size_t(b.count) * patches * k);
  for (int n = 0; n < b.count; ++n)
    for (int gy = 0; gy < grid_; ++gy)
      for (int gx = 0; gx < grid_; ++gx) {
        float* row = &patches_[(size_t(n) * patches + gy * grid_ + gx) * k];
        for (int c = 0; c < 3; ++c)
          for (int y = 0; y < p; ++y)
            for (int x = 0; x < p; ++x)
              row[(c * p + y) * p + x] = b.pixels[((size_t(n) * 3 + c) * size + gy * p + y) * size + gx * p + x];
      }
  std::vector<float> embedded(size_t(b.count) * patches * h);
  linear_forward(patch_embedding_, b.count * patches, patches_.data(), k, embedded.data(), h, &pool);
  hidden_.resize(size_t(b.count) * tokens * h);
  std::vector<int32_t> offsets(size_t(b.count) + 1);
  for (int n = 0; n < b.count; ++n) {
    offsets[size_t(n)] = n * tokens;
    for (int t = 0; t < tokens; ++t) {
      const float* source = t == 0 ? class_embedding_.data() : &embedded[(size_t(n) * patches + t - 1) * h];
      for (int i = 0; i < h; ++i) hidden_[(size_t(n) * tokens + t) * h + i] = source[i] + position_embedding_[size_t(t) * h + i];
    }
  }
  offsets[size_t(b.count)] = b.count * tokens;
  add_layer_norm(hidden_.data(), nullptr, b.count * tokens, h, h, pre_norm_.gamma.data(), pre_norm_.beta.data(), config_.layer_norm_eps);
  // Only each image's class token (its first row) is read after the tower: offsets name them.
  tower_.forward(hidden_.data(), offsets.data(), b.count, /*causal=*/false, pool, /*pooled_rows=*/offsets.data());
  std::vector<float> pooled(size_t(b.count) * h);
  for (int n = 0; n < b.count; ++n)
    std::copy(&hidden_[size_t(n) * tokens * h], &hidden_[size_t(n) * tokens * h] + h, &pooled[size_t(n) * h]);
  add_layer_norm(pooled.data(), nullptr, b.count, h, h, post_norm_.gamma.data(), post_norm_.beta.data(), config_.layer_norm_eps);
  return project_clip_rows(projection_, b.count, pooled.data(), h, normalize_, pool);
}

}  // namespace sie
