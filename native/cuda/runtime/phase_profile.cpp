#include "phase_profile.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>

namespace sie {
namespace {

struct Step {
  double gpu_ms = 0, host_ms = 0;
  long count = 0;
};

struct Totals {
  std::mutex mutex;
  std::map<std::string, Step> steps;
  ~Totals() {
    double all = 0;
    for (const auto& entry : steps) all += entry.second.gpu_ms;
    // host ms: the time the host took to enqueue the step. Where it reaches the GPU time, the
    // GPU was waiting for the host, not the other way round.
    for (const auto& entry : steps)
      std::fprintf(stderr, "sie phase %-28s gpu %10.3f ms %5.1f %%  host %9.3f ms  (%ld steps)\n", entry.first.c_str(),
                   entry.second.gpu_ms, all > 0 ? 100.0 * entry.second.gpu_ms / all : 0.0, entry.second.host_ms,
                   entry.second.count);
  }
};
Totals& totals() {
  static Totals t;
  return t;
}

std::mutex& pass_lock() {
  static std::mutex lock;
  return lock;
}

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

bool PhaseRecorder::enabled() {
  static const bool on = [] {
    const char* v = std::getenv("SIE_CUDA_PHASES");
    return v && *v && std::string(v) != "0";
  }();
  return on;
}

void PhaseRecorder::reset() {
  std::lock_guard<std::mutex> lock(totals().mutex);
  totals().steps.clear();
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
  marks_.push_back({name, event, now_ms()});
}

PhaseRecorder::~PhaseRecorder() {
  if (marks_.empty()) return;
  cudaEventSynchronize(marks_.back().event);
  {
    std::lock_guard<std::mutex> lock(totals().mutex);
    for (size_t i = 1; i < marks_.size(); ++i) {
      float ms = 0;
      cudaEventElapsedTime(&ms, marks_[i - 1].event, marks_[i].event);
      Step& step = totals().steps[marks_[i].name];
      step.gpu_ms += ms;
      step.host_ms += marks_[i].host_ms - marks_[i - 1].host_ms;
      step.count += 1;
    }
  }
  for (auto& m : marks_) cudaEventDestroy(m.event);
}

}  // namespace sie
