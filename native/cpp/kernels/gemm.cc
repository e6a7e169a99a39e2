// Blocked fp32 GEMM with prepacked weights, see gemm.h for the contract.
//
// Blocking (GotoBLAS order, A not packed): the task grid is (M block of `mc` rows) × (chunk of
// NR-wide weight panels). A task walks K in blocks of `kc` (a function of K only); per K block
// and weight panel (its [kc][NR] slice stays in L1) it runs the MR×NR micro-kernel down the M
// block, which reads A in place (row-major; the mc×kc block stays in L2). Each micro-kernel is
// instantiated for every row count 1..MR, so a short last micro-tile (a 14-token sentence) is
// computed with exactly its rows instead of being padded; with fewer row blocks than threads
// the N panels are split finely across the threads. The first K block starts the
// accumulators at zero, later ones continue from C, and the last applies the epilogue before
// the store, so every element is one fp32 FMA chain over k = 0..K-1 whatever the tiling.
#include "gemm.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <vector>

#include "common/error.h"
#include "common/thread_pool.h"
#include "cpu_features.h"
#include "simd_math.h"

namespace sbert {

void PackedWeight::Free::operator()(float* p) const {
  ::operator delete[](p, std::align_val_t(64));
}

namespace {

constexpr int kPortable = int(CpuIsa::Portable), kAvx2 = int(CpuIsa::Avx2),
              kAvx512 = int(CpuIsa::Avx512);

int activeIsa() { return int(activeCpuIsa()); }

constexpr int kMrAvx512 = 12, kNrAvx512 = 32;
constexpr int kMrAvx2 = 6, kNrAvx2 = 16;
constexpr int kMrPortable = 6, kNrPortable = 8;

int nrFor(int isa) { return isa == kAvx512 ? kNrAvx512 : isa == kAvx2 ? kNrAvx2 : kNrPortable; }
int mrFor(int isa) { return isa == kAvx512 ? kMrAvx512 : isa == kAvx2 ? kMrAvx2 : kMrPortable; }
// Upper bound on rows per task block (A block mc×kc stays in L2).
int mcMaxFor(int isa) { return isa == kAvx512 ? 144 : isa == kAvx2 ? 96 : 64; }

// Software prefetch distance along a weight panel, in floats, for short micro-tiles.
constexpr int kPrefetchFloats = 1024;

// A row block whose A (rows × K) is at most this many bytes loops over weight panels outermost
// (its A stays in the 1 MB L2 while each panel's C tile stays in L1 across the K blocks); a
// larger one keeps the K block outermost and its C block in L2 instead. With K = 384 and N =
// 1152/1536 the K-outer order sent a 144 × N C block (660-880 KB) through L3 twice per task:
// 6,269-row GEMMs went from ~305 to ~345-365 GFLOP/s (median, Zen 5, 2 threads).
constexpr int64_t kPanelOuterBytes = 256 * 1024;

// K block size: depends on K only (never on M), so the summation order of a row is fixed.
constexpr int kKcMax = 256;
int kBlock(int K) {
  if (K <= kKcMax) return std::max(K, 1);
  int nkb = (K + kKcMax - 1) / kKcMax;
  return (K + nkb - 1) / nkb;
}

float* allocAligned(int64_t floats) {
  return static_cast<float*>(
      ::operator new[](static_cast<size_t>(std::max<int64_t>(floats, 1)) * sizeof(float),
                       std::align_val_t(64)));
}

// What the micro-kernel does after the last K block, already offset to the tile.
struct Epi {
  Epilogue ep = Epilogue::None;
  const float* bias = nullptr;      // at column n0 (may be null)
  const float* residual = nullptr;  // at (m0, n0)
  int64_t ldr = 0;
};

// ---- portable micro-kernel: 6 × 8 with 4-float generic vectors (SSE2 / NEON / scalar) -----

typedef float v4 __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

inline v4 splat4(float x) {  // one broadcast (see attention.cc's vset)
#if defined(__clang__)
  const v4 v = {x};
  return __builtin_shufflevector(v, v, 0, 0, 0, 0);
#else
  return __builtin_shuffle(v4{x}, v4i{});
#endif
}

inline v4 load4(const float* p) {
  v4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <int MR, bool TA>
void kernelPortable(int kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
                    int nr, bool accumulate, const Epi& epi) {
  constexpr int NR = kNrPortable, NV = NR / 4, mr = MR;
  static_assert(NR % 4 == 0, "portable NR must be a multiple of 4");
  v4 acc[MR][NV];
  for (int i = 0; i < MR; ++i) {
    float row[NR];
    for (int j = 0; j < NR; ++j) row[j] = (accumulate && j < nr) ? c[i * ldc + j] : 0.f;
    for (int v = 0; v < NV; ++v) acc[i][v] = load4(row + 4 * v);
  }
  for (int k = 0; k < kc; ++k) {
    const float* bk = b + static_cast<int64_t>(k) * NR;
    v4 bv[NV];
    for (int v = 0; v < NV; ++v) bv[v] = load4(bk + 4 * v);
    for (int i = 0; i < MR; ++i) {
      const v4 ai = splat4(TA ? a[k * lda + i] : a[i * lda + k]);
      for (int v = 0; v < NV; ++v) acc[i][v] += ai * bv[v];
    }
  }
  for (int i = 0; i < mr; ++i) {
    float row[NR];
    for (int v = 0; v < NV; ++v) {
      v4 x = acc[i][v];
      if (epi.ep != Epilogue::None) {
        if (epi.bias) {
          float bb[4] = {0.f, 0.f, 0.f, 0.f};
          for (int l = 0; l < 4 && 4 * v + l < nr; ++l) bb[l] = epi.bias[4 * v + l];
          x += load4(bb);
        }
        if (epi.ep == Epilogue::BiasGelu) x = simd::geluGeneric(x);
      }
      std::memcpy(row + 4 * v, &x, sizeof x);
    }
    float* ci = c + i * ldc;
    if (epi.ep == Epilogue::BiasResidual) {
      for (int j = 0; j < nr; ++j) ci[j] = row[j] + epi.residual[i * epi.ldr + j];
    } else {
      for (int j = 0; j < nr; ++j) ci[j] = row[j];
    }
  }
}

#if SBERT_X86

// ---- AVX-512 micro-kernel: 12 × 32 (24 zmm accumulators) ----------------------------------

template <int MR, bool TA>
SBERT_TARGET_AVX512 void kernelAvx512(int kc, const float* __restrict a, int64_t lda,
                                      const float* __restrict b, float* c, int64_t ldc, int nr,
                                      bool accumulate, const Epi& epi) {
  const __mmask16 m0 = nr >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << nr) - 1);
  const __mmask16 m1 = nr >= 32 ? __mmask16(0xFFFF)
                       : nr > 16 ? __mmask16((1u << (nr - 16)) - 1)
                                 : __mmask16(0);
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) {
    if (accumulate) {
      c0[i] = _mm512_maskz_loadu_ps(m0, c + i * ldc);
      c1[i] = _mm512_maskz_loadu_ps(m1, c + i * ldc + 16);
    } else {
      c0[i] = _mm512_setzero_ps();
      c1[i] = _mm512_setzero_ps();
    }
  }
  for (int k = 0; k < kc; ++k) {
    if (MR <= 8) {  // short tiles stream B from memory: fetch ahead (no effect on results)
      _mm_prefetch(reinterpret_cast<const char*>(b + k * 32 + kPrefetchFloats), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(b + k * 32 + kPrefetchFloats + 16), _MM_HINT_T0);
    }
    const __m512 b0 = _mm512_load_ps(b + k * 32);
    const __m512 b1 = _mm512_load_ps(b + k * 32 + 16);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      const __m512 ai = _mm512_set1_ps(TA ? a[k * lda + i] : a[i * lda + k]);
      c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
    }
  }
  const bool hasBias = epi.ep != Epilogue::None && epi.bias;
  const __m512 bias0 = hasBias ? _mm512_maskz_loadu_ps(m0, epi.bias) : _mm512_setzero_ps();
  const __m512 bias1 = hasBias ? _mm512_maskz_loadu_ps(m1, epi.bias + 16) : _mm512_setzero_ps();
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) {
    __m512 v0 = c0[i], v1 = c1[i];
    if (epi.ep != Epilogue::None) {
      v0 = _mm512_add_ps(v0, bias0);
      v1 = _mm512_add_ps(v1, bias1);
      if (epi.ep == Epilogue::BiasGelu) {
        v0 = simd::gelu512(v0);
        v1 = simd::gelu512(v1);
      } else if (epi.ep == Epilogue::BiasResidual) {
        const float* r = epi.residual + i * epi.ldr;
        v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, r));
        v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, r + 16));
      }
    }
    _mm512_mask_storeu_ps(c + i * ldc, m0, v0);
    _mm512_mask_storeu_ps(c + i * ldc + 16, m1, v1);
  }
}

