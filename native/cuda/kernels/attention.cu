// Attention over packed variable-length sequences, no padding anywhere.
// Tensor cores (fp16/bf16): one block of 4 warps per (64 query rows of one sequence, head); each
// warp keeps 16 query rows in registers and walks the sequence's keys 64 at a time (the next
// tile's keys and values load while this tile is computed), scores by
// mma.sync, an online softmax in fp32 (exp2 with log2(e) folded in), then P (as 16-bit A
// fragments straight from the score accumulators) times V loaded with ldmatrix.trans. Scores
// never reach global memory. SIMT (fp32, and the plain twin): one warp per (query, head).
#include <algorithm>
#include <vector>

#include "device_math.cuh"
#include "kernels.h"
#include "mma.cuh"

namespace sie_cuda {
namespace {

constexpr int kBlockQ = kAttentionQueryBlock, kBlockKV = 64, kWarps = 4;
constexpr float kLog2e = 1.4426950408889634f;

template <int D>
constexpr int flash_shared_bytes() {
  return (kBlockQ + 2 * kBlockKV) * (D + 8) * 2;
}

// PIPELINED (AttentionArgs::pipelined; written without a GPU, 2026-11-28, opt-in until a GPU
// check has run it) loads the next key and value tiles while this tile is computed, skips the
// per-score mask test on tiles wholly inside a non-causal sequence, and lets a warp whose query
// rows all lie past a short sequence skip the math. The plain kernel waits for each tile.
// Resident blocks an SM should hold, which caps the registers: the pipelined kernel keeps s, o
// and the query fragments live while the next key tile's loads are issued, and at 4 blocks for
// D = 64 ptxas spilled. 0 leaves it unsaid, as the plain kernel always had (ptxas then gave it
// 128 registers at D = 64; saying 1 made that 154).
template <int D, bool PIPELINED>
constexpr int kFlashBlocksPerSm = !PIPELINED ? 0 : D <= 32 ? 4 : D <= 64 ? 3 : 2;

template <typename T, int D, bool PIPELINED>
__global__ void __launch_bounds__(kWarps * 32, kFlashBlocksPerSm<D, PIPELINED>) flash_attention_kernel(const AttentionArgs a) {
  constexpr int kLds = D + 8, kChunks = D / 8;
  extern __shared__ __align__(16) unsigned char shared_raw[];
  T* sQ = reinterpret_cast<T*>(shared_raw);
  T* sK = sQ + kBlockQ * kLds;
  T* sV = sK + kBlockKV * kLds;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, g = lane >> 2, quad = lane & 3;
  const int sequence = a.block_sequence[blockIdx.x], q0 = a.block_query[blockIdx.x], head = blockIdx.y;
  const int begin = a.offsets[sequence], length = a.offsets[sequence + 1] - begin;
  const int kv_head = head / (a.heads / a.kv_heads);
  const T* rows = static_cast<const T*>(a.qkv) + int64_t(begin) * a.ld;
  const int q_col = a.q_col + head * D, k_col = a.k_col + kv_head * D, v_col = a.v_col + kv_head * D;

  for (int c = threadIdx.x; c < kBlockQ * kChunks; c += kWarps * 32) {
    const int r = c / kChunks, dc = (c % kChunks) * 8;
    const bool ok = q0 + r < length;
    cp_async16(sQ + r * kLds + dc, ok ? rows + int64_t(q0 + r) * a.ld + q_col + dc : rows, ok);
  }
  cp_async_commit();
  // Pipelined, K and V tiles load as separate cp.async groups, one tile ahead: the next K tile
  // streams in while this tile's softmax and P.V run, the next V tile while the next scores are
  // computed. Outstanding groups are always [this K, this V] or [this V, next K] (a group is
  // committed even when empty), so "wait until one group is left" waits for the tile to be read.
  auto load_tile = [&](T* dst, int k0, int col) {
    for (int c = threadIdx.x; c < kBlockKV * kChunks; c += kWarps * 32) {
      const int r = c / kChunks, dc = (c % kChunks) * 8;
      const bool ok = k0 + r < length;
      cp_async16(dst + r * kLds + dc, ok ? rows + int64_t(k0 + r) * a.ld + col + dc : rows, ok);
    }
    cp_async_commit();
  };
  const int kv_end = a.causal ? min(length, q0 + kBlockQ) : length;
  if constexpr (PIPELINED) {
    load_tile(sK, 0, k_col);
    load_tile(sV, 0, v_col);
    cp_async_wait<1>();  // the queries and the first K tile
  } else {
    cp_async_wait<0>();
  }
  __syncthreads();
  uint32_t qf[D / 16][4];
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk)
    ldmatrix_x4(qf[kk], sQ + (warp * 16 + (lane & 15)) * kLds + kk * 16 + (lane >> 4) * 8);

