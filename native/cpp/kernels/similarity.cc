// CPU similarity kernels: blocked GEMM of packed query/corpus panels with the epilogue (matrix
// store, fused top-k, threshold) applied per register tile. See similarity.h for shapes,
// numerics and ordering rules.
#include "similarity.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#endif

#ifdef __linux__
#include <sys/mman.h>
#endif

#include "common/error.h"
#include "common/thread_pool.h"
#include "cpu_features.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define SBERT_SIM_X86 1
#include <immintrin.h>
#endif

namespace sbert {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr float kPosInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// ---- micro-kernels --------------------------------------------------------------------------
// C[MR][NR] = finish(sum over k of step(A[k][r], B[k][j])) with A packed [K][MR] and B packed
// [K][NR]: step is a * b (dot and cosine), (a - b)^2 (euclidean) or |a - b| (manhattan), and
// finish negates distances (and takes the square root for euclidean) so higher is always more
// similar. Flags the values v with !(v <= thr[r]) (true for v > thr[r] and for NaN thr or v; so
// thr = NaN flags a row entirely and thr = +inf only its NaNs): cmask[r] bit j flags C[r][j]
// (NR <= 64), and the return value has bit r set when row r has any flag.
// Every path accumulates each output in k order with one step per k, and every step is
// symmetric in (a, b), so S[i][j] and S[j][i] of the same vectors are bitwise equal.
using UkernelFn = uint32_t (*)(int64_t K, const float* A, const float* B, float* C, const float* thr,
                               uint64_t* cmask);

struct Ukernel {
  int mr;
  int nr;
  UkernelFn fn;
  const char* name;
};

#ifdef SBERT_SIM_X86
#define SBERT_TARGET_AVX2 __attribute__((target("avx2,fma"), always_inline))
#define SBERT_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma"), always_inline))
#endif

// One op per score function: the scalar step/finish for the portable kernel and the same
// arithmetic on AVX2 / AVX-512 vectors.
struct DotOp {
  static float step(float acc, float a, float b) { return acc + a * b; }
  static float finish(float v) { return v; }
#ifdef SBERT_SIM_X86
  SBERT_TARGET_AVX2 static inline __m256 step(__m256 acc, __m256 a, __m256 b) { return _mm256_fmadd_ps(a, b, acc); }
  SBERT_TARGET_AVX2 static inline __m256 finish(__m256 v) { return v; }
  SBERT_TARGET_AVX512 static inline __m512 step(__m512 acc, __m512 a, __m512 b) { return _mm512_fmadd_ps(a, b, acc); }
  SBERT_TARGET_AVX512 static inline __m512 finish(__m512 v) { return v; }
#endif
};

struct EuclideanOp {
  static float step(float acc, float a, float b) {
    const float d = a - b;
    return acc + d * d;
  }
  static float finish(float v) { return -std::sqrt(v); }
#ifdef SBERT_SIM_X86
  SBERT_TARGET_AVX2 static inline __m256 step(__m256 acc, __m256 a, __m256 b) {
    const __m256 d = _mm256_sub_ps(a, b);
    return _mm256_fmadd_ps(d, d, acc);
  }
  SBERT_TARGET_AVX2 static inline __m256 finish(__m256 v) { return _mm256_sub_ps(_mm256_setzero_ps(), _mm256_sqrt_ps(v)); }
  SBERT_TARGET_AVX512 static inline __m512 step(__m512 acc, __m512 a, __m512 b) {
    const __m512 d = _mm512_sub_ps(a, b);
    return _mm512_fmadd_ps(d, d, acc);
  }
  // maskz: the plain _mm512_sqrt_ps trips GCC 12's -Wuninitialized on its undefined source.
  SBERT_TARGET_AVX512 static inline __m512 finish(__m512 v) {
    return _mm512_sub_ps(_mm512_setzero_ps(), _mm512_maskz_sqrt_ps(0xffff, v));
  }
#endif
};

struct ManhattanOp {
  static float step(float acc, float a, float b) { return acc + std::fabs(a - b); }
  static float finish(float v) { return -v; }
#ifdef SBERT_SIM_X86
  SBERT_TARGET_AVX2 static inline __m256 step(__m256 acc, __m256 a, __m256 b) {
    const __m256 signBit = _mm256_set1_ps(-0.0f);
    return _mm256_add_ps(acc, _mm256_andnot_ps(signBit, _mm256_sub_ps(a, b)));
  }
  SBERT_TARGET_AVX2 static inline __m256 finish(__m256 v) { return _mm256_sub_ps(_mm256_setzero_ps(), v); }
  SBERT_TARGET_AVX512 static inline __m512 step(__m512 acc, __m512 a, __m512 b) {
    return _mm512_add_ps(acc, _mm512_abs_ps(_mm512_sub_ps(a, b)));
  }
  SBERT_TARGET_AVX512 static inline __m512 finish(__m512 v) { return _mm512_sub_ps(_mm512_setzero_ps(), v); }
#endif
};

template <int MR, int NR, class Op>
uint32_t ukPortable(int64_t K, const float* A, const float* B, float* C, const float* thr, uint64_t* cmask) {
  float acc[MR][NR];
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < NR; ++j) acc[r][j] = 0.0f;
  for (int64_t k = 0; k < K; ++k) {
    const float* a = A + k * MR;
    const float* b = B + k * NR;
    for (int r = 0; r < MR; ++r) {
      const float av = a[r];
      for (int j = 0; j < NR; ++j) acc[r][j] = Op::step(acc[r][j], av, b[j]);
    }
  }
  uint32_t mask = 0;
  for (int r = 0; r < MR; ++r) {
    uint64_t m = 0;
    for (int j = 0; j < NR; ++j) {
      const float v = Op::finish(acc[r][j]);
      C[r * NR + j] = v;
      if (!(v <= thr[r])) m |= uint64_t(1) << j;
    }
    cmask[r] = m;
    if (m) mask |= 1u << r;
  }
  return mask;
}

