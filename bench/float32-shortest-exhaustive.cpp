// Every finite float32 through write_float32_shortest and std::to_chars (its reference twin),
// byte for byte, plus the speed of both on embedding-like values. About two minutes on 2 cores:
//   g++ -O2 -std=c++17 -pthread bench/float32-shortest-exhaustive.cpp native/wire/float32_shortest.cpp -o /tmp/f32x && /tmp/f32x
// (`/tmp/f32x --speed-only` skips the comparison).
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../native/wire/float32_shortest.h"

int main(int argc, char** argv) {
  const bool exhaustive = !(argc > 1 && std::strcmp(argv[1], "--speed-only") == 0);
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<uint64_t> checked{0}, mismatched{0};
  std::vector<std::thread> workers;
  for (unsigned w = 0; exhaustive && w < threads; ++w)
    workers.emplace_back([&, w] {
      char ours[32], theirs[32];
      uint64_t local = 0, bad = 0;
      for (uint64_t bits = w; bits < (uint64_t(1) << 32); bits += threads) {
        const uint32_t b = uint32_t(bits);
        if (((b >> 23) & 0xFF) == 0xFF) continue;  // NaN and infinities are the caller's
        float v;
        std::memcpy(&v, &b, 4);
        const char* end = sie::write_float32_shortest(ours, v);
        const char* ref = std::to_chars(theirs, theirs + sizeof theirs, v).ptr;
        ++local;
        if (size_t(end - ours) != size_t(ref - theirs) || std::memcmp(ours, theirs, size_t(ref - theirs)) != 0) {
          if (bad++ < 5) std::printf("mismatch %08x: ours %.*s, to_chars %.*s\n", b, int(end - ours), ours, int(ref - theirs), theirs);
        }
      }
      checked += local;
      mismatched += bad;
    });
  for (auto& t : workers) t.join();
  if (exhaustive) std::printf("%llu finite float32 values, %llu differ from std::to_chars\n", (unsigned long long)checked.load(), (unsigned long long)mismatched.load());

  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0, 0.05f);
  std::vector<float> values(12288);
  for (float& v : values) v = normal(rng);
  std::string out(values.size() * 16, ' ');
  for (int round = 0; round < 3; ++round) {
    for (int which = 0; which < 2; ++which) {
      const auto start = std::chrono::steady_clock::now();
      for (int r = 0; r < 200; ++r) {
        char* at = out.data();
        for (float v : values) at = which ? std::to_chars(at, out.data() + out.size(), v).ptr : sie::write_float32_shortest(at, v);
      }
      const double ns = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() * 1e9 / (200.0 * values.size());
      std::printf("%s: %.1f ns a value\n", which ? "std::to_chars        " : "write_float32_shortest", ns);
    }
  }
  return mismatched.load() == 0 ? 0 : 1;
}
