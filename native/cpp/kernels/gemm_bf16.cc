// bf16 GEMM with fp32 accumulation; see gemm_bf16.h for the contract. Blocking and threading
// are gemm_blocking.h's (as the int8 GEMM): each micro-kernel call covers the whole of K, so
// every element is one fp32 accumulation chain over k in order, whatever the tiling. The SIMD
// kernels start that chain from C for Accumulate and finish it through gemm_epilogue.h, as the
// fp32 GEMM does; what this file holds is bf16's own: the packed format, the conversion of A
// and the micro-kernels' k loops.
#include "gemm_bf16.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>

#include "common/error.h"
#include "common/half.h"
#include "cpu_features.h"
#include "gemm_amx.h"
#include "gemm_blocking.h"
#include "gemm_epilogue.h"
#include "gemm_paths.h"
#include "simd_math.h"

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports its own _mm512_undefined_* inside some intrinsics as uninitialized.
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#if SBERT_X86
#define SBERT_TARGET_AVX512BF16 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,avx2,fma")))
#endif

namespace sbert {

void PackedWeightBf16::Free::operator()(uint16_t* p) const {
  ::operator delete[](p, std::align_val_t(64));
}

namespace {

struct PathShape {
  int mr, nr, mcMax;
};

PathShape shapeOf(Bf16Path p) {
  switch (p) {
    case Bf16Path::Amx: return {32, 32, 256};
    case Bf16Path::Avx512Bf16: return {12, 32, 144};
    case Bf16Path::Avx512: return {12, 32, 144};
    case Bf16Path::Avx2: return {6, 16, 96};
    default: return {6, 16, 64};
  }
}

// Pairs of k per packed row: ceil(K/2), and a whole number of 16-pair AMX tiles for AMX.
int pairsOf(Bf16Path p, int K) {
  const int kp = (K + 1) / 2;
  return p == Bf16Path::Amx ? (kp + 15) / 16 * 16 : kp;
}

using gemm::TileEpilogue;

// Native kernels read a row block of A converted to bf16 (lda in elements, K padded to even);
// emulated ones read fp32 A in place (lda = K). `b` is one weight panel, [ceil(K/2)][NR][2].
// `accumulate`: the fp32 chain starts from C (Accumulate; epi is then None).
using KernelFn = void (*)(int K, const void* a, int64_t lda, const uint16_t* b, float* c,
                          int64_t ldc, int nr, bool accumulate, const TileEpilogue& epi);

// ---- portable emulation: MR × 16 with generic 4-float vectors ------------------------------

using gemm::v4;

template <int MR>
void kernelPortable(int K, const void* av, int64_t lda, const uint16_t* b, float* c, int64_t ldc,
                    int nr, bool accumulate, const TileEpilogue& epi) {
  constexpr int NR = 16;
  const float* a = static_cast<const float*>(av);
  v4 acc[MR][4];
  for (int i = 0; i < MR; ++i) {
    float row[NR];
    for (int j = 0; j < NR; ++j) row[j] = accumulate && j < nr ? c[i * ldc + j] : 0.f;
    for (int v = 0; v < 4; ++v) std::memcpy(&acc[i][v], row + 4 * v, sizeof(v4));
  }
  for (int k = 0; k < K; ++k) {
    const uint16_t* bk = b + int64_t(k / 2) * NR * 2 + (k & 1);
    v4 w[4];
    for (int v = 0; v < 4; ++v) {
      w[v] = v4{bf16ToFloat(bk[2 * (4 * v)]), bf16ToFloat(bk[2 * (4 * v + 1)]),
                bf16ToFloat(bk[2 * (4 * v + 2)]), bf16ToFloat(bk[2 * (4 * v + 3)])};
    }
    for (int i = 0; i < MR; ++i) {
      const float ai = a[i * lda + k];
      for (int v = 0; v < 4; ++v) acc[i][v] += ai * w[v];
    }
  }
  for (int i = 0; i < MR; ++i) {
    float row[NR];
    std::memcpy(row, acc[i], sizeof row);
    gemm::storeRowPortable<NR>(row, c + i * ldc, nr, i, epi);
  }
}

#if SBERT_X86

inline int32_t load4(const uint16_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// ---- AVX512-BF16: vdpbf16ps, 12 × 32 -------------------------------------------------------

// acc += a·b over bf16 pairs. Inline asm: GCC 12 copied and spilled the tied accumulators of
// the intrinsic form.
SBERT_TARGET_AVX512BF16 inline __m512 dpbf16(__m512 acc, __m512i a, __m512i b) {
  __asm__("vdpbf16ps %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
  return acc;
}

template <int MR>
SBERT_TARGET_AVX512BF16 void kernelAvx512Bf16(int K, const void* av, int64_t lda,
                                              const uint16_t* __restrict b, float* c, int64_t ldc,
                                              int nr, bool accumulate, const TileEpilogue& epi) {
  const uint16_t* __restrict a = static_cast<const uint16_t*>(av);
  __m512 c0[MR], c1[MR];
  gemm::startChain512<MR>(c0, c1, c, ldc, nr, accumulate);
  const int kp = (K + 1) / 2;
  for (int p = 0; p < kp; ++p) {
    if (MR <= 4) {
      _mm_prefetch(reinterpret_cast<const char*>(b + p * 64 + 512), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(b + p * 64 + 544), _MM_HINT_T0);
    }
    const __m512i b0 = _mm512_load_si512(b + p * 64);
    const __m512i b1 = _mm512_load_si512(b + p * 64 + 32);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      const __m512i ai = _mm512_set1_epi32(load4(a + i * lda + 2 * p));
      c0[i] = dpbf16(c0[i], ai, b0);
      c1[i] = dpbf16(c1[i], ai, b1);
    }
  }
  const gemm::RowStore512 out(nr, epi);
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) out.store(c0[i], c1[i], c + i * ldc, i, epi);
}

// One row of K floats → kp2 bf16 (round to nearest even; padding K..kp2-1 is 0).
SBERT_TARGET_AVX512BF16 void convertRowAvx512Bf16(const float* x, int K, int kp2, uint16_t* out) {
  int k = 0;
  for (; k + 32 <= K; k += 32) {
    const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + k + 16), _mm512_loadu_ps(x + k));
    _mm512_storeu_si512(out + k, (__m512i)v);
  }
  for (; k < K; k += 16) {
    const __mmask16 m = gemm::lowMask16(K - k);
    const __m256bh v = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, x + k));
    _mm256_mask_storeu_epi16(out + k, m, (__m256i)v);
  }
  for (k = K; k < kp2; ++k) out[k] = 0;
}

