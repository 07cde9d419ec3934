#include "float32_json.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "float32_shortest.h"

namespace sie {

char* write_float32_json_array(const float* values, size_t count, char* at, bool reference) {
  *at++ = '[';
  for (size_t i = 0; i < count; ++i) {
    if (i) *at++ = ',';
    const float v = values[i];
    if (!std::isfinite(v)) {
      std::memcpy(at, "null", 4);
      at += 4;
    } else if (reference) {
      at = std::to_chars(at, at + 16, v).ptr;
    } else {
      at = write_float32_shortest(at, v);
    }
  }
  *at++ = ']';
  return at;
}

void append_float32_json_array(const float* values, size_t count, std::string& out, bool reference) {
  const size_t start = out.size();
  out.resize(start + float32_json_array_max_bytes(count) + kFloat32JsonSpareBytes);
  char* end = write_float32_json_array(values, count, out.data() + start, reference);
  out.resize(size_t(end - out.data()));
}

}  // namespace sie
