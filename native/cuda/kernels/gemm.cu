// nn.Linear on the GPU: y = act(x . w^T + bias) + residual, or the SPLADE max fold.
// fp16/bf16: a tensor-core kernel (mma.sync m16n8k16, fp32 accumulators) fed by a three-stage
// cp.async pipeline through padded shared tiles (row stride BK + 8 halves, so the eight 16-byte
// rows one ldmatrix reads fall in eight different bank groups). Two tile shapes: 128x128 for
// large products, 64x64 where the large tiles would leave SMs idle, and 128x256 (64x64 warp
// tiles) as a candidate the runtime may pick by measurement. fp32: a tiled SIMT kernel.
// gemm_reference is the plain twin: one thread per output.
#include <algorithm>

#include "device_math.cuh"
#include "gemm_epilogue.cuh"
#include "kernels.h"
#include "mma.cuh"

namespace sie_cuda {
namespace {

// Positive floats order like their bit patterns as ints, so atomicMax on the bits is a float max.
__device__ __forceinline__ void fold_sequence_max(const GemmArgs& a, int sequence, int col, float v) {
  if (v > 0.0f) atomicMax(reinterpret_cast<int*>(a.sequence_max + int64_t(sequence) * a.n + col), __float_as_int(v));
}

template <typename T>
__device__ __forceinline__ void store_one(const GemmArgs& a, int row, int col, float v) {
  static_cast<T*>(a.y)[int64_t(row) * a.ldy + col] = from_float<T>(v);
}

template <typename T>
__device__ __forceinline__ void store_pair(const GemmArgs& a, int row, int col, float v0, float v1) {
  T* p = static_cast<T*>(a.y) + int64_t(row) * a.ldy + col;
  if constexpr (sizeof(T) == 2) {
    if ((a.ldy & 1) == 0 && col + 1 < a.n) {
      *reinterpret_cast<uint32_t*>(p) = pack2<T>(v0, v1);
      return;
    }
  } else {
    if ((a.ldy & 1) == 0 && col + 1 < a.n) {
      *reinterpret_cast<float2*>(p) = make_float2(v0, v1);
      return;
    }
  }
  p[0] = from_float<T>(v0);
  if (col + 1 < a.n) p[1] = from_float<T>(v1);
}

// ---- tensor cores ----------------------------------------------------------------------------

constexpr int kBK = 32, kLds = kBK + 8;

template <int BM, int BN, int STAGES>
constexpr int tc_shared_bytes() {
  return STAGES * (BM + BN) * kLds * 2;
}

template <typename T, int BM, int BN, int WARPS_M, int WARPS_N, int kStages>
__global__ void __launch_bounds__(WARPS_M* WARPS_N * 32) gemm_tc_kernel(const GemmArgs a) {
  constexpr int kThreads = WARPS_M * WARPS_N * 32;
  constexpr int WTM = BM / WARPS_M, WTN = BN / WARPS_N, MT = WTM / 16, NT = WTN / 8;
  static_assert(NT % 2 == 0, "B fragments are loaded two n-tiles at a time");
  extern __shared__ __align__(16) unsigned char shared_raw[];
  T* sA = reinterpret_cast<T*>(shared_raw);
  T* sB = sA + kStages * BM * kLds;
  const T* X = static_cast<const T*>(a.x);
  const T* W = static_cast<const T*>(a.w);
  const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int wm = warp / WARPS_N, wn = warp % WARPS_N;
  const int k_tiles = (a.k + kBK - 1) / kBK;

  auto load_tile = [&](int stage, int kt) {
    const int k0 = kt * kBK;
    T* dA = sA + stage * BM * kLds;
    T* dB = sB + stage * BN * kLds;
    for (int c = threadIdx.x; c < BM * 4; c += kThreads) {
      const int r = c >> 2, kc = (c & 3) * 8;
      const bool ok = m0 + r < a.m && k0 + kc < a.k;
      cp_async16(dA + r * kLds + kc, ok ? X + int64_t(m0 + r) * a.ldx + k0 + kc : X, ok);
    }
    for (int c = threadIdx.x; c < BN * 4; c += kThreads) {
      const int r = c >> 2, kc = (c & 3) * 8;
      const bool ok = n0 + r < a.n && k0 + kc < a.k;
      cp_async16(dB + r * kLds + kc, ok ? W + int64_t(n0 + r) * a.ldw + k0 + kc : W, ok);
    }
  };

  float acc[MT][NT][4];
#pragma unroll
  for (int i = 0; i < MT; ++i)
#pragma unroll
    for (int j = 0; j < NT; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[i][j][e] = 0.0f;

#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < k_tiles) load_tile(s, s);
    cp_async_commit();
  }
  for (int kt = 0; kt < k_tiles; ++kt) {
    cp_async_wait<kStages - 2>();
    __syncthreads();  // tile kt is in shared memory, and every warp is done with tile kt - 1
    const int next = kt + kStages - 1;
    if (next < k_tiles) load_tile(next % kStages, next);
    cp_async_commit();
    const T* tA = sA + (kt % kStages) * BM * kLds;
    const T* tB = sB + (kt % kStages) * BN * kLds;
#pragma unroll
    for (int kk = 0; kk < kBK; kk += 16) {
      uint32_t af[MT][4], bf[NT][2];
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
        ldmatrix_x4(af[mt], tA + (wm * WTM + mt * 16 + (lane & 15)) * kLds + kk + (lane >> 4) * 8);
#pragma unroll
      for (int np = 0; np < NT / 2; ++np) {
        uint32_t r[4];
        ldmatrix_x4(r, tB + (wn * WTN + np * 16 + (lane & 7) + (lane >> 4) * 8) * kLds + kk + ((lane >> 3) & 1) * 8);
        bf[2 * np][0] = r[0];
        bf[2 * np][1] = r[1];
        bf[2 * np + 1][0] = r[2];
        bf[2 * np + 1][1] = r[3];
      }
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int nt = 0; nt < NT; ++nt) mma_16816<T>(acc[mt][nt], af[mt], bf[nt][0], bf[nt][1]);
    }
  }
  cp_async_wait<0>();

