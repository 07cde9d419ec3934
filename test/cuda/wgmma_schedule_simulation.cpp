// The persistent wgmma GEMMs' schedule (native/cuda/kernels/wgmma_schedule.h, the same code the
// kernels run) against a simulated block, on the CPU: a producer thread and two consumer threads
// (the warpgroups) share a ring of slots through barriers that behave as PTX's mbarriers do,
// including the trap of parity waits (a wait more than one phase ahead returns at once). Each
// slot carries the identity of the K slice last loaded into it; a consumer checks that identity
// when it issues a slice's MMAs and again when those MMAs retire (they read the slot until then),
// so a slot refilled too early, a wait that returned on the wrong phase, a deadlock (every wait
// has a deadline) or a tile computed twice or never fails the test. Random pauses vary the
// interleaving. A deliberately broken ping-pong (no turn-taking) must be caught, so the
// simulation is shown able to fail.
#include "wgmma_schedule_simulation.h"

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../../native/cuda/kernels/wgmma_schedule.h"

namespace {

namespace schedule = sie_cuda::wgmma_schedule;
using Clock = std::chrono::steady_clock;

// What went wrong in one simulated block (the first problem only), shared by its threads.
struct Outcome {
  std::mutex mutex;
  std::string problem;
  std::atomic<bool> failed{false};
  void fail(const std::string& what) {
    std::lock_guard<std::mutex> lock(mutex);
    if (problem.empty()) problem = what;
    failed = true;
  }
};

// An mbarrier: the phase advances when its expected arrivals are in; wait(parity) returns once
// the current phase's parity differs from `parity`.
class SimBarrier {
 public:
  void init(int arrivals) {
    expected_ = pending_ = arrivals;
    phase_ = 0;
  }
  void arrive() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (--pending_ == 0) {
      pending_ = expected_;
      ++phase_;
    }
  }
  // False on a deadline (a deadlock) or when another thread has already failed the block.
  bool wait(uint32_t parity, Outcome& outcome, const char* what) {
    const auto deadline = Clock::now() + std::chrono::seconds(2);
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if ((phase_ & 1u) != parity) return true;
      }
      if (outcome.failed) return false;
      if (Clock::now() > deadline) {
        outcome.fail(std::string("deadlock: ") + what + " never completed");
        return false;
      }
      std::this_thread::yield();
    }
  }

 private:
  std::mutex mutex_;
  uint32_t phase_ = 0;
  int expected_ = 1, pending_ = 1;
};

// One simulated block: the ring's slots (each holding the code of the slice last loaded into
// it), their barriers, the turn signals between the consumers, and what each tile received.
struct SimBlock {
  schedule::Grid grid;
  Outcome outcome;
  std::vector<std::atomic<int64_t>> slot_slice;
  std::vector<SimBarrier> full, empty;
  std::atomic<int> turn_tokens[2] = {{0}, {0}};
  std::vector<std::atomic<int>> epilogues;  // per tile of the whole grid
  uint32_t seed;

  SimBlock(const schedule::Grid& g, int empty_arrivals, uint32_t seed_)
      : grid(g), slot_slice(size_t(g.stages)), full(size_t(g.stages)), empty(size_t(g.stages)), epilogues(size_t(g.tiles)), seed(seed_) {
    for (int s = 0; s < g.stages; ++s) {
      slot_slice[size_t(s)] = -1;
      full[size_t(s)].init(1);
      empty[size_t(s)].init(empty_arrivals);
    }
    for (auto& e : epilogues) e = 0;
  }
  int64_t code(int tile_m, int tile_n, int kt) const { return (int64_t(tile_m) * grid.tiles_n + tile_n) * grid.k_tiles + kt; }
};

// Occasional pauses, so the threads meet in many different orders.
struct Jitter {
  std::mt19937 rng;
  void operator()() {
    const uint32_t r = rng() % 16;
    if (r == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
    else if (r < 4) std::this_thread::yield();
  }
};

struct SimProducer {
  SimBlock& block;
  Jitter jitter;
  void wait_empty(int slot, uint32_t parity) { block.empty[size_t(slot)].wait(parity, block.outcome, "a slot's empty barrier"); }
  void load(int slot, int tile_m, int tile_n, int kt) {
    jitter();
    block.slot_slice[size_t(slot)] = block.code(tile_m, tile_n, kt);
    block.full[size_t(slot)].arrive();
  }
};

struct SimConsumer {
  SimBlock& block;
  int group;
  bool alternate;  // ping-pong: the block's j-th tile belongs to warpgroup j % 2
  Jitter jitter;
  struct InFlight {
    int slot;
    int64_t slice;
  };
  std::deque<InFlight> in_flight;