  float o[D / 8][4];
#pragma unroll
  for (int i = 0; i < D / 8; ++i)
#pragma unroll
    for (int e = 0; e < 4; ++e) o[i][e] = 0.0f;
  float row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0.0f, 0.0f};
  const int query[2] = {q0 + warp * 16 + g, q0 + warp * 16 + g + 8};
  // A warp whose 16 query rows all lie past the sequence (short sequences) only helps load.
  const bool active = !PIPELINED || q0 + warp * 16 < length;

  for (int k0 = 0; k0 < kv_end; k0 += kBlockKV) {
    [[maybe_unused]] const bool more = k0 + kBlockKV < kv_end;  // pipelined: a next tile to load
    if constexpr (PIPELINED) {
      if (k0 > 0) {
        cp_async_wait<1>();  // this K tile
        __syncthreads();
      }
    } else {
      __syncthreads();  // every warp is done with the previous K and V tiles
      for (int c = threadIdx.x; c < kBlockKV * kChunks; c += kWarps * 32) {
        const int r = c / kChunks, dc = (c % kChunks) * 8;
        const bool ok = k0 + r < length;
        const T* src = rows + int64_t(k0 + r) * a.ld;
        cp_async16(sK + r * kLds + dc, ok ? src + k_col + dc : rows, ok);
        cp_async16(sV + r * kLds + dc, ok ? src + v_col + dc : rows, ok);
      }
      cp_async_commit();
      cp_async_wait<0>();
      __syncthreads();
    }
    float s[kBlockKV / 8][4];
    if (active) {
#pragma unroll
      for (int i = 0; i < kBlockKV / 8; ++i)
#pragma unroll
        for (int e = 0; e < 4; ++e) s[i][e] = 0.0f;
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk)
#pragma unroll
        for (int np = 0; np < kBlockKV / 16; ++np) {
          uint32_t r[4];
          ldmatrix_x4(r, sK + (np * 16 + (lane & 7) + (lane >> 4) * 8) * kLds + kk * 16 + ((lane >> 3) & 1) * 8);
          mma_16816<T>(s[2 * np], qf[kk], r[0], r[1]);
          mma_16816<T>(s[2 * np + 1], qf[kk], r[2], r[3]);
        }
    }
    if constexpr (PIPELINED) {
      __syncthreads();  // every warp is done with this K tile
      if (more) load_tile(sK, k0 + kBlockKV, k_col);
      else cp_async_commit();
    }

    if (active) {
      // Keys past the sequence (its last tile) and, causal, past the query are masked; a tile
      // wholly inside a non-causal sequence needs no test per score.
      const bool masked = !PIPELINED || a.causal || k0 + kBlockKV > length;
      float tile_max[2] = {row_max[0], row_max[1]};
#pragma unroll
      for (int nt = 0; nt < kBlockKV / 8; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          float v = s[nt][e] * kLog2e;
          if (masked) {
            const int key = k0 + nt * 8 + 2 * quad + (e & 1);
            v = key < length && (!a.causal || key <= query[e >> 1]) ? v : -INFINITY;
          }
          s[nt][e] = v;
          tile_max[e >> 1] = fmaxf(tile_max[e >> 1], v);
        }
      float correction[2];
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        // The four lanes of a quad hold one row between them.
        tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 1));
        tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 2));
        correction[r] = tile_max[r] == -INFINITY ? 1.0f : exp2f(row_max[r] - tile_max[r]);
        row_max[r] = tile_max[r];
        row_sum[r] *= correction[r];
      }
