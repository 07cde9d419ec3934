#include "cuda_backend.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include "../../cpu/batch_validation.h"
#include "../../backend/live_models.h"
#include "batch_split.h"

namespace sie {

sie_cuda::DType storage_dtype(const std::string& dtype) {
  if (dtype == "fp32") return sie_cuda::DType::F32;
  if (dtype == "fp16") return sie_cuda::DType::F16;
  if (dtype == "bf16") return sie_cuda::DType::BF16;
  throw EngineError(ErrorCode::BadConfig, "dtype must be fp32, fp16 or bf16, got '" + dtype + "'");
}

CudaModel::CudaModel(const ModelDescription& d, const CudaDeviceInfo& device, std::shared_ptr<ThreadPool> cpu_pool,
                     int workspace_tokens)
    : device_(device), dtype_(storage_dtype(d.dtype)) {
  if (d.architecture != "bert" && d.architecture != "xlm-roberta")
    throw EngineError(ErrorCode::DeviceUnavailable,
                      "the CUDA backend has no '" + d.architecture + "' encoder yet (it runs bert and xlm-roberta); use --device cpu");
  check_cuda(cudaSetDevice(device_.index), "cudaSetDevice");
  const std::unique_ptr<WeightStore> weights = open_weights(d.weights_path);
  encoder_ = std::make_unique<CudaBertEncoder>(*weights, d.encoder, dtype_);
  head_ = make_cuda_head(d, *weights, dtype_, std::move(cpu_pool));
  weight_bytes_ = encoder_->weight_bytes() + head_->weight_bytes();
  for (int i = 0; i < kSlots; ++i) {
    auto slot = std::make_unique<Slot>();
    check_cuda(cudaStreamCreateWithFlags(&slot->stream, cudaStreamNonBlocking), "cudaStreamCreate");
    if (workspace_tokens > 0) {
      // Sized for the scheduler's token budget, so batches within it never allocate.
      const int e = sie_cuda::dtype_size(dtype_);
      // Sequences are bounded by tokens; 256 covers the usual batch (more grows the arena once)
      // without reserving a SPLADE head's sequences x vocab maxima for thousands of sequences.
      const int sequences = std::min(workspace_tokens, 256);
      const WorkspacePlan plan = plan_workspace(d.encoder, e, workspace_tokens, sequences,
                                                head_->workspace_bytes(workspace_tokens, sequences));
      slot->arena.reserve(plan.total);
    }
    slots_.push_back(std::move(slot));
  }
}

CudaModel::~CudaModel() {
  for (auto& slot : slots_)
    if (slot->stream) {
      cudaStreamSynchronize(slot->stream);
      cudaStreamDestroy(slot->stream);
    }
}

size_t CudaModel::workspace_bytes() const {
  std::lock_guard<std::mutex> lock(slots_mutex_);
  size_t total = 0;
  for (const auto& slot : slots_) total += slot->arena.bytes();
  return total;
}

CudaModel::Slot& CudaModel::acquire_slot() {
  std::unique_lock<std::mutex> lock(slots_mutex_);
  for (;;) {
    for (auto& slot : slots_)
      if (!slot->busy) {
        slot->busy = true;
        return *slot;
      }
    slot_free_.wait(lock);
  }
}

void CudaModel::release_slot(Slot& slot) {
  {
    std::lock_guard<std::mutex> lock(slots_mutex_);
    slot.busy = false;
  }
  slot_free_.notify_one();
}

ModelOutput CudaModel::run(const TokenBatch& batch) {
  const EncoderConfig& c = encoder_->config();
  validate_token_batch(batch, c.max_sequence_length(), c.vocab_size, c.type_vocab_size);
  return run_splitting_on_oom(batch, [this](const TokenBatch& part) {
    Slot& slot = acquire_slot();
    struct Release {
      CudaModel* model;
      Slot& slot;
      ~Release() { model->release_slot(slot); }
    } release{this, slot};
    return run_on_slot(slot, part);
  });
}

ModelOutput CudaModel::run_on_slot(Slot& slot, const TokenBatch& b) {
  check_cuda(cudaSetDevice(device_.index), "cudaSetDevice");
  const EncoderConfig& c = encoder_->config();
  const int t = b.num_tokens, s = b.num_sequences;
  const WorkspacePlan plan = plan_workspace(c, sie_cuda::dtype_size(dtype_), t, s, head_->workspace_bytes(t, s));
  // A failed batch may have left work queued on this stream: let it drain before buffers move.
  check_cuda(cudaStreamSynchronize(slot.stream), "stream drain");
  {
    std::lock_guard<std::mutex> lock(slots_mutex_);  // workspace_bytes() reads the arena size
    slot.arena.reserve(plan.total);
  }
  slot.inputs.reserve(size_t(plan.input_capacity) * sizeof(int32_t));

  // Index arrays, built in pinned memory and sent in one copy.
  int32_t* host = static_cast<int32_t*>(slot.inputs.data());
  int32_t* ids = host;
  int32_t* types = ids + t;
  int32_t* positions = types + t;
  int32_t* row_sequence = positions + t;
  int32_t* offsets = row_sequence + t;
  int32_t* first_rows = offsets + s + 1;
  int32_t* block_sequence = first_rows + s;
  const int blocks = sie_cuda::count_attention_blocks(b.offsets, s);
  int32_t* block_query = block_sequence + blocks;
  const int32_t used = int32_t(block_query + blocks - host);
  std::memcpy(ids, b.input_ids, size_t(t) * 4);
  if (b.token_type_ids) std::memcpy(types, b.token_type_ids, size_t(t) * 4); else std::fill(types, types + t, 0);
  std::memcpy(offsets, b.offsets, size_t(s + 1) * 4);
  const int pad = c.position_padding_idx;
  int longest = 0;
  for (int q = 0; q < s; ++q) {
    first_rows[q] = b.offsets[q];
    longest = std::max(longest, b.offsets[q + 1] - b.offsets[q]);
    int non_pad = 0;
    for (int i = b.offsets[q]; i < b.offsets[q + 1]; ++i) {
      row_sequence[i] = q;
      // RoBERTa/XLM-R: HF's create_position_ids_from_input_ids; BERT: 0, 1, 2, ...
      positions[i] = pad >= 0 ? (b.input_ids[i] == pad ? pad : pad + ++non_pad) : i - b.offsets[q];
    }
  }
  sie_cuda::plan_attention_blocks(b.offsets, s, block_sequence, block_query);

  char* arena = static_cast<char*>(slot.arena.data());
  int32_t* device_ints = reinterpret_cast<int32_t*>(arena + plan.inputs);
  check_cuda(cudaMemcpyAsync(device_ints, host, size_t(used) * 4, cudaMemcpyHostToDevice, slot.stream), "input copy");
  DeviceBatch db;
  db.host = &b;
  db.tokens = t, db.sequences = s, db.max_length = longest, db.blocks = blocks;
  auto on_device = [&](const int32_t* p) { return device_ints + (p - host); };
  db.ids = on_device(ids);
  db.types = on_device(types);
  db.positions = on_device(positions);
  db.row_sequence = on_device(row_sequence);
  db.offsets = on_device(offsets);
  db.first_rows = on_device(first_rows);
  db.block_sequence = on_device(block_sequence);
  db.block_query = on_device(block_query);

  encoder_->forward(db, plan, arena, slot.stream);
  head_->enqueue(arena + plan.hidden, db, arena + plan.head, slot.stream);
  const size_t result_bytes = head_->result_bytes(t, s);
  slot.results.reserve(result_bytes);
  check_cuda(cudaMemcpyAsync(slot.results.data(), arena + plan.head, result_bytes, cudaMemcpyDeviceToHost, slot.stream),
             "result copy");
  check_cuda(cudaStreamSynchronize(slot.stream), "forward pass");
  return head_->collect(static_cast<const float*>(slot.results.data()), b);
}

CudaBackend::CudaBackend(const std::string& device, int cpu_threads, int workspace_tokens)
    : device_(open_cuda_device(parse_cuda_device(device))), workspace_tokens_(workspace_tokens) {
  if (cpu_threads == 0) cpu_threads = int(std::max(1u, std::thread::hardware_concurrency()));
  cpu_pool_ = std::make_shared<ThreadPool>(cpu_threads);
}

std::shared_ptr<Model> CudaBackend::load(const ModelDescription& description) {
  auto model = std::make_shared<CudaModel>(description, device_, cpu_pool_, workspace_tokens_);
  std::lock_guard<std::mutex> lock(models_mutex_);
  models_.push_back(model);
  return model;
}

DeviceMemory CudaBackend::memory() const {
  std::lock_guard<std::mutex> lock(models_mutex_);
  return {device(), live_model_bytes(models_), device_.total_bytes};
}

}  // namespace sie
