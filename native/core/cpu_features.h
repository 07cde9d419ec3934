// Runtime CPU detection: the prebuilt binary targets baseline x86-64 and picks each kernel by
// what the processor (and, for AMX, the OS) offers. The ISA levels form a ladder; SIE_CPU_ISA
// (portable | avx2 | avx512 | avx512bf16 | amx) caps it, so every path can be tested on any
// machine that has it.
#pragma once

namespace sie {

enum class CpuIsa { Portable = 0, Avx2 = 1, Avx512 = 2, Avx512Bf16 = 3, Amx = 4 };

// The highest level this machine runs, capped by SIE_CPU_ISA when set (read once per process).
CpuIsa cpu_isa();
// The level the hardware itself offers, ignoring SIE_CPU_ISA.
CpuIsa cpu_isa_detected();
const char* cpu_isa_name(CpuIsa isa);

inline bool cpu_has_avx512() { return cpu_isa() >= CpuIsa::Avx512; }
// bf16 compute (vdpbf16ps or AMX tiles): where a bf16 model runs natively.
inline bool cpu_has_native_bf16() { return cpu_isa() >= CpuIsa::Avx512Bf16; }

}  // namespace sie
