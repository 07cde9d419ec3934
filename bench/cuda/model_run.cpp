// Runs one checkpoint through a backend (cuda or cpu) outside Node: the GPU check's parity and
// throughput driver (bench/gpu-check.sh), since the GPU machine has no Node.js. It goes
// through the same open_backend() / Model::run() seam as the addon.
//
// usage: sie_cuda_model_run --model DIR --tokens TOKENS.json [--device cuda|cpu] [--dtype fp32|fp16|bf16]
//          [--head pooled|splade|token-projection|sequence-classifier|token-classifier]
//          [--pooling mean|cls] [--labels N] [--projection FILE] [--sparse FILE] [--out OUT.json]
//          [--bench 1,32,256,4096] [--batch-tokens 16384] [--latency] [--leave-free-mb N]
// TOKENS.json: {"sequences": [[ids...], ...], "type_ids": [[...], ...] (optional)}, or the shared
// fixtures' form, [{"ids": [...], "type_ids": [...]}, ...].
// --out writes {"width", "values", "indices", "row_offsets", "parts": {name: ...}} of one run
// over every sequence.
// --leave-free-mb N (cuda) takes all but N MiB of the GPU's free memory after the model loads, so
// that a batch larger than the reserved workspace (--batch-tokens) runs out of memory and the
// backend must split it and retry (the GPU check's OOM step); stderr says how many splits.
// --bench prints tokens/s for the first N sequences of the file, batched by --batch-tokens and
// run by two threads (the model's two stream slots), after one untimed pass; --latency the median
// of one sequence.
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../../native/backend/backend.h"
#include "../../native/core/engine_error.h"
#include "../../native/cuda/runtime/batch_split.h"
#include "../../native/cuda/runtime/phase_profile.h"

using json = nlohmann::json;

namespace {

std::string arg(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return argv[i + 1];
  return fallback;
}
bool flag(int argc, char** argv, const std::string& name) {
  for (int i = 1; i < argc; ++i)
    if (argv[i] == name) return true;
  return false;
}

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  return json::parse(in);
}

json read_tokens(const std::string& path) {
  json tokens = read_json(path);
  if (!tokens.is_array()) return tokens;
  json converted = {{"sequences", json::array()}, {"type_ids", json::array()}};
  for (const json& item : tokens) {
    converted["sequences"].push_back(item.at("ids"));
    converted["type_ids"].push_back(item.contains("type_ids") ? item["type_ids"] : json(std::vector<int>(item["ids"].size(), 0)));
  }
  return converted;
}

json output_json(const sie::ModelOutput& out) {
  json result = {{"width", out.width}, {"values", out.values}, {"indices", out.indices}, {"row_offsets", out.row_offsets},
                 {"parts", json::object()}};
  for (const sie::NamedOutput& part : out.parts) result["parts"][part.name] = output_json(part.output);
  return result;
}

sie::ModelDescription describe(const std::string& dir, int argc, char** argv) {
  const json c = read_json(dir + "/config.json");
  sie::ModelDescription d;
  const std::string type = c.value("model_type", "bert");
  d.architecture = type == "xlm-roberta" || type == "roberta" ? "xlm-roberta" : "bert";
  d.dtype = arg(argc, argv, "--dtype", "fp32");
  d.weights_path = dir + "/model.safetensors";
  auto& e = d.encoder;
  e.hidden_size = c.at("hidden_size");
  e.num_layers = c.at("num_hidden_layers");
  e.num_heads = c.at("num_attention_heads");
  e.intermediate_size = c.at("intermediate_size");
  e.vocab_size = c.at("vocab_size");
  e.max_positions = c.at("max_position_embeddings");
  e.type_vocab_size = c.value("type_vocab_size", 2);
  e.layer_norm_eps = c.value("layer_norm_eps", 1e-12f);
  if (d.architecture == "xlm-roberta") e.position_padding_idx = c.value("pad_token_id", 1);
  d.head.kind = arg(argc, argv, "--head", "pooled");
  d.head.pooling = arg(argc, argv, "--pooling", "mean");
  d.head.normalize = true;
  d.head.output_size = std::stoi(arg(argc, argv, "--labels", "1"));
  d.head.projection_path = arg(argc, argv, "--projection", dir + "/1_Dense/model.safetensors");
  d.head.sparse_path = arg(argc, argv, "--sparse", dir + "/sparse_linear.pt");
  return d;
}

struct Batch {
  std::vector<int32_t> ids, types, offsets{0};
  sie::TokenBatch view() const {
    sie::TokenBatch b;
    b.input_ids = ids.data();
    b.token_type_ids = types.data();
    b.offsets = offsets.data();
    b.num_tokens = int(ids.size());
    b.num_sequences = int(offsets.size()) - 1;
    return b;
  }
};

