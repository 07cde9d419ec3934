// The one seam between the JS engine and a device. A Backend loads a ModelDescription into a
// Model and accounts for the memory it holds per device; a Model runs a TokenBatch to a
// ModelOutput. Weight layout, workspace, threads, streams and device memory are the backend's
// business: nothing about them crosses this interface. CPU today (native/cpu/cpu_backend.h);
// CUDA implements the same two classes.
#pragma once
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model_description.h"
#include "../core/engine_error.h"
#include "image_batch.h"
#include "model_output.h"
#include "token_batch.h"

namespace sie {

class Model {
 public:
  virtual ~Model() = default;
  // Runs one batch; safe to call from several threads (the backend serialises what it must).
  virtual ModelOutput run(const TokenBatch& batch) = 0;
  // Runs the batch on the calling thread if the backend is idle right now; nothing if it is busy
  // (another batch or a load holds it) or runs its batches elsewhere: the caller then queues the
  // batch through run() as usual. The scheduler uses it for a lone short request, which then
  // skips two thread hand-offs (to a worker thread and back).
  virtual std::optional<ModelOutput> run_if_idle(const TokenBatch&) { return std::nullopt; }
  // Runs preprocessed images (CLIP's vision tower); INVALID_INPUT for models without one.
  virtual ModelOutput run_images(const ImageBatch& batch) {
    throw EngineError(ErrorCode::InvalidInput, "this model takes no images");
  }
  // Bytes of weights and of reusable forward workspace held for this model.
  virtual size_t weight_bytes() const = 0;
  virtual size_t workspace_bytes() const = 0;
  // How many batches the scheduler should keep in flight for this model: more only helps where
  // the device overlaps copies and compute of consecutive batches.
  virtual int max_batches_in_flight() const = 0;
};

struct DeviceMemory {
  std::string device;  // "cpu", "cuda:0"
  size_t used_bytes = 0;
  size_t total_bytes = 0;  // 0 where the backend does not know (host memory)
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string device() const = 0;
  // Throws EngineError (BAD_WEIGHTS, BAD_CONFIG, DEVICE_UNAVAILABLE, ...) on failure.
  virtual std::shared_ptr<Model> load(const ModelDescription& description) = 0;
  virtual DeviceMemory memory() const = 0;
  // The weight dtypes this backend computes natively on this machine ("fp32" always).
  virtual std::vector<std::string> dtypes() const = 0;
};

struct BackendOptions {
  std::string device = "cpu";  // "cpu" | "cuda" | "cuda:N"
  int threads = 0;             // CPU compute threads; 0 = all cores
  int workspace_tokens = 0;    // CUDA: reserve each model's workspace for batches of this many tokens
};

// Opens the backend for a device; DEVICE_UNAVAILABLE where this build or machine has none.
std::unique_ptr<Backend> open_backend(const BackendOptions& options);

}  // namespace sie