// ---- AVX2+FMA micro-kernel: 6 × 16 (12 ymm accumulators) -----------------------------------

alignas(32) const int32_t kMaskTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

SBERT_TARGET_AVX2 inline __m256i laneMask(int n) {
  n = std::min(std::max(n, 0), 8);
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMaskTable + 8 - n));
}

template <int MR, bool TA>
SBERT_TARGET_AVX2 void kernelAvx2(int kc, const float* __restrict a, int64_t lda,
                                  const float* __restrict b, float* c, int64_t ldc, int nr,
                                  bool accumulate, const Epi& epi) {
  const __m256i m0 = laneMask(nr), m1 = laneMask(nr - 8);
  __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    if (accumulate) {
      c0[i] = _mm256_maskload_ps(c + i * ldc, m0);
      c1[i] = _mm256_maskload_ps(c + i * ldc + 8, m1);
    } else {
      c0[i] = _mm256_setzero_ps();
      c1[i] = _mm256_setzero_ps();
    }
  }
  for (int k = 0; k < kc; ++k) {
    if (MR <= 4) {  // short tiles stream B from memory: fetch ahead (no effect on results)
      _mm_prefetch(reinterpret_cast<const char*>(b + k * 16 + kPrefetchFloats), _MM_HINT_T0);
    }
    const __m256 b0 = _mm256_load_ps(b + k * 16);
    const __m256 b1 = _mm256_load_ps(b + k * 16 + 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(TA ? a + k * lda + i : a + i * lda + k);
      c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
    }
  }
  const bool hasBias = epi.ep != Epilogue::None && epi.bias;
  const __m256 bias0 = hasBias ? _mm256_maskload_ps(epi.bias, m0) : _mm256_setzero_ps();
  const __m256 bias1 = hasBias ? _mm256_maskload_ps(epi.bias + 8, m1) : _mm256_setzero_ps();
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    __m256 v0 = c0[i], v1 = c1[i];
    if (epi.ep != Epilogue::None) {
      v0 = _mm256_add_ps(v0, bias0);
      v1 = _mm256_add_ps(v1, bias1);
      if (epi.ep == Epilogue::BiasGelu) {
        v0 = simd::gelu256(v0);
        v1 = simd::gelu256(v1);
      } else if (epi.ep == Epilogue::BiasResidual) {
        const float* r = epi.residual + i * epi.ldr;
        v0 = _mm256_add_ps(v0, _mm256_maskload_ps(r, m0));
        v1 = _mm256_add_ps(v1, _mm256_maskload_ps(r + 8, m1));
      }
    }
    _mm256_maskstore_ps(c + i * ldc, m0, v0);
    _mm256_maskstore_ps(c + i * ldc + 8, m1, v1);
  }
}