// ---- AMX-BF16: 32 × 32 blocks of 2 × 2 tiles, tdpbf16ps -------------------------------------

// kp (pairs of k) is a multiple of 16; `a` holds 32 bf16 rows (rows past mr are zero padding).
// Accumulate adds C to the finished dot products (epi is the call's).
SBERT_TARGET_AMX void kernelAmxBf16(int kp, const uint16_t* a, int64_t lda, const uint16_t* b,
                                    float* c, int64_t ldc, int nr, int mr, const TileEpilogue& epi) {
  alignas(64) float acc[32 * 32];
  amx::block32x32<amx::TileDot::Bf16>(kp / 16, a, lda * 2, b, mr, acc);
  const gemm::RowStore512 out(nr, epi);
  for (int i = 0; i < mr; ++i) {
    out.store(_mm512_load_ps(acc + i * 32), _mm512_load_ps(acc + i * 32 + 16), c + i * ldc, i, epi);
  }
}

// ---- AVX-512F emulation: bf16 weights widened in registers, fp32 A, 12 × 32 ----------------

template <int MR>
SBERT_TARGET_AVX512 void kernelAvx512Emulated(int K, const void* av, int64_t lda,
                                              const uint16_t* __restrict b, float* c,
                                              int64_t ldc, int nr, bool accumulate,
                                              const TileEpilogue& epi) {
  const float* __restrict a = static_cast<const float*>(av);
  __m512 c0[MR], c1[MR];
  gemm::startChain512<MR>(c0, c1, c, ldc, nr, accumulate);
  const __m512i hiMask = _mm512_set1_epi32(int32_t(0xFFFF0000u));
  const int fullPairs = K / 2;
  for (int p = 0; p < fullPairs; ++p) {
    const __m512i x0 = _mm512_load_si512(b + p * 64), x1 = _mm512_load_si512(b + p * 64 + 32);
    const __m512 w0e = _mm512_castsi512_ps(_mm512_slli_epi32(x0, 16));
    const __m512 w1e = _mm512_castsi512_ps(_mm512_slli_epi32(x1, 16));
    const __m512 w0o = _mm512_castsi512_ps(_mm512_and_si512(x0, hiMask));
    const __m512 w1o = _mm512_castsi512_ps(_mm512_and_si512(x1, hiMask));
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      const __m512 ae = _mm512_set1_ps(a[i * lda + 2 * p]);
      c0[i] = _mm512_fmadd_ps(ae, w0e, c0[i]);
      c1[i] = _mm512_fmadd_ps(ae, w1e, c1[i]);
      const __m512 ao = _mm512_set1_ps(a[i * lda + 2 * p + 1]);
      c0[i] = _mm512_fmadd_ps(ao, w0o, c0[i]);
      c1[i] = _mm512_fmadd_ps(ao, w1o, c1[i]);
    }
  }
  if (K & 1) {  // the last k has no partner (its pair's second weight is padding)
    const int p = fullPairs;
    const __m512 w0e = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_load_si512(b + p * 64), 16));
    const __m512 w1e = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_load_si512(b + p * 64 + 32), 16));
    for (int i = 0; i < MR; ++i) {
      const __m512 ae = _mm512_set1_ps(a[i * lda + 2 * p]);
      c0[i] = _mm512_fmadd_ps(ae, w0e, c0[i]);
      c1[i] = _mm512_fmadd_ps(ae, w1e, c1[i]);
    }
  }
  const gemm::RowStore512 out(nr, epi);
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) out.store(c0[i], c1[i], c + i * ldc, i, epi);
}

