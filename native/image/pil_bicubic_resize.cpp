#include "pil_bicubic_resize.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "../core/engine_error.h"

namespace sie {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;
constexpr int kMaxSide = 1 << 15;

double bicubic(double x) {
  const double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

// Per output pixel: the first input pixel it reads, how many, and their fixed-point weights.
struct Coefficients {
  int ksize = 0;
  std::vector<int> first, count;
  std::vector<int32_t> weights;  // [out_size][ksize]
};

Coefficients precompute(int in_size, int out_size) {
  Coefficients c;
  const double scale = double(in_size) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = 2.0 * filterscale;  // the bicubic kernel's support, widened when shrinking
  c.ksize = int(std::ceil(support)) * 2 + 1;
  c.first.resize(size_t(out_size));
  c.count.resize(size_t(out_size));
  c.weights.assign(size_t(out_size) * c.ksize, 0);
  std::vector<double> k(size_t(c.ksize));
  const double inverse_scale = 1.0 / filterscale;  // multiplied, not divided: the same last bit as Pillow
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    // C casts truncate toward zero, as Pillow's do.
    int xmin = int(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = int(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double total = 0.0;
    for (int x = 0; x < xmax; ++x) total += (k[size_t(x)] = bicubic((x + xmin - center + 0.5) * inverse_scale));
    for (int x = 0; x < xmax; ++x) {
      const double w = total != 0.0 ? k[size_t(x)] / total : k[size_t(x)];
      c.weights[size_t(xx) * c.ksize + x] = int32_t(w < 0 ? -0.5 + w * (1 << kPrecisionBits) : 0.5 + w * (1 << kPrecisionBits));
    }
    c.first[size_t(xx)] = xmin;
    c.count[size_t(xx)] = xmax;
  }
  return c;
}

void check_sides(int width, int height, int out_width, int out_height) {
  for (int side : {width, height, out_width, out_height})
    if (side < 1 || side > kMaxSide)
      throw EngineError(ErrorCode::InvalidInput, "image sides must be between 1 and " + std::to_string(kMaxSide) + " pixels");
}

uint8_t clip8(int32_t v) {
  if (v >= (1 << kPrecisionBits << 8)) return 255;
  if (v <= 0) return 0;
  return uint8_t(v >> kPrecisionBits);
}

}  // namespace

std::vector<uint8_t> resize_bicubic_rgb8_reference(const uint8_t* in, int width, int height, int out_width, int out_height) {
  check_sides(width, height, out_width, out_height);
  const bool horizontal = out_width != width, vertical = out_height != height;
  if (!horizontal && !vertical) return std::vector<uint8_t>(in, in + size_t(width) * height * 3);
  const Coefficients cols = precompute(width, out_width);
  Coefficients rows = precompute(height, out_height);

  // Horizontal pass, over only the input rows the vertical pass will read.
  const int row_first = rows.first.front();
  const int row_last = rows.first.back() + rows.count.back();
  std::vector<uint8_t> temp;
  const uint8_t* src = in;
  int src_width = width;
  if (horizontal) {
    const int temp_rows = row_last - row_first;
    temp.resize(size_t(out_width) * temp_rows * 3);
    for (int y = 0; y < temp_rows; ++y) {
      const uint8_t* line = in + (size_t(y) + row_first) * width * 3;
      for (int xx = 0; xx < out_width; ++xx) {
        const int32_t* k = &cols.weights[size_t(xx) * cols.ksize];
        const uint8_t* p = line + size_t(cols.first[size_t(xx)]) * 3;
        int32_t r = 1 << (kPrecisionBits - 1), g = r, b = r;
        for (int x = 0; x < cols.count[size_t(xx)]; ++x) {
          r += p[x * 3 + 0] * k[x];
          g += p[x * 3 + 1] * k[x];
          b += p[x * 3 + 2] * k[x];
        }
        uint8_t* o = &temp[(size_t(y) * out_width + xx) * 3];
        o[0] = clip8(r), o[1] = clip8(g), o[2] = clip8(b);
      }
    }
    for (int& first : rows.first) first -= row_first;
    src = temp.data();
    src_width = out_width;
    if (!vertical) return temp;
  }

  std::vector<uint8_t> out(size_t(out_width) * out_height * 3);
  for (int yy = 0; yy < out_height; ++yy) {
    const int32_t* k = &rows.weights[size_t(yy) * rows.ksize];
    const int first = rows.first[size_t(yy)], count = rows.count[size_t(yy)];
    for (int xx = 0; xx < src_width; ++xx)
      for (int ch = 0; ch < 3; ++ch) {
        int32_t acc = 1 << (kPrecisionBits - 1);
        for (int y = 0; y < count; ++y) acc += src[(size_t(y + first) * src_width + xx) * 3 + ch] * k[y];
        out[(size_t(yy) * out_width + xx) * 3 + ch] = clip8(acc);
      }
  }
  return out;
}


// The same arithmetic, reordered: the vertical pass sums whole rows (the inner loop runs along
// contiguous bytes, which the compiler vectorises) instead of walking down a column per output
// byte, and only the window's columns and the rows its output rows read are computed. Pillow's
// first pass rounds to uint8 per pixel, so a window is exactly the same bytes as the full resize.
std::vector<uint8_t> resize_bicubic_rgb8_window(const uint8_t* in, int width, int height, int out_width, int out_height,
                                                int x0, int y0, int x1, int y1) {
  check_sides(width, height, out_width, out_height);
  if (x0 < 0 || y0 < 0 || x1 > out_width || y1 > out_height || x0 >= x1 || y0 >= y1)
    throw EngineError(ErrorCode::InvalidInput, "the resize window must lie inside the resized image");
  const int window_width = x1 - x0, window_height = y1 - y0;
  const size_t row_bytes = size_t(window_width) * 3;
  const bool horizontal = out_width != width, vertical = out_height != height;
  Coefficients rows;
  if (vertical) rows = precompute(height, out_height);
  // Input rows the output rows [y0, y1) read (all of them at their own index without a vertical pass).
  int row_first = y0, row_last = y1;
  if (vertical) {
    row_first = rows.first[size_t(y0)];
    row_last = 0;
    for (int yy = y0; yy < y1; ++yy) row_last = std::max(row_last, rows.first[size_t(yy)] + rows.count[size_t(yy)]);
  }

  // Horizontal pass: rows [row_first, row_last) of the window's columns, as uint8.
  std::vector<uint8_t> temp(size_t(row_last - row_first) * row_bytes);
  if (horizontal) {
    const Coefficients cols = precompute(width, out_width);
    for (int y = row_first; y < row_last; ++y) {
      const uint8_t* line = in + size_t(y) * width * 3;
      uint8_t* o = &temp[size_t(y - row_first) * row_bytes];
      for (int xx = x0; xx < x1; ++xx, o += 3) {
        const int32_t* k = &cols.weights[size_t(xx) * cols.ksize];
        const uint8_t* p = line + size_t(cols.first[size_t(xx)]) * 3;
        int32_t r = 1 << (kPrecisionBits - 1), g = r, b = r;
        for (int x = 0, count = cols.count[size_t(xx)]; x < count; ++x, p += 3) {
          r += p[0] * k[x];
          g += p[1] * k[x];
          b += p[2] * k[x];
        }
        o[0] = clip8(r), o[1] = clip8(g), o[2] = clip8(b);
      }
    }
  } else {
    for (int y = row_first; y < row_last; ++y)
      std::copy_n(in + (size_t(y) * width + x0) * 3, row_bytes, &temp[size_t(y - row_first) * row_bytes]);
  }
  if (!vertical) return temp;

  std::vector<uint8_t> out(size_t(window_height) * row_bytes);
  std::vector<int32_t> acc(row_bytes);
  for (int yy = y0; yy < y1; ++yy) {
    const int32_t* k = &rows.weights[size_t(yy) * rows.ksize];
    const int first = rows.first[size_t(yy)] - row_first, count = rows.count[size_t(yy)];
    std::fill(acc.begin(), acc.end(), int32_t(1) << (kPrecisionBits - 1));
    for (int y = 0; y < count; ++y) {
      const uint8_t* src = &temp[size_t(first + y) * row_bytes];
      const int32_t weight = k[y];
      int32_t* a = acc.data();
      for (size_t i = 0; i < row_bytes; ++i) a[i] += int32_t(src[i]) * weight;
    }
    uint8_t* o = &out[size_t(yy - y0) * row_bytes];
    for (size_t i = 0; i < row_bytes; ++i) o[i] = clip8(acc[i]);
  }
  return out;
}

std::vector<uint8_t> resize_bicubic_rgb8(const uint8_t* in, int width, int height, int out_width, int out_height) {
  return resize_bicubic_rgb8_window(in, width, height, out_width, out_height, 0, 0, out_width, out_height);
}

}  // namespace sie
