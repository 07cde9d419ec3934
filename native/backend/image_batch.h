// Preprocessed images for a vision tower: `count` images of channels x height x width float32
// pixel values (CHW, already rescaled and normalised by lib/images/). A view; the caller owns it.
#pragma once

namespace sie {

struct ImageBatch {
  const float* pixels = nullptr;
  int count = 0;
  int channels = 3, height = 0, width = 0;
};

}  // namespace sie