#endif  // SBERT_X86

using KernelFn = void (*)(int, const float*, int64_t, const float*, float*, int64_t, int, bool,
                          const Epi&);

// kernels[ta][r] computes exactly r rows (1 ≤ r ≤ MR), reading A in place (ta: A is stored
// transposed, element (i, k) at a[k·lda + i]); every instance runs the same per-element
// sequence (start from 0 or C, FMA over k in order, same epilogue), so which instance computes
// a row never changes its bits.
const KernelFn kPortableKernels[2][6 + 1] = {
    {nullptr, kernelPortable<1, false>, kernelPortable<2, false>, kernelPortable<3, false>, kernelPortable<4, false>, kernelPortable<5, false>, kernelPortable<6, false>},
    {nullptr, kernelPortable<1, true>, kernelPortable<2, true>, kernelPortable<3, true>, kernelPortable<4, true>, kernelPortable<5, true>, kernelPortable<6, true>}};
static_assert(kMrPortable == 6, "kPortableKernels lists MR = 6 instances");
#if SBERT_X86
const KernelFn kAvx512Kernels[2][12 + 1] = {
    {nullptr, kernelAvx512<1, false>, kernelAvx512<2, false>, kernelAvx512<3, false>, kernelAvx512<4, false>, kernelAvx512<5, false>, kernelAvx512<6, false>, kernelAvx512<7, false>, kernelAvx512<8, false>, kernelAvx512<9, false>, kernelAvx512<10, false>, kernelAvx512<11, false>, kernelAvx512<12, false>},
    {nullptr, kernelAvx512<1, true>, kernelAvx512<2, true>, kernelAvx512<3, true>, kernelAvx512<4, true>, kernelAvx512<5, true>, kernelAvx512<6, true>, kernelAvx512<7, true>, kernelAvx512<8, true>, kernelAvx512<9, true>, kernelAvx512<10, true>, kernelAvx512<11, true>, kernelAvx512<12, true>}};
