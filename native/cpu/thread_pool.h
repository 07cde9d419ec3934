// A fixed pool of compute threads. parallel_for hands out task indices through an atomic counter
// and the calling thread works too, so a pool of N threads uses N cores including the caller.
// One parallel_for runs at a time per pool (run_exclusive serialises whole forward passes, since
// each one already uses every core).
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sie {

class ThreadPool {
 public:
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return num_threads_; }
  // Calls fn(task, worker) for task in [0, num_tasks), spread over the pool; returns when all are
  // done. worker in [0, size()) names the thread, so callers can index per-thread scratch.
  using Task = std::function<void(int64_t task, int worker)>;
  void parallel_for(int64_t num_tasks, const Task& fn);
  // Holds the pool for one whole forward pass so that concurrent callers take turns.
  std::unique_lock<std::mutex> acquire() { return std::unique_lock<std::mutex>(exclusive_); }

 private:
  void worker_loop(int worker);
  void run_tasks(int worker);

  int num_threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::mutex exclusive_;
  const Task* job_ = nullptr;
  int64_t num_tasks_ = 0;
  std::atomic<int64_t> next_task_{0};
  std::atomic<int> active_workers_{0};
  uint64_t generation_ = 0;
  bool stopping_ = false;
};

}  // namespace sie