#ifdef SBERT_SIM_X86

// AVX2 + FMA: 6 rows x 16 columns = 12 ymm accumulators.
template <class Op>
__attribute__((target("avx2,fma"))) uint32_t ukAvx2(int64_t K, const float* A, const float* B, float* C,
                                                     const float* thr, uint64_t* cmask) {
  constexpr int MR = 6;
  __m256 acc[MR][2];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    const __m256 b0 = _mm256_loadu_ps(B);
    const __m256 b1 = _mm256_loadu_ps(B + 8);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m256 a = _mm256_broadcast_ss(A + r);
      acc[r][0] = Op::step(acc[r][0], a, b0);
      acc[r][1] = Op::step(acc[r][1], a, b1);
    }
    A += MR;
    B += 16;
  }
  uint32_t mask = 0;
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    const __m256 v0 = Op::finish(acc[r][0]), v1 = Op::finish(acc[r][1]);
    _mm256_storeu_ps(C + r * 16, v0);
    _mm256_storeu_ps(C + r * 16 + 8, v1);
    const __m256 t = _mm256_set1_ps(thr[r]);
    const unsigned m = unsigned(_mm256_movemask_ps(_mm256_cmp_ps(v0, t, _CMP_NLE_UQ))) |
                       (unsigned(_mm256_movemask_ps(_mm256_cmp_ps(v1, t, _CMP_NLE_UQ))) << 8);
    cmask[r] = m;
    if (m) mask |= 1u << r;
  }
  return mask;
}

// AVX-512: MR rows x (NV x 16) columns, MR * NV zmm accumulators.
template <int MR, int NV, class Op>
__attribute__((target("avx512f,avx2,fma"))) uint32_t ukAvx512(int64_t K, const float* A, const float* B,
                                                               float* C, const float* thr, uint64_t* cmask) {
  constexpr int NR = NV * 16;
  __m512 acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    __m512 b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) b[v] = _mm512_loadu_ps(B + 16 * v);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m512 a = _mm512_set1_ps(A[r]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = Op::step(acc[r][v], a, b[v]);
    }
    A += MR;
    B += NR;
  }
  uint32_t mask = 0;
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    const __m512 t = _mm512_set1_ps(thr[r]);
    uint64_t m = 0;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const __m512 val = Op::finish(acc[r][v]);
      _mm512_storeu_ps(C + r * NR + 16 * v, val);
      m |= uint64_t(_mm512_cmp_ps_mask(val, t, _CMP_NLE_UQ)) << (16 * v);
    }
    cmask[r] = m;
    if (m) mask |= 1u << r;
  }
  return mask;
}

#endif  // SBERT_SIM_X86

// The AVX-512 tile shape: 8 x 48 keeps 24 zmm accumulators and needs 11 loads per 24 FMAs.
constexpr int kAvx512Mr = 8;
constexpr int kAvx512Nv = 3;

template <class Op>
Ukernel pickUkernelFor(CpuIsa isa) {
  isa = clampCpuIsa(isa);
#ifdef SBERT_SIM_X86
  if (isa == CpuIsa::Avx512) return {kAvx512Mr, kAvx512Nv * 16, &ukAvx512<kAvx512Mr, kAvx512Nv, Op>, cpuIsaName(isa)};
  if (isa == CpuIsa::Avx2) return {6, 16, &ukAvx2<Op>, cpuIsaName(isa)};
#endif
  return {4, 16, &ukPortable<4, 16, Op>, cpuIsaName(CpuIsa::Portable)};
}