static_assert(kMrAvx512 == 12, "kAvx512Kernels lists MR = 12 instances");
const KernelFn kAvx2Kernels[2][6 + 1] = {
    {nullptr, kernelAvx2<1, false>, kernelAvx2<2, false>, kernelAvx2<3, false>, kernelAvx2<4, false>, kernelAvx2<5, false>, kernelAvx2<6, false>},
    {nullptr, kernelAvx2<1, true>, kernelAvx2<2, true>, kernelAvx2<3, true>, kernelAvx2<4, true>, kernelAvx2<5, true>, kernelAvx2<6, true>}};
static_assert(kMrAvx2 == 6, "kAvx2Kernels lists MR = 6 instances");
#endif

const KernelFn* kernelsFor(int isa, bool transA) {
#if SBERT_X86
  if (isa == kAvx512) return kAvx512Kernels[transA];
  if (isa == kAvx2) return kAvx2Kernels[transA];
#endif
  return kPortableKernels[transA];
}

// Height of the next micro-tile when `left` rows remain: full MR tiles, except that a short
// remainder (< MR/2) is merged with the tile before it and the two are split evenly (e.g. 14
// rows with MR = 12 run as 7 + 7, not 12 + 2), so no row is ever padded or computed twice.
inline int nextTile(int left, int MR) {
  if (left <= MR) return left;
  if (left >= 2 * MR) return MR;
  const int rem = left - MR;
  return rem >= MR / 2 ? MR : (left + 1) / 2;
}

}  // namespace

namespace {

// Packs the [N, K] matrix whose element (n, k) is W[n·rowStride + k·colStride] into NR-wide
// column panels ([K][nr] each, zero-padded). rowStride = K packs W itself (packWeight);
// rowStride = 1, colStride = N packs the transpose of a row-major [K, N] matrix
// (packWeightTransposed); the loops run along whichever index is contiguous in memory.
void packPanels(PackedWeight& pw, const float* W, int N, int K, int64_t rowStride,
                int64_t colStride) {
  SBERT_CHECK(N >= 0 && K >= 0, "ERR_INTERNAL", "packWeight: negative shape");
  SBERT_CHECK(W != nullptr || int64_t(N) * K == 0, "ERR_INTERNAL", "packWeight: null weight");
  pw.N = N;
  pw.K = K;
  pw.isa = activeIsa();
  pw.nr = nrFor(pw.isa);
  const int nr = pw.nr;
  const int64_t panels = (N + nr - 1) / nr;
  pw.floats = panels * K * nr;
  if (!pw.data || pw.capacity < pw.floats) {
    pw.data.reset();  // release first: peak memory is not old + new
    pw.data.reset(allocAligned(pw.floats));
    pw.capacity = pw.floats;
  }
  float* dst = pw.data.get();
  parallelFor(0, panels, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      float* d = dst + p * K * nr;
      const int64_t n0 = p * nr;
      const int cols = static_cast<int>(std::min<int64_t>(nr, N - n0));
      if (colStride == 1) {
        for (int j = 0; j < nr; ++j) {
          if (j < cols) {
            const float* src = W + (n0 + j) * rowStride;
            for (int k = 0; k < K; ++k) d[static_cast<int64_t>(k) * nr + j] = src[k];
          } else {
            for (int k = 0; k < K; ++k) d[static_cast<int64_t>(k) * nr + j] = 0.f;
          }
        }
      } else {
        for (int k = 0; k < K; ++k) {
          const float* src = W + k * colStride + n0 * rowStride;
          float* dk = d + static_cast<int64_t>(k) * nr;
          for (int j = 0; j < cols; ++j) dk[j] = src[j * rowStride];
          for (int j = cols; j < nr; ++j) dk[j] = 0.f;
        }
      }
    }
  });
}

}  // namespace