  void check_slot(const InFlight& f, const char* when) {
    const int64_t seen = block.slot_slice[size_t(f.slot)];
    if (seen != f.slice)
      block.outcome.fail("warpgroup " + std::to_string(group) + " " + when + ": slot " + std::to_string(f.slot) + " holds slice " +
                         std::to_string(seen) + ", not " + std::to_string(f.slice));
  }
  void wait_full(int slot, uint32_t parity) { block.full[size_t(slot)].wait(parity, block.outcome, "a slot's full barrier"); }
  void mma(int slot, int tile_m, int tile_n, int kt) {
    in_flight.push_back({slot, block.code(tile_m, tile_n, kt)});
    check_slot(in_flight.back(), "issuing MMAs");
    jitter();
  }
  void retire_down_to(size_t left) {
    while (in_flight.size() > left) {
      check_slot(in_flight.front(), "as its MMAs retired");
      in_flight.pop_front();
    }
  }
  void retire_all_but_last() { retire_down_to(1); }
  void retire_all() { retire_down_to(0); }
  void release(int slot) {
    jitter();
    block.empty[size_t(slot)].arrive();
  }
  void wait_turn() {
    const auto deadline = Clock::now() + std::chrono::seconds(2);
    for (;;) {
      int tokens = block.turn_tokens[group];
      if (tokens > 0 && block.turn_tokens[group].compare_exchange_weak(tokens, tokens - 1)) return;
      if (block.outcome.failed) return;
      if (Clock::now() > deadline) return block.outcome.fail("deadlock: warpgroup " + std::to_string(group) + " never got its turn");
      std::this_thread::yield();
    }
  }
  void pass_turn() { ++block.turn_tokens[1 - group]; }
  void epilogue(int tile_m, int tile_n) {
    const int tile = tile_m * block.grid.tiles_n + tile_n;
    if (!in_flight.empty()) block.outcome.fail("an epilogue with MMAs still in flight");
    if ((tile - block.grid.block) % block.grid.blocks != 0) block.outcome.fail("tile " + std::to_string(tile) + " is another block's");
    if (alternate && (tile - block.grid.block) / block.grid.blocks % 2 != group)
      block.outcome.fail("tile " + std::to_string(tile) + " finished by the wrong warpgroup");
    ++block.epilogues[size_t(tile)];
  }
};

// Ping-pong without turn-taking: the second warpgroup may wait on a slot use two phases ahead.
template <class Ops>
void consume_pingpong_unordered(const schedule::Grid& g, int group, Ops& ops) {
  for (int j = group, tile; (tile = schedule::tile_of(g, j)) >= 0; j += 2) {
    schedule::consume_tile(g, ops, tile, j * g.k_tiles);
    ops.epilogue(tile / g.tiles_n, tile % g.tiles_n);
  }
}

// The cooperative walk with each slot given back as soon as its MMAs are issued, before they
// retire: the producer may then overwrite a slot the MMAs still read.
template <class Ops>
void consume_cooperative_early_release(const schedule::Grid& g, Ops& ops) {
  int it = 0;
  for (int j = 0, tile; (tile = schedule::tile_of(g, j)) >= 0; ++j) {
    for (int kt = 0; kt < g.k_tiles; ++kt, ++it) {
      ops.wait_full(schedule::slot_of(g, it), schedule::full_parity(g, it));
      ops.mma(schedule::slot_of(g, it), tile / g.tiles_n, tile % g.tiles_n, kt);
      ops.release(schedule::slot_of(g, it));
      ops.retire_all_but_last();
    }
    ops.retire_all();
    ops.epilogue(tile / g.tiles_n, tile % g.tiles_n);
  }
}

enum class Kind { Cooperative, PingPong, PingPongUnordered, CooperativeEarlyRelease };

// Runs one block of a grid; returns its problem ("" if none). `seen` counts epilogues per tile
// over all blocks (cooperative: one per warpgroup).
std::string run_block(Kind kind, const schedule::Grid& g, uint32_t seed, std::vector<int>& seen) {
  const bool cooperative = kind == Kind::Cooperative || kind == Kind::CooperativeEarlyRelease;
  SimBlock block(g, cooperative ? 2 : 1, seed);
  SimProducer producer{block, Jitter{std::mt19937(seed)}};
  const bool alternate = !cooperative;
  SimConsumer consumers[2] = {{block, 0, alternate, Jitter{std::mt19937(seed + 1)}, {}}, {block, 1, alternate, Jitter{std::mt19937(seed + 2)}, {}}};
  std::vector<std::thread> threads;
  threads.emplace_back([&] { schedule::produce(g, producer); });
  for (int group = 0; group < 2; ++group)
    threads.emplace_back([&, group] {
      SimConsumer& c = consumers[group];
      if (kind == Kind::Cooperative) schedule::consume_cooperative(g, c);
      else if (kind == Kind::PingPong) schedule::consume_pingpong(g, group, c);
      else if (kind == Kind::PingPongUnordered) consume_pingpong_unordered(g, group, c);
      else consume_cooperative_early_release(g, c);
    });
  for (auto& t : threads) t.join();
  for (int t = 0; t < g.tiles; ++t) seen[size_t(t)] += block.epilogues[size_t(t)];
  return block.outcome.problem;
}

// Every block of a grid, one after another; "" if every tile was finished the right number of times.
std::string run_grid(Kind kind, schedule::Grid g, uint32_t seed) {
  std::vector<int> seen(size_t(g.tiles), 0);
  for (g.block = 0; g.block < g.blocks; ++g.block) {
    const std::string problem = run_block(kind, g, seed + uint32_t(g.block) * 7919u, seen);
    if (!problem.empty()) return "block " + std::to_string(g.block) + ": " + problem;
  }
  const int want = kind == Kind::Cooperative || kind == Kind::CooperativeEarlyRelease ? 2 : 1;
  for (int t = 0; t < g.tiles; ++t)
    if (seen[size_t(t)] != want)
      return "tile " + std::to_string(t) + " finished " + std::to_string(seen[size_t(t)]) + " times, not " + std::to_string(want);
  return "";
}

std::string describe(const schedule::Grid& g) {
  return std::to_string(g.tiles) + " tiles (" + std::to_string(g.tiles_n) + " across), " + std::to_string(g.k_tiles) + " K slices, " +
         std::to_string(g.stages) + " slots, " + std::to_string(g.blocks) + " blocks";
}

}  // namespace