// ---- AVX2 emulation: 6 × 16 ----------------------------------------------------------------

template <int MR>
SBERT_TARGET_AVX2 void kernelAvx2Emulated(int K, const void* av, int64_t lda,
                                          const uint16_t* __restrict b, float* c, int64_t ldc,
                                          int nr, bool accumulate, const TileEpilogue& epi) {
  const float* __restrict a = static_cast<const float*>(av);
  __m256 c0[MR], c1[MR];
  gemm::startChain256<MR>(c0, c1, c, ldc, nr, accumulate);
  const __m256i hiMask = _mm256_set1_epi32(int32_t(0xFFFF0000u));
  const int kp = (K + 1) / 2;
  for (int p = 0; p < kp; ++p) {
    const __m256i x0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + p * 32));
    const __m256i x1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + p * 32 + 16));
    {  // k = 2p: the low halves of the pairs
      const __m256 w0 = _mm256_castsi256_ps(_mm256_slli_epi32(x0, 16));
      const __m256 w1 = _mm256_castsi256_ps(_mm256_slli_epi32(x1, 16));
#pragma GCC unroll 6
      for (int i = 0; i < MR; ++i) {
        const __m256 ai = _mm256_broadcast_ss(a + i * lda + 2 * p);
        c0[i] = _mm256_fmadd_ps(ai, w0, c0[i]);
        c1[i] = _mm256_fmadd_ps(ai, w1, c1[i]);
      }
    }
    if (2 * p + 1 < K) {  // k = 2p + 1: the high halves
      const __m256 w0 = _mm256_castsi256_ps(_mm256_and_si256(x0, hiMask));
      const __m256 w1 = _mm256_castsi256_ps(_mm256_and_si256(x1, hiMask));
#pragma GCC unroll 6
      for (int i = 0; i < MR; ++i) {
        const __m256 ai = _mm256_broadcast_ss(a + i * lda + 2 * p + 1);
        c0[i] = _mm256_fmadd_ps(ai, w0, c0[i]);
        c1[i] = _mm256_fmadd_ps(ai, w1, c1[i]);
      }
    }
  }
  const gemm::RowStore256 out(nr, epi);
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) out.store(c0[i], c1[i], c + i * ldc, i, epi);
}

