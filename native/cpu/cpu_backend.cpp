#include "cpu_backend.h"

#include <algorithm>
#include <thread>

#include "../core/cpu_features.h"

#include "../backend/live_models.h"
#include "../core/engine_error.h"

namespace sie {

CpuModel::CpuModel(const ModelDescription& description, std::shared_ptr<ThreadPool> pool)
    : encoder_model_(description), pool_(std::move(pool)) {}

ModelOutput CpuModel::run(const TokenBatch& batch) {
  // Holding the pool also makes the model's workspace ours for the whole forward.
  auto lock = pool_->acquire();
  ModelOutput output = encoder_model_.run(batch, *pool_);
  workspace_bytes_.store(encoder_model_.workspace_bytes(), std::memory_order_relaxed);
  return output;
}

std::optional<ModelOutput> CpuModel::run_if_idle(const TokenBatch& batch) {
  auto lock = pool_->try_acquire();
  if (!lock) return std::nullopt;
  ModelOutput output = encoder_model_.run(batch, *pool_);
  workspace_bytes_.store(encoder_model_.workspace_bytes(), std::memory_order_relaxed);
  return output;
}

ModelOutput CpuModel::run_images(const ImageBatch& batch) {
  auto lock = pool_->acquire();
  return encoder_model_.run_images(batch, *pool_);
}

CpuBackend::CpuBackend(int threads) {
  if (threads == 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
  if (threads < 1 || threads > 1024) throw EngineError(ErrorCode::InvalidArgument, "threads must be between 1 and 1024");
  pool_ = std::make_shared<ThreadPool>(threads);
}

std::shared_ptr<Model> CpuBackend::load(const ModelDescription& description) {
  const auto supported = dtypes();
  if (std::find(supported.begin(), supported.end(), description.dtype) == supported.end())
    throw EngineError(ErrorCode::DeviceUnavailable, "this CPU does not compute dtype '" + description.dtype + "' natively (it has: " +
                                                        std::string(cpu_isa_name(cpu_isa())) + ")");
  auto model = std::make_shared<CpuModel>(description, pool_);
  std::lock_guard<std::mutex> lock(models_mutex_);
  models_.push_back(model);
  return model;
}

std::vector<std::string> CpuBackend::dtypes() const {
  // bf16x3 only where it is faster than fp32: three AMX products beat fp32 FMAs (1.5-2.1x on
  // MiniLM's and bge-m3's shapes); three VDPBF16PS products do not.
  // bf16x3q (fp32-grade too, 2.5 bytes a weight) uses AMX's int8 tiles beside its bf16 ones.
  if (cpu_isa() >= CpuIsa::Amx) return {"fp32", "bf16", "bf16x3", "bf16x3q"};
  if (cpu_has_native_bf16()) return {"fp32", "bf16"};
  return {"fp32"};
}

DeviceMemory CpuBackend::memory() const {
  std::lock_guard<std::mutex> lock(models_mutex_);
  return {"cpu", live_model_bytes(models_), 0};
}

}  // namespace sie
