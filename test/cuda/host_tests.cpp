// The host side of the CUDA backend, on any machine (no GPU needed): the kernels' C++ twins
// against hand-computed cases and the CPU engine's kernels, the workspace plan, batch splitting
// and joining on out-of-memory, device-name parsing, the attention work list, what opening a
// CUDA backend does on this machine (DEVICE_UNAVAILABLE without a GPU, cuda:0 with one), and the
// persistent wgmma GEMMs' schedule on a simulated block (wgmma_schedule_simulation.cpp).
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "../../native/backend/backend.h"
#include "../../native/core/engine_error.h"
#include "../../native/cpu/kernels/elementwise.h"
#include "../../native/cpu/kernels/pooling.h"
#include "../../native/cuda/kernels/kernels.h"
#include "../../native/cuda/reference/cpu_twins.h"
#include "../../native/cuda/runtime/batch_split.h"
#include "../../native/cuda/runtime/device_selection.h"
#include "../../native/cuda/runtime/workspace_plan.h"
#include "wgmma_schedule_simulation.h"

namespace twin = sie_cuda_twin;

namespace {

int g_passed = 0, g_failed = 0;

void check(bool ok, const std::string& what) {
  (ok ? g_passed : g_failed)++;
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
}

bool near(const std::vector<float>& got, const std::vector<double>& want, double tol) {
  if (got.size() != want.size()) return false;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - want[i]) <= tol)) return false;
  return true;
}

void twins_by_hand() {
  // x = [[1, 2]], w = [[1, 0], [1, 1], [0, -1]], bias [0.5, 0, 1]: x.w^T + b = [1.5, 3, -1].
  const std::vector<float> x{1, 2}, w{1, 0, 1, 1, 0, -1}, bias{0.5f, 0, 1};
  std::vector<float> y(3);
  twin::gemm(x.data(), w.data(), bias.data(), twin::Activation::None, nullptr, y.data(), 1, 3, 2);
  check(near(y, {1.5, 3, -1}, 1e-6), "twin gemm + bias by hand");
  twin::gemm(x.data(), w.data(), bias.data(), twin::Activation::GeluErf, nullptr, y.data(), 1, 3, 2);
  // GELU(x) = x * Phi(x): Phi(1.5) = 0.9331928, Phi(3) = 0.9986501, Phi(-1) = 0.1586553.
  check(near(y, {1.5 * 0.9331928, 3 * 0.9986501, -1 * 0.1586553}, 1e-6), "twin gemm + GELU (erf) by hand");
  twin::gemm(x.data(), w.data(), bias.data(), twin::Activation::Tanh, nullptr, y.data(), 1, 3, 2);
  check(near(y, {std::tanh(1.5), std::tanh(3.0), std::tanh(-1.0)}, 1e-6), "twin gemm + tanh by hand");
  const std::vector<float> residual{1, 1, 1};
  twin::gemm(x.data(), w.data(), nullptr, twin::Activation::None, residual.data(), y.data(), 1, 3, 2);
  check(near(y, {2, 4, -1}, 1e-6), "twin gemm + residual by hand");

  // LayerNorm of [1, 2, 3]: mean 2, variance 2/3.
  const std::vector<float> row{1, 2, 3}, gamma{1, 1, 2}, beta{0, 1, 0};
  std::vector<float> out(3);
  twin::add_layer_norm(row.data(), nullptr, gamma.data(), beta.data(), 0.0f, out.data(), 1, 3);
  const double s = std::sqrt(1.5);
  check(near(out, {-s, 1, 2 * s}, 1e-6), "twin LayerNorm by hand");
  // RMSNorm of [3, 4]: rms = sqrt(12.5).
  const std::vector<float> r{3, 4}, ones{1, 1};
  std::vector<float> rms(2);
  twin::rms_norm(r.data(), ones.data(), 0.0f, rms.data(), 1, 2);
  check(near(rms, {3 / std::sqrt(12.5), 4 / std::sqrt(12.5)}, 1e-6), "twin RMSNorm by hand");

  // Attention, one head of dim 1, two tokens: q0 = 1, k = [1, 2], v = [10, 20]:
  // token 0 sees softmax([1, 2]) = [0.2689414, 0.7310586] -> 17.310586; causal: only itself -> 10.
  const std::vector<float> qkv{1, 1, 10, /*token 1*/ 0, 2, 20};
  const std::vector<int32_t> offsets{0, 2};
  std::vector<float> context(2);
  twin::attention(qkv.data(), 3, 0, 1, 2, context.data(), 1, offsets.data(), 1, 1, 1, 1, false);
  check(near(context, {17.310586, 15}, 1e-5), "twin attention by hand (token 1 has q = 0: the plain mean)");
  twin::attention(qkv.data(), 3, 0, 1, 2, context.data(), 1, offsets.data(), 1, 1, 1, 1, true);
  check(near(context, {10, 15}, 1e-5), "twin causal attention by hand");

  // Mean pooling of [[1, 2], [3, 4]] = [2, 3], normalised by sqrt(13).
  const std::vector<float> hidden{1, 2, 3, 4};
  std::vector<float> pooled(2);
  twin::pool_sequences(hidden.data(), offsets.data(), 1, 2, twin::Pooling::Mean, true, pooled.data());
  check(near(pooled, {2 / std::sqrt(13.0), 3 / std::sqrt(13.0)}, 1e-6), "twin mean pooling + L2 by hand");
  twin::pool_sequences(hidden.data(), offsets.data(), 1, 2, twin::Pooling::LastToken, false, pooled.data());
  check(near(pooled, {3, 4}, 0), "twin last-token pooling by hand");

  // SPLADE fold: rows 0, 1 in sequence 0 and row 2 in sequence 1; w = identity on 2 dims.
  const std::vector<float> rows{1, -2, 3, -1, -5, -6}, eye{1, 0, 0, 1};
  const std::vector<int32_t> row_sequence{0, 0, 1};
  std::vector<float> maxima(4);
  twin::gemm_sequence_max(rows.data(), eye.data(), nullptr, row_sequence.data(), 2, maxima.data(), 3, 2, 2);
  check(near(maxima, {3, 0, 0, 0}, 0), "twin SPLADE fold by hand (negatives fold to 0)");
}

