// The heads on the GPU: what a model does with the encoder's last hidden states, as on the CPU
// (native/cpu/heads/), with the same outputs. Pooled embeddings, ColBERT token projection,
// SPLADE (the vocabulary projection folds into per-sequence maxima: no tokens x vocab matrix),
// sequence and token classifiers run as kernels; any other head (bge-m3's three outputs) runs
// its CPU implementation on the hidden states copied back, so every model the CPU serves also
// loads on CUDA.
#pragma once
#include <memory>

#include "../../backend/model_description.h"
#include "../../backend/model_output.h"
#include "../../cpu/thread_pool.h"
#include "../../weights/weight_store.h"
#include "../kernels/kernels.h"
#include "device_batch.h"

namespace sie {

class CudaHead {
 public:
  virtual ~CudaHead() = default;
  // Device bytes the head needs for a batch, its fp32 results first (result_bytes of them).
  virtual size_t workspace_bytes(int tokens, int sequences) const = 0;
  virtual size_t result_bytes(int tokens, int sequences) const = 0;
  // Enqueues the head on `stream`; its fp32 results land at the start of `workspace`.
  virtual void enqueue(const void* hidden, const DeviceBatch& batch, char* workspace, cudaStream_t stream) const = 0;
  // Builds the output from the results, copied to host memory.
  virtual ModelOutput collect(const float* results, const TokenBatch& batch) const = 0;
  virtual size_t weight_bytes() const = 0;
};

std::unique_ptr<CudaHead> make_cuda_head(const ModelDescription& description, const WeightStore& weights,
                                         sie_cuda::DType dtype, std::shared_ptr<ThreadPool> cpu_pool);

}  // namespace sie
