#include "cuda_heads.h"

#include <cmath>

#include "../../core/engine_error.h"
#include "../../cpu/bert/bert_weights.h"
#include "../../cpu/heads/head_registry.h"
#include "device_upload.h"
#include "gemm_selector.h"
#include "workspace_plan.h"

namespace sie {
namespace {

using DType = sie_cuda::DType;

size_t aligned(size_t bytes) { return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

// A Linear's weight (storage dtype) and optional fp32 bias on the device.
struct DeviceLinear {
  DeviceBuffer weight, bias;
  int out_features = 0, in_features = 0;
  size_t bytes() const { return weight.bytes() + bias.bytes(); }
};

DeviceLinear read_device_linear(const WeightStore& file, const std::string& name, int out_features, int in_features, DType dtype) {
  const std::string prefix = name.empty() ? "" : name + ".";
  DeviceLinear linear;
  linear.weight = upload_as(dtype, read_tensor(file, prefix + "weight", {out_features, in_features}));
  if (file.has(prefix + "bias")) linear.bias = upload_f32(read_tensor(file, prefix + "bias", {out_features}));
  linear.out_features = out_features;
  linear.in_features = in_features;
  return linear;
}

void run_linear(DType dtype, const DeviceLinear& linear, const void* x, int rows, void* y, sie_cuda::Activation act,
                cudaStream_t stream) {
  sie_cuda::GemmArgs g;
  g.x = x, g.ldx = linear.in_features, g.w = linear.weight.data(), g.ldw = linear.in_features;
  g.bias = static_cast<const float*>(linear.bias.data()), g.activation = act;
  g.y = y, g.ldy = linear.out_features, g.m = rows, g.n = linear.out_features, g.k = linear.in_features;
  GemmSelector::instance().run(dtype, g, stream);
}

ModelOutput dense_rows(const float* results, int rows, int width) {
  ModelOutput out;
  out.width = width;
  out.values.assign(results, results + int64_t(rows) * width);
  return out;
}

sie_cuda::Pooling pooling_of(const std::string& name) {
  if (name == "mean") return sie_cuda::Pooling::Mean;
  if (name == "cls") return sie_cuda::Pooling::Cls;
  if (name == "last") return sie_cuda::Pooling::LastToken;
  throw EngineError(ErrorCode::BadConfig, "pooling must be 'mean', 'cls' or 'last', got '" + name + "'");
}

int label_count(const HeadOptions& o) {
  if (o.output_size < 1 || o.output_size > 65536)
    throw EngineError(ErrorCode::BadConfig, "head '" + o.kind + "' needs an output size between 1 and 65536");
  return o.output_size;
}

class PooledHead : public CudaHead {
 public:
  PooledHead(DType dtype, int hidden, sie_cuda::Pooling pooling, bool normalize)
      : dtype_(dtype), hidden_(hidden), pooling_(pooling), normalize_(normalize) {}
  size_t result_bytes(int, int sequences) const override { return size_t(sequences) * hidden_ * 4; }
  size_t workspace_bytes(int tokens, int sequences) const override { return result_bytes(tokens, sequences); }
  void enqueue(const void* hidden, const DeviceBatch& b, char* ws, cudaStream_t stream) const override {
    check_cuda(sie_cuda::pool_sequences(dtype_, hidden, b.offsets, b.sequences, hidden_, pooling_, normalize_,
                                        reinterpret_cast<float*>(ws), stream),
               "pooling");
  }
  ModelOutput collect(const float* results, const TokenBatch& b) const override {
    return dense_rows(results, b.num_sequences, hidden_);
  }
  size_t weight_bytes() const override { return 0; }

 private:
  DType dtype_;
  int hidden_;
  sie_cuda::Pooling pooling_;
  bool normalize_;
};

// ColBERT: every token through the projection, L2-normalised.
class TokenProjectionHead : public CudaHead {
 public:
  TokenProjectionHead(DType dtype, const HeadOptions& o, int hidden) : dtype_(dtype) {
    const std::unique_ptr<WeightStore> file = open_weights(o.projection_path);
    projection_ = read_device_linear(*file, "linear", label_count(o), hidden, dtype);
  }
  size_t result_bytes(int tokens, int) const override { return size_t(tokens) * projection_.out_features * 4; }
  size_t workspace_bytes(int tokens, int sequences) const override {
    return aligned(result_bytes(tokens, sequences)) + size_t(tokens) * projection_.out_features * dtype_size(dtype_);
  }
  void enqueue(const void* hidden, const DeviceBatch& b, char* ws, cudaStream_t stream) const override {
    void* projected = ws + aligned(result_bytes(b.tokens, b.sequences));
    run_linear(dtype_, projection_, hidden, b.tokens, projected, sie_cuda::Activation::None, stream);
    check_cuda(sie_cuda::rows_to_float(dtype_, projected, b.tokens, projection_.out_features, true,
                                       reinterpret_cast<float*>(ws), stream),
               "token normalisation");
  }
  ModelOutput collect(const float* results, const TokenBatch& b) const override {
    return dense_rows(results, b.num_tokens, projection_.out_features);
  }
  size_t weight_bytes() const override { return projection_.bytes(); }

 private:
  DType dtype_;
  DeviceLinear projection_;
};

// SPLADE: transform (dense, GELU, LayerNorm), then the vocabulary projection with the
// per-sequence max of relu(logits) folded into the GEMM epilogue; log1p on the host.
class SpladeHead : public CudaHead {
 public:
  SpladeHead(DType dtype, const WeightStore& file, const EncoderConfig& c)
      : dtype_(dtype), hidden_(c.hidden_size), vocab_(c.vocab_size), eps_(c.layer_norm_eps) {
    const int h = hidden_;
    transform_ = read_device_linear(file, "cls.predictions.transform.dense", h, h, dtype);
    gamma_ = upload_f32(read_tensor(file, "cls.predictions.transform.LayerNorm.weight", {h}));
    beta_ = upload_f32(read_tensor(file, "cls.predictions.transform.LayerNorm.bias", {h}));
    const std::string tied = bert_prefix(file) + "embeddings.word_embeddings.weight";
    const std::string decoder = file.has("cls.predictions.decoder.weight") ? "cls.predictions.decoder.weight" : tied;
    decoder_.weight = upload_as(dtype, read_tensor(file, decoder, {vocab_, h}));
    const char* bias = file.has("cls.predictions.bias") ? "cls.predictions.bias" : "cls.predictions.decoder.bias";
    decoder_.bias = upload_f32(read_tensor(file, bias, {vocab_}));
    decoder_.out_features = vocab_;
    decoder_.in_features = h;
  }
  size_t result_bytes(int, int sequences) const override { return size_t(sequences) * vocab_ * 4; }
  size_t workspace_bytes(int tokens, int sequences) const override {
    return aligned(result_bytes(tokens, sequences)) + size_t(tokens) * hidden_ * dtype_size(dtype_);
  }
  void enqueue(const void* hidden, const DeviceBatch& b, char* ws, cudaStream_t stream) const override {
    float* maxima = reinterpret_cast<float*>(ws);
    void* transformed = ws + aligned(result_bytes(b.tokens, b.sequences));
    run_linear(dtype_, transform_, hidden, b.tokens, transformed, sie_cuda::Activation::GeluErf, stream);
    check_cuda(sie_cuda::add_layer_norm(dtype_, transformed, nullptr, static_cast<const float*>(gamma_.data()),
                                        static_cast<const float*>(beta_.data()), eps_, transformed, b.tokens, hidden_, stream),
               "SPLADE LayerNorm");
    check_cuda(cudaMemsetAsync(maxima, 0, result_bytes(b.tokens, b.sequences), stream), "SPLADE reset");
    sie_cuda::GemmArgs g;
    g.x = transformed, g.ldx = hidden_, g.w = decoder_.weight.data(), g.ldw = hidden_;
    g.bias = static_cast<const float*>(decoder_.bias.data());
    g.m = b.tokens, g.n = vocab_, g.k = hidden_;
    g.row_sequence = b.row_sequence, g.sequence_max = maxima;
    GemmSelector::instance().run(dtype_, g, stream);
  }
  ModelOutput collect(const float* results, const TokenBatch& b) const override {
    ModelOutput out;
    out.width = vocab_;
    out.sparse_entries = true;
    out.row_offsets.push_back(0);
    for (int s = 0; s < b.num_sequences; ++s) {
      const float* row = results + int64_t(s) * vocab_;
      for (int j = 0; j < vocab_; ++j)
        if (row[j] > 0.0f) {
          out.indices.push_back(j);
          out.values.push_back(std::log1p(row[j]));
        }
      out.row_offsets.push_back(int32_t(out.indices.size()));
    }
    return out;
  }
  size_t weight_bytes() const override { return transform_.bytes() + gamma_.bytes() + beta_.bytes() + decoder_.bytes(); }

 private:
  DType dtype_;
  int hidden_, vocab_;
  float eps_;
  DeviceLinear transform_, decoder_;
  DeviceBuffer gamma_, beta_;
};

// BertForSequenceClassification (pooler dense + tanh on [CLS], classifier) and the RoBERTa
// layout (classifier.dense + tanh, classifier.out_proj).
class SequenceClassifierHead : public CudaHead {
 public:
  SequenceClassifierHead(DType dtype, const WeightStore& file, const HeadOptions& o, int hidden) : dtype_(dtype), hidden_(hidden) {
    const bool roberta = file.has("classifier.out_proj.weight");
    pooler_ = read_device_linear(file, roberta ? "classifier.dense" : bert_prefix(file) + "pooler.dense", hidden, hidden, dtype);
    classifier_ = read_device_linear(file, roberta ? "classifier.out_proj" : "classifier", label_count(o), hidden, dtype);
  }
  size_t result_bytes(int, int sequences) const override { return size_t(sequences) * classifier_.out_features * 4; }
  size_t workspace_bytes(int tokens, int sequences) const override {
    const size_t e = dtype_size(dtype_);
    return aligned(result_bytes(tokens, sequences)) + 2 * aligned(size_t(sequences) * hidden_ * e) +
           size_t(sequences) * classifier_.out_features * e;
  }
  void enqueue(const void* hidden, const DeviceBatch& b, char* ws, cudaStream_t stream) const override {
    const size_t e = dtype_size(dtype_);
    char* cls = ws + aligned(result_bytes(b.tokens, b.sequences));
    char* pooled = cls + aligned(size_t(b.sequences) * hidden_ * e);
    char* logits = pooled + aligned(size_t(b.sequences) * hidden_ * e);
    check_cuda(sie_cuda::gather_rows(dtype_, hidden, b.first_rows, b.sequences, hidden_, cls, stream), "CLS gather");
    run_linear(dtype_, pooler_, cls, b.sequences, pooled, sie_cuda::Activation::Tanh, stream);
    run_linear(dtype_, classifier_, pooled, b.sequences, logits, sie_cuda::Activation::None, stream);
    check_cuda(sie_cuda::rows_to_float(dtype_, logits, b.sequences, classifier_.out_features, false,
                                       reinterpret_cast<float*>(ws), stream),
               "classifier logits");
  }
  ModelOutput collect(const float* results, const TokenBatch& b) const override {
    return dense_rows(results, b.num_sequences, classifier_.out_features);
  }
  size_t weight_bytes() const override { return pooler_.bytes() + classifier_.bytes(); }

 private:
  DType dtype_;
  int hidden_;
  DeviceLinear pooler_, classifier_;
};

class TokenClassifierHead : public CudaHead {
 public:
  TokenClassifierHead(DType dtype, const WeightStore& file, const HeadOptions& o, int hidden) : dtype_(dtype) {
    classifier_ = read_device_linear(file, "classifier", label_count(o), hidden, dtype);
  }
  size_t result_bytes(int tokens, int) const override { return size_t(tokens) * classifier_.out_features * 4; }
  size_t workspace_bytes(int tokens, int sequences) const override {
    return aligned(result_bytes(tokens, sequences)) + size_t(tokens) * classifier_.out_features * dtype_size(dtype_);
  }
  void enqueue(const void* hidden, const DeviceBatch& b, char* ws, cudaStream_t stream) const override {
    void* logits = ws + aligned(result_bytes(b.tokens, b.sequences));
    run_linear(dtype_, classifier_, hidden, b.tokens, logits, sie_cuda::Activation::None, stream);
    check_cuda(sie_cuda::rows_to_float(dtype_, logits, b.tokens, classifier_.out_features, false,
                                       reinterpret_cast<float*>(ws), stream),
               "token logits");
  }
  ModelOutput collect(const float* results, const TokenBatch& b) const override {
    return dense_rows(results, b.num_tokens, classifier_.out_features);
  }
  size_t weight_bytes() const override { return classifier_.bytes(); }

 private:
  DType dtype_;
  DeviceLinear classifier_;
};

// Any other head: the hidden states come back as fp32 and the CPU head runs on them.
class HostHead : public CudaHead {
 public:
  HostHead(DType dtype, const ModelDescription& d, const WeightStore& file, std::shared_ptr<ThreadPool> pool)
      : dtype_(dtype), hidden_(d.encoder.hidden_size), pool_(std::move(pool)) {
    head_ = make_head(d.head, d.encoder, file, WeightFormat::Fp32);
  }
  size_t result_bytes(int tokens, int) const override { return size_t(tokens) * hidden_ * 4; }
  size_t workspace_bytes(int tokens, int sequences) const override { return result_bytes(tokens, sequences); }
  void enqueue(const void* hidden, const DeviceBatch& b, char* ws, cudaStream_t stream) const override {
    check_cuda(sie_cuda::rows_to_float(dtype_, hidden, b.tokens, hidden_, false, reinterpret_cast<float*>(ws), stream),
               "hidden states to fp32");
  }
  ModelOutput collect(const float* results, const TokenBatch& b) const override {
    auto lock = pool_->acquire();
    return head_->run(results, b, *pool_);
  }
  size_t weight_bytes() const override { return 0; }

 private:
  DType dtype_;
  int hidden_;
  std::shared_ptr<ThreadPool> pool_;
  std::unique_ptr<ModelHead> head_;
};

}  // namespace

std::unique_ptr<CudaHead> make_cuda_head(const ModelDescription& d, const WeightStore& file, sie_cuda::DType dtype,
                                         std::shared_ptr<ThreadPool> cpu_pool) {
  const HeadOptions& o = d.head;
  const int h = d.encoder.hidden_size;
  if (o.kind == "pooled") return std::make_unique<PooledHead>(dtype, h, pooling_of(o.pooling), o.normalize);
  if (o.kind == "token-projection") return std::make_unique<TokenProjectionHead>(dtype, o, h);
  if (o.kind == "splade") return std::make_unique<SpladeHead>(dtype, file, d.encoder);
  if (o.kind == "sequence-classifier") return std::make_unique<SequenceClassifierHead>(dtype, file, o, h);
  if (o.kind == "token-classifier") return std::make_unique<TokenClassifierHead>(dtype, file, o, h);
  return std::make_unique<HostHead>(dtype, d, file, std::move(cpu_pool));
}

}  // namespace sie
