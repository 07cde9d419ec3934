// GEMM throughput on MiniLM's shapes (tokens x 384 x 384, x 1536 x 384, x 384 x 1536): our
// packed AVX-512 kernel next to OpenBLAS, oneDNN and Eigen, each on the same threads.
// Built and run by bench/gemm-libraries.sh (needs libopenblas-dev, libdnnl-dev, libeigen3-dev).
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>

#include <immintrin.h>

#include <Eigen/Dense>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "gemm/packed_gemm.h"

namespace {

template <class F>
double best_seconds(F run) {
  run();
  double best = 1e30;
  for (int r = 0; r < 7; ++r) {
    const auto start = std::chrono::steady_clock::now();
    run();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The machine's real fp32 FMA peak: 16 independent AVX-512 FMA chains per thread, registers only.
double fma_peak_gflops(int threads) {
  const long iterations = 50000000;
  auto run = [&] {
    __m512 acc[16];
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(1.0f + i * 1e-7f);
    const __m512 b = _mm512_set1_ps(0.9999999f), c = _mm512_set1_ps(1e-7f);
    for (long it = 0; it < iterations; ++it)
      for (int j = 0; j < 16; ++j) acc[j] = _mm512_fmadd_ps(acc[j], b, c);
    float sum = 0;
    for (int j = 0; j < 16; ++j) sum += _mm512_reduce_add_ps(acc[j]);
    return sum;
  };
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) workers.emplace_back([&] { volatile float keep = run(); (void)keep; });
  for (auto& w : workers) w.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return threads * iterations * 16.0 * 32.0 / seconds / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  sie::ThreadPool pool(threads);
  // MiniLM (384 / 1536), then bge-m3 / XLM-R large (1024 / 3072 fused QKV / 4096) at a short uniform batch.
  const int shapes[][3] = {{256, 384, 384}, {2048, 384, 384}, {2048, 1536, 384}, {2048, 384, 1536}, {128, 1536, 384}, {32, 384, 384},
                           {512, 3072, 1024}, {512, 1024, 1024}, {512, 4096, 1024}, {512, 1024, 4096}};
  const double peak = fma_peak_gflops(threads);
  std::printf("measured fp32 FMA peak: %.0f GFLOP/s on %d threads\n", peak, threads);
  std::printf("| M x N x K | sie packed (%s) | OpenBLAS | oneDNN | Eigen | sie %% of peak |\n|---|---|---|---|---|---|\n", sie::gemm_kernel_name());
  for (const auto& s : shapes) {
    const int m = s[0], n = s[1], k = s[2];
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-1, 1);
    std::vector<float> x(size_t(m) * k), w(size_t(n) * k), y(size_t(m) * n);
    for (float& v : x) v = u(rng);
    for (float& v : w) v = u(rng);
    const double flops = 2.0 * m * n * k;
    sie::PackedMatrix packed = sie::pack_linear_weights(w.data(), n, k);
    const double ours = best_seconds([&] { sie::gemm_packed(m, n, k, x.data(), k, packed.panels.data(), nullptr, y.data(), n, &pool); });
    const double openblas = best_seconds([&] { cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, x.data(), k, w.data(), k, 0, y.data(), n); });
    const double onednn = best_seconds([&] { dnnl_sgemm('N', 'T', m, n, k, 1, x.data(), k, w.data(), k, 0, y.data(), n); });
    Eigen::Map<RowMajor> ex(x.data(), m, k), ew(w.data(), n, k), ey(y.data(), m, n);
    const double eigen = best_seconds([&] { ey.noalias() = ex * ew.transpose(); });
    std::printf("| %d x %d x %d | %.0f | %.0f | %.0f | %.0f | %.0f%% |\n", m, n, k, flops / ours / 1e9, flops / openblas / 1e9,
                flops / onednn / 1e9, flops / eigen / 1e9, 100.0 * flops / ours / 1e9 / peak);
  }
  std::printf("GFLOP/s, best of 7, %d threads\n", threads);
}
