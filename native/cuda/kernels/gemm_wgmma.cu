// nn.Linear on Hopper tensor cores: wgmma.mma_async fed by the TMA, for fp16/bf16 products of
// this field's shapes (tens of thousands of token rows x 384..4096 x 384..4096).
//
// One block computes a 128 x BN tile of y with 9 warps:
//   - warp 8 is the producer: one of its threads streams 64-wide K slices of x (128 rows) and w
//     (BN rows) into a ring of STAGES shared-memory slots with the TMA. Each slot has a "full"
//     barrier (the TMA completes its bytes there) and an "empty" barrier (the consumers release
//     it);
//   - warps 0-3 and 4-7 are two consumer warpgroups, each owning 64 rows of the tile. Per slot,
//     each issues 4 (K) x BN/128 wgmma m64n128k16 and keeps one slot's MMAs in flight while it
//     releases the previous slot.
// The epilogue stages the fp32 accumulators through shared memory (the ring is free by then) so
// that bias, activation, residual and the store run on 16-byte rows of 8 outputs: coalesced
// reads of the residual and coalesced writes of y. It applies gemm_epilogue.cuh's function, so
// it computes what the mma.sync kernel and the reference twin compute from the same sums.
//
// The persistent variant (gemm_wgmma_persistent_kernel) keeps each block resident and walks the
// tiles blockIdx.x, + gridDim.x, ...: the producer runs on into the next tile's K slices while the
// consumers finish the current one, so neither a block launch nor the ring's first fill is paid
// per tile. Its epilogue works straight from the accumulator registers (bias, activation and
// residual per pair of columns, 4-byte stores) because the ring is no longer free at that point.
// On short K (384..1024: 6-16 slices a tile) those per-tile costs were about as long as the
// MMAs themselves (25-44 % of the tensor-core peak on an H100, 2026-11-27). The ping-pong
// variant (gemm_wgmma_pingpong_kernel) also overlaps each tile's epilogue with the next tile's
// MMAs inside one block: its two consumer warpgroups own alternate tiles.
// Measured on an H100 (2026-11-28, bench/RESULTS.md): both are correct and both are slower than
// the one-tile kernel on every shape (MiniLM qkv: 139 and 69 TFLOP/s against 245), so the GEMM
// chooser offers them only when asked. The register-direct epilogue is the likely cost: it stores
// 4 bytes a lane where the one-tile kernel stores 16-byte rows staged through shared memory, and
// ping-pong, whose warpgroup owns a whole tile, pays it twice while the other waits its turn.
//
// Limits (gemm_hopper returns cudaErrorNotSupported, and the caller takes another kernel): the
// device must run the sm_90a code; x, w, y and residual 16-byte aligned with row strides a
// multiple of 8 elements; no SPLADE fold.
#include <cudaTypedefs.h>

#include <algorithm>
#include <type_traits>

#include "device_math.cuh"
#include "gemm_epilogue.cuh"
#include "hopper.cuh"
#include "kernels.h"
#include "wgmma_schedule.h"

