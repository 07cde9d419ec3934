#include "float32_shortest.h"

#include <charconv>
#include <cstdint>
#include <cstring>

#include "float32_decimal_table.h"

namespace sie {
namespace {

// floor(x * g / 2^64) with its lowest bit set when that cuts a fraction ("round to odd"):
// Schubfach's way of keeping, in one word, both the integer part and whether anything was cut,
// so that comparisons with whole multiples of 4 below come out as the exact ones would. g is
// 10^-k rounded up, which puts an error below 2^-34 into the fraction of x * 2^q * 10^-k
// (x < 2^30): the fraction's lowest 32 bits hold only that error and are left out, or an exact
// interval end (1075000000 for 1075000064f) would look inexact. Every true fraction is larger
// (bench/float32-shortest-exhaustive.cpp checks all 2^32 values).
inline uint32_t scaled_round_to_odd(uint64_t g, uint32_t x) {
  const unsigned __int128 product = static_cast<unsigned __int128>(g) * x;
  return uint32_t(uint64_t(product >> 64)) | uint32_t((uint64_t(product) >> 32) != 0);
}

constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

inline uint64_t pair_chars(uint32_t pair) {
  uint16_t chars;
  std::memcpy(&chars, kDigitPairs + 2 * pair, 2);
  return chars;
}

// The n significant digits of value < 10^9 as characters, first digit in the lowest byte, built
// in registers: written to a stack buffer and read back 16 bytes at a time, they stalled on
// store forwarding (a wide load over narrower stores), the hottest spot of its profile.
inline unsigned __int128 digit_chars(uint32_t value, int n) {
  const uint32_t high = value / 100000000, low = value % 100000000;
  const uint32_t upper = low / 10000, lower = low % 10000;
  const uint64_t eight = pair_chars(upper / 100) | pair_chars(upper % 100) << 16 | pair_chars(lower / 100) << 32 | pair_chars(lower % 100) << 48;
  const unsigned __int128 nine = static_cast<unsigned __int128>(eight) << 8 | uint64_t('0' + high);
  return nine >> (8 * (9 - n));
}

inline int decimal_length(uint32_t value) {
  return 1 + (value >= 10) + (value >= 100) + (value >= 1000) + (value >= 10000) + (value >= 100000) + (value >= 1000000) +
         (value >= 10000000) + (value >= 100000000);
}

// Sixteen bytes at once: the callers' buffers keep that much room past any value.
inline void store16(char* to, unsigned __int128 chars) { std::memcpy(to, &chars, 16); }

// digits x 10^exponent, in the form to_chars picks: scientific ("1.2345e-05", exponent of at
// least two digits) when it is strictly shorter than fixed ("0.000012345"), else fixed. A fixed
// whole number prints the float's exact value (33554448, not 33554450): with the length equal,
// to_chars takes the nearer text.
}  // namespace

char* write_float32_decimal(char* at, uint32_t digits, int exponent, float value) {
  const int n = decimal_length(digits);
  const unsigned __int128 chars = digit_chars(digits, n);
  const int scientific_exponent = exponent + n - 1;
  const int scientific_length = n + (n > 1 ? 1 : 0) + 4;  // float32 exponents have two digits
  if (exponent < 0 && scientific_exponent < 0 && 1 - scientific_exponent + n <= scientific_length) {
    // 0.000ddd: at most three zeros after the point before scientific is shorter.
    std::memcpy(at, "0.000000", 8);
    const int zeros = -scientific_exponent - 1;
    store16(at + 2 + zeros, chars);
    return at + 2 + zeros + n;
  }
  if (exponent < 0 && scientific_exponent >= 0) {  // ddd.ddd: never longer than scientific
    const int whole = scientific_exponent + 1;
    store16(at, chars);
    at[whole] = '.';
    store16(at + whole + 1, chars >> (8 * whole));
    return at + n + 1;
  }
  if (exponent >= 0 && n + exponent <= scientific_length) {
    const float magnitude = value < 0 ? -value : value;
    return std::to_chars(at, at + 16, static_cast<uint64_t>(magnitude)).ptr;  // < 10^14: exact
  }
  at[0] = char(chars);
  int length = 1;
  if (n > 1) {
    at[1] = '.';
    store16(at + 2, chars >> 8);
    length = n + 1;
  }
  at += length;
  at[0] = 'e';
  at[1] = scientific_exponent < 0 ? '-' : '+';
  const uint64_t magnitude_chars = pair_chars(uint32_t(scientific_exponent < 0 ? -scientific_exponent : scientific_exponent));
  std::memcpy(at + 2, &magnitude_chars, 2);
  return at + 4;
}

char* write_float32_shortest(char* at, float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if (bits >> 31) *at++ = '-';
  const uint32_t field = (bits >> 23) & 0xFFu, fraction = bits & 0x7FFFFFu;
  if (field == 0 && fraction == 0) {
    *at++ = '0';
    return at;
  }
  // value = c * 2^q; the values that read back to it lie in [c - 1/2, c + 1/2] * 2^q (only half
  // that gap below a power of two), ends included when c is even (ties go to even on reading).
  const uint32_t c = field ? fraction | (1u << 23) : fraction;
  const bool asymmetric = fraction == 0 && field > 1;
  const Float32DecimalScale& scale = kFloat32DecimalScales[field][asymmetric ? 1 : 0];
  const uint32_t excluded = c & 1u;
  // Four times the interval's ends and middle, times 10^-k: the interval is 1 to 10 units wide.
  const uint32_t cb = c << 2, cb_low = asymmetric ? cb - 1 : cb - 2, cb_high = cb + 2;
  const uint32_t vb = scaled_round_to_odd(scale.g, cb << scale.h);
  const uint32_t vb_low = scaled_round_to_odd(scale.g, cb_low << scale.h);
  const uint32_t vb_high = scaled_round_to_odd(scale.g, cb_high << scale.h);
  const uint32_t s = vb >> 2;
  // A multiple of ten inside the interval is one digit shorter (at most one fits); otherwise s or
  // s + 1, whichever is inside, and when both are, the nearer (the even one on a tie). Selects,
  // not branches: for embedding values each way is about as likely as the other.
  const uint32_t s10 = s / 10 * 10, t10 = s10 + 10, t = s + 1;
  const bool s10_in = vb_low + excluded <= s10 << 2, t10_in = (t10 << 2) + excluded <= vb_high;
  const bool s_in = vb_low + excluded <= s << 2, t_in = (t << 2) + excluded <= vb_high;
  const int64_t against_middle = int64_t(vb) - int64_t((s + t) << 1);
  const bool nearer_is_s = against_middle < 0 || (against_middle == 0 && (s & 1u) == 0);
  const bool shorter = s10_in != t10_in;
  const uint32_t one_digit_shorter = s10_in ? s10 / 10 : t10 / 10;
  const uint32_t same_length = s_in != t_in ? (s_in ? s : t) : (nearer_is_s ? s : t);
  uint32_t digits = shorter ? one_digit_shorter : same_length;
  int exponent = scale.k + (shorter ? 1 : 0);
  while (digits % 10 == 0) {
    digits /= 10;
    ++exponent;
  }
  return write_float32_decimal(at, digits, exponent, value);
}

}  // namespace sie