PackedWeight packWeight(const float* W, int N, int K) {
  PackedWeight pw;
  packPanels(pw, W, N, K, K, 1);
  return pw;
}

PackedWeight packWeightTransposed(const float* W, int N, int K) {
  PackedWeight pw;
  packPanels(pw, W, K, N, 1, K);
  return pw;
}

void packWeightInto(PackedWeight& pw, const float* W, int N, int K) {
  packPanels(pw, W, N, K, K, 1);
}

void packWeightTransposedInto(PackedWeight& pw, const float* W, int N, int K) {
  packPanels(pw, W, K, N, 1, K);
}

namespace {

// C = A·Wᵀ (+ epilogue) with A read in place: element (m, k) at A[m·lda + k], or at
// A[k·lda + m] when transA.
void linearImpl(const float* A, int64_t lda, bool transA, int64_t M, int K,
                const PackedWeight& W, const float* bias, const float* residual, Epilogue ep,
                float* C) {
  SBERT_CHECK(W.K == K, "ERR_INTERNAL", "linear: K does not match the packed weight");
  SBERT_CHECK(M >= 0, "ERR_INTERNAL", "linear: negative M");
  const int N = W.N;
  if (M == 0 || N == 0) return;
  SBERT_CHECK(W.data != nullptr, "ERR_INTERNAL", "linear: empty packed weight");
  SBERT_CHECK(W.isa <= activeIsa(), "ERR_INTERNAL", "linear: weight packed for another CPU");
  SBERT_CHECK(ep != Epilogue::BiasResidual || residual != nullptr, "ERR_INTERNAL",
              "linear: BiasResidual needs a residual");

  const int isa = W.isa;
  const int MR = mrFor(isa), NR = W.nr;
  const KernelFn* kernels = kernelsFor(isa, transA);
  const int kc = kBlock(K);
  const int nkb = K == 0 ? 1 : (K + kc - 1) / kc;
  const int nPanels = (N + NR - 1) / NR;
  const int threads = numThreads();

  // Row blocks: at most mcMax rows, a multiple of MR, and a block count that spreads evenly
  // over the threads. (Tiling never changes results, only speed.)
  const int mcMax = mcMaxFor(isa);
  int64_t mBlocks = (M + mcMax - 1) / mcMax;
  if (mBlocks > 1 && threads > 1) mBlocks = (mBlocks + threads - 1) / threads * threads;
  int64_t mc = (M + mBlocks - 1) / mBlocks;
  mc = (mc + MR - 1) / MR * MR;
  mBlocks = (M + mc - 1) / mc;
  // Column chunks: split N when there are too few row blocks to keep the threads busy. With
  // fewer row blocks than threads (small M: one sentence) split N finely, so the pool's
  // dynamic chunk claiming balances the threads even when a worker wakes up late.
  const int64_t wantTasks = mBlocks < threads ? 4 * threads : 2 * threads;
  int panelsPerChunk = nPanels;
  while (mBlocks * ((nPanels + panelsPerChunk - 1) / panelsPerChunk) < wantTasks &&
         panelsPerChunk > 1) {
    panelsPerChunk = (panelsPerChunk + 1) / 2;
  }
  const int64_t nChunks = (nPanels + panelsPerChunk - 1) / panelsPerChunk;
  const int64_t tasks = mBlocks * nChunks;
  const double flops = 2.0 * double(M) * N * std::max(K, 1);

  auto run = [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t mb = t / nChunks, nb = t % nChunks;
      const int64_t m0 = mb * mc;
      const int rows = static_cast<int>(std::min<int64_t>(mc, M - m0));
      const int p0 = static_cast<int>(nb * panelsPerChunk);
      const int p1 = std::min(nPanels, p0 + panelsPerChunk);
      // One K block of one weight panel down the row block.
      auto block = [&](int kb, int p) {
        const int k0 = kb * kc;
        const int kcb = std::min(kc, K - k0);
        const bool last = kb == nkb - 1;
        const int n0 = p * NR;
        const int nr = std::min(NR, N - n0);
        const float* bp =
            W.data.get() + static_cast<int64_t>(p) * K * NR + static_cast<int64_t>(k0) * NR;
        for (int ir = 0; ir < rows;) {
          const int mr = nextTile(rows - ir, MR);
          Epi epi;
          if (last && ep != Epilogue::Accumulate) {
            epi.ep = ep;
            epi.bias = bias ? bias + n0 : nullptr;
            if (ep == Epilogue::BiasResidual) {
              epi.residual = residual + (m0 + ir) * N + n0;
              epi.ldr = N;
            }
          }
          // Every micro-tile reads A in place (row-major, lda = K), exactly mr rows.
          const float* a = transA ? A + int64_t(k0) * lda + (m0 + ir) : A + (m0 + ir) * lda + k0;
          kernels[mr](kcb, a, lda, bp, C + (m0 + ir) * N + n0, N, nr,
                      kb > 0 || ep == Epilogue::Accumulate, epi);
          ir += mr;
        }
      };
      // Either order runs each element's K blocks in order 0..nkb-1 (same FMA chain). A row
      // block whose rows × K of A fit in L2 walks the panels outermost: C is written once per
      // tile, and a lone short block (one sentence) reads its weights as one contiguous stream.
      // A block with a long K keeps the GotoBLAS order (K block outermost, C block in L2).
      if (int64_t(rows) * K * int64_t(sizeof(float)) <= kPanelOuterBytes) {
        for (int p = p0; p < p1; ++p) {
          for (int kb = 0; kb < nkb; ++kb) block(kb, p);
        }
      } else {
        for (int kb = 0; kb < nkb; ++kb) {
          for (int p = p0; p < p1; ++p) block(kb, p);
        }
      }
    }
  };
  if (tasks == 1 || threads == 1 || flops < 2.0e5) {
    run(0, tasks);
  } else {
    parallelFor(0, tasks, 1, run);
  }
}

}  // namespace