namespace sie_cuda {
namespace {

constexpr int kHopperBM = 128, kHopperBK = 64, kHopperThreads = 288;

template <int BN, int STAGES>
struct HopperTile {
  static constexpr int a_bytes = kHopperBM * kHopperBK * 2;
  static constexpr int b_bytes = BN * kHopperBK * 2;
  static constexpr int stage_bytes = a_bytes + b_bytes;
  // The epilogue's fp32 tile per consumer warpgroup: 64 rows of BN + 8 floats. The 8 extra
  // make a half-warp's 8-byte stores of one accumulator group fall in 32 different banks.
  static constexpr int epilogue_ld = BN + 8;
  static constexpr int epilogue_bytes = 2 * 64 * epilogue_ld * 4;
  static_assert(epilogue_bytes <= STAGES * stage_bytes, "the epilogue reuses the ring");
  // 1024 bytes of slack to align the ring to the swizzle atom, then the barriers.
  static constexpr int shared_bytes = 1024 + STAGES * stage_bytes + 2 * STAGES * 8;
};

#if SIE_HOPPER_DEVICE_CODE
// One K slice of a consumer warpgroup: its 64 rows of x (tile_a, 64 x 64 halves) against the
// slot's BN rows of w (tile_b), as 4 (K) x kHalves wgmma m64n128k16. accumulate = false makes
// the slice's first MMA overwrite the accumulators (the first slice of a tile).
template <typename T, int kHalves>
__device__ __forceinline__ void slice_mmas(float (&acc)[kHalves][64], const unsigned char* tile_a,
                                           const unsigned char* tile_b, bool accumulate) {
  using namespace hopper;
#pragma unroll
  for (int kk = 0; kk < kHopperBK / 16; ++kk) {
    const uint64_t desc_a = smem_descriptor(tile_a + kk * 32);
#pragma unroll
    for (int h = 0; h < kHalves; ++h)
      wgmma_m64n128k16<T>(acc[h], desc_a, smem_descriptor(tile_b + h * 128 * 128 + kk * 32), accumulate || kk > 0);
  }
}
#endif

template <typename T, int BN, int STAGES, int MIN_BLOCKS>
__global__ void __launch_bounds__(kHopperThreads, MIN_BLOCKS)
    gemm_wgmma_kernel(const __grid_constant__ CUtensorMap map_x, const __grid_constant__ CUtensorMap map_w,
                      const GemmArgs a) {
#if SIE_HOPPER_DEVICE_CODE
  using namespace hopper;
  using Tile = HopperTile<BN, STAGES>;
  extern __shared__ unsigned char shared_raw[];
  unsigned char* ring = reinterpret_cast<unsigned char*>((reinterpret_cast<uintptr_t>(shared_raw) + 1023) & ~uintptr_t(1023));
  uint64_t* full = reinterpret_cast<uint64_t*>(ring + STAGES * Tile::stage_bytes);
  uint64_t* empty = full + STAGES;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int m0 = blockIdx.y * kHopperBM, n0 = blockIdx.x * BN;
  const int k_tiles = (a.k + kHopperBK - 1) / kHopperBK;
  auto slot_a = [&](int s) { return ring + s * Tile::stage_bytes; };
  auto slot_b = [&](int s) { return ring + s * Tile::stage_bytes + Tile::a_bytes; };

  if (threadIdx.x == 0) {
    for (int s = 0; s < STAGES; ++s) {
      barrier_init(&full[s], 1);
      barrier_init(&empty[s], 2);  // one arrival per consumer warpgroup
    }
    barrier_init_fence();
  }
  __syncthreads();

  if (warp == 8) {
    if (lane == 0) {
      tensor_map_prefetch(&map_x);
      tensor_map_prefetch(&map_w);
      for (int kt = 0; kt < k_tiles; ++kt) {
        const int s = kt % STAGES;
        barrier_wait(&empty[s], ((kt / STAGES) & 1) ^ 1);
        barrier_arrive_expect_bytes(&full[s], Tile::stage_bytes);
        tma_load_2d(slot_a(s), &map_x, kt * kHopperBK, m0, &full[s]);
        tma_load_2d(slot_b(s), &map_w, kt * kHopperBK, n0, &full[s]);
      }
    }
    return;
  }

  const int group = warp / 4;  // consumer warpgroup: rows 64 * group .. + 63 of the tile
  constexpr int kHalves = BN / 128;
  // No zero fill: the first slot's MMAs overwrite (accumulate = 0). Writing the registers with
  // ordinary instructions would make ptxas serialise the wgmma pipeline.
  float acc[kHalves][64];

  for (int kt = 0; kt < k_tiles; ++kt) {
    const int s = kt % STAGES;
    barrier_wait(&full[s], (kt / STAGES) & 1);
    wgmma_fence();
    slice_mmas<T, kHalves>(acc, slot_a(s) + group * 64 * 128, slot_b(s), kt > 0);
    wgmma_commit();
    // The MMAs of slot kt - 1 are done once at most this slot's group is in flight.
    wgmma_wait<1>();
    if (kt > 0 && threadIdx.x % 128 == 0) barrier_arrive(&empty[(kt - 1) % STAGES]);
  }
  wgmma_wait<0>();
#pragma unroll
  for (int h = 0; h < kHalves; ++h)
#pragma unroll
    for (int i = 0; i < 64; ++i) fence_registers(acc[h][i]);

  // Both warpgroups are done reading the ring: it becomes the epilogue's staging tile.
  named_barrier_sync<1, 256>();
  float* staged = reinterpret_cast<float*>(ring) + group * 64 * Tile::epilogue_ld;
  const int row_in_warp = (warp % 4) * 16 + lane / 4, quad = lane % 4;
#pragma unroll
  for (int h = 0; h < kHalves; ++h)
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      const int col = h * 128 + j * 8 + 2 * quad;
      *reinterpret_cast<float2*>(staged + row_in_warp * Tile::epilogue_ld + col) = make_float2(acc[h][4 * j], acc[h][4 * j + 1]);
      *reinterpret_cast<float2*>(staged + (row_in_warp + 8) * Tile::epilogue_ld + col) =
          make_float2(acc[h][4 * j + 2], acc[h][4 * j + 3]);
    }
  if (group == 0)
    named_barrier_sync<2, 128>();
  else
    named_barrier_sync<3, 128>();