void wgmma_schedule_simulation(const std::function<void(bool, const std::string&)>& check) {
  std::mt19937 rng(20261127);
  // Hand-picked edges (one tile, one K slice, fewer slices than slots, a block with one tile more
  // than the other warpgroup), then random grids.
  std::vector<schedule::Grid> grids = {{1, 1, 1, 3, 0, 1}, {5, 5, 1, 6, 0, 2}, {9, 3, 7, 3, 0, 2}, {7, 7, 2, 6, 0, 1}, {12, 4, 6, 6, 0, 5}};
  for (int i = 0; i < 20; ++i) {
    const int tiles_n = 1 + int(rng() % 6), rows = 1 + int(rng() % 8);
    grids.push_back({tiles_n * rows, tiles_n, 1 + int(rng() % 9), 2 + int(rng() % 5), 0, 1 + int(rng() % 5)});
  }
  for (Kind kind : {Kind::Cooperative, Kind::PingPong}) {
    std::string first_problem;
    int failures = 0;
    for (size_t i = 0; i < grids.size(); ++i) {
      const std::string problem = run_grid(kind, grids[i], 1000u + uint32_t(i));
      if (!problem.empty() && failures++ == 0) first_problem = describe(grids[i]) + ": " + problem;
    }
    check(failures == 0, std::string("wgmma schedule, ") + (kind == Kind::Cooperative ? "cooperative" : "ping-pong") + ", " +
                             std::to_string(grids.size()) + " simulated grids" + (failures ? ": " + first_problem : ""));
  }
  // Negative controls, so the simulation is shown able to fail: ping-pong without turn-taking,
  // where the second warpgroup's first slice (slot 0, third use) is read once the slot's first
  // use has landed; and slots given back before their MMAs retire (over a few grids, since the
  // overwrite needs the producer to get there first).
  const std::string unordered = run_grid(Kind::PingPongUnordered, {8, 2, 4, 2, 0, 1}, 7);
  check(!unordered.empty(), "wgmma schedule simulation catches ping-pong without turn-taking (" + (unordered.empty() ? "missed" : unordered) + ")");
  std::string early;
  for (uint32_t seed = 0; seed < 20 && early.empty(); ++seed) early = run_grid(Kind::CooperativeEarlyRelease, {6, 2, 8, 2, 0, 1}, seed);
  check(!early.empty(), "wgmma schedule simulation catches slots given back before their MMAs retire (" + (early.empty() ? "missed" : early) + ")");
}