Batch batch_of(const json& tokens, size_t first, size_t last) {
  Batch b;
  for (size_t s = first; s < last; ++s) {
    const auto& seq = tokens["sequences"][s];
    for (size_t i = 0; i < seq.size(); ++i) {
      b.ids.push_back(seq[i].get<int32_t>());
      b.types.push_back(tokens.contains("type_ids") ? tokens["type_ids"][s][i].get<int32_t>() : 0);
    }
    b.offsets.push_back(int32_t(b.ids.size()));
  }
  return b;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void bench(sie::Model& model, const json& tokens, const std::string& sizes, int batch_tokens) {
  std::stringstream list(sizes);
  std::string item;
  while (std::getline(list, item, ',')) {
    const size_t n = std::min<size_t>(std::stoul(item), tokens["sequences"].size());
    // Token-budget batches, as the scheduler forms them, in file order.
    std::vector<Batch> batches;
    size_t first = 0;
    while (first < n) {
      size_t last = first, budget = 0;
      while (last < n && (last == first || budget + tokens["sequences"][last].size() <= size_t(batch_tokens)))
        budget += tokens["sequences"][last++].size();
      batches.push_back(batch_of(tokens, first, last));
      first = last;
    }
    size_t total_tokens = 0;
    for (const Batch& b : batches) total_tokens += b.ids.size();
    // One untimed pass first: the GEMM chooser times its candidates on the first batch of each
    // shape, and that one-time work stays out of the figures and of the phase profile.
    for (const Batch& b : batches) model.run(b.view());
    sie::PhaseRecorder::reset();
    std::vector<double> runs;
    for (int rep = 0; rep < 5; ++rep) {
      std::atomic<size_t> next{0};
      const auto start = std::chrono::steady_clock::now();
      auto worker = [&] {
        for (size_t i; (i = next.fetch_add(1)) < batches.size();) model.run(batches[i].view());
      };
      std::thread second(worker);
      worker();
      second.join();
      runs.push_back(seconds_since(start));
    }
    std::sort(runs.begin(), runs.end());
    const double median = runs[runs.size() / 2];
    std::printf("{\"bench\": %zu, \"tokens\": %zu, \"batches\": %zu, \"seconds\": %.6f, \"tokens_per_s\": %.1f}\n", n,
                total_tokens, batches.size(), median, double(total_tokens) / median);
  }
}

void latency(sie::Model& model, const json& tokens) {
  const Batch one = batch_of(tokens, 0, 1);
  for (int i = 0; i < 5; ++i) model.run(one.view());
  std::vector<double> runs;
  for (int i = 0; i < 50; ++i) {
    const auto start = std::chrono::steady_clock::now();
    model.run(one.view());
    runs.push_back(seconds_since(start));
  }
  std::sort(runs.begin(), runs.end());
  std::printf("{\"latency_ms\": %.4f, \"tokens\": %zu}\n", runs[runs.size() / 2] * 1e3, one.ids.size());
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string dir = arg(argc, argv, "--model", "");
    const json tokens = read_tokens(arg(argc, argv, "--tokens", ""));
    sie::BackendOptions options;
    options.device = arg(argc, argv, "--device", "cuda");
    const int batch_tokens = std::stoi(arg(argc, argv, "--batch-tokens", "16384"));
    options.workspace_tokens = options.device == "cpu" ? 0 : batch_tokens;
    const auto backend = sie::open_backend(options);
    const auto model = backend->load(describe(dir, argc, argv));
    void* hog = nullptr;
    const int leave_free_mb = std::stoi(arg(argc, argv, "--leave-free-mb", "-1"));
    if (leave_free_mb >= 0 && options.device != "cpu") {
      size_t free_bytes = 0, total_bytes = 0;
      cudaMemGetInfo(&free_bytes, &total_bytes);
      const size_t keep = size_t(leave_free_mb) << 20;
      if (free_bytes > keep && cudaMalloc(&hog, free_bytes - keep) != cudaSuccess) hog = nullptr;
      cudaMemGetInfo(&free_bytes, &total_bytes);
      std::fprintf(stderr, "leave-free: %.1f MiB of device memory left free\n", free_bytes / 1048576.0);
    }
    const std::string out_path = arg(argc, argv, "--out", "");
    if (!out_path.empty()) {
      const Batch all = batch_of(tokens, 0, tokens["sequences"].size());
      const sie::ModelOutput out = model->run(all.view());
      std::ofstream(out_path) << output_json(out).dump();
    }
    const std::string sizes = arg(argc, argv, "--bench", "");
    if (!sizes.empty()) bench(*model, tokens, sizes, batch_tokens);
    if (flag(argc, argv, "--latency")) latency(*model, tokens);
    const sie::DeviceMemory memory = backend->memory();
    std::fprintf(stderr, "%s: weights %.1f MiB, workspace %.1f MiB\n", memory.device.c_str(), model->weight_bytes() / 1048576.0,
                 model->workspace_bytes() / 1048576.0);
    if (hog) {
      cudaFree(hog);
      std::fprintf(stderr, "oom splits: %llu\n", static_cast<unsigned long long>(sie::oom_split_count()));
    }
    return 0;
  } catch (const sie::EngineError& e) {
    std::fprintf(stderr, "%s: %s\n", sie::error_code_name(e.code()), e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
