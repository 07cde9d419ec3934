#include "cublaslt_library.h"

#include <dlfcn.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <type_traits>

namespace sie {
namespace {

// From cublasLt.h / cublas_api.h / library_types.h (CUDA 13).
using Status = int;                 // cublasStatus_t; 0 = CUBLAS_STATUS_SUCCESS
using Handle = void*;               // cublasLtHandle_t
using MatmulDesc = void*;           // cublasLtMatmulDesc_t
using Layout = void*;               // cublasLtMatrixLayout_t
using Preference = void*;           // cublasLtMatmulPreference_t
constexpr int kComputeF32 = 68;     // CUBLAS_COMPUTE_32F
constexpr int kR32F = 0, kR16F = 2, kR16BF = 14;  // cudaDataType
constexpr int kDescTransA = 3;      // CUBLASLT_MATMUL_DESC_TRANSA
constexpr int kDescEpilogue = 7;    // CUBLASLT_MATMUL_DESC_EPILOGUE
constexpr int kDescBiasPointer = 8;  // CUBLASLT_MATMUL_DESC_BIAS_POINTER
constexpr int kDescBiasType = 26;   // CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE
constexpr int kEpilogueBias = 4;    // CUBLASLT_EPILOGUE_BIAS
constexpr int kOpT = 1;             // CUBLAS_OP_T
constexpr int kPrefMaxWorkspace = 1;  // CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES
constexpr size_t kWorkspaceBytes = size_t(32) << 20;
struct Algo {
  uint64_t data[8];
};
struct HeuristicResult {
  Algo algo;
  size_t workspace_size;
  Status state;
  float waves_count;
  int reserved[4];
};

}  // namespace

struct CublasLt::Api {
  Status (*create)(Handle*);
  Status (*desc_create)(MatmulDesc*, int, int);
  Status (*desc_destroy)(MatmulDesc);
  Status (*desc_set)(MatmulDesc, int, const void*, size_t);
  Status (*layout_create)(Layout*, int, uint64_t, uint64_t, int64_t);
  Status (*layout_destroy)(Layout);
  Status (*pref_create)(Preference*);
  Status (*pref_destroy)(Preference);
  Status (*pref_set)(Preference, int, const void*, size_t);
  Status (*heuristic)(Handle, MatmulDesc, Layout, Layout, Layout, Layout, Preference, int, HeuristicResult*, int*);
  Status (*matmul)(Handle, MatmulDesc, const void*, const void*, Layout, const void*, Layout, const void*, const void*, Layout,
                   void*, Layout, const Algo*, void*, size_t, cudaStream_t);
};

namespace {
std::string g_reason;
}

const std::string& CublasLt::unavailable_reason() { return g_reason; }

CublasLt* CublasLt::instance() {
  static CublasLt* library = [] {
    auto* candidate = new CublasLt();
    if (candidate->load(g_reason)) return candidate;
    delete candidate;
    return static_cast<CublasLt*>(nullptr);
  }();
  return library;
}

bool CublasLt::load(std::string& why) {
  const char* named = std::getenv("SIE_CUBLASLT");
  if (named && std::string(named) == "off") {
    why = "disabled by SIE_CUBLASLT=off";
    return false;
  }
  const char* candidates[] = {named, "libcublasLt.so.13", "/usr/local/cuda/lib64/libcublasLt.so.13"};
  void* lib = nullptr;
  for (const char* name : candidates)
    if (name && *name && (lib = dlopen(name, RTLD_NOW | RTLD_LOCAL))) break;
  if (!lib) {
    why = "libcublasLt.so.13 not found (set SIE_CUBLASLT to its path)";
    return false;
  }
  auto* api = new Api();
  auto bind = [&](auto& fn, const char* symbol) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, symbol));
    return fn != nullptr;
  };
  const bool bound = bind(api->create, "cublasLtCreate") && bind(api->desc_create, "cublasLtMatmulDescCreate") &&
                     bind(api->desc_destroy, "cublasLtMatmulDescDestroy") && bind(api->desc_set, "cublasLtMatmulDescSetAttribute") &&
                     bind(api->layout_create, "cublasLtMatrixLayoutCreate") && bind(api->layout_destroy, "cublasLtMatrixLayoutDestroy") &&
                     bind(api->pref_create, "cublasLtMatmulPreferenceCreate") && bind(api->pref_destroy, "cublasLtMatmulPreferenceDestroy") &&
                     bind(api->pref_set, "cublasLtMatmulPreferenceSetAttribute") && bind(api->heuristic, "cublasLtMatmulAlgoGetHeuristic") &&
                     bind(api->matmul, "cublasLtMatmul");
  if (!bound || api->create(&handle_) != 0) {
    why = "libcublasLt.so.13 loaded but could not be initialised";
    delete api;
    return false;
  }
  api_ = api;
  return true;
}

bool CublasLt::supports(sie_cuda::DType dtype, const sie_cuda::GemmArgs& a) {
  const bool act_and_residual = a.residual && a.activation != sie_cuda::Activation::None;
  return dtype != sie_cuda::DType::F32 && !a.sequence_max && !act_and_residual;
}

