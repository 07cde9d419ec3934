#include "clip_pixel_values.h"

#include <algorithm>
#include <string>

#include "../core/engine_error.h"
#include "pil_bicubic_resize.h"

namespace sie {

std::vector<float> clip_pixel_values(const uint8_t* in, int width, int height, const ClipPixelSpec& spec) {
  const int cw = spec.crop_width, ch = spec.crop_height;
  // The resize's own words for its sides: an extreme aspect ratio ends here, its long side resized past the limit.
  for (int side : {width, height, spec.resize_width, spec.resize_height})
    if (side < 1 || side > (1 << 15)) throw EngineError(ErrorCode::InvalidInput, "image sides must be between 1 and 32768 pixels");
  if (cw < 1 || ch < 1 || cw > (1 << 15) || ch > (1 << 15))
    throw EngineError(ErrorCode::InvalidInput, "the crop must be between 1 and 32768 pixels a side");
  // Each byte value maps to one float per channel; a table holds all 3 x 256 of them.
  float table[3][256];
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v) {
      const float rescaled = spec.rescale ? float(double(v) * spec.rescale_factor) : float(v);
      table[c][v] = spec.normalize ? (rescaled - spec.mean[c]) / spec.std[c] : rescaled;
    }
  // The part of the crop that the resized image covers.
  const int x0 = std::max(0, spec.left), x1 = std::min(spec.resize_width, spec.left + cw);
  const int y0 = std::max(0, spec.top), y1 = std::min(spec.resize_height, spec.top + ch);
  const size_t plane = size_t(cw) * ch;
  std::vector<float> out(3 * plane);
  for (int c = 0; c < 3; ++c) std::fill_n(out.begin() + c * plane, plane, table[c][0]);  // the padding: zeros
  if (x0 >= x1 || y0 >= y1) return out;
  const std::vector<uint8_t> window = resize_bicubic_rgb8_window(in, width, height, spec.resize_width, spec.resize_height, x0, y0, x1, y1);
  const int ww = x1 - x0;
  for (int y = y0; y < y1; ++y) {
    const uint8_t* src = &window[size_t(y - y0) * ww * 3];
    const size_t row = size_t(y - spec.top) * cw + size_t(x0 - spec.left);
    float* r = &out[row];
    float* g = r + plane;
    float* b = g + plane;
    for (int x = 0; x < ww; ++x, src += 3) {
      r[x] = table[0][src[0]];
      g[x] = table[1][src[1]];
      b[x] = table[2][src[2]];
    }
  }
  return out;
}

}  // namespace sie
