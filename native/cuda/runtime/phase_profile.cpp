#include "phase_profile.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>

namespace sie {
namespace {

struct Totals {
  std::mutex mutex;
  std::map<std::string, std::pair<double, long>> ms;  // name -> (milliseconds, steps)
  ~Totals() {
    double all = 0;
    for (const auto& entry : ms) all += entry.second.first;
    for (const auto& entry : ms)
      std::fprintf(stderr, "sie phase %-40s %10.3f ms %6.1f %% (%ld steps)\n", entry.first.c_str(), entry.second.first,
                   all > 0 ? 100.0 * entry.second.first / all : 0.0, entry.second.second);
  }
};
Totals& totals() {
  static Totals t;
  return t;
}

}  // namespace

bool PhaseRecorder::enabled() {
  static const bool on = [] {
    const char* v = std::getenv("SIE_CUDA_PHASES");
    return v && *v && std::string(v) != "0";
  }();
  return on;
}

static std::mutex& pass_lock() {
  static std::mutex lock;
  return lock;
}

PhaseRecorder::PhaseRecorder(cudaStream_t stream) : stream_(stream) {
  if (!enabled()) return;
  one_at_a_time_ = std::unique_lock<std::mutex>(pass_lock());
  // Work already queued on this stream (the input copy) is not part of the first step.
  cudaStreamSynchronize(stream_);
  mark("");
}

void PhaseRecorder::mark(const char* name) {
  if (!enabled()) return;
  cudaEvent_t event;
  if (cudaEventCreate(&event) != cudaSuccess) return;
  cudaEventRecord(event, stream_);
  marks_.emplace_back(name, event);
}

PhaseRecorder::~PhaseRecorder() {
  if (marks_.empty()) return;
  cudaEventSynchronize(marks_.back().second);
  {
    std::lock_guard<std::mutex> lock(totals().mutex);
    for (size_t i = 1; i < marks_.size(); ++i) {
      float ms = 0;
      cudaEventElapsedTime(&ms, marks_[i - 1].second, marks_[i].second);
      auto& total = totals().ms[marks_[i].first];
      total.first += ms;
      total.second += 1;
    }
  }
  for (auto& entry : marks_) cudaEventDestroy(entry.second);
}

}  // namespace sie
