// Internal (not a public kernel API): how the low-precision GEMMs (gemm_int8.cc, gemm_bf16.cc)
// split C[M, N] into tasks for the thread pool and a row block into micro-tiles. The plan is the
// one gemm.cc uses for fp32 — row blocks of at most mcMax rows (a multiple of MR, the block
// count spread evenly over the threads), weight panels split into column chunks only when the
// row blocks alone cannot keep the threads busy — so the three precisions behave alike.
// Tiling never changes a result: every output element is computed by one micro-kernel call
// over the whole of K.
#pragma once

#include <algorithm>
#include <cstdint>

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

}  // namespace sbert::blocking
