// Internal (not a public kernel API): how the low-precision GEMMs (gemm_int8.cc, gemm_bf16.cc)
// split C[M, N] into tasks for the thread pool and a row block into micro-tiles, and run them. The plan is the
// one gemm.cc uses for fp32 — row blocks of at most mcMax rows (a multiple of MR, the block
// count spread evenly over the threads), weight panels split into column chunks only when the
// row blocks alone cannot keep the threads busy — so the three precisions behave alike.
// Tiling never changes a result: every output element is computed by one micro-kernel call
// over the whole of K.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#include "common/thread_pool.h"

namespace sbert::blocking {

struct GemmGrid {
  int64_t mc = 0;           // rows per block (a multiple of MR, except when M is smaller)
  int64_t mBlocks = 0;      // row blocks
  int panelsPerChunk = 0;   // weight panels per column chunk
  int64_t nChunks = 0;      // column chunks
  int64_t tasks() const { return mBlocks * nChunks; }
};

inline GemmGrid planGemmGrid(int64_t M, int nPanels, int MR, int mcMax, int threads) {
  GemmGrid g;
  g.mBlocks = (M + mcMax - 1) / mcMax;
  if (g.mBlocks > 1 && threads > 1) g.mBlocks = (g.mBlocks + threads - 1) / threads * threads;
  g.mc = (M + g.mBlocks - 1) / g.mBlocks;
  g.mc = (g.mc + MR - 1) / MR * MR;
  g.mBlocks = (M + g.mc - 1) / g.mc;
  // With fewer row blocks than threads (one sentence) split N finely, so the pool's dynamic
  // chunk claiming balances the threads even when a worker wakes up late.
  const int64_t wantTasks = g.mBlocks < threads ? 4 * threads : 2 * threads;
  g.panelsPerChunk = std::max(nPanels, 1);
  while (g.mBlocks * ((nPanels + g.panelsPerChunk - 1) / g.panelsPerChunk) < wantTasks &&
         g.panelsPerChunk > 1) {
    g.panelsPerChunk = (g.panelsPerChunk + 1) / 2;
  }
  g.nChunks = (nPanels + g.panelsPerChunk - 1) / g.panelsPerChunk;
  return g;
}

// Height of the next micro-tile when `left` rows remain: full MR tiles, except that a short
// remainder (< MR/2) is merged with the tile before it and the two are split evenly (14 rows
// with MR = 12 run as 7 + 7, not 12 + 2), so no row is padded or computed twice.
inline int nextTile(int left, int MR) {
  if (left <= MR) return left;
  if (left >= 2 * MR) return MR;
  const int rem = left - MR;
  return rem >= MR / 2 ? MR : (left + 1) / 2;
}

// A per-thread buffer holding one row block of A in a GEMM's operand format (int8 with row
// scales, bf16). `call` and `m0` say which block it holds, so a thread that runs several
// column chunks of one row block converts it once.
template <typename T>
struct RowBlockBuffer {
  std::vector<T> data;
  std::vector<float> rowScale;
  uint64_t call = 0;
  int64_t m0 = -1;
  bool holds(uint64_t c, int64_t m) const { return call == c && m0 == m; }
};

// A process-unique id per GEMM call (keys the RowBlockBuffers).
inline uint64_t nextGemmCallId() {
  static std::atomic<uint64_t> counter{0};
  return ++counter;
}

// Runs C[M, N] as the grid's tasks on the thread pool (inline when small). Per task:
// prepare(m0, rows) for its row block, then for each weight panel p of its column chunk and
// each micro-tile of the block, tile(m0, ir, mr, p, n0, nr): rows m0+ir .. m0+ir+mr-1,
// columns n0 .. n0+nr-1; then finish() on the same thread. `ops` (2·M·N·K) decides whether
// threads are worth waking.
template <typename Prepare, typename Tile, typename Finish>
void runGemmTiles(int64_t M, int N, int NR, int MR, int mcMax, double ops, const Prepare& prepare,
                  const Tile& tile, const Finish& finish) {
  const int nPanels = (N + NR - 1) / NR;
  const int threads = numThreads();
  const GemmGrid grid = planGemmGrid(M, nPanels, MR, mcMax, threads);
  auto run = [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t mb = t / grid.nChunks, nb = t % grid.nChunks;
      const int64_t m0 = mb * grid.mc;
      const int rows = static_cast<int>(std::min<int64_t>(grid.mc, M - m0));
      prepare(m0, rows);
      const int p0 = static_cast<int>(nb * grid.panelsPerChunk);
      const int p1 = std::min(nPanels, p0 + grid.panelsPerChunk);
      for (int p = p0; p < p1; ++p) {
        const int n0 = p * NR;
        const int nr = std::min(NR, N - n0);
        for (int ir = 0; ir < rows;) {
          const int mr = nextTile(rows - ir, MR);
          tile(m0, ir, mr, p, n0, nr);
          ir += mr;
        }
      }
      finish();
    }
  };
  if (grid.tasks() == 1 || threads == 1 || ops < 4.0e5) {
    run(0, grid.tasks());
  } else {
    parallelFor(0, grid.tasks(), 1, run);
  }
}

}  // namespace sbert::blocking
