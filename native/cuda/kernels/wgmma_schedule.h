// The order of work in the persistent wgmma GEMMs (gemm_wgmma.cu), written once for the kernels
// and for the host test that runs it against a simulated ring of shared-memory slots with
// mbarrier semantics (test/cuda/host_tests.cpp), since the kernels cannot run without a GPU:
// which tiles a block walks, which slot and barrier phase each K slice uses, when a slot goes back
// to the producer, and, in ping-pong, when each consumer warpgroup may start its next tile.
//
// Ops supplies the actions. The kernels' Ops wrap the PTX (mbarrier waits and arrivals, TMA
// loads, wgmma issue and waits, named barriers, the epilogue); the test's record and check them.
//   wait_empty(slot, parity) / wait_full(slot, parity): an mbarrier parity wait. PTX returns from
//     a parity wait once the barrier's current phase has a different parity, so a wait more than
//     one phase ahead of the barrier returns at once: the schedule must never ask for one.
//   load(slot, tile_m, tile_n, kt): the producer fills a slot (completing its full barrier).
//   mma(slot, tile_m, tile_n, kt): issues and commits one K slice's MMAs, which keep reading the
//     slot until a later retire_all_but_last / retire_all.
//   retire_all_but_last() / retire_all(): waits until at most one / no committed slice is in flight.
//   release(slot): gives a slot back to the producer (its empty barrier).
//   wait_turn() / pass_turn(): ping-pong's named barriers between the two consumer warpgroups.
//   epilogue(tile_m, tile_n): stores the finished accumulators of a tile.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define SIE_SCHEDULE_FN __host__ __device__ __forceinline__
#else
#define SIE_SCHEDULE_FN inline
#endif

namespace sie_cuda {
namespace wgmma_schedule {

struct Grid {
  int tiles;    // output tiles, numbered row of tiles by row of tiles
  int tiles_n;  // tiles across N
  int k_tiles;  // K slices a tile
  int stages;   // slots in the ring
  int block;    // this block's index (blockIdx.x)
  int blocks;   // resident blocks (gridDim.x)
};

// The j-th tile a block walks (tiles block, block + blocks, ...), or -1 past the last.
SIE_SCHEDULE_FN int tile_of(const Grid& g, int j) {
  const int64_t tile = g.block + int64_t(j) * g.blocks;
  return tile < g.tiles ? int(tile) : -1;
}

// Slot and phase of the block's it-th K slice: one counter runs on across tiles.
SIE_SCHEDULE_FN int slot_of(const Grid& g, int it) { return it % g.stages; }
SIE_SCHEDULE_FN uint32_t full_parity(const Grid& g, int it) { return uint32_t(it / g.stages) & 1u; }
// A fresh barrier is in phase 0, so the first pass over the ring waits for parity 1: at once.
SIE_SCHEDULE_FN uint32_t empty_parity(const Grid& g, int it) { return full_parity(g, it) ^ 1u; }

// The producer: every K slice of every tile of the block, in order.
template <class Ops>
SIE_SCHEDULE_FN void produce(const Grid& g, Ops& ops) {
  int it = 0;
  for (int j = 0, tile; (tile = tile_of(g, j)) >= 0; ++j)
    for (int kt = 0; kt < g.k_tiles; ++kt, ++it) {
      ops.wait_empty(slot_of(g, it), empty_parity(g, it));
      ops.load(slot_of(g, it), tile / g.tiles_n, tile % g.tiles_n, kt);
    }
}

// The K slices of one tile, from the block's slice `it`: each slice's MMAs are issued, then the
// previous slice's slot goes back once its MMAs are done (one slice stays in flight); the tile's
// last slot goes back after all are done. Returns the slice counter after the tile.
template <class Ops>
SIE_SCHEDULE_FN int consume_tile(const Grid& g, Ops& ops, int tile, int it) {
  const int tile_m = tile / g.tiles_n, tile_n = tile % g.tiles_n;
  for (int kt = 0; kt < g.k_tiles; ++kt, ++it) {
    ops.wait_full(slot_of(g, it), full_parity(g, it));
    ops.mma(slot_of(g, it), tile_m, tile_n, kt);
    ops.retire_all_but_last();
    if (kt > 0) ops.release(slot_of(g, it - 1));
  }
  ops.retire_all();
  ops.release(slot_of(g, it - 1));
  return it;
}

// Cooperative: both consumer warpgroups take every tile (64 rows each) and every slice.
template <class Ops>
SIE_SCHEDULE_FN void consume_cooperative(const Grid& g, Ops& ops) {
  int it = 0;
  for (int j = 0, tile; (tile = tile_of(g, j)) >= 0; ++j) {
    it = consume_tile(g, ops, tile, it);
    ops.epilogue(tile / g.tiles_n, tile % g.tiles_n);
  }
}

// Ping-pong: warpgroup `group` takes the block's tiles j = group, group + 2, ... The mainloops
// alternate strictly (wait_turn before a tile, pass_turn after its mainloop, only if the other
// warpgroup has a next tile, so no signal is left over): the epilogue of one tile runs while the
// other warpgroup's MMAs go on, and no warpgroup waits on a slot use more than one phase ahead.
template <class Ops>
SIE_SCHEDULE_FN void consume_pingpong(const Grid& g, int group, Ops& ops) {
  for (int j = group, tile; (tile = tile_of(g, j)) >= 0; j += 2) {
    if (j > 0) ops.wait_turn();
    consume_tile(g, ops, tile, j * g.k_tiles);
    if (tile_of(g, j + 1) >= 0) ops.pass_turn();
    ops.epilogue(tile / g.tiles_n, tile % g.tiles_n);
  }
}

}  // namespace wgmma_schedule
}  // namespace sie_cuda