Ukernel pickUkernel(CpuIsa isa, SimilarityFn fn) {
  switch (fn) {
    case SimilarityFn::Euclidean: return pickUkernelFor<EuclideanOp>(isa);
    case SimilarityFn::Manhattan: return pickUkernelFor<ManhattanOp>(isa);
    default: return pickUkernelFor<DotOp>(isa);
  }
}

// ---- helpers --------------------------------------------------------------------------------

// A float buffer aligned for vector loads. Large ones (the packed corpus chunk) are 2 MiB
// aligned and, on Linux, marked for transparent huge pages: first-touch page faults of a freshly
// allocated 64 MiB buffer otherwise cost more than packing it (notably inside VMs).
struct AlignedFloats {
  float* p = nullptr;
  size_t align = 64;
  explicit AlignedFloats(size_t count) {
    if (!count) return;
    const size_t bytes = count * sizeof(float);
    if (bytes >= (size_t(4) << 20)) align = size_t(2) << 20;
    p = static_cast<float*>(::operator new[](bytes, std::align_val_t(align)));
#ifdef __linux__
    if (align > 64) (void)madvise(p, (bytes + align - 1) / align * align, MADV_HUGEPAGE);
#endif
  }
  ~AlignedFloats() {
    if (p) ::operator delete[](p, std::align_val_t(align));
  }
  // Hands the buffer over (its alignment in `alignOut`, needed to free it).
  float* release(size_t& alignOut) {
    alignOut = align;
    float* out = p;
    p = nullptr;
    return out;
  }
  AlignedFloats(const AlignedFloats&) = delete;
  AlignedFloats& operator=(const AlignedFloats&) = delete;
};

inline int ctz64(uint64_t x) {
#if defined(_MSC_VER) && !defined(__clang__)
  unsigned long i;
  _BitScanForward64(&i, x);
  return static_cast<int>(i);
#else
  return __builtin_ctzll(x);
#endif
}

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t roundUp(int64_t a, int64_t b) { return ceilDiv(a, b) * b; }

struct Cand {
  float s;
  int32_t j;
};
// The total order of results: higher score first, then lower index. With std heap functions it
// keeps the *worst* element at the front.
struct Better {
  bool operator()(const Cand& a, const Cand& b) const { return a.s > b.s || (a.s == b.s && a.j < b.j); }
};
constexpr Better better{};


[[noreturn]] void throwBadRow(const MatrixView& m, int64_t row) {
  const float* x = m.data + row * m.dim;
  bool nan = false;
  for (int64_t k = 0; k < m.dim; ++k) nan |= std::isnan(x[k]);
  throw Error("ERR_OUT_OF_RANGE", m.name + " row " + std::to_string(row) + " contains " + (nan ? "NaN" : "Infinity"));
}

void recordBad(std::atomic<int64_t>& firstBad, int64_t row) {
  int64_t cur = firstBad.load();
  while (row < cur && !firstBad.compare_exchange_weak(cur, row)) {
  }
}

// Rows [r0, r1): finiteness check fused with the cosine scale 1 / max(|x|, 1e-12), written to
// scale[r - r0] when scale is non-null. Records the first non-finite row in firstBad and returns
// false when there is one.
bool scaleRows(const MatrixView& m, int64_t r0, int64_t r1, float* scale, std::atomic<int64_t>& firstBad) {
  const int64_t dim = m.dim;
  for (int64_t r = r0; r < r1; ++r) {
    const float* x = m.data + r * dim;
    // Sum of squares in double (no overflow for any finite float; NaN/Inf propagate), four
    // independent chains so the pass stays memory-bound.
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    int64_t k = 0;
    for (; k + 4 <= dim; k += 4) {
      s0 += static_cast<double>(x[k]) * x[k];
      s1 += static_cast<double>(x[k + 1]) * x[k + 1];
      s2 += static_cast<double>(x[k + 2]) * x[k + 2];
      s3 += static_cast<double>(x[k + 3]) * x[k + 3];
    }
    for (; k < dim; ++k) s0 += static_cast<double>(x[k]) * x[k];
    const double ss = (s0 + s1) + (s2 + s3);
    if (!std::isfinite(ss)) {
      recordBad(firstBad, r);
      return false;  // later rows of this range cannot be the first bad one
    }
    if (scale) scale[r - r0] = static_cast<float>(1.0 / std::max(std::sqrt(ss), 1e-12));
  }
  return true;
}

