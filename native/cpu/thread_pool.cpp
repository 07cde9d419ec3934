#include "thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#if defined(__linux__)
#include <pthread.h>
#endif

namespace sie {
namespace {

constexpr int kDefaultSpinUs = 1000;

int spin_from_environment() {
  const char* value = std::getenv("SIE_POOL_SPIN_US");
  if (!value || !*value) return kDefaultSpinUs;
  char* end = nullptr;
  const long us = std::strtol(value, &end, 10);
  if (*end != '\0' || us < 0) return kDefaultSpinUs;
  return us > 100000 ? 100000 : int(us);
}

inline void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

}  // namespace

ThreadPool::ThreadPool(int num_threads, int spin_us)
    : num_threads_(num_threads < 1 ? 1 : num_threads), spin_us_(spin_us < 0 ? spin_from_environment() : spin_us) {
  for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true, std::memory_order_release);
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

template <typename Pred>
bool ThreadPool::spin_until(Pred pred) const {
  if (pred()) return true;
  if (spin_us_ == 0) return false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(spin_us_);
  for (;;) {
    // Read the clock only every few dozen pauses: the check itself should cost next to nothing.
    for (int i = 0; i < 32; ++i) {
      cpu_relax();
      if (pred()) return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return pred();
  }
}

namespace {
// The claim word: bits 63-44 the job's generation, 43-22 its task count, 21-0 the next index. A
// claim reads all three at once, so a worker late from one job can never claim a task of the
// next one with the old one's count (nor the other way round).
constexpr int kIndexBits = 22;
constexpr uint64_t kIndexMask = (uint64_t(1) << kIndexBits) - 1;
constexpr uint64_t kGenerationMask = (uint64_t(1) << (64 - 2 * kIndexBits)) - 1;
constexpr int64_t kMaxTasksPerJob = int64_t(kIndexMask);
}  // namespace

void ThreadPool::run_tasks(uint64_t generation, int worker) {
  const uint64_t tag = generation & kGenerationMask;
  uint64_t claim = claim_.load(std::memory_order_acquire);
  for (;;) {
    if ((claim >> (2 * kIndexBits)) != tag) break;  // another job's word: not ours to claim from
    const int64_t count = int64_t((claim >> kIndexBits) & kIndexMask), task = int64_t(claim & kIndexMask);
    if (task >= count) break;
    if (!claim_.compare_exchange_weak(claim, claim + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    (*job_)(task, worker);
    if (finished_tasks_.fetch_add(1, std::memory_order_acq_rel) + 1 == count) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (caller_sleeping_) done_.notify_one();
    }
    claim = claim_.load(std::memory_order_acquire);
  }
}

void ThreadPool::begin_session() {
  hot_.store(true, std::memory_order_relaxed);
  if (spin_us_ == 0) return;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++session_epoch_;
    wake = sleeping_workers_ > 0;
  }
  if (wake) wake_.notify_all();
}

void ThreadPool::worker_loop(int worker) {
#if defined(__linux__)
  // A name in top -H, and what the idle-CPU test reads in /proc/self/task/*/comm.
  pthread_setname_np(pthread_self(), "sie-compute");
#endif
  uint64_t seen = 0;
  for (;;) {
    auto news = [&] { return stopping_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen; };
    // Spin only inside a forward pass; after it, sleep at once.
    if (!spin_until([&] { return news() || !hot_.load(std::memory_order_relaxed); }) || !news()) {
      std::unique_lock<std::mutex> lock(mutex_);
      const uint64_t epoch = session_epoch_;
      ++sleeping_workers_;
      wake_.wait(lock, [&] { return news() || session_epoch_ != epoch; });
      --sleeping_workers_;
      if (!news()) continue;  // a session began: spin for its first job
    }
    if (stopping_.load(std::memory_order_acquire)) return;
    seen = generation_.load(std::memory_order_acquire);
    run_tasks(seen, worker);
  }
}

void ThreadPool::parallel_for(int64_t num_tasks, const Task& fn) {
  if (num_tasks <= 0) return;
  if (num_threads_ == 1 || num_tasks == 1) {
    for (int64_t t = 0; t < num_tasks; ++t) fn(t, 0);
    return;
  }
  if (num_tasks > kMaxTasksPerJob) {  // more than the claim word counts: in rounds
    for (int64_t first = 0; first < num_tasks; first += kMaxTasksPerJob) {
      const Task round = [&](int64_t task, int worker) { fn(first + task, worker); };
      parallel_for(std::min(kMaxTasksPerJob, num_tasks - first), round);
    }
    return;
  }
  bool wake = false;
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    finished_tasks_.store(0, std::memory_order_relaxed);
    generation = generation_.load(std::memory_order_relaxed) + 1;
    claim_.store(((generation & kGenerationMask) << (2 * kIndexBits)) | (uint64_t(num_tasks) << kIndexBits), std::memory_order_release);
    // The release publishes the job to workers that spin on the generation without the lock.
    generation_.store(generation, std::memory_order_release);
    wake = sleeping_workers_ > 0;
  }
  if (wake) wake_.notify_all();
  run_tasks(generation, 0);
  // Only tasks other threads claimed can still be running; a worker that claimed none is not
  // waited for.
  auto finished = [&] { return finished_tasks_.load(std::memory_order_acquire) == num_tasks; };
  if (!spin_until(finished)) {
    std::unique_lock<std::mutex> lock(mutex_);
    caller_sleeping_ = true;
    done_.wait(lock, finished);
    caller_sleeping_ = false;
  }
}

}  // namespace sie
