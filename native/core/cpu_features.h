// Runtime CPU detection: the prebuilt binary targets baseline x86-64 and picks the AVX-512
// kernels only where the processor has them.
#pragma once

namespace sie {

inline bool cpu_has_avx512() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                          __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  return has;
#else
  return false;
#endif
}

}  // namespace sie