// All rows of m: throws for the first non-finite row; returns the cosine scales (empty for Dot).
std::vector<float> prepareRows(const MatrixView& m, bool cosine) {
  std::vector<float> scale(cosine ? static_cast<size_t>(m.rows) : 0);
  std::atomic<int64_t> firstBad{std::numeric_limits<int64_t>::max()};
  parallelFor(0, m.rows, std::max<int64_t>(1, 32768 / std::max<int64_t>(m.dim, 1)), [&](int64_t b, int64_t e) {
    scaleRows(m, b, e, cosine ? scale.data() + b : nullptr, firstBad);
  });
  if (firstBad.load() != std::numeric_limits<int64_t>::max()) throwBadRow(m, firstBad.load());
  return scale;
}

void validatePair(const MatrixView& q, const MatrixView& c) {
  SBERT_CHECK(q.rows >= 0 && c.rows >= 0 && q.dim >= 0, "ERR_NATIVE", "negative matrix shape");
  SBERT_CHECK(q.dim == c.dim, "ERR_OUT_OF_RANGE",
              q.name + " dim " + std::to_string(q.dim) + " differs from " + c.name + " dim " + std::to_string(c.dim));
  SBERT_CHECK(c.rows <= std::numeric_limits<int32_t>::max(), "ERR_OUT_OF_RANGE", "more than 2^31-1 corpus rows");
  SBERT_CHECK((q.rows == 0 || q.dim == 0 || q.data) && (c.rows == 0 || c.dim == 0 || c.data), "ERR_NATIVE",
              "null matrix data");
}

// ---- the blocked driver ---------------------------------------------------------------------

struct Plan {
  Ukernel uk;
  int64_t nq = 0, nc = 0, K = 0;
  int64_t MB = 0;         // query rows per task (multiple of MR)
  int64_t NB = 0;         // corpus rows per L2 block (multiple of NR)
  int64_t chunkRows = 0;  // corpus rows packed at once (multiple of NB), bounds the packed copy
  bool prepack = true;    // pack the corpus once per chunk (else each task packs its NB blocks)
  int64_t qBlocks = 0, segments = 1, segLen = 0;
};

Plan makePlan(const MatrixView& q, const MatrixView& c, const SimilarityConfig& cfg) {
  Plan p;
  p.uk = pickUkernel(cfg.isa, cfg.fn);
  p.nq = q.rows;
  p.nc = c.rows;
  p.K = q.dim;
  const int64_t MR = p.uk.mr, NR = p.uk.nr, K = std::max<int64_t>(p.K, 1);
  if (cfg.queryBlock > 0) {
    p.MB = roundUp(cfg.queryBlock, MR);
  } else {
    // A packed query block of ~384 KiB stays in L2 next to the corpus block.
    p.MB = std::clamp<int64_t>((98304 / K) / MR * MR, MR, 32 * MR);
  }
  p.MB = std::min(p.MB, std::max<int64_t>(MR, roundUp(p.nq, MR)));
  if (cfg.corpusBlock > 0) {
    p.NB = roundUp(cfg.corpusBlock, NR);
  } else {
    // A packed corpus block of ~256 KiB.
    p.NB = std::clamp<int64_t>((65536 / K) / NR * NR, NR, 64 * NR);
  }
  // The corpus is packed once per chunk of ~64 MiB (not once per query block).
  p.chunkRows = cfg.corpusChunk > 0 ? roundUp(cfg.corpusChunk, p.NB)
                                    : std::max<int64_t>(p.NB, (int64_t(16) << 20) / K / p.NB * p.NB);
  p.qBlocks = ceilDiv(p.nq, p.MB);
  // With one query block every corpus block is used once: packing it into an L2-sized buffer
  // right before use beats writing (and re-reading) a packed copy of the whole chunk.
  p.prepack = p.qBlocks > 1;
  if (!p.prepack) p.chunkRows = roundUp(std::max<int64_t>(p.nc, 1), p.NB);
  const int64_t cBlocks = std::max<int64_t>(1, ceilDiv(p.nc, p.NB));
  int64_t segs = 1;
  if (cfg.corpusSegments > 0) {
    segs = cfg.corpusSegments;
  } else if (p.qBlocks > 0) {
    const int64_t want = 3 * int64_t(numThreads());  // a few tasks per thread for balance
    if (p.qBlocks < want) segs = ceilDiv(want, p.qBlocks);
  }
  segs = std::clamp<int64_t>(segs, 1, cBlocks);
  p.segLen = roundUp(std::max<int64_t>(1, ceilDiv(p.nc, segs)), p.NB);
  p.segments = std::max<int64_t>(1, ceilDiv(p.nc, p.segLen));
  return p;
}