void twins_against_cpu_engine() {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  const int rows = 7, cols = 384;
  std::vector<float> x(rows * cols), residual(rows * cols), gamma(cols), beta(cols);
  for (auto* v : {&x, &residual, &gamma, &beta})
    for (float& e : *v) e = normal(rng);
  std::vector<float> engine = x, twin_out(x.size());
  sie::add_layer_norm(engine.data(), residual.data(), rows, cols, cols, gamma.data(), beta.data(), 1e-12f);
  twin::add_layer_norm(x.data(), residual.data(), gamma.data(), beta.data(), 1e-12f, twin_out.data(), rows, cols);
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, double(std::fabs(engine[i] - twin_out[i])));
  check(worst < 1e-4, "twin residual LayerNorm matches the CPU engine's (max |diff| " + std::to_string(worst) + ")");

  std::vector<float> normalized = x;
  sie::l2_normalize_rows(normalized.data(), rows, cols);
  std::vector<int32_t> offsets;
  for (int r = 0; r <= rows; ++r) offsets.push_back(r);
  std::vector<float> pooled(x.size());
  twin::pool_sequences(x.data(), offsets.data(), rows, cols, twin::Pooling::Cls, true, pooled.data());
  worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, double(std::fabs(normalized[i] - pooled[i])));
  check(worst < 1e-6, "twin L2 normalisation matches the CPU engine's");
}

void workspace_plan() {
  sie::EncoderConfig c;
  c.hidden_size = 4;
  c.intermediate_size = 8;
  const sie::WorkspacePlan plan = sie::plan_workspace(c, 2, 3, 2, 100);
  // ints: 4*3 + 3 + 2*(3/64 + 2) + 2 = 21 -> 84 bytes -> one 256-byte slot; every fp16 region of
  // 3 tokens (24, 24, 72, 24, 48 bytes) and the head's 100 bytes take one 256-byte slot each.
  check(plan.input_capacity == 21, "workspace plan: 21 int32 inputs for 3 tokens in 2 sequences");
  check(plan.inputs == 0 && plan.hidden == 256 && plan.scratch == 512 && plan.qkv == 768 && plan.context == 1024 &&
            plan.intermediate == 1280 && plan.head == 1536 && plan.total == 1792,
        "workspace plan: regions at 256-byte boundaries, 1792 bytes in all");
  const sie::WorkspacePlan big = sie::plan_workspace(c, 2, 16384, 256, 0);
  check(big.hidden - big.inputs >= size_t(big.input_capacity) * 4 && big.qkv - big.scratch == size_t(16384) * 4 * 2 &&
            big.total == big.head,
        "workspace plan: 16384 tokens, regions sized by tokens x width x dtype");
}

sie::ModelOutput fake_run(const sie::TokenBatch& b) {
  // One row per sequence: [sum of its ids, its length]; plus a sparse part with one entry per token.
  sie::ModelOutput dense;
  dense.width = 2;
  sie::ModelOutput sparse;
  sparse.sparse_entries = true;
  sparse.row_offsets.push_back(0);
  for (int s = 0; s < b.num_sequences; ++s) {
    float sum = 0;
    for (int t = b.offsets[s]; t < b.offsets[s + 1]; ++t) {
      sum += float(b.input_ids[t]);
      sparse.indices.push_back(b.input_ids[t]);
      sparse.values.push_back(1.0f);
    }
    dense.values.push_back(sum);
    dense.values.push_back(float(b.offsets[s + 1] - b.offsets[s]));
    sparse.row_offsets.push_back(int32_t(sparse.indices.size()));
  }
  sie::ModelOutput out;
  out.parts.push_back({"dense", dense});
  out.parts.push_back({"sparse", sparse});
  return out;
}

