// Hamming top-k over packed binary embeddings: interleaved corpus blocks of 8 rows, a
// VPOPCNTDQ / POPCNT / portable distance body picked by the CPU dispatch, bounded heaps per
// query. See hamming.h for layouts, paths and ordering.
#include "hamming.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/thread_pool.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define SBERT_HAM_X86 1
#include <immintrin.h>
#endif

namespace sbert {
namespace {

constexpr int kLanes = 8;  // corpus rows per interleaved block (one 512-bit vector per word)
constexpr int kGroup = 8;  // queries scored against each block together (they share its loads)
constexpr uint32_t kAcceptAll = std::numeric_limits<uint32_t>::max();

// Scores kGroup queries (q: kGroup rows of W words) against one block (W x kLanes words):
// out[r * kLanes + l] = distance of query r to lane l. Returns a mask with bit r * kLanes + l set
// when that distance is below cut[r]; `out` is only meaningful for the rows that have a bit set.
using BlockFn = uint64_t (*)(const uint64_t* q, int64_t W, const uint64_t* block, const uint32_t* cut, uint32_t* out);

#if defined(__GNUC__) || defined(__clang__)
#define SBERT_HAM_INLINE inline __attribute__((always_inline))
#define SBERT_POPCOUNT64(x) static_cast<uint32_t>(__builtin_popcountll(x))
#else
#define SBERT_HAM_INLINE inline
inline uint32_t popcountSwar(uint64_t x) {
  x -= (x >> 1) & 0x5555555555555555ULL;
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return static_cast<uint32_t>((x * 0x0101010101010101ULL) >> 56);
}
#define SBERT_POPCOUNT64(x) popcountSwar(x)
#endif

// The scalar body. Its popcount compiles to whatever the enclosing function's target allows: a
// libgcc call at the x86-64 baseline, the POPCNT instruction inside a target("popcnt") function.
SBERT_HAM_INLINE uint64_t blockScalarBody(const uint64_t* q, int64_t W, const uint64_t* block, const uint32_t* cut,
                                          uint32_t* out) {
  uint64_t mask = 0;
  for (int r = 0; r < kGroup; ++r) {
    uint32_t d[kLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
    const uint64_t* qr = q + r * W;
    for (int64_t w = 0; w < W; ++w) {
      const uint64_t qv = qr[w];
      const uint64_t* b = block + w * kLanes;
      for (int l = 0; l < kLanes; ++l) d[l] += SBERT_POPCOUNT64(qv ^ b[l]);
    }
    for (int l = 0; l < kLanes; ++l) {
      out[r * kLanes + l] = d[l];
      if (d[l] < cut[r]) mask |= uint64_t(1) << (r * kLanes + l);
    }
  }
  return mask;
}

uint64_t blockPortable(const uint64_t* q, int64_t W, const uint64_t* block, const uint32_t* cut, uint32_t* out) {
  return blockScalarBody(q, W, block, cut, out);
}

#ifdef SBERT_HAM_X86

__attribute__((target("popcnt"))) uint64_t blockPopcnt(const uint64_t* q, int64_t W, const uint64_t* block,
                                                       const uint32_t* cut, uint32_t* out) {
  return blockScalarBody(q, W, block, cut, out);
}

// One 512-bit XOR + VPOPCNTQ + add per (query, word) scores 8 corpus rows.
__attribute__((target("avx512f,avx512vpopcntdq"))) uint64_t blockVpopcnt(const uint64_t* q, int64_t W,
                                                                         const uint64_t* block, const uint32_t* cut,
                                                                         uint32_t* out) {
  __m512i acc[kGroup];
#pragma GCC unroll 8
  for (int r = 0; r < kGroup; ++r) acc[r] = _mm512_setzero_si512();
  for (int64_t w = 0; w < W; ++w) {
    const __m512i b = _mm512_loadu_si512(block + w * kLanes);
#pragma GCC unroll 8
    for (int r = 0; r < kGroup; ++r) {
      const __m512i x = _mm512_xor_si512(b, _mm512_set1_epi64(static_cast<long long>(q[r * W + w])));
      acc[r] = _mm512_add_epi64(acc[r], _mm512_popcnt_epi64(x));
    }
  }
  uint64_t mask = 0;
#pragma GCC unroll 8
  for (int r = 0; r < kGroup; ++r) {
    const __mmask8 m = _mm512_cmplt_epu64_mask(acc[r], _mm512_set1_epi64(cut[r]));
    if (m) {
      mask |= uint64_t(m) << (r * kLanes);
      // maskz: the plain _mm512_cvtepi64_epi32 trips GCC 12's -Wuninitialized on its undefined source.
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * kLanes), _mm512_maskz_cvtepi64_epi32(0xff, acc[r]));
    }
  }
  return mask;
}

#endif  // SBERT_HAM_X86

struct HammingPath {
  BlockFn fn;
  const char* name;
};

HammingPath pickPath(CpuIsa isa) {
  isa = clampCpuIsa(isa);
#ifdef SBERT_HAM_X86
  if (isa == CpuIsa::Avx512 && __builtin_cpu_supports("avx512vpopcntdq")) return {&blockVpopcnt, "avx512-vpopcntdq"};
  if (isa >= CpuIsa::Avx2 && __builtin_cpu_supports("popcnt")) return {&blockPopcnt, "popcnt"};
#endif
  return {&blockPortable, "portable"};
}

struct Cand {
  uint32_t d;
  int32_t j;
};
// Nearer first, then lower index. With the std heap functions the *worst* candidate is in front.
struct Nearer {
  bool operator()(const Cand& a, const Cand& b) const { return a.d < b.d || (a.d == b.d && a.j < b.j); }
};

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// rows x rowBytes bytes → rows x W zero-padded 64-bit words (row-major), padded to `padRows` rows.
std::vector<uint64_t> packRows(const uint8_t* src, int64_t rows, int64_t rowBytes, int64_t W, int64_t padRows) {
  std::vector<uint64_t> out(static_cast<size_t>(padRows * W), 0);
  parallelFor(0, rows, 4096, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) std::memcpy(out.data() + i * W, src + i * rowBytes, static_cast<size_t>(rowBytes));
  });
  return out;
}

}  // namespace

