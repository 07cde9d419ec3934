#include "float32_json.h"

#include <charconv>
#include <cmath>

namespace sie {

void append_float32_json_array(const float* values, size_t count, std::string& out) {
  // The longest shortest float32 form is 15 characters ("-1.17549435e-38"); 16 with the comma.
  const size_t start = out.size();
  out.resize(start + 2 + count * 16);
  char* at = out.data() + start;
  char* const end = out.data() + out.size();
  *at++ = '[';
  for (size_t i = 0; i < count; ++i) {
    if (i) *at++ = ',';
    const float v = values[i];
    if (!std::isfinite(v)) {
      at[0] = 'n', at[1] = 'u', at[2] = 'l', at[3] = 'l';
      at += 4;
      continue;
    }
    at = std::to_chars(at, end, v).ptr;
  }
  *at++ = ']';
  out.resize(size_t(at - out.data()));
}

}  // namespace sie
