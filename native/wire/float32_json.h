// JSON text for float32 vectors: each value in the shortest decimal form that reads back to the
// same float32 (std::to_chars), as orjson writes numpy float32 for Infinity. Printing the
// float64 expansion of a float32 (what JSON.stringify does) takes twice the bytes and several
// times the time for no information: 32 x 384 floats went from 250 KiB in 3 ms to about 150 KiB.
#pragma once
#include <cstddef>
#include <string>

namespace sie {

// Appends "[v0,v1,...]" to out; NaN and infinities become null, as JSON.stringify writes them.
void append_float32_json_array(const float* values, size_t count, std::string& out);

}  // namespace sie
