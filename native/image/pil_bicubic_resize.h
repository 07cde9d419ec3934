// Image resizing exactly as Pillow does it for 8-bit RGB with Image.BICUBIC, which is what Hugging
// Face's CLIPImageProcessor calls (PIL.Image.resize, no reducing_gap): a separable convolution
// with the bicubic kernel (a = -0.5) whose support widens by the scale factor when shrinking
// (antialiasing), coefficients normalised per output pixel and converted to 22-bit fixed point,
// a horizontal pass over only the rows the vertical pass reads, each pass rounded and clamped to
// uint8. Other libraries' "bicubic" differ by several levels; CLIP embeddings move visibly at
// one level (../shared/reference/README.md), so this follows Pillow's arithmetic, not its code.
#pragma once
#include <cstdint>
#include <vector>

namespace sie {

// in: width x height x 3 (RGB, rows contiguous); returns out_width x out_height x 3.
// Throws EngineError(INVALID_INPUT) for empty or oversized dimensions.
std::vector<uint8_t> resize_bicubic_rgb8(const uint8_t* in, int width, int height, int out_width, int out_height);

// Columns [x0, x1) and rows [y0, y1) of that resize, computed alone (a center crop): the same
// bytes as cutting them from the whole, at the cost of the window. The window lies inside the
// resized image (else INVALID_INPUT).
std::vector<uint8_t> resize_bicubic_rgb8_window(const uint8_t* in, int width, int height, int out_width, int out_height,
                                                int x0, int y0, int x1, int y1);

// The plain twin, in Pillow's loop order: every output byte sums its column of the first pass.
std::vector<uint8_t> resize_bicubic_rgb8_reference(const uint8_t* in, int width, int height, int out_width, int out_height);

}  // namespace sie
