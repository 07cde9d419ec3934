#include "cpu_features.h"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace sie {
namespace {

#if defined(__x86_64__)
bool cpuid_bit(unsigned leaf, unsigned subleaf, int reg, int bit) {
  unsigned r[4] = {0, 0, 0, 0};
  if (!__get_cpuid_count(leaf, subleaf, &r[0], &r[1], &r[2], &r[3])) return false;
  return (r[reg] >> bit) & 1u;
}

// Linux hands out the AMX tile state only after the process asks for it (arch_prctl).
bool request_amx_permission() {
  constexpr int kArchReqXcompPerm = 0x1023;
  constexpr int kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

CpuIsa detect() {
  enum { EAX, EBX, ECX, EDX };
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  const bool avx512_bf16 = avx512 && cpuid_bit(7, 1, EAX, 5);
  // AMX here means its tiles with both bf16 and int8 products (bits 22, 24, 25: every AMX CPU
  // so far has all three); bf16x3q uses both.
  const bool amx = avx512_bf16 && cpuid_bit(7, 0, EDX, 22) && cpuid_bit(7, 0, EDX, 24) && cpuid_bit(7, 0, EDX, 25) &&
                   request_amx_permission();
  if (amx) return CpuIsa::Amx;
  if (avx512_bf16) return CpuIsa::Avx512Bf16;
  if (avx512) return CpuIsa::Avx512;
  if (avx2) return CpuIsa::Avx2;
  return CpuIsa::Portable;
}
#else
CpuIsa detect() { return CpuIsa::Portable; }
#endif

CpuIsa capped(CpuIsa detected) {
  const char* wanted = std::getenv("SIE_CPU_ISA");
  if (!wanted || !*wanted) return detected;
  for (int level = 0; level <= int(CpuIsa::Amx); ++level)
    if (std::strcmp(wanted, cpu_isa_name(CpuIsa(level))) == 0) return CpuIsa(level) < detected ? CpuIsa(level) : detected;
  return detected;  // an unknown name changes nothing (lib/ validates it before it gets here)
}

}  // namespace

CpuIsa cpu_isa_detected() {
  static const CpuIsa isa = detect();
  return isa;
}

CpuIsa cpu_isa() {
  static const CpuIsa isa = capped(cpu_isa_detected());
  return isa;
}

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::Portable: return "portable";
    case CpuIsa::Avx2: return "avx2";
    case CpuIsa::Avx512: return "avx512";
    case CpuIsa::Avx512Bf16: return "avx512bf16";
    case CpuIsa::Amx: return "amx";
  }
  return "portable";
}

}  // namespace sie
