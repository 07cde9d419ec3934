#include "thread_pool.h"

#include <chrono>
#include <cstdlib>

#if defined(__x86_64__)
#include <immintrin.h>
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

void ThreadPool::run_tasks(int worker) {
  for (;;) {
    int64_t task = next_task_.fetch_add(1, std::memory_order_relaxed);
    if (task >= num_tasks_) break;
    (*job_)(task, worker);
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
    run_tasks(worker);
    if (active_workers_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_one();
    }
  }
}

void ThreadPool::parallel_for(int64_t num_tasks, const Task& fn) {
  if (num_tasks <= 0) return;
  if (num_threads_ == 1 || num_tasks == 1) {
    for (int64_t t = 0; t < num_tasks; ++t) fn(t, 0);
    return;
  }
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    num_tasks_ = num_tasks;
    next_task_.store(0, std::memory_order_relaxed);
    active_workers_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    // The release publishes the job to workers that spin on the generation without the lock.
    generation_.fetch_add(1, std::memory_order_release);
    wake = sleeping_workers_ > 0;
  }
  if (wake) wake_.notify_all();
  run_tasks(0);
  auto finished = [&] { return active_workers_.load(std::memory_order_acquire) == 0; };
  if (!spin_until(finished)) {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, finished);
  }
  job_ = nullptr;
}

}  // namespace sie