#pragma unroll
      for (int nt = 0; nt < kBlockKV / 8; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const float m = row_max[e >> 1];
          s[nt][e] = m == -INFINITY ? 0.0f : exp2f(s[nt][e] - m);
          row_sum[e >> 1] += s[nt][e];
        }
#pragma unroll
      for (int dt = 0; dt < D / 8; ++dt)
#pragma unroll
        for (int e = 0; e < 4; ++e) o[dt][e] *= correction[e >> 1];
    }

    if constexpr (PIPELINED) {
      cp_async_wait<1>();  // this V tile
      __syncthreads();
    }
    if (active) {
#pragma unroll
      for (int kk = 0; kk < kBlockKV / 16; ++kk) {
        const uint32_t pa[4] = {pack2<T>(s[2 * kk][0], s[2 * kk][1]), pack2<T>(s[2 * kk][2], s[2 * kk][3]),
                                pack2<T>(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                                pack2<T>(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
        for (int dp = 0; dp < D / 16; ++dp) {
          uint32_t r[4];
          ldmatrix_x4_trans(r, sV + (kk * 16 + (lane & 15)) * kLds + dp * 16 + (lane >> 4) * 8);
          mma_16816<T>(o[2 * dp], pa, r[0], r[1]);
          mma_16816<T>(o[2 * dp + 1], pa, r[2], r[3]);
        }
      }
    }
    if constexpr (PIPELINED) {
      __syncthreads();  // every warp is done with this V tile
      if (more) load_tile(sV, k0 + kBlockKV, v_col);
      else cp_async_commit();
    }
  }

#pragma unroll
  for (int r = 0; r < 2; ++r) {
    row_sum[r] += __shfl_xor_sync(0xffffffffu, row_sum[r], 1);
    row_sum[r] += __shfl_xor_sync(0xffffffffu, row_sum[r], 2);
  }
  T* context = static_cast<T*>(a.context);
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    if (query[half] >= length) continue;
    const float inv = 1.0f / row_sum[half];
    T* out = context + int64_t(begin + query[half]) * a.ld_context + head * D + 2 * quad;
#pragma unroll
    for (int dt = 0; dt < D / 8; ++dt)
      *reinterpret_cast<uint32_t*>(out + dt * 8) = pack2<T>(o[dt][half * 2] * inv, o[dt][half * 2 + 1] * inv);
  }
}

template <typename T, int D>
cudaError_t launch_flash(const AttentionArgs& a, cudaStream_t stream) {
  constexpr int bytes = flash_shared_bytes<D>();
  auto kernel = a.pipelined ? flash_attention_kernel<T, D, true> : flash_attention_kernel<T, D, false>;
  if (bytes > 48 * 1024) {
    const cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
    if (e != cudaSuccess) return e;
  }
  kernel<<<dim3(a.num_blocks, a.heads), kWarps * 32, bytes, stream>>>(a);
  return cudaGetLastError();
}

// ---- SIMT: one warp per (query, head), lanes split the head dimension -------------------------

constexpr int kMaxHeadDim = 256;