  const int g = lane >> 2, q = lane & 3;
  const int row_base = m0 + wm * WTM + g, col_base = n0 + wn * WTN + 2 * q;
  if (a.sequence_max) {
    // SPLADE: this thread's rows ascend, so one running max per column and sequence, folded into
    // global memory only when the sequence changes.
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        const int col = col_base + nt * 8 + j;
        if (col >= a.n) continue;
        int sequence = -1;
        float running = 0.0f;
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
#pragma unroll
          for (int half = 0; half < 2; ++half) {
            const int row = row_base + mt * 16 + half * 8;
            if (row >= a.m) continue;
            const int s = a.row_sequence[row];
            if (s != sequence) {
              if (sequence >= 0) fold_sequence_max(a, sequence, col, running);
              sequence = s;
              running = 0.0f;
            }
            running = fmaxf(running, epilogue_value<T>(a, acc[mt][nt][half * 2 + j], row, col));
          }
        if (sequence >= 0) fold_sequence_max(a, sequence, col, running);
      }
    return;
  }
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int row = row_base + mt * 16 + half * 8, col = col_base + nt * 8;
        if (row >= a.m || col >= a.n) continue;
        const float v0 = epilogue_value<T>(a, acc[mt][nt][half * 2], row, col);
        const float v1 = col + 1 < a.n ? epilogue_value<T>(a, acc[mt][nt][half * 2 + 1], row, col + 1) : 0.0f;
        store_pair<T>(a, row, col, v0, v1);
      }
}

template <typename T, int BM, int BN, int WARPS_M, int WARPS_N, int STAGES = 3>
cudaError_t launch_tc(const GemmArgs& a, cudaStream_t stream) {
  constexpr int bytes = tc_shared_bytes<BM, BN, STAGES>();
  auto kernel = gemm_tc_kernel<T, BM, BN, WARPS_M, WARPS_N, STAGES>;
  // Above 48 KiB of dynamic shared memory a kernel must opt in (once per kernel; cheap to repeat).
  if (bytes > 48 * 1024) {
    const cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
    if (e != cudaSuccess) return e;
  }
  const dim3 grid((a.n + BN - 1) / BN, (a.m + BM - 1) / BM);
  kernel<<<grid, WARPS_M * WARPS_N * 32, bytes, stream>>>(a);
  return cudaGetLastError();
}

