// The CUDA backend behind the same seam as the CPU one (native/backend/backend.h).
// A CudaModel holds its weights once in the storage dtype (--dtype fp32|fp16|bf16) and two
// stream slots, each with its own workspace arena and pinned host buffers, so two batches run
// at once: one's copies overlap the other's kernels. The arena is reserved for the token budget
// at load. A batch that runs out of device memory is split in half and retried.
#pragma once
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "../../backend/backend.h"
#include "../../cpu/thread_pool.h"
#include "cuda_bert_encoder.h"
#include "cuda_heads.h"
#include "device_selection.h"

namespace sie {

class CudaModel : public Model {
 public:
  CudaModel(const ModelDescription& description, const CudaDeviceInfo& device, std::shared_ptr<ThreadPool> cpu_pool,
            int workspace_tokens);
  ~CudaModel() override;
  ModelOutput run(const TokenBatch& batch) override;
  size_t weight_bytes() const override { return weight_bytes_; }
  size_t workspace_bytes() const override;
  int max_batches_in_flight() const override { return kSlots; }

 private:
  static constexpr int kSlots = 2;
  struct Slot {
    cudaStream_t stream = nullptr;
    DeviceBuffer arena;
    PinnedBuffer inputs, results;
    bool busy = false;
  };
  ModelOutput run_on_slot(Slot& slot, const TokenBatch& batch);
  Slot& acquire_slot();
  void release_slot(Slot& slot);

  CudaDeviceInfo device_;
  sie_cuda::DType dtype_;
  std::unique_ptr<CudaBertEncoder> encoder_;
  std::unique_ptr<CudaHead> head_;
  size_t weight_bytes_ = 0;
  mutable std::mutex slots_mutex_;
  std::condition_variable slot_free_;
  std::vector<std::unique_ptr<Slot>> slots_;
};

class CudaBackend : public Backend {
 public:
  CudaBackend(const std::string& device, int cpu_threads, int workspace_tokens);
  std::string device() const override { return "cuda:" + std::to_string(device_.index); }
  std::shared_ptr<Model> load(const ModelDescription& description) override;
  DeviceMemory memory() const override;
  std::vector<std::string> dtypes() const override { return {"fp32", "fp16", "bf16"}; }
  const CudaDeviceInfo& info() const { return device_; }

 private:
  CudaDeviceInfo device_;
  int workspace_tokens_;
  std::shared_ptr<ThreadPool> cpu_pool_;  // heads without a GPU kernel run here
  mutable std::mutex models_mutex_;
  mutable std::vector<std::weak_ptr<CudaModel>> models_;
};

// "fp32" | "fp16" | "bf16" to the kernels' storage dtype; BAD_CONFIG otherwise.
sie_cuda::DType storage_dtype(const std::string& dtype);

}  // namespace sie