#endif  // SBERT_X86

const auto kPortableKernels = blocking::rowKernels<KernelFn, 6>(
    [](auto r) -> KernelFn { return kernelPortable<decltype(r)::value>; });
#if SBERT_X86
const auto kAvx512Bf16Kernels = blocking::rowKernels<KernelFn, 12>(
    [](auto r) -> KernelFn { return kernelAvx512Bf16<decltype(r)::value>; });
const auto kAvx512EmulatedKernels = blocking::rowKernels<KernelFn, 12>(
    [](auto r) -> KernelFn { return kernelAvx512Emulated<decltype(r)::value>; });
const auto kAvx2EmulatedKernels = blocking::rowKernels<KernelFn, 6>(
    [](auto r) -> KernelFn { return kernelAvx2Emulated<decltype(r)::value>; });
#endif

// The table of `p` (AMX has one kernel for every tile height, kernelAmxBf16).
const KernelFn* kernelsFor(Bf16Path p) {
#if SBERT_X86
  if (p == Bf16Path::Avx512Bf16) return kAvx512Bf16Kernels.data();
  if (p == Bf16Path::Avx512) return kAvx512EmulatedKernels.data();
  if (p == Bf16Path::Avx2) return kAvx2EmulatedKernels.data();
#endif
  return kPortableKernels.data();
}

}  // namespace

bool bf16PathAvailable(Bf16Path path) {
  const CpuFeatures& f = activeCpuFeatures();
  switch (path) {
    case Bf16Path::Portable: return true;
#if SBERT_X86
    case Bf16Path::Avx2: return f.avx2 && f.fma;
    case Bf16Path::Avx512: return f.avx2 && f.fma && f.avx512f;
    case Bf16Path::Avx512Bf16:
      return f.avx2 && f.fma && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq &&
             f.avx512bf16;
    case Bf16Path::Amx:  // A is converted by the avx512-bf16 path's row converter
      return bf16PathAvailable(Bf16Path::Avx512Bf16) && f.amxTile && f.amxBf16 && enableAmxTiles();
#endif
    default: return false;
  }
}

const char* bf16PathName(Bf16Path path) {
  switch (path) {
    case Bf16Path::Amx: return "amx-bf16";
    case Bf16Path::Avx512Bf16: return "avx512-bf16";
    case Bf16Path::Avx512: return "avx512-emulated";
    case Bf16Path::Avx2: return "avx2-emulated";
    default: return "portable";
  }
}

std::vector<Bf16Path> availableBf16Paths() {
  return gemm::availablePaths({Bf16Path::Portable, Bf16Path::Avx2, Bf16Path::Avx512,
                               Bf16Path::Avx512Bf16, Bf16Path::Amx},
                              bf16PathAvailable);
}

Bf16Support bf16Support() {
  Bf16Support s;
  if (bf16PathAvailable(Bf16Path::Amx)) {
    s.supported = true;
    s.path = Bf16Path::Amx;
    return s;
  }
  if (bf16PathAvailable(Bf16Path::Avx512Bf16)) {
    s.supported = true;
    s.path = Bf16Path::Avx512Bf16;
    return s;
  }
  // The emulations are not worth offering (bench/gemm_precision.cc, MiniLM-L6 layer, CPU
  // time): avx2-emulated runs at 0.69-0.86x the fp32 AVX2 kernel, avx512-emulated at
  // 1.10-1.14x the fp32 AVX-512 one — far from what bf16 is for, with bf16's accuracy cost. So
  // bf16 is refused here, and a caller that packs anyway gets the best emulation.
  s.path = bf16PathAvailable(Bf16Path::Avx512) ? Bf16Path::Avx512
           : bf16PathAvailable(Bf16Path::Avx2) ? Bf16Path::Avx2
                                               : Bf16Path::Portable;
  s.missingFeature = "avx512_bf16";
  s.message = "bf16 on the CPU needs the avx512_bf16 instructions, which this CPU lacks (it has: " +
              cpuFeatureNames(activeCpuFeatures()) + ")";
  return s;
}