cudaError_t CublasLt::run(sie_cuda::DType dtype, const sie_cuda::GemmArgs& a, cudaStream_t stream) {
  if (!supports(dtype, a)) return cudaErrorNotSupported;
  const int type = dtype == sie_cuda::DType::F16 ? kR16F : kR16BF;
  const int ldc = a.residual ? a.ldr : a.ldy;
  // With no activation, the bias rides in cuBLASLt's own epilogue (fp32 bias, D = A.B + C + bias)
  // where its heuristic offers one; otherwise our pass adds it after the product.
  const bool want_bias_epilogue = a.bias && a.activation == sie_cuda::Activation::None;
  const std::array<int64_t, 8> key{type * 2 + (want_bias_epilogue ? 1 : 0), a.m, a.n, a.k, a.ldx, a.ldw, a.ldy,
                                   int64_t(ldc) * 2 + (a.residual ? 1 : 0)};
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = plans_.find(key);
  if (found == plans_.end()) {
    if (plans_.size() > 4096) clear_plans();  // many distinct batch shapes: start over
    Plan plan;
    if (want_bias_epilogue) plan = make_plan(type, a, ldc, true);
    if (!plan.usable) {
      destroy_plan(plan);
      plan = make_plan(type, a, ldc, false);
    }
    found = plans_.emplace(key, plan).first;
  }
  const Plan& plan = found->second;
  if (!plan.usable) return cudaErrorNotSupported;
  // The bias pointer is an attribute of the descriptor, read when the product is enqueued.
  if (plan.bias_epilogue && api_->desc_set(plan.desc, kDescBiasPointer, &a.bias, sizeof(a.bias)) != 0)
    return cudaErrorNotSupported;
  // One workspace per stream: two stream slots may run products at once.
  void*& workspace = workspaces_[stream];
  if (!workspace && cudaMalloc(&workspace, kWorkspaceBytes) != cudaSuccess) {
    workspace = nullptr;
    return cudaErrorMemoryAllocation;
  }
  const float alpha = 1.0f, beta = a.residual ? 1.0f : 0.0f;
  if (api_->matmul(handle_, plan.desc, &alpha, a.w, plan.a, a.x, plan.b, &beta, a.residual ? a.residual : a.y, plan.c, a.y, plan.d,
                   reinterpret_cast<const Algo*>(&plan.algo), workspace, kWorkspaceBytes, stream) != 0)
    return cudaErrorNotSupported;
  if (plan.bias_epilogue) return cudaSuccess;
  return sie_cuda::bias_activation(dtype, a.y, a.ldy, a.bias, a.activation, a.m, a.n, stream);
}

CublasLt::Plan CublasLt::make_plan(int type, const sie_cuda::GemmArgs& a, int ldc, bool bias_epilogue) {
  // Row-major y[m, n] is column-major D[n, m]; w[n, k] row-major is column-major [k, n],
  // transposed to [n, k]; x[m, k] row-major is column-major [k, m].
  Plan plan;
  const int trans = kOpT, epilogue = kEpilogueBias, bias_type = kR32F;
  const size_t workspace = kWorkspaceBytes;
  HeuristicResult heuristic{};
  int count = 0;
  Preference pref = nullptr;
  const bool ok = api_->desc_create(&plan.desc, kComputeF32, kR32F) == 0 &&
                  api_->desc_set(plan.desc, kDescTransA, &trans, sizeof(trans)) == 0 &&
                  (!bias_epilogue || (api_->desc_set(plan.desc, kDescEpilogue, &epilogue, sizeof(epilogue)) == 0 &&
                                      api_->desc_set(plan.desc, kDescBiasType, &bias_type, sizeof(bias_type)) == 0 &&
                                      api_->desc_set(plan.desc, kDescBiasPointer, &a.bias, sizeof(a.bias)) == 0)) &&
                  api_->layout_create(&plan.a, type, uint64_t(a.k), uint64_t(a.n), a.ldw) == 0 &&
                  api_->layout_create(&plan.b, type, uint64_t(a.k), uint64_t(a.m), a.ldx) == 0 &&
                  api_->layout_create(&plan.c, type, uint64_t(a.n), uint64_t(a.m), ldc) == 0 &&
                  api_->layout_create(&plan.d, type, uint64_t(a.n), uint64_t(a.m), a.ldy) == 0 &&
                  api_->pref_create(&pref) == 0 && api_->pref_set(pref, kPrefMaxWorkspace, &workspace, sizeof(workspace)) == 0 &&
                  api_->heuristic(handle_, plan.desc, plan.a, plan.b, plan.c, plan.d, pref, 1, &heuristic, &count) == 0 && count > 0;
  if (pref) api_->pref_destroy(pref);
  plan.usable = ok;
  plan.bias_epilogue = ok && bias_epilogue;
  std::memcpy(&plan.algo, &heuristic.algo, sizeof(plan.algo));
  return plan;
}

void CublasLt::destroy_plan(Plan& plan) {
  for (void* l : {plan.a, plan.b, plan.c, plan.d})
    if (l) api_->layout_destroy(l);
  if (plan.desc) api_->desc_destroy(plan.desc);
  plan = Plan{};
}

void CublasLt::clear_plans() {
  for (auto& entry : plans_) destroy_plan(entry.second);
  plans_.clear();
}

}  // namespace sie
