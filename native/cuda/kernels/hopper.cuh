// The Hopper (sm_90a) building blocks of the wgmma GEMM: shared-memory barriers (mbarrier), the
// tensor memory accelerator (TMA: cp.async.bulk.tensor, one thread moves a whole 2-D box into
// shared memory and signals a barrier), and warpgroup MMA (wgmma.mma_async: 128 threads multiply
// operands read straight from shared memory through 64-bit matrix descriptors).
//
// Everything here is PTX that only sm_90a has; callers compile it under SIE_HOPPER_DEVICE_CODE.
// Operand layout (PTX ISA, "Asynchronous Warpgroup Level Matrix Shared Memory Layout"): both
// operands are K-major tiles of rows x 64 halves, each row 128 bytes, stored with the 128-byte
// swizzle that the TMA writes (CU_TENSOR_MAP_SWIZZLE_128B): the 16-byte chunk c of row r sits at
// chunk c ^ (r % 8). Eight rows make one 1024-byte swizzle atom, so tiles start 1024-aligned.
//
// Accumulator layout of m64nNk16 (fp32): warp w of the warpgroup owns rows 16w..16w+15; lane
// l = 4g + q holds, for each 8-column group j, d[4j], d[4j+1] at row 16w+g, columns 8j+2q and
// 8j+2q+1, and d[4j+2], d[4j+3] at row 16w+g+8, the same columns.
#pragma once
#include <cuda.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define SIE_HOPPER_DEVICE_CODE 1
#else
#define SIE_HOPPER_DEVICE_CODE 0
#endif

namespace sie_cuda {
namespace hopper {

__device__ __forceinline__ uint32_t smem_u32(const void* p) { return static_cast<uint32_t>(__cvta_generic_to_shared(p)); }

#if SIE_HOPPER_DEVICE_CODE

// ---- mbarrier --------------------------------------------------------------------------------

__device__ __forceinline__ void barrier_init(uint64_t* bar, int arrivals) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(smem_u32(bar)), "r"(arrivals) : "memory");
}
// Makes the initialised barriers visible to the async proxy (the TMA) before first use.
__device__ __forceinline__ void barrier_init_fence() {
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}
// Arrives once and tells the barrier that `bytes` more will land through the TMA this phase.
__device__ __forceinline__ void barrier_arrive_expect_bytes(uint64_t* bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(smem_u32(bar)), "r"(bytes) : "memory");
}
__device__ __forceinline__ void barrier_arrive(uint64_t* bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(smem_u32(bar)) : "memory");
}
// Waits until the phase with this parity has completed. A fresh barrier is in phase 0, so
// waiting for parity 1 returns at once (the producer's first pass over empty slots).
__device__ __forceinline__ void barrier_wait(uint64_t* bar, uint32_t parity) {
  uint32_t done = 0;
  do {
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
        "selp.u32 %0, 1, 0, p;\n"
        "}\n"
        : "=r"(done)
        : "r"(smem_u32(bar)), "r"(parity)
        : "memory");
  } while (!done);
}

// ---- TMA -------------------------------------------------------------------------------------

__device__ __forceinline__ void tensor_map_prefetch(const CUtensorMap* map) {
  asm volatile("prefetch.tensormap [%0];\n" ::"l"(reinterpret_cast<uint64_t>(map)) : "memory");
}
// Copies the box at (inner, outer) of a 2-D tensor map into shared memory (out-of-bounds parts
// read as zero) and completes its bytes on `bar`.
__device__ __forceinline__ void tma_load_2d(void* smem, const CUtensorMap* map, int inner, int outer, uint64_t* bar) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n" ::"r"(
          smem_u32(smem)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(inner), "r"(outer), "r"(smem_u32(bar))
      : "memory");
}

// ---- warpgroup MMA ---------------------------------------------------------------------------

