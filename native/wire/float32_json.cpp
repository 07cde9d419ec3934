#include "float32_json.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "../core/cpu_features.h"
#include "float32_shortest.h"

namespace sie {
namespace {

char* write_value(char* at, float v, Float32Printer printer) {
  if (!std::isfinite(v)) {
    std::memcpy(at, "null", 4);
    return at + 4;
  }
  if (printer == Float32Printer::Reference) return std::to_chars(at, at + 16, v).ptr;
  return write_float32_shortest(at, v);
}

}  // namespace

char* write_float32_json_array(const float* values, size_t count, char* at, Float32Printer printer) {
  *at++ = '[';
  size_t i = 0;
  if (printer == Float32Printer::Fastest && cpu_has_avx512()) {
    uint32_t digits[8];
    int32_t exponents[8];
    for (; i + 8 <= count; i += 8) {
      const uint32_t special = float32_shortest_digits_x8(values + i, digits, exponents);
      for (int lane = 0; lane < 8; ++lane) {
        if (i + lane) *at++ = ',';
        const float v = values[i + size_t(lane)];
        if ((special >> lane) & 1u) {
          at = write_value(at, v, Float32Printer::Scalar);
          continue;
        }
        if (std::signbit(v)) *at++ = '-';
        at = write_float32_decimal(at, digits[lane], exponents[lane], v);
      }
    }
  }
  for (; i < count; ++i) {
    if (i) *at++ = ',';
    at = write_value(at, values[i], printer);
  }
  *at++ = ']';
  return at;
}

void append_float32_json_array(const float* values, size_t count, std::string& out, Float32Printer printer) {
  const size_t start = out.size();
  out.resize(start + float32_json_array_max_bytes(count) + kFloat32JsonSpareBytes);
  char* end = write_float32_json_array(values, count, out.data() + start, printer);
  out.resize(size_t(end - out.data()));
}

}  // namespace sie