int multiprocessor_count() {
  static const int count = [] {
    int device = 0, sms = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    return sms > 0 ? sms : 1;
  }();
  return count;
}

// ---- SIMT (fp32) -----------------------------------------------------------------------------

constexpr int kSimtTile = 64, kSimtK = 16;

// 256 threads, a 64x64 tile, each thread 4x4 outputs strided by 16 so shared reads broadcast.
template <typename T>
__global__ void __launch_bounds__(256) gemm_simt_kernel(const GemmArgs a) {
  __shared__ float sx[kSimtK][kSimtTile + 1];
  __shared__ float sw[kSimtK][kSimtTile + 1];
  const T* X = static_cast<const T*>(a.x);
  const T* W = static_cast<const T*>(a.w);
  const int m0 = blockIdx.y * kSimtTile, n0 = blockIdx.x * kSimtTile;
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  float acc[4][4] = {};
  for (int k0 = 0; k0 < a.k; k0 += kSimtK) {
    for (int i = threadIdx.x; i < kSimtTile * kSimtK; i += 256) {
      const int r = i / kSimtK, kk = i % kSimtK;
      const bool in_k = k0 + kk < a.k;
      sx[kk][r] = in_k && m0 + r < a.m ? to_float(X[int64_t(m0 + r) * a.ldx + k0 + kk]) : 0.0f;
      sw[kk][r] = in_k && n0 + r < a.n ? to_float(W[int64_t(n0 + r) * a.ldw + k0 + kk]) : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kSimtK; ++kk) {
      float xv[4], wv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) xv[i] = sx[kk][ty + 16 * i];
#pragma unroll
      for (int j = 0; j < 4; ++j) wv[j] = sw[kk][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(xv[i], wv[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int row = m0 + ty + 16 * i, col = n0 + tx + 16 * j;
      if (row >= a.m || col >= a.n) continue;
      const float v = epilogue_value<T>(a, acc[i][j], row, col);
      if (a.sequence_max)
        fold_sequence_max(a, a.row_sequence[row], col, v);
      else
        store_one<T>(a, row, col, v);
    }
}

template <typename T>
cudaError_t launch_simt(const GemmArgs& a, cudaStream_t stream) {
  const dim3 grid((a.n + kSimtTile - 1) / kSimtTile, (a.m + kSimtTile - 1) / kSimtTile);
  gemm_simt_kernel<T><<<grid, 256, 0, stream>>>(a);
  return cudaGetLastError();
}

// 16-byte cp.async needs 8-element alignment of every row start.
bool tensor_core_aligned(const GemmArgs& a) {
  return a.k % 8 == 0 && a.ldx % 8 == 0 && a.ldw % 8 == 0 && reinterpret_cast<uintptr_t>(a.x) % 16 == 0 &&
         reinterpret_cast<uintptr_t>(a.w) % 16 == 0;
}

template <typename T>
cudaError_t launch_kernel(GemmKernel kernel, const GemmArgs& a, cudaStream_t stream) {
  if constexpr (sizeof(T) == 4) {
    return launch_simt<T>(a, stream);
  } else {
    if (kernel == GemmKernel::Simt || !tensor_core_aligned(a)) return launch_simt<T>(a, stream);
    if (kernel == GemmKernel::Auto) {
      const int64_t large_tiles = int64_t((a.m + 127) / 128) * ((a.n + 127) / 128);
      kernel = large_tiles >= multiprocessor_count() ? GemmKernel::TensorCore128x128 : GemmKernel::TensorCore64x64;
    }
    switch (kernel) {
      case GemmKernel::TensorCore64x64: return launch_tc<T, 64, 64, 2, 2>(a, stream);
      // 64x64 warp tiles: twice the MMAs per fragment load of 64x32, one block of 8 warps per SM.
      case GemmKernel::TensorCore128x256: return launch_tc<T, 128, 256, 2, 4, 3>(a, stream);
      default: return launch_tc<T, 128, 128, 2, 4>(a, stream);
    }
  }
}

template <typename T>
cudaError_t launch_gemm(const GemmArgs& a, cudaStream_t stream) {
  return launch_kernel<T>(GemmKernel::Auto, a, stream);
}

template <typename T>
cudaError_t launch_gemm_with(GemmKernel kernel, const GemmArgs& a, cudaStream_t stream) {
  return launch_kernel<T>(kernel, a, stream);
}

// y = act(y + bias) in place: the epilogue of a product computed elsewhere (cuBLASLt).
template <typename T>
__global__ void bias_activation_kernel(T* y, int ldy, const float* bias, Activation act, int m, int n) {
  const int64_t total = int64_t(m) * n;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int row = int(i / n), col = int(i % n);
    T* p = y + int64_t(row) * ldy + col;
    *p = from_float<T>(activate(to_float(*p) + (bias ? bias[col] : 0.0f), act));
  }
}

template <typename T>
cudaError_t launch_bias_activation(void* y, int ldy, const float* bias, Activation act, int m, int n, cudaStream_t stream) {
  const int64_t total = int64_t(m) * n;
  const int64_t blocks = std::min<int64_t>((total + 255) / 256, int64_t(multiprocessor_count()) * 16);
  bias_activation_kernel<T><<<unsigned(blocks), 256, 0, stream>>>(static_cast<T*>(y), ldy, bias, act, m, n);
  return cudaGetLastError();
}

// ---- the plain twin --------------------------------------------------------------------------

template <typename T>
__global__ void gemm_reference_kernel(const GemmArgs a) {
  const int64_t index = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= int64_t(a.m) * a.n) return;
  const int row = int(index / a.n), col = int(index % a.n);
  const T* x = static_cast<const T*>(a.x) + int64_t(row) * a.ldx;
  const T* w = static_cast<const T*>(a.w) + int64_t(col) * a.ldw;
  float acc = 0.0f;
  for (int k = 0; k < a.k; ++k) acc = fmaf(to_float(x[k]), to_float(w[k]), acc);
  const float v = epilogue_value<T>(a, acc, row, col);
  if (a.sequence_max)
    fold_sequence_max(a, a.row_sequence[row], col, v);
  else
    store_one<T>(a, row, col, v);
}

template <typename T>
cudaError_t launch_reference(const GemmArgs& a, cudaStream_t stream) {
  const int64_t total = int64_t(a.m) * a.n;
  gemm_reference_kernel<T><<<unsigned((total + 255) / 256), 256, 0, stream>>>(a);
  return cudaGetLastError();
}

}  // namespace

