// Every finite float32 through the JSON value printers, eight-at-a-time (AVX-512) and scalar,
// against std::to_chars (their reference twin), byte for byte; then the speed of each on
// embedding-like values. About three minutes on 2 cores:
//   g++ -O2 -std=c++17 -pthread bench/float32-shortest-exhaustive.cpp native/wire/float32_json.cpp
//     native/wire/float32_shortest.cpp native/wire/float32_shortest_avx512.cpp native/core/cpu_features.cpp -o /tmp/f32x
//   /tmp/f32x
// (`/tmp/f32x --speed-only` skips the comparison).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../native/core/cpu_features.h"
#include "../native/wire/float32_json.h"

using sie::Float32Printer;

int main(int argc, char** argv) {
  const bool exhaustive = !(argc > 1 && std::strcmp(argv[1], "--speed-only") == 0);
  std::printf("CPU ISA: %s\n", sie::cpu_isa_name(sie::cpu_isa()));
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<uint64_t> checked{0}, mismatched{0};
  std::vector<std::thread> workers;
  constexpr uint32_t kChunk = 4096;  // values per JSON array compared
  for (unsigned w = 0; exhaustive && w < threads; ++w)
    workers.emplace_back([&, w] {
      std::vector<float> values(kChunk);
      std::string fastest, scalar, reference;
      uint64_t local = 0, bad = 0;
      for (uint64_t first = uint64_t(w) * kChunk; first < (uint64_t(1) << 32); first += uint64_t(threads) * kChunk) {
        for (uint32_t i = 0; i < kChunk; ++i) {
          const uint32_t b = uint32_t(first + i);
          std::memcpy(&values[i], &b, 4);  // NaN and infinities included: they print as null
        }
        fastest.clear(), scalar.clear(), reference.clear();
        sie::append_float32_json_array(values.data(), kChunk, fastest, Float32Printer::Fastest);
        sie::append_float32_json_array(values.data(), kChunk, scalar, Float32Printer::Scalar);
        sie::append_float32_json_array(values.data(), kChunk, reference, Float32Printer::Reference);
        local += kChunk;
        if (fastest != reference || scalar != reference) {
          if (bad++ < 5) {
            const std::string& wrong = fastest != reference ? fastest : scalar;
            const size_t at = size_t(std::mismatch(wrong.begin(), wrong.end(), reference.begin()).first - wrong.begin());
            std::printf("chunk at %08llx (%s printer): ...%s... vs to_chars ...%s...\n", (unsigned long long)first, fastest != reference ? "fastest" : "scalar",
                        wrong.substr(at > 20 ? at - 20 : 0, 40).c_str(), reference.substr(at > 20 ? at - 20 : 0, 40).c_str());
          }
        }
      }
      checked += local;
      mismatched += bad;
    });
  for (auto& t : workers) t.join();
  if (exhaustive) std::printf("%llu float32 bit patterns in %u-value arrays: %llu arrays differ from std::to_chars\n", (unsigned long long)checked.load(), kChunk, (unsigned long long)mismatched.load());

  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0, 0.05f);
  std::vector<float> values(12288);
  for (float& v : values) v = normal(rng);
  std::string out(values.size() * 16 + 64, ' ');
  const char* names[] = {"fastest", "scalar", "std::to_chars"};
  for (int round = 0; round < 3; ++round) {
    for (int which = 0; which < 3; ++which) {
      const auto start = std::chrono::steady_clock::now();
      for (int r = 0; r < 200; ++r) sie::write_float32_json_array(values.data(), values.size(), out.data(), Float32Printer(which));
      const double ns = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() * 1e9 / (200.0 * values.size());
      std::printf("%-14s %.1f ns a value\n", names[which], ns);
    }
  }
  return mismatched.load() == 0 ? 0 : 1;
}