void packQueries(const MatrixView& q, const float* scale, int64_t q0, int64_t q1, int MR, float* dst) {
  const int64_t K = q.dim;
  for (int64_t p0 = q0; p0 < q1; p0 += MR) {
    for (int r = 0; r < MR; ++r) {
      const int64_t row = p0 + r;
      if (row < q1) {
        const float* x = q.data + row * K;
        const float s = scale ? scale[row] : 1.0f;
        if (scale) {
          for (int64_t k = 0; k < K; ++k) dst[k * MR + r] = x[k] * s;
        } else {
          for (int64_t k = 0; k < K; ++k) dst[k * MR + r] = x[k];
        }
      } else {
        for (int64_t k = 0; k < K; ++k) dst[k * MR + r] = 0.0f;
      }
    }
    dst += K * MR;
  }
}

// Corpus rows [c0, c1) as NR-wide panels [K][NR], row r scaled by scale[r - c0] when scale is
// non-null (cosine), zero-padded. A blocked
// transpose: 8 k-values of each of the NR rows at a time, so the reads are contiguous runs and
// the writes stay within 8 panel rows (L1).
void packCorpus(const MatrixView& c, const float* scale, int64_t c0, int64_t c1, int NR, float* dst) {
  const int64_t K = c.dim;
  constexpr int64_t KB = 8;
  for (int64_t p0 = c0; p0 < c1; p0 += NR) {
    const int valid = static_cast<int>(std::min<int64_t>(NR, c1 - p0));
    for (int64_t k0 = 0; k0 < K; k0 += KB) {
      const int64_t kn = std::min(KB, K - k0);
      float* d = dst + k0 * NR;
      for (int j = 0; j < valid; ++j) {
        const float* x = c.data + (p0 + j) * K + k0;
        const float s = scale ? scale[p0 + j - c0] : 1.0f;
        if (kn == KB) {
          for (int t = 0; t < KB; ++t) d[t * NR + j] = x[t] * s;
        } else {
          for (int64_t t = 0; t < kn; ++t) d[t * NR + j] = x[t] * s;
        }
      }
      for (int64_t t = 0; t < kn; ++t) {
        for (int j = valid; j < NR; ++j) d[t * NR + j] = 0.0f;
      }
    }
    dst += K * NR;
  }
}