void linear(const float* A, int64_t M, int K, const PackedWeight& W, const float* bias,
            const float* residual, Epilogue ep, float* C) {
  linearImpl(A, K, false, M, K, W, bias, residual, ep, C);
}

void linearBackwardInput(const float* dY, int64_t M, const PackedWeight& Wt,
                         const float* residual, float* dX) {
  linear(dY, M, Wt.K, Wt, nullptr, residual,
         residual ? Epilogue::BiasResidual : Epilogue::None, dX);
}

void linearBackwardWeight(const float* dY, int64_t ldDY, int64_t M, int N, const PackedWeight& Xt,
                          float* dW, float* db) {
  SBERT_CHECK(Xt.K == M, "ERR_INTERNAL", "linearBackwardWeight: X has another row count");
  const int K = Xt.N;
  if (M == 0 || N == 0 || K == 0) return;
  // dW += dYᵀ · X as a Linear: C[N, K] += A[N, M] · (Xᵀ)ᵀ with Xᵀ packed as the weight and A
  // = dYᵀ read in place (the micro-kernel's transposed-A form).
  linearImpl(dY, ldDY, true, N, int(M), Xt, nullptr, nullptr, Epilogue::Accumulate, dW);
  if (db) {
    // Column sums of dY in double, threads splitting the columns.
    parallelFor(0, N, 64, [&](int64_t c0, int64_t c1) {
      std::vector<double> s(size_t(c1 - c0), 0.0);
      for (int64_t r = 0; r < M; ++r) {
        const float* row = dY + r * ldDY;
        for (int64_t c = c0; c < c1; ++c) s[size_t(c - c0)] += row[c];
      }
      for (int64_t c = c0; c < c1; ++c) db[c] += static_cast<float>(s[size_t(c - c0)]);
    });
  }
}

void linearReference(const float* A, int64_t M, int K, const float* W, int N, const float* bias,
                     const float* residual, Epilogue ep, float* C) {
  for (int64_t m = 0; m < M; ++m) {
    for (int n = 0; n < N; ++n) {
      double s = 0;
      for (int k = 0; k < K; ++k) s += double(A[m * K + k]) * double(W[int64_t(n) * K + k]);
      if (ep != Epilogue::None && ep != Epilogue::Accumulate && bias) s += bias[n];
      if (ep == Epilogue::BiasGelu) s = 0.5 * s * std::erfc(-s / std::sqrt(2.0));
      if (ep == Epilogue::BiasResidual) s += residual[m * N + n];
      if (ep == Epilogue::Accumulate) s += C[m * N + n];
      C[m * N + n] = static_cast<float>(s);
    }
  }
}

}  // namespace sbert
