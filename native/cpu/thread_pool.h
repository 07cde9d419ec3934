// A fixed pool of compute threads. parallel_for hands out task indices through an atomic counter
// and the calling thread works too, so a pool of N threads uses N cores including the caller.
// One parallel_for runs at a time per pool (run_exclusive serialises whole forward passes, since
// each one already uses every core).
//
// A forward pass is a chain of short parallel_for calls (a dozen per layer; a one-sentence pass
// is about 1 ms in all). Waking a sleeping thread through the kernel costs tens of microseconds
// each time, more in a VM whose idle vCPU has halted, so workers spin on the job counter for a
// short while after each job and only then sleep; the caller likewise spins before it sleeps on
// the workers' completion. Spinning happens only while a forward pass holds the pool (a
// Session): when it ends the workers sleep at once, leaving the cores to the event loop that
// answers the request and parses the next one. SIE_POOL_SPIN_US bounds one spin (default
// 1000 us; 0 sleeps at once, the old behaviour).
//
// The caller waits for tasks, not for workers: a task is claimed by a compare-and-swap on a word
// holding the job's generation, task count and next index, and the job is done when every task has
// finished. A worker the OS has not scheduled yet (the event loop, a GC thread or another process
// took its core) claims nothing, and the caller does its share instead of waiting for it to wake.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace sie {

class ThreadPool {
 public:
  // spin_us < 0: from SIE_POOL_SPIN_US, else the default.
  explicit ThreadPool(int num_threads, int spin_us = -1);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return num_threads_; }
  int spin_us() const { return spin_us_; }
  // Calls fn(task, worker) for task in [0, num_tasks), spread over the pool; returns when all are
  // done. worker in [0, size()) names the thread, so callers can index per-thread scratch.
  using Task = std::function<void(int64_t task, int worker)>;
  void parallel_for(int64_t num_tasks, const Task& fn);
  // Holds the pool for one whole forward pass so that concurrent callers take turns; while it
  // is held, idle workers spin rather than sleep.
  class Session {
   public:
    explicit Session(ThreadPool& pool) : Session(pool, std::unique_lock<std::mutex>(pool.exclusive_)) {}
    // With a lock already taken on pool.exclusive_ (try_acquire).
    Session(ThreadPool& pool, std::unique_lock<std::mutex> lock) : pool_(&pool), lock_(std::move(lock)) { pool.begin_session(); }
    Session(Session&& other) noexcept : pool_(other.pool_), lock_(std::move(other.lock_)) { other.pool_ = nullptr; }
    Session& operator=(Session&&) = delete;
    ~Session() {
      if (pool_) pool_->hot_.store(false, std::memory_order_relaxed);
    }

   private:
    ThreadPool* pool_;
    std::unique_lock<std::mutex> lock_;
  };
  Session acquire() { return Session(*this); }
  // The pool now if no forward pass holds it, else nothing (without waiting).
  std::optional<Session> try_acquire() {
    std::unique_lock<std::mutex> lock(exclusive_, std::try_to_lock);
    if (!lock.owns_lock()) return std::nullopt;
    return std::optional<Session>(std::in_place, *this, std::move(lock));
  }

 private:
  void worker_loop(int worker);
  // Marks the pool hot and wakes sleeping workers, so they are spinning by the first parallel_for
  // (their wake-up overlaps the caller's setup instead of delaying the first step).
  void begin_session();
  // Claims and runs tasks of job `generation` until none is left.
  void run_tasks(uint64_t generation, int worker);
  // Spins until pred() holds or spin_us_ has passed; true if it holds.
  template <typename Pred>
  bool spin_until(Pred pred) const;

  int num_threads_;
  int spin_us_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::mutex exclusive_;
  const Task* job_ = nullptr;
  // The job's generation, task count and next index in one word (see thread_pool.cpp).
  std::atomic<uint64_t> claim_{0};
  std::atomic<int64_t> finished_tasks_{0};
  bool caller_sleeping_ = false;  // guarded by mutex_: the last finisher notifies done_ only then
  // Bumped (under mutex_) for every job; workers spin on it, then sleep on wake_.
  std::atomic<uint64_t> generation_{0};
  int sleeping_workers_ = 0;  // guarded by mutex_: notify only when someone sleeps
  uint64_t session_epoch_ = 0;  // guarded by mutex_: bumped by begin_session to wake sleepers
  std::atomic<bool> stopping_{false};
  std::atomic<bool> hot_{false};  // a Session holds the pool: workers may spin
};

}  // namespace sie