// Epilogue interface (duck-typed, templated into the driver). One epilogue object serves all
// tasks; its state is indexed by (query row, corpus segment), and a (row, segment) pair belongs
// to one task at a time, so tasks never share mutable state:
//   float threshold(int64_t row, int64_t seg)                 — current flag threshold of a row
//   void tile(int64_t row0, int rows, int64_t col0, int cols, const float* t, int ldt,
//             uint32_t mask, const uint64_t* cmask, float* thr, int64_t seg)
//                                                             — consume a flagged MR x NR tile
// For each (row, segment) the tiles arrive in increasing column order.
//
// Corpus rows are checked and scaled up front (cScale, all rows) when the plan prepacks; else
// each task does it for the block it is about to pack (one pass over the corpus instead of two
// — what a single query against a big corpus costs), recording non-finite rows in cBad.
template <class Epilogue>
void runBlocked(const Plan& p, const MatrixView& q, const MatrixView& c, const float* qScale, const float* cScale,
                bool cosine, std::atomic<int64_t>& cBad, Epilogue& epi) {
  if (p.nq == 0 || p.nc == 0) return;
  const int MR = p.uk.mr, NR = p.uk.nr;
  const int64_t K = p.K;
  const int64_t chunkCap = p.prepack ? std::min(p.chunkRows, roundUp(p.nc, NR)) : 0;
  AlignedFloats bpack(static_cast<size_t>(chunkCap * K));
  for (int64_t s0 = 0; s0 < p.nc; s0 += p.chunkRows) {
    const int64_t s1 = std::min(p.nc, s0 + p.chunkRows);
    // Pack the chunk's corpus rows into NR-wide panels, in parallel.
    if (p.prepack) {
      const int64_t panels = ceilDiv(s1 - s0, NR);
      parallelFor(0, panels, std::max<int64_t>(1, 8192 / (NR * std::max<int64_t>(K, 1))), [&](int64_t b, int64_t e) {
        packCorpus(c, cScale ? cScale + s0 + b * NR : nullptr, s0 + b * NR, std::min(s1, s0 + e * NR), NR,
                   bpack.p + b * NR * K);
      });
    }
    // Tasks: query block x corpus segment overlapping this chunk.
    const int64_t segFirst = s0 / p.segLen, segLast = (s1 - 1) / p.segLen;
    const int64_t nSeg = segLast - segFirst + 1;
    parallelFor(0, p.qBlocks * nSeg, 1, [&](int64_t t0, int64_t t1) {
      AlignedFloats apack(static_cast<size_t>(p.MB * K));
      AlignedFloats blocal(static_cast<size_t>(p.prepack ? 0 : p.NB * K));
      std::vector<float> blockScale(static_cast<size_t>(p.prepack ? 0 : p.NB));
      std::vector<float> tileBuf(static_cast<size_t>(MR) * NR + 16);
      float* tile = tileBuf.data();
      float thr[32];
      uint64_t cmask[32];
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t qb = t / nSeg, seg = segFirst + t % nSeg;
        const int64_t q0 = qb * p.MB, q1 = std::min(p.nq, q0 + p.MB);
        const int64_t r0 = std::max(s0, seg * p.segLen), r1 = std::min(s1, (seg + 1) * p.segLen);
        packQueries(q, qScale, q0, q1, MR, apack.p);
        for (int64_t cb = r0; cb < r1; cb += p.NB) {
          const int64_t ce = std::min(r1, cb + p.NB);
          const float* B = bpack.p + (cb - s0) * K;  // cb - s0 is a multiple of NR
          if (!p.prepack) {
            if (!scaleRows(c, cb, ce, cosine ? blockScale.data() : nullptr, cBad)) continue;
            packCorpus(c, cosine ? blockScale.data() : nullptr, cb, ce, NR, blocal.p);
            B = blocal.p;
          }
          const int64_t nPanels = ceilDiv(ce - cb, NR);
          for (int64_t a0 = q0; a0 < q1; a0 += MR) {
            const int rows = static_cast<int>(std::min<int64_t>(MR, q1 - a0));
            for (int r = 0; r < MR; ++r) thr[r] = r < rows ? epi.threshold(a0 + r, seg) : kPosInf;
            const float* A = apack.p + (a0 - q0) * K;
            for (int64_t bp = 0; bp < nPanels; ++bp) {
              const int64_t col0 = cb + bp * NR;
              const int cols = static_cast<int>(std::min<int64_t>(NR, ce - col0));
              const uint32_t mask = p.uk.fn(K, A, B + bp * NR * K, tile, thr, cmask);
              if (mask) epi.tile(a0, rows, col0, cols, tile, NR, mask, cmask, thr, seg);
            }
          }
        }
      }
    });
  }
}

// ---- epilogues ------------------------------------------------------------------------------

struct MatrixEpilogue {
  float* out;
  int64_t nc;
  float threshold(int64_t, int64_t) const { return kNaN; }  // flag everything
  void tile(int64_t row0, int rows, int64_t col0, int cols, const float* t, int ldt, uint32_t, const uint64_t*, float*,
            int64_t) {
    for (int r = 0; r < rows; ++r) {
      std::memcpy(out + (row0 + r) * nc + col0, t + r * ldt, sizeof(float) * cols);
    }
  }
};

// Top-k candidates per (query row, segment). Each list has room for 2 kk entries: candidates
// above the row's cut are appended, and a full list is compacted (nth_element) to its best kk,
// whose k-th score becomes the new cut. Appends are much cheaper than heap updates, and the cut
// only lags by one compaction. The cut is NaN (accept everything) until the first compaction.
struct TopKEpilogue {
  int64_t kk = 0, cap = 0, segments = 1;
  std::vector<Cand> lists;    // [nq][segments][cap]
  std::vector<int64_t> sizes;  // [nq][segments]
  std::vector<float> cuts;     // [nq][segments]

  TopKEpilogue(int64_t nq, int64_t segs, int64_t k)
      : kk(k), cap(2 * k), segments(segs), lists(static_cast<size_t>(nq * segs * 2 * k)),
        sizes(static_cast<size_t>(nq * segs), 0), cuts(static_cast<size_t>(nq * segs), kNaN) {}

  float threshold(int64_t row, int64_t seg) const { return cuts[row * segments + seg]; }

  // Keeps the best kk of list `id` and returns the new cut (the k-th best score).
  float compact(int64_t id) {
    Cand* l = lists.data() + id * cap;
    std::nth_element(l, l + kk - 1, l + sizes[id], better);
    sizes[id] = kk;
    return cuts[id] = l[kk - 1].s;
  }

