// Internal (not a public kernel API): how the CPU GEMMs (gemm.cc, gemm_int8.cc, gemm_bf16.cc)
// split C[M, N] into tasks for the thread pool and a row block into micro-tiles, and run them:
// row blocks of at most mcMax rows (a multiple of MR, the block count spread evenly over the
// threads), weight panels split into column chunks only when the row blocks alone cannot keep
// the threads busy — one plan, so the three precisions behave alike.
// Tiling never changes a result: the low-precision GEMMs compute every output element with one
// micro-kernel call over the whole of K, the fp32 one continues each element's FMA chain
// through C across its K blocks in order.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "amx_tiles.h"
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
  std::vector<float> rowScale;  // one per row (the int8 GEMM's activation scales)
  uint64_t call = 0;
  int64_t m0 = -1;
  bool holds(uint64_t c, int64_t m) const { return call == c && m0 == m; }

  // Converts rows m .. m+rows-1 of call c unless already held: convert(r, data + r·rowLen)
  // per row (rowScale already sized), then padRows zero rows (AMX tiles read 32 rows, past the
  // end of a short block).
  template <typename ConvertRow>
  void load(uint64_t c, int64_t m, int rows, size_t rowLen, int padRows, const ConvertRow& convert) {
    if (holds(c, m)) return;
    data.resize(size_t(rows + padRows) * rowLen);
    rowScale.resize(size_t(rows));
    for (int r = 0; r < rows; ++r) convert(r, data.data() + size_t(r) * rowLen);
    std::fill(data.begin() + ptrdiff_t(size_t(rows) * rowLen), data.end(), T(0));
    call = c;
    m0 = m;
  }
};

// A process-unique id per GEMM call (keys the RowBlockBuffers).
inline uint64_t nextGemmCallId() {
  static std::atomic<uint64_t> counter{0};
  return ++counter;
}

// Runs C[M, N] as the grid's tasks on the thread pool: task(m0, rows, p0, p1) for rows m0 ..
// m0+rows-1 and weight panels p0 .. p1-1. Inline (no thread wake-up) when there is one task,
// one thread, or fewer than serialBelowOps operations (2·M·N·K).
template <typename Task>
void runGemmTasks(int64_t M, int nPanels, int MR, int mcMax, double ops, double serialBelowOps,
                  const Task& task) {
  const int threads = numThreads();
  const GemmGrid grid = planGemmGrid(M, nPanels, MR, mcMax, threads);
  auto run = [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t mb = t / grid.nChunks, nb = t % grid.nChunks;
      const int64_t m0 = mb * grid.mc;
      const int rows = static_cast<int>(std::min<int64_t>(grid.mc, M - m0));
      const int p0 = static_cast<int>(nb * grid.panelsPerChunk);
      const int p1 = std::min(nPanels, p0 + grid.panelsPerChunk);
      task(m0, rows, p0, p1);
    }
  };
  if (grid.tasks() == 1 || threads == 1 || ops < serialBelowOps) {
    run(0, grid.tasks());
  } else {
    parallelFor(0, grid.tasks(), 1, run);
  }
}

// The micro-tiles of a row block, top to bottom: tile(ir, mr) for rows ir .. ir+mr-1.
template <typename Tile>
inline void forEachMicroTile(int rows, int MR, const Tile& tile) {
  for (int ir = 0; ir < rows;) {
    const int mr = nextTile(rows - ir, MR);
    tile(ir, mr);
    ir += mr;
  }
}

// The low-precision GEMMs' task: prepare(m0, rows) converts the row block of A, then for each
// weight panel p of the chunk and each micro-tile, tile(m0, ir, mr, p, n0, nr): rows m0+ir ..
// m0+ir+mr-1, columns n0 .. n0+nr-1 over the whole of K. With amxTiles the task holds the AMX
// tile configuration from before prepare to its end (amx_tiles.h).
template <typename Prepare, typename Tile>
void runGemmTiles(int64_t M, int N, int NR, int MR, int mcMax, double ops, bool amxTiles,
                  const Prepare& prepare, const Tile& tile) {
  const int nPanels = (N + NR - 1) / NR;
  runGemmTasks(M, nPanels, MR, mcMax, ops, 4.0e5, [&](int64_t m0, int rows, int p0, int p1) {
#if SBERT_X86
    if (amxTiles) amx::configureTiles();
#endif
    prepare(m0, rows);
    for (int p = p0; p < p1; ++p) {
      const int n0 = p * NR;
      const int nr = std::min(NR, N - n0);
      forEachMicroTile(rows, MR, [&](int ir, int mr) { tile(m0, ir, mr, p, n0, nr); });
    }
#if SBERT_X86
    if (amxTiles) amx::releaseTiles();
#endif
  });
}

// A micro-kernel instantiated for every tile height: table[r] = make(integral_constant<int, r>)
// for r = 1..MR (table[0] unused), so a short last tile computes exactly its rows.
template <typename Fn, typename Make, int... R>
constexpr std::array<Fn, sizeof...(R) + 1> rowKernelTable(const Make& make,
                                                           std::integer_sequence<int, R...>) {
  return {nullptr, make(std::integral_constant<int, R + 1>{})...};
}
template <typename Fn, int MR, typename Make>
constexpr std::array<Fn, MR + 1> rowKernels(const Make& make) {
  return rowKernelTable<Fn>(make, std::make_integer_sequence<int, MR>{});
}

}  // namespace sbert::blocking