  constexpr int kThreadsPerRow = BN / 8;
  for (int i = threadIdx.x % 128; i < 64 * kThreadsPerRow; i += 128) {
    const int r = i / kThreadsPerRow, c = (i % kThreadsPerRow) * 8;
    const int row = m0 + group * 64 + r, col = n0 + c;
    if (row >= a.m || col >= a.n) continue;
    const float* src = staged + r * Tile::epilogue_ld + c;
    float v[8];
    *reinterpret_cast<float4*>(v) = *reinterpret_cast<const float4*>(src);
    *reinterpret_cast<float4*>(v + 4) = *reinterpret_cast<const float4*>(src + 4);
    if (col + 8 <= a.n) {
      if (a.bias) {
        const float4 b0 = *reinterpret_cast<const float4*>(a.bias + col);
        const float4 b1 = *reinterpret_cast<const float4*>(a.bias + col + 4);
        v[0] += b0.x, v[1] += b0.y, v[2] += b0.z, v[3] += b0.w, v[4] += b1.x, v[5] += b1.y, v[6] += b1.z, v[7] += b1.w;
      }
#pragma unroll
      for (int e = 0; e < 8; ++e) v[e] = activate(v[e], a.activation);
      if (a.residual) {
        float r8[8];
        load8(static_cast<const T*>(a.residual) + int64_t(row) * a.ldr + col, r8);
#pragma unroll
        for (int e = 0; e < 8; ++e) v[e] += r8[e];
      }
      store8(static_cast<T*>(a.y) + int64_t(row) * a.ldy + col, v);
    } else {
      for (int e = 0; e < 8 && col + e < a.n; ++e)
        static_cast<T*>(a.y)[int64_t(row) * a.ldy + col + e] = from_float<T>(epilogue_value<T>(a, v[e], row, col + e));
    }
  }
#endif
}

// act(acc + bias) + residual for two adjacent columns (col, col + 1) of one row, stored as one
// 4-byte pair; col + 1 past n stores col alone. The same function of the sums as epilogue_value.
template <typename T>
__device__ __forceinline__ void store_pair(const GemmArgs& a, float v0, float v1, int row, int col) {
  const bool both = col + 1 < a.n;
  if (a.bias && both) {
    // col is even and bias 16-byte aligned: one 8-byte load.
    const float2 b = *reinterpret_cast<const float2*>(a.bias + col);
    v0 += b.x;
    v1 += b.y;
  } else if (a.bias) {
    v0 += a.bias[col];
  }
  v0 = activate(v0, a.activation);
  v1 = activate(v1, a.activation);
  T* y = static_cast<T*>(a.y) + int64_t(row) * a.ldy + col;
  const T* r = a.residual ? static_cast<const T*>(a.residual) + int64_t(row) * a.ldr + col : nullptr;
  if (!both) {
    if (r) v0 += to_float(r[0]);
    y[0] = from_float<T>(v0);
    return;
  }
  // col is even and the row strides are multiples of 8: 4-byte aligned pairs.
  if (r) {
    const uint32_t bits = *reinterpret_cast<const uint32_t*>(r);
    const T* pair = reinterpret_cast<const T*>(&bits);
    v0 += to_float(pair[0]);
    v1 += to_float(pair[1]);
  }
  uint32_t out;
  T* pair = reinterpret_cast<T*>(&out);
  pair[0] = from_float<T>(v0);
  pair[1] = from_float<T>(v1);
  *reinterpret_cast<uint32_t*>(y) = out;
}

// The epilogue of one m64n128 accumulator block whose first row is `row` and first column `col`
// (hopper.cuh's layout: warp w of the warpgroup holds rows 16w + lane / 4 and + 8, columns
// 8j + 2 (lane % 4) and + 1), straight from the registers.
template <typename T>
__device__ __forceinline__ void store_accumulators(const GemmArgs& a, const float (&acc)[64], int row, int col) {
  const int warp_in_group = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32;
  const int row0 = row + warp_in_group * 16 + lane / 4, q = lane % 4;
#pragma unroll
  for (int j = 0; j < 16; ++j) {
    const int c = col + 8 * j + 2 * q;
    if (c >= a.n) continue;
    if (row0 < a.m) store_pair<T>(a, acc[4 * j], acc[4 * j + 1], row0, c);
    if (row0 + 8 < a.m) store_pair<T>(a, acc[4 * j + 2], acc[4 * j + 3], row0 + 8, c);
  }
}

#if SIE_HOPPER_DEVICE_CODE
// The shared memory of a persistent kernel: the ring of STAGES slots (x slice, then w slice) and
// each slot's full and empty barriers.
template <int STAGES>
struct PersistentRing {
  using Tile = HopperTile<128, STAGES>;
  unsigned char* slots;
  uint64_t* full;
  uint64_t* empty;
  __device__ explicit PersistentRing(unsigned char* shared_raw)
      : slots(reinterpret_cast<unsigned char*>((reinterpret_cast<uintptr_t>(shared_raw) + 1023) & ~uintptr_t(1023))),
        full(reinterpret_cast<uint64_t*>(slots + STAGES * Tile::stage_bytes)),
        empty(full + STAGES) {}
  __device__ unsigned char* a(int s) const { return slots + s * Tile::stage_bytes; }
  __device__ unsigned char* b(int s) const { return slots + s * Tile::stage_bytes + Tile::a_bytes; }
  // Thread 0 initialises the barriers; every thread of the block must call this.
  __device__ void init(int empty_arrivals) const {
    if (threadIdx.x == 0) {
      for (int s = 0; s < STAGES; ++s) {
        hopper::barrier_init(&full[s], 1);
        hopper::barrier_init(&empty[s], empty_arrivals);
      }
      hopper::barrier_init_fence();
    }
    __syncthreads();
  }
};

// wgmma_schedule's producer actions: one thread streams x and w slices into the ring by TMA.
template <int STAGES>
struct TmaProducer {
  const PersistentRing<STAGES>& ring;
  const CUtensorMap* map_x;
  const CUtensorMap* map_w;
  __device__ void wait_empty(int slot, uint32_t parity) const { hopper::barrier_wait(&ring.empty[slot], parity); }
  __device__ void load(int slot, int tile_m, int tile_n, int kt) const {
    hopper::barrier_arrive_expect_bytes(&ring.full[slot], HopperTile<128, STAGES>::stage_bytes);
    hopper::tma_load_2d(ring.a(slot), map_x, kt * kHopperBK, tile_m * kHopperBM, &ring.full[slot]);
    hopper::tma_load_2d(ring.b(slot), map_w, kt * kHopperBK, tile_n * 128, &ring.full[slot]);
  }
};

// wgmma_schedule's consumer actions for one warpgroup of 128 threads. ROW_BLOCKS m64n128
// accumulator blocks: 1 in the cooperative kernel (64 rows of the tile, from `first_row`), 2 in
// ping-pong (all 128 rows). Thread 0 of the warpgroup makes its releases.
template <typename T, int STAGES, int ROW_BLOCKS>
struct WgmmaConsumer {
  const PersistentRing<STAGES>& ring;
  const GemmArgs& a;
  float (&acc)[ROW_BLOCKS][1][64];
  int first_row;  // of the tile, for this warpgroup's rows
  __device__ void wait_full(int slot, uint32_t parity) const { hopper::barrier_wait(&ring.full[slot], parity); }
  __device__ void mma(int slot, int, int, int kt) const {
    hopper::wgmma_fence();
#pragma unroll
    for (int r = 0; r < ROW_BLOCKS; ++r) slice_mmas<T, 1>(acc[r], ring.a(slot) + (first_row + 64 * r) * 128, ring.b(slot), kt > 0);
    hopper::wgmma_commit();
  }
  __device__ void retire_all_but_last() const { hopper::wgmma_wait<1>(); }
  __device__ void retire_all() const {
    hopper::wgmma_wait<0>();
#pragma unroll
    for (int r = 0; r < ROW_BLOCKS; ++r)
#pragma unroll
      for (int i = 0; i < 64; ++i) hopper::fence_registers(acc[r][0][i]);
  }
  __device__ void release(int slot) const {
    if (threadIdx.x % 128 == 0) hopper::barrier_arrive(&ring.empty[slot]);
  }
  // Barrier 1: warpgroup 0's mainloop is done (warpgroup 1 may start); 2: the other way round.
  __device__ void wait_turn() const {
    if (threadIdx.x / 128 == 0)
      hopper::named_barrier_sync<2, 256>();
    else
      hopper::named_barrier_sync<1, 256>();
  }
  __device__ void pass_turn() const {
    if (threadIdx.x / 128 == 0)
      hopper::named_barrier_arrive<1, 256>();
    else
      hopper::named_barrier_arrive<2, 256>();
  }
  __device__ void epilogue(int tile_m, int tile_n) const {
#pragma unroll
    for (int r = 0; r < ROW_BLOCKS; ++r)
      store_accumulators<T>(a, acc[r][0], tile_m * kHopperBM + first_row + 64 * r, tile_n * 128);
  }
};

// Threads 256 and up are the producer side (warp 8 in the cooperative kernel, warps 8-11 in
// ping-pong): the first thread of warp 8 streams the block's K slices into the ring. Returns
// whether the calling thread is on that side (it then has nothing more to do).
template <int STAGES>
__device__ __forceinline__ bool producer_warp(const PersistentRing<STAGES>& ring, const CUtensorMap* map_x, const CUtensorMap* map_w,
                                              const wgmma_schedule::Grid& grid) {
  if (threadIdx.x < 256) return false;
  if (threadIdx.x == 256) {
    hopper::tensor_map_prefetch(map_x);
    hopper::tensor_map_prefetch(map_w);
    TmaProducer<STAGES> producer{ring, map_x, map_w};
    wgmma_schedule::produce(grid, producer);
  }
  return true;
}

// The block's place in the persistent schedule.
__device__ inline wgmma_schedule::Grid schedule_grid(const GemmArgs& a, int stages) {
  const int tiles_n = (a.n + 127) / 128;
  return {tiles_n * ((a.m + kHopperBM - 1) / kHopperBM), tiles_n, (a.k + kHopperBK - 1) / kHopperBK, stages, int(blockIdx.x),
          int(gridDim.x)};
}
#endif

// The persistent schedule of the 128 x 128 tile (see the top of the file): the grid is as many
// blocks as stay resident, and each walks tiles blockIdx.x, + gridDim.x, ... in the order of the
// one-tile kernel's grid (columns fastest, so neighbouring blocks share rows of x in L2); both
// consumer warpgroups take every tile, 64 rows each (wgmma_schedule::consume_cooperative).
template <typename T, int STAGES, int MIN_BLOCKS>
__global__ void __launch_bounds__(kHopperThreads, MIN_BLOCKS)
    gemm_wgmma_persistent_kernel(const __grid_constant__ CUtensorMap map_x, const __grid_constant__ CUtensorMap map_w,
                                 const GemmArgs a) {
#if SIE_HOPPER_DEVICE_CODE
  extern __shared__ unsigned char shared_raw[];
  const PersistentRing<STAGES> ring(shared_raw);
  ring.init(2);  // one arrival per consumer warpgroup
  const wgmma_schedule::Grid grid = schedule_grid(a, STAGES);
  if (producer_warp(ring, &map_x, &map_w, grid)) return;
  float acc[1][1][64];
  WgmmaConsumer<T, STAGES, 1> consumer{ring, a, acc, int(threadIdx.x / 128) * 64};
  wgmma_schedule::consume_cooperative(grid, consumer);
#endif
}

// The ping-pong schedule (one resident block per SM): each consumer warpgroup computes whole
// 128 x 128 tiles, the two taking turns (wgmma_schedule::consume_pingpong), so one warpgroup's
// epilogue runs while the other's MMAs keep the tensor cores busy. Each slot is used by one
// warpgroup, so its empty barrier takes one arrival.
// Registers: two 64-register accumulator blocks stay live through the epilogue (about 200
// registers a consumer thread). An SM's register file is four quarters of 16384, one per warp
// scheduler, and warp w runs on quarter w % 4: a block of 9 warps puts 3 on one quarter, so it
// cannot launch above 168 a thread (a __maxnreg__(224) build failed on an H100, 2026-11-28: "too
// many resources requested for launch"). So the block has a whole producer warpgroup (12 warps,
// 3 a quarter) compiled for 168, which gives back all but kProducerRegisters while the consumers
// take kConsumerRegisters: 128 x 40 + 256 x 232 = 64512 <= 65536, and 40 x 32 + 2 x 232 x 32 =
// 16128 <= 16384 on each quarter.
constexpr int kPingPongThreads = 384;

template <typename T, int STAGES>
__global__ void __launch_bounds__(kPingPongThreads, 1)
    gemm_wgmma_pingpong_kernel(const __grid_constant__ CUtensorMap map_x, const __grid_constant__ CUtensorMap map_w,
                               const GemmArgs a) {
#if SIE_HOPPER_DEVICE_CODE
  extern __shared__ unsigned char shared_raw[];
  const PersistentRing<STAGES> ring(shared_raw);
  ring.init(1);
  const wgmma_schedule::Grid grid = schedule_grid(a, STAGES);
  // Each side's register limit holds for the code it dominates: the producer's branch ends in
  // its return, so ptxas allocates the consumers' code below for kConsumerRegisters.
  constexpr int kProducerRegisters = 40, kConsumerRegisters = 232;
  if (threadIdx.x >= 256) {
    hopper::registers_decrease<kProducerRegisters>();
    producer_warp(ring, &map_x, &map_w, grid);
    return;
  }
  hopper::registers_increase<kConsumerRegisters>();
  float acc[2][1][64];  // rows 0-63 and 64-127 of the tile
  WgmmaConsumer<T, STAGES, 2> consumer{ring, a, acc, 0};
  wgmma_schedule::consume_pingpong(grid, int(threadIdx.x / 128), consumer);
#endif
}

// cuTensorMapEncodeTiled from the driver the runtime has loaded (the build links no libcuda).
PFN_cuTensorMapEncodeTiled_v12000 tensor_map_encoder() {
  static PFN_cuTensorMapEncodeTiled_v12000 encode = [] {
    void* fn = nullptr;
    cudaDriverEntryPointQueryResult found{};
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000, cudaEnableDefault, &found) != cudaSuccess ||
        found != cudaDriverEntryPointSuccess)
      fn = nullptr;
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(fn);
  }();
  return encode;
}