  void tile(int64_t row0, int rows, int64_t col0, int cols, const float* t, int ldt, uint32_t mask,
            const uint64_t* cmask, float* thr, int64_t seg) {
    const uint64_t valid = cols >= 64 ? ~uint64_t(0) : (uint64_t(1) << cols) - 1;
    for (int r = 0; r < rows; ++r) {
      if (!(mask & (1u << r))) continue;
      const int64_t id = (row0 + r) * segments + seg;
      Cand* l = lists.data() + id * cap;
      int64_t n = sizes[id];
      float cut = cuts[id];
      const float* ts = t + r * ldt;
      // Visit the flagged columns only, in increasing order. A later candidate equal to the cut
      // has a higher index than the k-th best, so it cannot enter: the test is strict.
      for (uint64_t bits = cmask[r] & valid; bits; bits &= bits - 1) {
        const int cI = ctz64(bits);
        float s = ts[cI];
        if (std::isnan(s)) s = kNegInf;
        if (!(s > cut) && !std::isnan(cut)) continue;
        if (n == cap) {
          sizes[id] = n;
          cut = compact(id);
          n = kk;
          if (!(s > cut)) continue;
        }
        l[n++] = {s, static_cast<int32_t>(col0 + cI)};
      }
      sizes[id] = n;
      thr[r] = cut;
    }
  }
};

// Entries >= threshold per (query row, segment), in column order.
struct ThresholdEpilogue {
  float threshold_ = 0.0f, flag = 0.0f;
  int64_t segments = 1;
  std::vector<std::vector<Cand>> lists;  // [nq][segments]

  float threshold(int64_t, int64_t) const { return flag; }
  void tile(int64_t row0, int rows, int64_t col0, int cols, const float* t, int ldt, uint32_t mask,
            const uint64_t* cmask, float*, int64_t seg) {
    const uint64_t valid = cols >= 64 ? ~uint64_t(0) : (uint64_t(1) << cols) - 1;
    for (int r = 0; r < rows; ++r) {
      if (!(mask & (1u << r))) continue;
      std::vector<Cand>& out = lists[(row0 + r) * segments + seg];
      const float* ts = t + r * ldt;
      for (uint64_t bits = cmask[r] & valid; bits; bits &= bits - 1) {
        const int cI = ctz64(bits);
        if (ts[cI] >= threshold_) out.push_back({ts[cI], static_cast<int32_t>(col0 + cI)});
      }
    }
  }
};

}  // namespace

// ---- public entry points ----------------------------------------------------------------------

OwnedMatrix::OwnedMatrix(const float* src, int64_t rows, int64_t dim) : rows_(rows), dim_(dim) {
  SBERT_CHECK(rows >= 0 && dim >= 0, "ERR_NATIVE", "negative matrix shape");
  const size_t count = static_cast<size_t>(rows * dim);
  if (!count) return;
  AlignedFloats buf(count);
  // Parallel 1 MiB pieces: one thread cannot saturate memory bandwidth on a large copy.
  constexpr int64_t kPiece = int64_t(1) << 18;
  parallelFor(0, static_cast<int64_t>(count), kPiece, [&](int64_t b, int64_t e) {
    std::memcpy(buf.p + b, src + b, static_cast<size_t>(e - b) * sizeof(float));
  });
  data_ = buf.release(align_);
}

OwnedMatrix::~OwnedMatrix() {
  if (data_) ::operator delete[](data_, std::align_val_t(align_));
}

MatrixView OwnedMatrix::view(int64_t begin, int64_t end, std::string name) const {
  MatrixView v;
  v.data = data_ ? data_ + begin * dim_ : nullptr;
  v.rows = end - begin;
  v.dim = dim_;
  v.name = std::move(name);
  return v;
}

void checkFinite(const MatrixView& m) { (void)prepareRows(m, false); }

namespace {

// Checks, scales and runs: queries first (their errors win), then the corpus — up front or, when
// the plan packs per task, block by block inside the run. Throws for the first non-finite row.
template <class MakeEpilogue, class Finish>
void runChecked(const MatrixView& q, const MatrixView& c, const SimilarityConfig& cfg, MakeEpilogue&& make,
                Finish&& finish) {
  const bool cosine = cfg.fn == SimilarityFn::Cosine;
  const std::vector<float> qs = prepareRows(q, cosine);
  if (q.rows == 0 || c.rows == 0) {
    (void)prepareRows(c, cosine);
    return;
  }
  const Plan p = makePlan(q, c, cfg);
  std::vector<float> cs;
  if (p.prepack) cs = prepareRows(c, cosine);
  std::atomic<int64_t> cBad{std::numeric_limits<int64_t>::max()};
  auto epi = make(p);
  runBlocked(p, q, c, cosine ? qs.data() : nullptr, cosine && p.prepack ? cs.data() : nullptr, cosine, cBad, epi);
  if (cBad.load() != std::numeric_limits<int64_t>::max()) throwBadRow(c, cBad.load());
  finish(p, epi);
}

}  // namespace

