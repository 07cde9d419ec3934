// The CPU backend: weights packed for the AVX-512 (or portable) GEMM at load, one thread pool
// shared by every model of the backend. A forward holds the whole pool, so one batch runs at a
// time and models take turns.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "../backend/backend.h"
#include "heads/encoder_model.h"
#include "thread_pool.h"

namespace sie {

class CpuModel : public Model {
 public:
  CpuModel(const ModelDescription& description, std::shared_ptr<ThreadPool> pool);
  ModelOutput run(const TokenBatch& batch) override;
  std::optional<ModelOutput> run_if_idle(const TokenBatch& batch) override;
  ModelOutput run_images(const ImageBatch& batch) override;
  size_t weight_bytes() const override { return encoder_model_.weight_bytes(); }
  size_t workspace_bytes() const override { return workspace_bytes_.load(std::memory_order_relaxed); }
  int max_batches_in_flight() const override { return 1; }

 private:
  EncoderModel encoder_model_;
  std::shared_ptr<ThreadPool> pool_;
  // The workspace grows inside run(); its size is published here so that memory queries from the
  // event loop never wait for a forward pass.
  std::atomic<size_t> workspace_bytes_{0};
};

class CpuBackend : public Backend {
 public:
  explicit CpuBackend(int threads);
  std::string device() const override { return "cpu"; }
  std::shared_ptr<Model> load(const ModelDescription& description) override;
  DeviceMemory memory() const override;
  std::vector<std::string> dtypes() const override;
  int threads() const { return pool_->size(); }

 private:
  std::shared_ptr<ThreadPool> pool_;
  mutable std::mutex models_mutex_;
  mutable std::vector<std::weak_ptr<CpuModel>> models_;  // for memory(); expired ones are pruned there
};

}  // namespace sie