cudaError_t gemm(DType dtype, const GemmArgs& args, cudaStream_t stream) {
  if (args.m <= 0 || args.n <= 0) return cudaSuccess;
  SIE_DISPATCH_DTYPE(dtype, launch_gemm, args, stream);
}

cudaError_t gemm_with(GemmKernel kernel, DType dtype, const GemmArgs& args, cudaStream_t stream) {
  if (args.m <= 0 || args.n <= 0) return cudaSuccess;
  if (kernel == GemmKernel::Hopper128x128 || kernel == GemmKernel::Hopper128x256 || kernel == GemmKernel::HopperPersistent128x128 ||
      kernel == GemmKernel::HopperPingPong128x128)
    return gemm_hopper(kernel, dtype, args, stream);
  SIE_DISPATCH_DTYPE(dtype, launch_gemm_with, kernel, args, stream);
}

cudaError_t bias_activation(DType dtype, void* y, int ldy, const float* bias, Activation act, int m, int n,
                            cudaStream_t stream) {
  if (m <= 0 || n <= 0 || (!bias && act == Activation::None)) return cudaSuccess;
  SIE_DISPATCH_DTYPE(dtype, launch_bias_activation, y, ldy, bias, act, m, n, stream);
}

cudaError_t gemm_reference(DType dtype, const GemmArgs& args, cudaStream_t stream) {
  if (args.m <= 0 || args.n <= 0) return cudaSuccess;
  SIE_DISPATCH_DTYPE(dtype, launch_reference, args, stream);
}

}  // namespace sie_cuda