// A row-major [rows, k] operand with row stride ld, read in boxes of box_rows x 64 with the
// 128-byte swizzle; out-of-bounds rows and columns read as zero.
template <typename T>
bool encode_operand(CUtensorMap& map, const void* base, int rows, int k, int ld, int box_rows) {
  const auto encode = tensor_map_encoder();
  if (!encode) return false;
  const cuuint64_t dims[2] = {cuuint64_t(k), cuuint64_t(rows)};
  const cuuint64_t strides[1] = {cuuint64_t(ld) * sizeof(T)};
  const cuuint32_t box[2] = {cuuint32_t(kHopperBK), cuuint32_t(box_rows)};
  const cuuint32_t element_strides[2] = {1, 1};
  const CUtensorMapDataType type = std::is_same_v<T, __half> ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16
                                                                                 : CU_TENSOR_MAP_DATA_TYPE_BFLOAT16;
  return encode(&map, type, 2, const_cast<void*>(base), dims, strides, box, element_strides, CU_TENSOR_MAP_INTERLEAVE_NONE,
                CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// The limits both wgmma kernels share (see the top of the file).
bool wgmma_arguments_fit(const GemmArgs& a) {
  return a.k > 0 && a.k % 8 == 0 && a.ldx % 8 == 0 && a.ldw % 8 == 0 && a.ldy % 8 == 0 && !a.sequence_max && aligned16(a.x) &&
         aligned16(a.w) && aligned16(a.y) && (!a.residual || (a.ldr % 8 == 0 && aligned16(a.residual))) &&
         (!a.bias || aligned16(a.bias));
}

// Whether this device runs the sm_90a build of the kernel (an sm_80 build has an empty body).
template <typename Kernel>
bool runs_hopper_code(Kernel kernel) {
  cudaFuncAttributes attributes{};
  return cudaFuncGetAttributes(&attributes, kernel) == cudaSuccess && attributes.binaryVersion == 90;
}

template <typename T, int BN, int STAGES, int MIN_BLOCKS>
cudaError_t launch_wgmma(const GemmArgs& a, cudaStream_t stream) {
  if constexpr (sizeof(T) != 2) {
    return cudaErrorNotSupported;
  } else {
    auto kernel = gemm_wgmma_kernel<T, BN, STAGES, MIN_BLOCKS>;
    static const bool usable = runs_hopper_code(kernel);
    if (!usable || !wgmma_arguments_fit(a)) return cudaErrorNotSupported;
    CUtensorMap map_x, map_w;
    if (!encode_operand<T>(map_x, a.x, a.m, a.k, a.ldx, kHopperBM) || !encode_operand<T>(map_w, a.w, a.n, a.k, a.ldw, BN))
      return cudaErrorNotSupported;
    constexpr int bytes = HopperTile<BN, STAGES>::shared_bytes;
    static const cudaError_t opted = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
    if (opted != cudaSuccess) return opted;
    const dim3 grid((a.n + BN - 1) / BN, (a.m + kHopperBM - 1) / kHopperBM);
    kernel<<<grid, kHopperThreads, bytes, stream>>>(map_x, map_w, a);
    return cudaGetLastError();
  }
}

// The persistent kernels' grid: as many blocks as the device keeps resident at once (two per SM
// for the cooperative kernel when registers and shared memory allow, one for ping-pong), never
// more than there are tiles.
template <typename T, int STAGES, int MIN_BLOCKS, bool PING_PONG>
cudaError_t launch_wgmma_persistent(const GemmArgs& a, cudaStream_t stream) {
  if constexpr (sizeof(T) != 2) {
    return cudaErrorNotSupported;
  } else {
    auto kernel = [] {
      if constexpr (PING_PONG) return gemm_wgmma_pingpong_kernel<T, STAGES>;
      else return gemm_wgmma_persistent_kernel<T, STAGES, MIN_BLOCKS>;
    }();
    static const bool usable = runs_hopper_code(kernel);
    if (!usable || !wgmma_arguments_fit(a)) return cudaErrorNotSupported;
    CUtensorMap map_x, map_w;
    if (!encode_operand<T>(map_x, a.x, a.m, a.k, a.ldx, kHopperBM) || !encode_operand<T>(map_w, a.w, a.n, a.k, a.ldw, 128))
      return cudaErrorNotSupported;
    constexpr int bytes = HopperTile<128, STAGES>::shared_bytes;
    static const cudaError_t opted = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
    if (opted != cudaSuccess) return opted;
    // Blocks the device keeps resident, asked once (like `usable` above: one kind of device per
    // process), not on every launch of the forward pass's hot path.
    constexpr int threads = PING_PONG ? kPingPongThreads : kHopperThreads;
    static const int resident_blocks = [&] {
      int device = 0, sms = 0, per_sm = 0;
      if (cudaGetDevice(&device) != cudaSuccess || cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess ||
          cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, bytes) != cudaSuccess)
        return 0;
      return std::max(1, per_sm) * sms;
    }();
    if (resident_blocks <= 0) return cudaErrorNotSupported;
    const int64_t tiles = int64_t((a.n + 127) / 128) * ((a.m + kHopperBM - 1) / kHopperBM);
    const int grid = int(std::min<int64_t>(tiles, resident_blocks));
    kernel<<<grid, threads, bytes, stream>>>(map_x, map_w, a);
    return cudaGetLastError();
  }
}

template <typename T>
cudaError_t launch_hopper(GemmKernel kernel, const GemmArgs& a, cudaStream_t stream) {
  switch (kernel) {
    // 128 x 128 tiles, 3 slots (97 KiB): two blocks share an SM, so one's epilogue overlaps the
    // other's MMAs (short K).
    case GemmKernel::Hopper128x128: return launch_wgmma<T, 128, 3, 2>(a, stream);
    // 128 x 256 tiles, 4 slots (193 KiB), one block per SM: half the operand traffic per MMA.
    case GemmKernel::Hopper128x256: return launch_wgmma<T, 256, 4, 1>(a, stream);
    // 128 x 128 tiles, persistent, 3 slots: two resident blocks per SM as the one-tile kernel.
    case GemmKernel::HopperPersistent128x128: return launch_wgmma_persistent<T, 3, 2, false>(a, stream);
    // 128 x 128 tiles a warpgroup, 6 slots (193 KiB), one block per SM, the two warpgroups taking turns.
    case GemmKernel::HopperPingPong128x128: return launch_wgmma_persistent<T, 6, 1, true>(a, stream);
    default: return cudaErrorNotSupported;
  }
}

}  // namespace

cudaError_t gemm_hopper(GemmKernel kernel, DType dtype, const GemmArgs& args, cudaStream_t stream) {
  if (args.m <= 0 || args.n <= 0) return cudaSuccess;
  SIE_DISPATCH_DTYPE(dtype, launch_hopper, kernel, args, stream);
}

bool hopper_gemm_available() { return runs_hopper_code(gemm_wgmma_kernel<__half, 128, 3, 2>); }

}  // namespace sie_cuda