// Descriptor of a K-major, 128-byte-swizzled tile starting at `smem` (1024-aligned, or offset
// by a multiple of 32 bytes along K within the swizzle row). Leading offset: unused for
// swizzled K-major tiles (1 by convention); stride offset: 1024 bytes from one 8-row atom to
// the next; bits 62-63 = 1: the 128-byte swizzle.
__device__ __forceinline__ uint64_t smem_descriptor(const void* smem) {
  const uint32_t address = smem_u32(smem);
  return uint64_t((address & 0x3FFFF) >> 4) | (uint64_t(1) << 16) | (uint64_t(1024 >> 4) << 32) | (uint64_t(1) << 62);
}

// Orders register accesses before the next wgmma (required before the first one and whenever
// the accumulators were touched by other instructions).
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
// Waits until at most N committed wgmma groups of this warpgroup are still running.
template <int N>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
// Keeps the compiler from moving accumulator reads or writes across an in-flight wgmma.
__device__ __forceinline__ void fence_registers(float& r) { asm volatile("" : "+f"(r)::"memory"); }

// d[64 x 128] (+)= a[64 x 16] . b[128 x 16]^T, both operands K-major in shared memory.
// accumulate = 0 overwrites d.
template <typename T>
__device__ __forceinline__ void wgmma_m64n128k16(float (&d)[64], uint64_t desc_a, uint64_t desc_b, int accumulate);

// One specialisation per input type; only the PTX type name differs.
#define SIE_WGMMA_M64N128K16(CTYPE, PTX)                                                              \
  template <>                                                                                        \
  __device__ __forceinline__ void wgmma_m64n128k16<CTYPE>(float(&d)[64], uint64_t desc_a, uint64_t desc_b, \
                                                          int accumulate) {                           \
    asm volatile(                                                                                    \
        "{\n"                                                                                        \
        ".reg .pred p;\n"                                                                            \
        "setp.ne.b32 p, %66, 0;\n"                                                                   \
        "wgmma.mma_async.sync.aligned.m64n128k16.f32." PTX "." PTX " "                                \
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "                                                                                 \
        "%64, %65, p, 1, 1, 0, 0;\n"                                                                 \
        "}\n"                                                                                        \
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), \
    "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), \
    "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), \
    "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), \
    "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), \
    "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), \
    "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), \
    "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])                                                       \
        : "l"(desc_a), "l"(desc_b), "r"(accumulate)                                                  \
        : "memory");                                                                                 \
  }
SIE_WGMMA_M64N128K16(__half, "f16")
SIE_WGMMA_M64N128K16(__nv_bfloat16, "bf16")
#undef SIE_WGMMA_M64N128K16

// Moves registers between warpgroups of a running block (sm_90a): every warp of a warpgroup
// executes one of these, the producer's decrease before the consumers' increase can be granted.
// The block is compiled and launched for fewer registers a thread (__launch_bounds__), so that
// it fits the register file; the consumers then hold the accumulators the MMAs need.
template <int REGISTERS>
__device__ __forceinline__ void registers_decrease() {
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(REGISTERS));
}
template <int REGISTERS>
__device__ __forceinline__ void registers_increase() {
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(REGISTERS));
}

// Named barrier over `threads` threads (a multiple of 32): syncs a subset of the block.
template <int ID, int THREADS>
__device__ __forceinline__ void named_barrier_sync() {
  asm volatile("bar.sync %0, %1;\n" ::"n"(ID), "n"(THREADS) : "memory");
}
// Arrives at a named barrier without waiting: with THREADS = 256, one warpgroup's arrive lets
// another warpgroup's named_barrier_sync<ID, 256> through (a one-way signal).
template <int ID, int THREADS>
__device__ __forceinline__ void named_barrier_arrive() {
  asm volatile("bar.arrive %0, %1;\n" ::"n"(ID), "n"(THREADS) : "memory");
}

#endif  // SIE_HOPPER_DEVICE_CODE

}  // namespace hopper
}  // namespace sie_cuda
