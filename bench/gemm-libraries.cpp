// GEMM throughput on MiniLM's shapes (tokens x 384 x 384, x 1536 x 384, x 384 x 1536): our
// packed AVX-512 kernel next to OpenBLAS, oneDNN and Eigen, each on the same threads.
// Built and run by bench/gemm-libraries.sh (needs libopenblas-dev, libdnnl-dev, libeigen3-dev).
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>

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

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  sie::ThreadPool pool(threads);
  const int shapes[][3] = {{256, 384, 384}, {2048, 384, 384}, {2048, 1536, 384}, {2048, 384, 1536}, {128, 1536, 384}, {32, 384, 384}};
  std::printf("| M x N x K | sie packed (%s) | OpenBLAS | oneDNN | Eigen |\n|---|---|---|---|---|\n", sie::gemm_kernel_name());
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
    std::printf("| %d x %d x %d | %.0f | %.0f | %.0f | %.0f |\n", m, n, k, flops / ours / 1e9, flops / openblas / 1e9, flops / onednn / 1e9, flops / eigen / 1e9);
  }
  std::printf("GFLOP/s, best of 7, %d threads\n", threads);
}
