// Hamming-distance top-k search over bit-packed binary embeddings (CPU) — the search for the
// 'binary' / 'ubinary' embeddings of quantizeEmbeddings (lib/quantize.ts).
//
// Shapes and layouts: queries Q [nq, rowBytes] and corpus C [nc, rowBytes], row-major bytes, each
// row the packed sign bits of one embedding (numpy packbits order; any bit order works as long as
// queries and corpus agree). distance(i, j) = the number of differing bits = popcount(q_i XOR c_j),
// an integer in [0, 8 * rowBytes].
//
// How: the corpus is repacked into blocks of 8 rows with their 64-bit words interleaved
// ([block][word][8 rows]), so one 512-bit XOR + VPOPCNTQ + add scores a query word against 8
// rows; 8 queries share each corpus load. The corpus is walked in L2-sized chunks per query block,
// and each query keeps a bounded max-heap of its best k; a lane enters only when its distance is
// below the heap's worst (a vector compare filters the rest). Work is split into (query block x
// corpus segment) tasks on sbert::parallelFor; segment lists are merged at the end.
//
// ISA paths (the one CPU dispatch, cpu_features.h, clamped by clampCpuIsa): CpuIsa::Avx512 on a
// CPU with AVX512_VPOPCNTDQ → "avx512-vpopcntdq"; CpuIsa::Avx2 (and AVX-512 CPUs without
// VPOPCNTDQ) on a CPU with POPCNT → "popcnt" (scalar POPCNT instruction); otherwise "portable"
// (the compiler's portable popcount). All paths give identical results.
//
// Ordering: distance ascending, ties broken by the lower corpus index — exact and deterministic
// for every path, thread count and blocking.
#pragma once

#include <cstdint>

#include "cpu_features.h"

namespace sbert {

struct HammingConfig {
  // Instruction set to use; clamped by clampCpuIsa, so tests may ask for any level.
  CpuIsa isa = activeCpuIsa();
  // Blocking overrides for tests (0 = automatic): corpus rows per L2 chunk (rounded up to 8),
  // queries per task (rounded up to 8), corpus segments per query block.
  int64_t corpusChunk = 0;
  int64_t queryBlock = 0;
  int64_t corpusSegments = 0;
};

// Per query row the kk = min(k, nc) nearest corpus rows, nearest first (ties: lower index).
// outIndex / outDistance hold nq * kk values. Throws sbert::Error ERR_OUT_OF_RANGE for k < 1,
// negative shapes or more than 2^31 - 1 corpus rows.
void hammingTopK(const uint8_t* queries, int64_t nq, const uint8_t* corpus, int64_t nc, int64_t rowBytes, int64_t k,
                 const HammingConfig& cfg, int32_t* outIndex, int32_t* outDistance);

// The path `isa` resolves to on this CPU: "avx512-vpopcntdq", "popcnt" or "portable".
const char* hammingKernelName(CpuIsa isa);

}  // namespace sbert
