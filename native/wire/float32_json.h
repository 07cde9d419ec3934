// JSON text for float32 vectors: each value in the shortest decimal form that reads back to the
// same float32 (write_float32_shortest, byte for byte what std::to_chars prints), as orjson writes
// numpy float32 for Infinity. Printing the float64 expansion of a float32 (what JSON.stringify
// does) takes twice the bytes and several times the time for no information: 32 x 384 floats
// went from 250 KiB in 3 ms to about 150 KiB.
#pragma once
#include <cstddef>
#include <string>

namespace sie {

// The most bytes write_float32_json_array writes for count values, and the spare room it needs
// past them (its value printer stores whole 16-byte chunks).
inline size_t float32_json_array_max_bytes(size_t count) { return 2 + count * 16; }
constexpr size_t kFloat32JsonSpareBytes = 32;

// Which printer writes the values: the fastest this CPU runs (eight at a time with AVX-512),
// the scalar one, or std::to_chars, the twin both are tested against. All write the same bytes.
enum class Float32Printer { Fastest, Scalar, Reference };

// Writes "[v0,v1,...]" at `at` and returns the end; NaN and infinities become null, as
// JSON.stringify writes them.
char* write_float32_json_array(const float* values, size_t count, char* at, Float32Printer printer = Float32Printer::Fastest);

// The same, appended to a string.
void append_float32_json_array(const float* values, size_t count, std::string& out, Float32Printer printer = Float32Printer::Fastest);

}  // namespace sie