void similarityMatrix(const MatrixView& q, const MatrixView& c, const SimilarityConfig& cfg, float* out) {
  validatePair(q, c);
  runChecked(
      q, c, cfg, [&](const Plan&) { return MatrixEpilogue{out, c.rows}; }, [](const Plan&, MatrixEpilogue&) {});
}

void similarityTopK(const MatrixView& q, const MatrixView& c, int64_t k, const SimilarityConfig& cfg,
                    int32_t* outIndex, float* outScore) {
  validatePair(q, c);
  SBERT_CHECK(k >= 1, "ERR_OUT_OF_RANGE", "k must be >= 1");
  const int64_t kk = std::min(k, c.rows);
  runChecked(
      q, c, cfg, [&](const Plan& p) { return TopKEpilogue(q.rows, p.segments, kk); },
      [&](const Plan& p, TopKEpilogue& epi) {
        // Per row: gather the segments' lists, keep the best kk, sort.
        parallelFor(0, q.rows, 64, [&](int64_t b, int64_t e) {
          std::vector<Cand> all;
          for (int64_t row = b; row < e; ++row) {
            Cand* first = epi.lists.data() + row * p.segments * epi.cap;
            int64_t n = epi.sizes[row * p.segments];
            if (p.segments > 1) {
              all.clear();
              for (int64_t s = 0; s < p.segments; ++s) {
                const Cand* src = epi.lists.data() + (row * p.segments + s) * epi.cap;
                all.insert(all.end(), src, src + epi.sizes[row * p.segments + s]);
              }
              first = all.data();
              n = static_cast<int64_t>(all.size());
            }
            const int64_t m = std::min(kk, n);
            std::partial_sort(first, first + m, first + n, better);
            for (int64_t i = 0; i < m; ++i) {
              outScore[row * kk + i] = first[i].s;
              outIndex[row * kk + i] = first[i].j;
            }
          }
        });
      });
}

ThresholdResult similarityThreshold(const MatrixView& q, const MatrixView& c, float threshold, int64_t minCount,
                                    const SimilarityConfig& cfg) {
  validatePair(q, c);
  SBERT_CHECK(!std::isnan(threshold), "ERR_OUT_OF_RANGE", "threshold is NaN");
  ThresholdResult res;
  res.rowPtr.assign(static_cast<size_t>(q.rows + 1), 0);
  runChecked(
      q, c, cfg,
      [&](const Plan& p) {
        ThresholdEpilogue epi;
        epi.threshold_ = threshold;
        // v >= threshold  <=>  v > nextafter(threshold, -inf), which is what the kernel's flag tests.
        epi.flag = std::nextafter(threshold, kNegInf);
        epi.segments = p.segments;
        epi.lists.resize(static_cast<size_t>(q.rows * p.segments));
        return epi;
      },
      [&](const Plan& p, ThresholdEpilogue& epi) {
        std::vector<std::vector<Cand>>& lists = epi.lists;
        // Concatenate segments (in corpus order), drop short rows, sort each row.
        std::vector<int64_t> counts(static_cast<size_t>(q.rows), 0);
        for (int64_t row = 0; row < q.rows; ++row) {
          int64_t n = 0;
          for (int64_t s = 0; s < p.segments; ++s) n += static_cast<int64_t>(lists[row * p.segments + s].size());
          counts[row] = n >= std::max<int64_t>(minCount, 1) ? n : 0;
          res.rowPtr[row + 1] = res.rowPtr[row] + counts[row];
        }
        const int64_t total = res.rowPtr[q.rows];
        res.index.resize(static_cast<size_t>(total));
        res.score.resize(static_cast<size_t>(total));
        parallelFor(0, q.rows, 16, [&](int64_t b, int64_t e) {
          std::vector<Cand> all;
          for (int64_t row = b; row < e; ++row) {
            if (counts[row] == 0) continue;
            all.clear();
            for (int64_t s = 0; s < p.segments; ++s) {
              std::vector<Cand>& l = lists[row * p.segments + s];
              all.insert(all.end(), l.begin(), l.end());
              std::vector<Cand>().swap(l);
            }
            std::sort(all.begin(), all.end(), better);
            const int64_t base = res.rowPtr[row];
            for (size_t i = 0; i < all.size(); ++i) {
              res.index[base + i] = all[i].j;
              res.score[base + i] = all[i].s;
            }
          }
        });
      });
  return res;
}

}  // namespace sbert
