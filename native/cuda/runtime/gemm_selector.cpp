#include "gemm_selector.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "cublaslt_library.h"
#include "cuda_status.h"

namespace sie {
namespace {

using sie_cuda::DType;
using sie_cuda::GemmArgs;

int64_t bucket(int m) {
  int64_t b = 16;
  while (b < m) b *= 2;
  return b;
}

// Rows 0 and m - 1 of y, as float, for comparing two kernels' results.
std::vector<float> sample_rows(DType dtype, const GemmArgs& a, cudaStream_t stream) {
  std::vector<float> out;
  const size_t e = size_t(sie_cuda::dtype_size(dtype));
  std::vector<uint16_t> row(size_t(a.n));
  for (int r : {0, a.m - 1}) {
    check_cuda(cudaMemcpyAsync(row.data(), static_cast<const char*>(a.y) + size_t(r) * a.ldy * e, size_t(a.n) * e,
                               cudaMemcpyDeviceToHost, stream),
               "GEMM sample");
    check_cuda(cudaStreamSynchronize(stream), "GEMM sample");
    for (uint16_t bits : row) {
      // fp16 or bf16 bits to float, on the host.
      uint32_t f;
      if (dtype == DType::BF16) {
        f = uint32_t(bits) << 16;
      } else {
        const uint32_t sign = uint32_t(bits >> 15) << 31, exponent = (bits >> 10) & 0x1f, mantissa = bits & 0x3ff;
        if (exponent == 0) {
          const float v = std::ldexp(float(mantissa), -24);
          std::memcpy(&f, &v, 4);
          f |= sign;
        } else if (exponent == 31) {
          f = sign | 0x7f800000u | (mantissa << 13);
        } else {
          f = sign | ((exponent + 112) << 23) | (mantissa << 13);
        }
      }
      float v;
      std::memcpy(&v, &f, 4);
      out.push_back(v);
    }
  }
  return out;
}

bool agree(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i])) return false;
    diff += double(a[i] - b[i]) * (a[i] - b[i]);
    norm += double(b[i]) * b[i];
  }
  return std::sqrt(diff / std::max(norm, 1e-30)) <= 1e-2;
}

}  // namespace

GemmSelector& GemmSelector::instance() {
  static GemmSelector selector;
  return selector;
}

GemmSelector::GemmSelector() {
  const char* mode = std::getenv("SIE_CUDA_GEMM");
  mode_ = mode && *mode ? mode : "auto";
  const char* log = std::getenv("SIE_CUDA_GEMM_LOG");
  log_ = log && *log && std::string(log) != "0";
  const char* wgmma = std::getenv("SIE_CUDA_WGMMA");
  wgmma_ = !(wgmma && std::string(wgmma) == "off");
  // Opt-in. Both ran correctly on an H100 (2026-11-28) and lost to the one-tile 128x128 kernel on
  // every measured shape (their epilogues store from the accumulator registers, 4 bytes a lane),
  // so offering them would only lengthen the chooser's first pass.
  const char* persistent = std::getenv("SIE_CUDA_WGMMA_PERSISTENT");
  wgmma_persistent_ = persistent && std::string(persistent) == "on";
  const char* pingpong = std::getenv("SIE_CUDA_WGMMA_PINGPONG");
  wgmma_pingpong_ = pingpong && std::string(pingpong) == "on";
}

const char* GemmSelector::name(Choice c) {
  switch (c) {
    case Choice::Ours128: return "ours 128x128";
    case Choice::Ours64: return "ours 64x64";
    case Choice::Ours256: return "ours 128x256";
    case Choice::Hopper128: return "ours wgmma 128x128";
    case Choice::Hopper256: return "ours wgmma 128x256";
    case Choice::HopperPersistent128: return "ours wgmma 128x128 persistent";
    case Choice::HopperPingPong128: return "ours wgmma 128x128 ping-pong";
    default: return "cuBLASLt";
  }
}

cudaError_t GemmSelector::launch(Choice c, DType dtype, const GemmArgs& a, cudaStream_t stream) {
  switch (c) {
    case Choice::Ours128: return sie_cuda::gemm_with(sie_cuda::GemmKernel::TensorCore128x128, dtype, a, stream);
    case Choice::Ours64: return sie_cuda::gemm_with(sie_cuda::GemmKernel::TensorCore64x64, dtype, a, stream);
    case Choice::Ours256: return sie_cuda::gemm_with(sie_cuda::GemmKernel::TensorCore128x256, dtype, a, stream);
    case Choice::Hopper128: return sie_cuda::gemm_with(sie_cuda::GemmKernel::Hopper128x128, dtype, a, stream);
    case Choice::Hopper256: return sie_cuda::gemm_with(sie_cuda::GemmKernel::Hopper128x256, dtype, a, stream);
    case Choice::HopperPersistent128:
      return sie_cuda::gemm_with(sie_cuda::GemmKernel::HopperPersistent128x128, dtype, a, stream);
    case Choice::HopperPingPong128: return sie_cuda::gemm_with(sie_cuda::GemmKernel::HopperPingPong128x128, dtype, a, stream);
    default: {
      CublasLt* library = CublasLt::instance();
      return library ? library->run(dtype, a, stream) : cudaErrorNotSupported;
    }
  }
}