const char* hammingKernelName(CpuIsa isa) { return pickPath(isa).name; }

void hammingTopK(const uint8_t* queries, int64_t nq, const uint8_t* corpus, int64_t nc, int64_t rowBytes, int64_t k,
                 const HammingConfig& cfg, int32_t* outIndex, int32_t* outDistance) {
  SBERT_CHECK(nq >= 0 && nc >= 0 && rowBytes >= 0, "ERR_OUT_OF_RANGE", "negative matrix shape");
  SBERT_CHECK(k >= 1, "ERR_OUT_OF_RANGE", "k must be >= 1");
  SBERT_CHECK(nc <= std::numeric_limits<int32_t>::max(), "ERR_OUT_OF_RANGE", "more than 2^31-1 corpus rows");
  SBERT_CHECK(rowBytes <= (int64_t(1) << 28), "ERR_OUT_OF_RANGE", "rows longer than 2^28 bytes");
  const int64_t kk = std::min(k, nc);
  if (nq == 0 || kk == 0) return;
  SBERT_CHECK(rowBytes == 0 || (queries && corpus), "ERR_NATIVE", "null matrix data");
  const BlockFn blockFn = pickPath(cfg.isa).fn;
  const int64_t W = ceilDiv(rowBytes, 8);

  // Corpus as [block][word][lane]: row b * 8 + l's word w at (b * W + w) * 8 + l; padding rows
  // are zero (and never reported: their index is >= nc).
  const int64_t nBlocks = ceilDiv(nc, kLanes);
  std::vector<uint64_t> cpack(static_cast<size_t>(nBlocks * W * kLanes), 0);
  parallelFor(0, nBlocks, 256, [&](int64_t b0, int64_t b1) {
    std::vector<uint64_t> words(static_cast<size_t>(W));
    for (int64_t b = b0; b < b1; ++b) {
      for (int l = 0; l < kLanes && b * kLanes + l < nc; ++l) {
        std::fill(words.begin(), words.end(), 0);
        std::memcpy(words.data(), corpus + (b * kLanes + l) * rowBytes, static_cast<size_t>(rowBytes));
        for (int64_t w = 0; w < W; ++w) cpack[static_cast<size_t>((b * W + w) * kLanes + l)] = words[w];
      }
    }
  });
  const std::vector<uint64_t> qpack = packRows(queries, nq, rowBytes, W, ceilDiv(nq, kGroup) * kGroup);

  // Blocking: a corpus chunk of ~256 KiB stays in L2 while every query group of the task scans it.
  const int64_t queryBlock = cfg.queryBlock > 0 ? ceilDiv(cfg.queryBlock, kGroup) * kGroup : 64;
  const int64_t chunkBlocks = cfg.corpusChunk > 0 ? ceilDiv(cfg.corpusChunk, kLanes)
                                                  : std::max<int64_t>(8, (int64_t(256) << 10) / (std::max<int64_t>(W, 1) * 64));
  const int64_t qBlocks = ceilDiv(nq, queryBlock);
  int64_t segs = cfg.corpusSegments;
  if (segs <= 0) {
    const int64_t want = 3 * int64_t(numThreads());  // a few tasks per thread for balance
    segs = qBlocks < want ? ceilDiv(want, qBlocks) : 1;
  }
  segs = std::clamp<int64_t>(segs, 1, nBlocks);
  const int64_t segBlocks = ceilDiv(nBlocks, segs);
  segs = ceilDiv(nBlocks, segBlocks);

  // heaps[(query * segs + seg) * kk ...], sizes[query * segs + seg]
  std::vector<Cand> heaps(static_cast<size_t>(nq * segs * kk));
  std::vector<int64_t> sizes(static_cast<size_t>(nq * segs), 0);
  const Nearer nearer;

  parallelFor(0, qBlocks * segs, 1, [&](int64_t t0, int64_t t1) {
    uint32_t cut[kGroup];
    alignas(64) uint32_t dist[kGroup * kLanes];
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t qb = t / segs, seg = t % segs;
      const int64_t q0 = qb * queryBlock, q1 = std::min(nq, q0 + queryBlock);
      const int64_t sb0 = seg * segBlocks, sb1 = std::min(nBlocks, sb0 + segBlocks);
      for (int64_t c0 = sb0; c0 < sb1; c0 += chunkBlocks) {
        const int64_t c1 = std::min(sb1, c0 + chunkBlocks);
        for (int64_t g0 = q0; g0 < q1; g0 += kGroup) {
          for (int r = 0; r < kGroup; ++r) {
            const int64_t id = (g0 + r) * segs + seg;
            if (g0 + r >= q1) {
              cut[r] = 0;  // padding query: accept nothing
            } else {
              cut[r] = sizes[id] < kk ? kAcceptAll : heaps[static_cast<size_t>(id * kk)].d;
            }
          }
          for (int64_t b = c0; b < c1; ++b) {
            const uint64_t mask = blockFn(qpack.data() + g0 * W, W, cpack.data() + b * W * kLanes, cut, dist);
            if (!mask) continue;
            // Per query, lanes (corpus rows) in increasing index order: a later row equal to the
            // worst kept one is worse (higher index) and stays out.
            for (int r = 0; r < kGroup; ++r) {
              const unsigned lanes = static_cast<unsigned>(mask >> (r * kLanes)) & 0xffu;
              for (int l = 0; lanes && l < kLanes; ++l) {
                if (!(lanes & (1u << l))) continue;
                const int64_t j = b * kLanes + l;
                const uint32_t d = dist[r * kLanes + l];
                if (j >= nc || !(d < cut[r])) continue;
                const int64_t id = (g0 + r) * segs + seg;
                Cand* heap = heaps.data() + id * kk;
                int64_t& n = sizes[static_cast<size_t>(id)];
                if (n == kk) {
                  std::pop_heap(heap, heap + n, nearer);
                  --n;
                }
                heap[n++] = {d, static_cast<int32_t>(j)};
                std::push_heap(heap, heap + n, nearer);
                cut[r] = n < kk ? kAcceptAll : heap[0].d;
              }
            }
          }
        }
      }
    }
  });

  // Per query: the segments' candidates, nearest kk first.
  parallelFor(0, nq, 64, [&](int64_t b, int64_t e) {
    std::vector<Cand> all;
    for (int64_t i = b; i < e; ++i) {
      all.clear();
      for (int64_t s = 0; s < segs; ++s) {
        const int64_t id = i * segs + s;
        all.insert(all.end(), heaps.begin() + id * kk, heaps.begin() + id * kk + sizes[static_cast<size_t>(id)]);
      }
      const int64_t m = std::min<int64_t>(kk, static_cast<int64_t>(all.size()));
      std::partial_sort(all.begin(), all.begin() + m, all.end(), nearer);
      for (int64_t t = 0; t < m; ++t) {
        outIndex[i * kk + t] = all[static_cast<size_t>(t)].j;
        outDistance[i * kk + t] = static_cast<int32_t>(all[static_cast<size_t>(t)].d);
      }
    }
  });
}

}  // namespace sbert
