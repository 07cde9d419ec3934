// CLIPImageProcessor's pixel values from RGB bytes, as transformers computes them with PIL:
// Pillow's BICUBIC resize (pil_bicubic_resize.h) to the resized size, a center crop (zeros where
// the crop reaches past the image), then rescale and normalise into CHW float32. Only the crop's
// window of the resize is computed. The arithmetic of the last step is numpy's: the rescale in
// float64 rounded to float32, then (value - mean) / std in float32.
#pragma once
#include <cstdint>
#include <vector>

namespace sie {

struct ClipPixelSpec {
  int resize_width = 0, resize_height = 0;
  // The crop's top-left corner in the resized image (negative: it pads) and its size.
  int left = 0, top = 0, crop_width = 0, crop_height = 0;
  bool rescale = true;
  double rescale_factor = 1.0 / 255.0;
  bool normalize = true;
  float mean[3] = {0, 0, 0}, std[3] = {1, 1, 1};
};

// in: width x height x 3; returns 3 planes of crop_height x crop_width.
std::vector<float> clip_pixel_values(const uint8_t* in, int width, int height, const ClipPixelSpec& spec);

}  // namespace sie
