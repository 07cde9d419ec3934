// The shortest decimal that reads back to the same float32, printed as std::to_chars(float)
// prints it (fixed or scientific, whichever is shorter; fixed on a tie). libstdc++'s to_chars
// took about 40 ns a value on the servers we measure, most of a batch answer's JSON time; this
// one follows Schubfach (R. Giulietti, "The Schubfach way to render doubles", 2020): one
// 64 x 32-bit product per interval bound, then at most two candidate digit strings.
// std::to_chars is its reference twin (test/wire-format.test.ts compares them byte for byte;
// bench/float32-shortest-exhaustive.cpp compares all 2^32 bit patterns).
#pragma once
#include <cstddef>
#include <cstdint>

namespace sie {

// Writes a finite value (at most 15 characters: "-1.17549435e-38") and returns the end. It may
// store up to 16 bytes past the end it returns (scratch, for fixed-size copies): keep 32 spare.
char* write_float32_shortest(char* at, float value);

// The printing half of it: digits x 10^exponent (digits < 10^9, no trailing zero) as to_chars
// writes that value of a nonzero finite float; the sign is the caller's. The same spare room.
char* write_float32_decimal(char* at, uint32_t digits, int exponent, float value);

// Eight values at once with AVX-512: each finite nonzero one's shortest digits and exponent
// (the decimal search above, in vector lanes). Returns a bit per lane the caller must print with
// write_float32_shortest instead: zeros, subnormals, infinities and NaN. Needs cpu_has_avx512().
uint32_t float32_shortest_digits_x8(const float* values, uint32_t digits[8], int32_t exponents[8]);

}  // namespace sie