void GemmSelector::run(DType dtype, const GemmArgs& a, cudaStream_t stream) {
  if (dtype == DType::F32 || mode_ == "heuristic" || a.m <= 0 || a.n <= 0) {
    check_cuda(sie_cuda::gemm(dtype, a, stream), "GEMM");
    return;
  }
  int device = 0;
  cudaGetDevice(&device);
  const Key key{device, int64_t(dtype), bucket(a.m), a.n, a.k, int64_t(a.activation),
                (a.residual ? 1 : 0) + (a.sequence_max ? 2 : 0), 0};
  Choice choice;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto found = chosen_.find(key);
    choice = found != chosen_.end() ? found->second : (chosen_[key] = measure(dtype, a, stream, key));
  }
  cudaError_t status = launch(choice, dtype, a, stream);
  if (status != cudaSuccess && status != cudaErrorLaunchFailure && choice != Choice::Ours128) {
    // A candidate may refuse arguments its shape key does not capture (alignment, a row stride).
    cudaGetLastError();
    status = launch(Choice::Ours128, dtype, a, stream);
  }
  check_cuda(status, "GEMM");
}

GemmSelector::Choice GemmSelector::measure(DType dtype, const GemmArgs& a, cudaStream_t stream, const Key& key) {
  std::vector<Choice> candidates;
  if (mode_ != "cublaslt") {
    candidates = {Choice::Ours128, Choice::Ours64, Choice::Ours256};
    if (wgmma_ && sie_cuda::hopper_gemm_available()) {
      candidates.push_back(Choice::Hopper128);
      candidates.push_back(Choice::Hopper256);
      if (wgmma_persistent_) candidates.push_back(Choice::HopperPersistent128);
      if (wgmma_pingpong_) candidates.push_back(Choice::HopperPingPong128);
    }
  }
  const bool library = mode_ != "ours" && CublasLt::supports(dtype, a) && CublasLt::instance();
  if (library) candidates.push_back(Choice::CublasLt);
  if (candidates.empty()) candidates.push_back(Choice::Ours128);
  if (mode_ == "cublaslt" && library) return Choice::CublasLt;

  cudaEvent_t start, stop;
  check_cuda(cudaEventCreate(&start), "cudaEventCreate");
  check_cuda(cudaEventCreate(&stop), "cudaEventCreate");
  Choice best = Choice::Ours128;
  float best_ms = INFINITY;
  std::string report;
  for (Choice c : candidates) {
    // Runs are safe to repeat: the output never aliases an input, and the SPLADE fold is a max.
    if (launch(c, dtype, a, stream) != cudaSuccess || cudaStreamSynchronize(stream) != cudaSuccess) {
      cudaGetLastError();
      report += std::string(" ") + name(c) + " failed;";
      continue;
    }
    float total = 0;
    for (int rep = 0; rep < 2; ++rep) {
      cudaEventRecord(start, stream);
      launch(c, dtype, a, stream);
      cudaEventRecord(stop, stream);
      cudaEventSynchronize(stop);
      float ms = 0;
      cudaEventElapsedTime(&ms, start, stop);
      total += ms;
    }
    report += std::string(" ") + name(c) + " " + std::to_string(total / 2) + " ms;";
    if (total / 2 < best_ms) {
      best_ms = total / 2;
      best = c;
    }
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  const bool checked = best == Choice::Ours128 || best == Choice::Ours64 || best == Choice::Ours256;
  if (!checked && candidates.size() > 1) {
    check_cuda(launch(Choice::Ours128, dtype, a, stream), "GEMM");
    const std::vector<float> ours = sample_rows(dtype, a, stream);
    check_cuda(launch(best, dtype, a, stream), "GEMM");
    if (!agree(sample_rows(dtype, a, stream), ours)) {
      report += std::string(" ") + name(best) + " disagrees with ours 128x128: not used;";
      best = Choice::Ours128;
    }
  }
  if (log_)
    std::fprintf(stderr, "sie gemm %s m~%lld n %lld k %lld epilogue %lld/%lld ->%s chosen: %s\n",
                 dtype == DType::F16 ? "fp16" : "bf16", (long long)key[2], (long long)key[3], (long long)key[4],
                 (long long)key[5], (long long)key[6], report.c_str(), name(best));
  return best;
}

}  // namespace sie
