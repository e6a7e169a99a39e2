// Blocked fp32 GEMM with prepacked weights, see gemm.h for the contract.
//
// Blocking (GotoBLAS order, A not packed): the task grid of gemm_blocking.h, (M block of `mc`
// rows) × (chunk of NR-wide weight panels), shared with the int8 and bf16 GEMMs. A task walks K
// in blocks of `kc` (a function of K only); per K block and weight panel (its [kc][NR] slice
// stays in L1) it runs the MR×NR micro-kernel down the M block, which reads A in place
// (row-major; the mc×kc block stays in L2). Each micro-kernel is instantiated for every row
// count 1..MR, so a short last micro-tile (a 14-token sentence) is computed with exactly its
// rows instead of being padded. The first K block starts the accumulators at zero (or at C
// for Accumulate), later ones continue from C, and the last applies the epilogue
// (gemm_epilogue.h) before the store, so every element is one fp32 FMA chain over k = 0..K-1
// whatever the tiling.
#include "gemm.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <vector>

#include "common/error.h"
#include "common/thread_pool.h"
#include "cpu_features.h"
#include "gemm_blocking.h"
#include "gemm_epilogue.h"
#include "gemm_paths.h"
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

// What the micro-kernel does after the last K block (None before it, and for Accumulate,
// whose chain starts from C).
using gemm::TileEpilogue;

// ---- portable micro-kernel: 6 × 8 with 4-float generic vectors (SSE2 / NEON / scalar) -----

using gemm::v4;
using gemm::load4;
typedef int32_t v4i __attribute__((vector_size(16)));

inline v4 splat4(float x) {  // one broadcast (see attention.cc's vset)
#if defined(__clang__)
  const v4 v = {x};
  return __builtin_shufflevector(v, v, 0, 0, 0, 0);
#else
  return __builtin_shuffle(v4{x}, v4i{});
#endif
}

template <int MR, bool TA>
void kernelPortable(int kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
                    int nr, bool accumulate, const TileEpilogue& epi) {
  constexpr int NR = kNrPortable, NV = NR / 4;
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
  for (int i = 0; i < MR; ++i) {
    float row[NR];
    std::memcpy(row, acc[i], sizeof row);
    gemm::storeRowPortable<NR>(row, c + i * ldc, nr, i, epi);
  }
}

#if SBERT_X86

// ---- AVX-512 micro-kernel: 12 × 32 (24 zmm accumulators) ----------------------------------

template <int MR, bool TA>
SBERT_TARGET_AVX512 void kernelAvx512(int kc, const float* __restrict a, int64_t lda,
                                      const float* __restrict b, float* c, int64_t ldc, int nr,
                                      bool accumulate, const TileEpilogue& epi) {
  __m512 c0[MR], c1[MR];
  gemm::startChain512<MR>(c0, c1, c, ldc, nr, accumulate);
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
  const gemm::RowStore512 out(nr, epi);
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) out.store(c0[i], c1[i], c + i * ldc, i, epi);
}

// ---- AVX2+FMA micro-kernel: 6 × 16 (12 ymm accumulators) -----------------------------------

template <int MR, bool TA>
SBERT_TARGET_AVX2 void kernelAvx2(int kc, const float* __restrict a, int64_t lda,
                                  const float* __restrict b, float* c, int64_t ldc, int nr,
                                  bool accumulate, const TileEpilogue& epi) {
  __m256 c0[MR], c1[MR];
  gemm::startChain256<MR>(c0, c1, c, ldc, nr, accumulate);
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
  const gemm::RowStore256 out(nr, epi);
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) out.store(c0[i], c1[i], c + i * ldc, i, epi);
}

#endif  // SBERT_X86

using KernelFn = void (*)(int, const float*, int64_t, const float*, float*, int64_t, int, bool,
                          const TileEpilogue&);

// kernels[ta][r] computes exactly r rows (1 ≤ r ≤ MR), reading A in place (ta: A is stored
// transposed, element (i, k) at a[k·lda + i]); every instance runs the same per-element
// sequence (start from 0 or C, FMA over k in order, same epilogue), so which instance computes
// a row never changes its bits.
const std::array<KernelFn, kMrPortable + 1> kPortableKernels[2] = {
    blocking::rowKernels<KernelFn, kMrPortable>(
        [](auto r) -> KernelFn { return kernelPortable<decltype(r)::value, false>; }),
    blocking::rowKernels<KernelFn, kMrPortable>(
        [](auto r) -> KernelFn { return kernelPortable<decltype(r)::value, true>; })};
#if SBERT_X86
const std::array<KernelFn, kMrAvx512 + 1> kAvx512Kernels[2] = {
    blocking::rowKernels<KernelFn, kMrAvx512>(
        [](auto r) -> KernelFn { return kernelAvx512<decltype(r)::value, false>; }),
    blocking::rowKernels<KernelFn, kMrAvx512>(
        [](auto r) -> KernelFn { return kernelAvx512<decltype(r)::value, true>; })};
const std::array<KernelFn, kMrAvx2 + 1> kAvx2Kernels[2] = {
    blocking::rowKernels<KernelFn, kMrAvx2>(
        [](auto r) -> KernelFn { return kernelAvx2<decltype(r)::value, false>; }),
    blocking::rowKernels<KernelFn, kMrAvx2>(
        [](auto r) -> KernelFn { return kernelAvx2<decltype(r)::value, true>; })};
#endif

const KernelFn* kernelsFor(int isa, bool transA) {
#if SBERT_X86
  if (isa == kAvx512) return kAvx512Kernels[transA].data();
  if (isa == kAvx2) return kAvx2Kernels[transA].data();
#endif
  return kPortableKernels[transA].data();
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
  const int N = W.N;
  if (!gemm::checkLinearCall("linear", W.K, K, M, N, W.data != nullptr, W.isa <= activeIsa(), ep,
                             residual)) {
    return;
  }
  const int isa = W.isa;
  const int MR = mrFor(isa), NR = W.nr;
  const KernelFn* kernels = kernelsFor(isa, transA);
  const int kc = kBlock(K);
  const int nkb = K == 0 ? 1 : (K + kc - 1) / kc;
  const int nPanels = (N + NR - 1) / NR;
  // Threads are woken from 2·10⁵ operations (the low-precision GEMMs: 4·10⁵).
  const double flops = 2.0 * double(M) * N * std::max(K, 1);
  blocking::runGemmTasks(M, nPanels, MR, mcMaxFor(isa), flops, 2.0e5,
                         [&](int64_t m0, int rows, int p0, int p1) {
    // One K block of one weight panel down the row block.
    auto block = [&](int kb, int p) {
      const int k0 = kb * kc;
      const int kcb = std::min(kc, K - k0);
      const bool last = kb == nkb - 1;
      const int n0 = p * NR;
      const int nr = std::min(NR, N - n0);
      const float* bp =
          W.data.get() + static_cast<int64_t>(p) * K * NR + static_cast<int64_t>(k0) * NR;
      blocking::forEachMicroTile(rows, MR, [&](int ir, int mr) {
        const TileEpilogue epi = last && ep != Epilogue::Accumulate
                                     ? TileEpilogue::at(ep, bias, residual, N, m0 + ir, n0)
                                     : TileEpilogue{};
        // Every micro-tile reads A in place (row-major, lda = K), exactly mr rows.
        const float* a = transA ? A + int64_t(k0) * lda + (m0 + ir) : A + (m0 + ir) * lda + k0;
        kernels[mr](kcb, a, lda, bp, C + (m0 + ir) * N + n0, N, nr,
                    kb > 0 || ep == Epilogue::Accumulate, epi);
      });
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
  });
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