void batch_splitting() {
  const std::vector<int32_t> ids{1, 2, 3, 4, 5, 6, 7}, offsets{0, 2, 3, 7};
  sie::TokenBatch b;
  b.input_ids = ids.data();
  b.offsets = offsets.data();
  b.num_tokens = 7;
  b.num_sequences = 3;
  auto halves = sie::split_batch(b);
  check(halves.first.batch.num_sequences == 1 && halves.first.offsets == std::vector<int32_t>({0, 2}) &&
            halves.second.batch.num_sequences == 2 && halves.second.offsets == std::vector<int32_t>({0, 1, 5}) &&
            halves.second.batch.input_ids[0] == 3 && halves.second.batch.num_tokens == 5,
        "split_batch: sequences [0, 1) and [1, 3), offsets rebased");
  int calls = 0;
  const uint64_t splits_before = sie::oom_split_count();
  const sie::ModelOutput joined = sie::run_splitting_on_oom(b, [&](const sie::TokenBatch& part) {
    ++calls;
    if (part.num_sequences > 1) throw sie::EngineError(sie::ErrorCode::OutOfMemory, "CUDA out of memory (test)");
    return fake_run(part);
  });
  const sie::ModelOutput whole = fake_run(b);
  check(calls == 5, "OOM split: 3 sequences -> 1 + 2 -> 1 + 1 + 1 (5 attempts)");
  check(sie::oom_split_count() - splits_before == 2, "OOM split: two splits counted (3 -> 1 + 2, 2 -> 1 + 1)");
  check(joined.parts[0].output.values == whole.parts[0].output.values, "OOM split: dense rows joined in order");
  check(joined.parts[1].output.indices == whole.parts[1].output.indices &&
            joined.parts[1].output.row_offsets == whole.parts[1].output.row_offsets,
        "OOM split: sparse entries and their row offsets joined as one batch's");
  bool rethrown = false;
  try {
    sie::TokenBatch one = b;
    one.num_sequences = 1;
    one.num_tokens = 2;
    sie::run_splitting_on_oom(one, [](const sie::TokenBatch&) -> sie::ModelOutput {
      throw sie::EngineError(sie::ErrorCode::OutOfMemory, "CUDA out of memory (test)");
    });
  } catch (const sie::EngineError& e) {
    rethrown = e.code() == sie::ErrorCode::OutOfMemory;
  }
  check(rethrown, "OOM split: a single sequence that does not fit is OUT_OF_MEMORY");
}

void device_names() {
  check(sie::parse_cuda_device("cuda") == 0 && sie::parse_cuda_device("cuda:3") == 3, "parse 'cuda' and 'cuda:3'");
  for (const char* bad : {"cuda:", "cuda:x", "gpu", "cuda:-1", "cuda:99999"}) {
    bool refused = false;
    try {
      sie::parse_cuda_device(bad);
    } catch (const sie::EngineError& e) {
      refused = e.code() == sie::ErrorCode::InvalidArgument;
    }
    check(refused, std::string("parse refuses '") + bad + "'");
  }
}

void attention_work_list() {
  const std::vector<int32_t> offsets{0, 1, 130, 200};  // lengths 1, 129, 70
  const int blocks = sie_cuda::count_attention_blocks(offsets.data(), 3);
  std::vector<int32_t> sequence(blocks), query(blocks);
  sie_cuda::plan_attention_blocks(offsets.data(), 3, sequence.data(), query.data());
  check(blocks == 6 && sequence == std::vector<int32_t>({1, 1, 1, 2, 2, 0}) &&
            query == std::vector<int32_t>({0, 64, 128, 0, 64, 0}),
        "attention work list: 64-row blocks, longest sequence first");
}

void opening_the_backend() {
  int devices = 0;
  const bool gpu = cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0;
  cudaGetLastError();
  sie::BackendOptions options;
  options.device = "cuda";
  options.threads = 1;
  try {
    const auto backend = sie::open_backend(options);
    check(gpu && backend->device() == "cuda:0", "open_backend('cuda') gives cuda:0 on this machine with a GPU");
  } catch (const sie::EngineError& e) {
    check(!gpu && e.code() == sie::ErrorCode::DeviceUnavailable && std::string(e.what()).find("no usable CUDA device") == 0,
          std::string("open_backend('cuda') without a GPU is DEVICE_UNAVAILABLE: ") + e.what());
  }
  options.device = "cuda:7";
  try {
    sie::open_backend(options);
    check(devices > 7, "open_backend('cuda:7') opens an eighth GPU");
  } catch (const sie::EngineError& e) {
    check(e.code() == sie::ErrorCode::DeviceUnavailable, std::string("open_backend('cuda:7') is DEVICE_UNAVAILABLE: ") + e.what());
  }
}

}  // namespace

int main() {
  twins_by_hand();
  twins_against_cpu_engine();
  workspace_plan();
  batch_splitting();
  device_names();
  attention_work_list();
  opening_the_backend();
  wgmma_schedule_simulation(check);
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed ? 1 : 0;
}