template <typename T>
__global__ void attention_simt_kernel(const AttentionArgs a) {
  const int token = blockIdx.x * 4 + threadIdx.x / 32, lane = threadIdx.x % 32, head = blockIdx.y;
  if (token >= a.num_tokens) return;
  int lo = 0, hi = a.num_sequences;  // the sequence s with offsets[s] <= token < offsets[s + 1]
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (a.offsets[mid] <= token) lo = mid; else hi = mid;
  }
  const int begin = a.offsets[lo], length = a.offsets[lo + 1] - begin, qi = token - begin;
  const int kv_head = head / (a.heads / a.kv_heads), d = a.head_dim, per_lane = (d + 31) / 32;
  const T* rows = static_cast<const T*>(a.qkv) + int64_t(begin) * a.ld;
  float q[kMaxHeadDim / 32], o[kMaxHeadDim / 32];
  for (int i = 0; i < per_lane; ++i) {
    const int c = lane + 32 * i;
    q[i] = c < d ? to_float(rows[int64_t(qi) * a.ld + a.q_col + head * d + c]) : 0.0f;
    o[i] = 0.0f;
  }
  float m = -INFINITY, l = 0.0f;
  const int kv_end = a.causal ? qi + 1 : length;
  for (int j = 0; j < kv_end; ++j) {
    const T* key = rows + int64_t(j) * a.ld + a.k_col + kv_head * d;
    const T* value = rows + int64_t(j) * a.ld + a.v_col + kv_head * d;
    float dot = 0.0f;
    for (int i = 0; i < per_lane; ++i) {
      const int c = lane + 32 * i;
      if (c < d) dot = fmaf(q[i], to_float(key[c]), dot);
    }
    dot = warp_sum(dot);
    const float m_new = fmaxf(m, dot), correction = expf(m - m_new), p = expf(dot - m_new);
    l = l * correction + p;
    for (int i = 0; i < per_lane; ++i) {
      const int c = lane + 32 * i;
      o[i] = o[i] * correction + (c < d ? p * to_float(value[c]) : 0.0f);
    }
    m = m_new;
  }
  T* out = static_cast<T*>(a.context) + int64_t(token) * a.ld_context + head * d;
  for (int i = 0; i < per_lane; ++i) {
    const int c = lane + 32 * i;
    if (c < d) out[c] = from_float<T>(o[i] / l);
  }
}

template <typename T>
cudaError_t launch_simt(const AttentionArgs& a, cudaStream_t stream) {
  if (a.head_dim > kMaxHeadDim) return cudaErrorInvalidValue;
  attention_simt_kernel<T><<<dim3((a.num_tokens + 3) / 4, a.heads), 128, 0, stream>>>(a);
  return cudaGetLastError();
}

template <typename T>
cudaError_t launch_attention(const AttentionArgs& a, cudaStream_t stream) {
  if constexpr (sizeof(T) == 2) {
    const bool aligned = a.ld % 8 == 0 && a.q_col % 8 == 0 && a.k_col % 8 == 0 && a.v_col % 8 == 0 &&
                         a.ld_context % 2 == 0 && reinterpret_cast<uintptr_t>(a.qkv) % 16 == 0 && a.block_sequence;
    if (aligned && a.head_dim == 32) return launch_flash<T, 32>(a, stream);
    if (aligned && a.head_dim == 64) return launch_flash<T, 64>(a, stream);
    if (aligned && a.head_dim == 128) return launch_flash<T, 128>(a, stream);
  }
  return launch_simt<T>(a, stream);
}

}  // namespace

cudaError_t attention(DType dtype, const AttentionArgs& args, cudaStream_t stream) {
  if (args.num_tokens <= 0) return cudaSuccess;
  if (args.kv_heads <= 0 || args.heads % args.kv_heads != 0) return cudaErrorInvalidValue;
  SIE_DISPATCH_DTYPE(dtype, launch_attention, args, stream);
}

cudaError_t attention_reference(DType dtype, const AttentionArgs& args, cudaStream_t stream) {
  if (args.num_tokens <= 0) return cudaSuccess;
  if (args.kv_heads <= 0 || args.heads % args.kv_heads != 0) return cudaErrorInvalidValue;
  SIE_DISPATCH_DTYPE(dtype, launch_simt, args, stream);
}

int count_attention_blocks(const int32_t* offsets, int num_sequences) {
  int blocks = 0;
  for (int s = 0; s < num_sequences; ++s) blocks += (offsets[s + 1] - offsets[s] + kBlockQ - 1) / kBlockQ;
  return blocks;
}

void plan_attention_blocks(const int32_t* offsets, int num_sequences, int32_t* block_sequence, int32_t* block_query) {
  // Longest sequences first: their blocks take the most key tiles, so they start earliest.
  std::vector<int> order(static_cast<size_t>(num_sequences));
  for (int s = 0; s < num_sequences; ++s) order[size_t(s)] = s;
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
    return offsets[x + 1] - offsets[x] > offsets[y + 1] - offsets[y];
  });
  int block = 0;
  for (int s : order)
    for (int q = 0; q < offsets[s + 1] - offsets[s]; q += kBlockQ) {
      block_sequence[block] = s;
      block_query[block] = q;
      ++block;
    }
}

}  // namespace sie_cuda