PackedWeightBf16 packWeightBf16(const float* W, int N, int K) {
  return packWeightBf16(W, N, K, bf16Support().path);
}

PackedWeightBf16 packWeightBf16(const float* W, int N, int K, Bf16Path path) {
  SBERT_CHECK(N >= 0 && K >= 0, "ERR_INTERNAL", "packWeightBf16: negative shape");
  SBERT_CHECK(W != nullptr || int64_t(N) * K == 0, "ERR_INTERNAL", "packWeightBf16: null weight");
  if (!bf16PathAvailable(path)) gemm::refuseUnavailablePath("bf16", bf16PathName(path));
  PackedWeightBf16 pw;
  pw.N = N;
  pw.K = K;
  pw.path = path;
  pw.nr = shapeOf(path).nr;
  const int nr = pw.nr, kp = pairsOf(path, K);
  const int64_t panels = (N + nr - 1) / nr;
  pw.elements = panels * kp * nr * 2;
  pw.data.reset(gemm::allocPanels<uint16_t>(pw.elements));
  gemm::fillPanels<2>(pw.data.get(), N, nr, kp, [&](int64_t n, uint16_t* panel, int j) {
    const float* w = W + n * K;
    gemm::scatterRow<2>(panel, nr, j, K, [w](int k) { return floatToBf16(w[k]); });
  });
  return pw;
}

void linearBf16(const float* A, int64_t M, int K, const PackedWeightBf16& W, const float* bias,
                const float* residual, Epilogue ep, float* C) {
  const int N = W.N;
  if (!gemm::checkLinearCall("linearBf16", W.K, K, M, N, W.data != nullptr,
                             bf16PathAvailable(W.path), ep, residual)) {
    return;
  }
  const Bf16Path path = W.path;
  const PathShape shape = shapeOf(path);
  const KernelFn* kernels = kernelsFor(path);
  const bool amx = path == Bf16Path::Amx;
  const bool native = amx || path == Bf16Path::Avx512Bf16;  // A converted to bf16
  const int kp = pairsOf(path, K), kp2 = kp * 2;
  const uint64_t call = blocking::nextGemmCallId();
  thread_local blocking::RowBlockBuffer<uint16_t> buffer;  // each thread's bf16 row block

  auto prepare = [&](int64_t m0, int rows) {
#if SBERT_X86
    if (!native) return;  // the emulations read fp32 A in place
    buffer.load(call, m0, rows, size_t(kp2), amx ? 32 : 0, [&](int r, uint16_t* out) {
      convertRowAvx512Bf16(A + (m0 + r) * K, K, kp2, out);
    });
#endif
  };
  const bool accumulate = ep == Epilogue::Accumulate;
  const Epilogue chainEp = accumulate ? Epilogue::None : ep;
  auto tile = [&](int64_t m0, int ir, int mr, int p, int n0, int nr) {
    const uint16_t* bp = W.data.get() + static_cast<int64_t>(p) * kp * W.nr * 2;
    float* c = C + (m0 + ir) * N + n0;
#if SBERT_X86
    if (amx) {  // Accumulate adds C to the finished dot products
      kernelAmxBf16(kp, buffer.data.data() + size_t(ir) * kp2, kp2, bp, c, N, nr, mr,
                    TileEpilogue::at(ep, bias, residual, N, m0 + ir, n0));
      return;
    }
#endif
    // The SIMD and portable chains start from C for Accumulate and end with no epilogue.
    const TileEpilogue chainEpi = TileEpilogue::at(chainEp, bias, residual, N, m0 + ir, n0);
    if (native) {
      kernels[mr](K, buffer.data.data() + size_t(ir) * kp2, kp2, bp, c, N, nr, accumulate, chainEpi);
    } else {
      kernels[mr](K, A + (m0 + ir) * K, K, bp, c, N, nr, accumulate, chainEpi);
    }
  };
  blocking::runGemmTiles(M, N, W.nr, shape.mr, shape.mcMax, 2.0 * double(M) * N * std::max(K, 1),
                         amx, prepare, tile);
}

}  // namespace sbert
