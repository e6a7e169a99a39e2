// bf16 GEMM with fp32 accumulation; see gemm_bf16.h for the contract. Blocking and threading
// are gemm_blocking.h's (as the int8 GEMM): each micro-kernel call covers the whole of K, so
// every element is one fp32 accumulation chain over k in order, whatever the tiling.
#include "gemm_bf16.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>

#include "common/error.h"
#include "common/half.h"
#include "amx_tiles.h"
#include "cpu_features.h"
#include "gemm_blocking.h"
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

struct Epi {
  Epilogue ep = Epilogue::None;
  const float* bias = nullptr;      // at column n0 (may be null)
  const float* residual = nullptr;  // at (m0, n0)
  int64_t ldr = 0;
};

// Native kernels read a row block of A converted to bf16 (lda in elements, K padded to even);
// emulated ones read fp32 A in place (lda = K). `b` is one weight panel, [ceil(K/2)][NR][2].
using KernelFn = void (*)(int K, const void* a, int64_t lda, const uint16_t* b, float* c,
                          int64_t ldc, int nr, const Epi& epi);

// ---- portable emulation: MR × 16 with generic 4-float vectors ------------------------------

typedef float v4 __attribute__((vector_size(16)));

template <int MR>
void kernelPortable(int K, const void* av, int64_t lda, const uint16_t* b, float* c, int64_t ldc,
                    int nr, const Epi& epi) {
  constexpr int NR = 16;
  const float* a = static_cast<const float*>(av);
  const bool accumulate = epi.ep == Epilogue::Accumulate;
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
    float* ci = c + i * ldc;
    for (int j = 0; j < nr; ++j) {
      float y = row[j];
      if (epi.ep != Epilogue::None && epi.ep != Epilogue::Accumulate) {
        if (epi.bias) y = y + epi.bias[j];
        if (epi.ep == Epilogue::BiasGelu) y = simd::geluGeneric(y);
        if (epi.ep == Epilogue::BiasResidual) y = y + epi.residual[i * epi.ldr + j];
      }
      ci[j] = y;
    }
  }
}

#if SBERT_X86

// ---- AVX-512: shared epilogue of the 12 × 32 kernels ---------------------------------------

inline __mmask16 lowMask(int n) {
  return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
}

template <int MR>
SBERT_TARGET_AVX512 inline void initAcc512(__m512* c0, __m512* c1, const float* c, int64_t ldc,
                                           int nr, const Epi& epi) {
  const __mmask16 m0 = lowMask(nr), m1 = lowMask(nr - 16);
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) {
    if (epi.ep == Epilogue::Accumulate) {
      c0[i] = _mm512_maskz_loadu_ps(m0, c + i * ldc);
      c1[i] = _mm512_maskz_loadu_ps(m1, c + i * ldc + 16);
    } else {
      c0[i] = _mm512_setzero_ps();
      c1[i] = _mm512_setzero_ps();
    }
  }
}

template <int MR>
SBERT_TARGET_AVX512 inline void store512(const __m512* c0, const __m512* c1, float* c,
                                         int64_t ldc, int nr, const Epi& epi) {
  const __mmask16 m0 = lowMask(nr), m1 = lowMask(nr - 16);
  const bool hasBias = epi.ep != Epilogue::None && epi.ep != Epilogue::Accumulate && epi.bias;
  const __m512 bias0 = hasBias ? _mm512_maskz_loadu_ps(m0, epi.bias) : _mm512_setzero_ps();
  const __m512 bias1 = hasBias ? _mm512_maskz_loadu_ps(m1, epi.bias + 16) : _mm512_setzero_ps();
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) {
    __m512 v0 = c0[i], v1 = c1[i];
    if (epi.ep != Epilogue::None && epi.ep != Epilogue::Accumulate) {
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
                                              int nr, const Epi& epi) {
  const uint16_t* __restrict a = static_cast<const uint16_t*>(av);
  __m512 c0[MR], c1[MR];
  initAcc512<MR>(c0, c1, c, ldc, nr, epi);
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
  store512<MR>(c0, c1, c, ldc, nr, epi);
}

// One row of K floats → kp2 bf16 (round to nearest even; padding K..kp2-1 is 0).
SBERT_TARGET_AVX512BF16 void convertRowAvx512Bf16(const float* x, int K, int kp2, uint16_t* out) {
  int k = 0;
  for (; k + 32 <= K; k += 32) {
    const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + k + 16), _mm512_loadu_ps(x + k));
    _mm512_storeu_si512(out + k, (__m512i)v);
  }
  for (; k < K; k += 16) {
    const __mmask16 m = lowMask(K - k);
    const __m256bh v = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, x + k));
    _mm256_mask_storeu_epi16(out + k, m, (__m256i)v);
  }
  for (k = K; k < kp2; ++k) out[k] = 0;
}

// ---- AMX-BF16: 32 × 32 blocks of 2 × 2 tiles, tdpbf16ps -------------------------------------

// kp (pairs of k) is a multiple of 16; `a` holds 32 bf16 rows (rows past mr are zero padding).
SBERT_TARGET_AMX void kernelAmxBf16(int kp, const uint16_t* a, int64_t lda, const uint16_t* b,
                                    float* c, int64_t ldc, int nr, int mr, const Epi& epi) {
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  const int64_t strideA = lda * 2;  // bytes
  const int blocks = kp / 16;
  for (int q = 0; q < blocks; ++q) {
    SBERT_TILE_LOAD(4, a + q * 32, strideA);
    SBERT_TILE_LOAD(6, b + q * 16 * 64, 128);
    SBERT_TILE_LOAD(7, b + q * 16 * 64 + 32, 128);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    if (mr > 16) {
      SBERT_TILE_LOAD(5, a + 16 * lda + q * 32, strideA);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
  }
  alignas(64) float acc[32 * 32];
  SBERT_TILE_STORE(0, acc, 128);
  SBERT_TILE_STORE(1, acc + 16, 128);
  if (mr > 16) {
    SBERT_TILE_STORE(2, acc + 16 * 32, 128);
    SBERT_TILE_STORE(3, acc + 16 * 32 + 16, 128);
  }
  const __mmask16 m0 = lowMask(nr), m1 = lowMask(nr - 16);
  const bool hasBias = epi.ep != Epilogue::None && epi.ep != Epilogue::Accumulate && epi.bias;
  const __m512 bias0 = hasBias ? _mm512_maskz_loadu_ps(m0, epi.bias) : _mm512_setzero_ps();
  const __m512 bias1 = hasBias ? _mm512_maskz_loadu_ps(m1, epi.bias + 16) : _mm512_setzero_ps();
  for (int i = 0; i < mr; ++i) {
    __m512 v0 = _mm512_load_ps(acc + i * 32), v1 = _mm512_load_ps(acc + i * 32 + 16);
    float* ci = c + i * ldc;
    if (epi.ep == Epilogue::Accumulate) {
      v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, ci), v0);
      v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, ci + 16), v1);
    } else if (epi.ep != Epilogue::None) {
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
    _mm512_mask_storeu_ps(ci, m0, v0);
    _mm512_mask_storeu_ps(ci + 16, m1, v1);
  }
}

// ---- AVX-512F emulation: bf16 weights widened in registers, fp32 A, 12 × 32 ----------------

template <int MR>
SBERT_TARGET_AVX512 void kernelAvx512Emulated(int K, const void* av, int64_t lda,
                                              const uint16_t* __restrict b, float* c,
                                              int64_t ldc, int nr, const Epi& epi) {
  const float* __restrict a = static_cast<const float*>(av);
  __m512 c0[MR], c1[MR];
  initAcc512<MR>(c0, c1, c, ldc, nr, epi);
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
  store512<MR>(c0, c1, c, ldc, nr, epi);
}

// ---- AVX2 emulation: 6 × 16 ----------------------------------------------------------------

alignas(32) const int32_t kMaskTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

SBERT_TARGET_AVX2 inline __m256i laneMask(int n) {
  n = std::min(std::max(n, 0), 8);
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMaskTable + 8 - n));
}

template <int MR>
SBERT_TARGET_AVX2 void kernelAvx2Emulated(int K, const void* av, int64_t lda,
                                          const uint16_t* __restrict b, float* c, int64_t ldc,
                                          int nr, const Epi& epi) {
  const float* __restrict a = static_cast<const float*>(av);
  const __m256i m0 = laneMask(nr), m1 = laneMask(nr - 8);
  __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    if (epi.ep == Epilogue::Accumulate) {
      c0[i] = _mm256_maskload_ps(c + i * ldc, m0);
      c1[i] = _mm256_maskload_ps(c + i * ldc + 8, m1);
    } else {
      c0[i] = _mm256_setzero_ps();
      c1[i] = _mm256_setzero_ps();
    }
  }
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
  const bool hasBias = epi.ep != Epilogue::None && epi.ep != Epilogue::Accumulate && epi.bias;
  const __m256 bias0 = hasBias ? _mm256_maskload_ps(epi.bias, m0) : _mm256_setzero_ps();
  const __m256 bias1 = hasBias ? _mm256_maskload_ps(epi.bias + 8, m1) : _mm256_setzero_ps();
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    __m256 v0 = c0[i], v1 = c1[i];
    if (epi.ep != Epilogue::None && epi.ep != Epilogue::Accumulate) {
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

const KernelFn kPortableKernels[6 + 1] = {nullptr,           kernelPortable<1>, kernelPortable<2>,
                                          kernelPortable<3>, kernelPortable<4>, kernelPortable<5>,
                                          kernelPortable<6>};
#if SBERT_X86
const KernelFn kAvx512Bf16Kernels[12 + 1] = {
    nullptr,              kernelAvx512Bf16<1>,  kernelAvx512Bf16<2>, kernelAvx512Bf16<3>,
    kernelAvx512Bf16<4>,  kernelAvx512Bf16<5>,  kernelAvx512Bf16<6>, kernelAvx512Bf16<7>,
    kernelAvx512Bf16<8>,  kernelAvx512Bf16<9>,  kernelAvx512Bf16<10>, kernelAvx512Bf16<11>,
    kernelAvx512Bf16<12>};
const KernelFn kAvx512EmulatedKernels[12 + 1] = {
    nullptr,                  kernelAvx512Emulated<1>,  kernelAvx512Emulated<2>,
    kernelAvx512Emulated<3>,  kernelAvx512Emulated<4>,  kernelAvx512Emulated<5>,
    kernelAvx512Emulated<6>,  kernelAvx512Emulated<7>,  kernelAvx512Emulated<8>,
    kernelAvx512Emulated<9>,  kernelAvx512Emulated<10>, kernelAvx512Emulated<11>,
    kernelAvx512Emulated<12>};
const KernelFn kAvx2EmulatedKernels[6 + 1] = {
    nullptr,               kernelAvx2Emulated<1>, kernelAvx2Emulated<2>, kernelAvx2Emulated<3>,
    kernelAvx2Emulated<4>, kernelAvx2Emulated<5>, kernelAvx2Emulated<6>};
#endif

const KernelFn* kernelsFor(Bf16Path p) {
#if SBERT_X86
  if (p == Bf16Path::Avx512Bf16) return kAvx512Bf16Kernels;
  if (p == Bf16Path::Avx512) return kAvx512EmulatedKernels;
  if (p == Bf16Path::Avx2) return kAvx2EmulatedKernels;
#endif
  return kPortableKernels;
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
  std::vector<Bf16Path> out;
  for (Bf16Path p : {Bf16Path::Portable, Bf16Path::Avx2, Bf16Path::Avx512, Bf16Path::Avx512Bf16,
                     Bf16Path::Amx}) {
    if (bf16PathAvailable(p)) out.push_back(p);
  }
  return out;
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
  if (!bf16PathAvailable(path)) {
    throw Error("ERR_UNSUPPORTED", std::string("bf16 path ") + bf16PathName(path) +
                                       " cannot run on this CPU (active features: " +
                                       cpuFeatureNames(activeCpuFeatures()) + ")");
  }
  PackedWeightBf16 pw;
  pw.N = N;
  pw.K = K;
  pw.path = path;
  pw.nr = shapeOf(path).nr;
  const int nr = pw.nr, kp = pairsOf(path, K);
  const int64_t panels = (N + nr - 1) / nr;
  pw.elements = panels * kp * nr * 2;
  pw.data.reset(static_cast<uint16_t*>(::operator new[](
      static_cast<size_t>(std::max<int64_t>(pw.elements * 2, 64)), std::align_val_t(64))));
  uint16_t* dst = pw.data.get();
  parallelFor(0, panels, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      uint16_t* d = dst + p * kp * nr * 2;
      std::memset(d, 0, size_t(kp) * nr * 2 * sizeof(uint16_t));
      for (int j = 0; j < nr; ++j) {
        const int64_t n = p * nr + j;
        if (n >= N) break;
        const float* w = W + n * K;
        for (int k = 0; k < K; ++k) d[(int64_t(k / 2) * nr + j) * 2 + (k & 1)] = floatToBf16(w[k]);
      }
    }
  });
  return pw;
}

void linearBf16(const float* A, int64_t M, int K, const PackedWeightBf16& W, const float* bias,
                const float* residual, Epilogue ep, float* C) {
  SBERT_CHECK(W.K == K, "ERR_INTERNAL", "linearBf16: K does not match the packed weight");
  SBERT_CHECK(M >= 0, "ERR_INTERNAL", "linearBf16: negative M");
  const int N = W.N;
  if (M == 0 || N == 0) return;
  SBERT_CHECK(W.data != nullptr, "ERR_INTERNAL", "linearBf16: empty packed weight");
  SBERT_CHECK(bf16PathAvailable(W.path), "ERR_INTERNAL", "linearBf16: weight packed for another CPU");
  SBERT_CHECK(ep != Epilogue::BiasResidual || residual != nullptr, "ERR_INTERNAL",
              "linearBf16: BiasResidual needs a residual");

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
    if (amx) amx::configureTiles();
    if (!native) return;  // the emulations read fp32 A in place
    blocking::RowBlockBuffer<uint16_t>& buf = buffer;
    if (buf.holds(call, m0)) return;
    // AMX tiles always read 32 rows: the block carries 32 zero rows past its end.
    const int padRows = amx ? 32 : 0;
    buf.data.resize(size_t(rows + padRows) * kp2);
    for (int r = 0; r < rows; ++r) {
      convertRowAvx512Bf16(A + (m0 + r) * K, K, kp2, buf.data.data() + size_t(r) * kp2);
    }
    std::fill(buf.data.begin() + ptrdiff_t(rows) * kp2, buf.data.end(), uint16_t(0));
    buf.call = call;
    buf.m0 = m0;
#endif
  };
  auto tile = [&](int64_t m0, int ir, int mr, int p, int n0, int nr) {
    Epi epi;
    epi.ep = ep;
    epi.bias = bias ? bias + n0 : nullptr;
    if (ep == Epilogue::BiasResidual) {
      epi.residual = residual + (m0 + ir) * N + n0;
      epi.ldr = N;
    }
    const uint16_t* bp = W.data.get() + static_cast<int64_t>(p) * kp * W.nr * 2;
    float* c = C + (m0 + ir) * N + n0;
#if SBERT_X86
    if (amx) {
      kernelAmxBf16(kp, buffer.data.data() + size_t(ir) * kp2, kp2, bp, c, N, nr, mr, epi);
      return;
    }
#endif
    if (native) {
      kernels[mr](K, buffer.data.data() + size_t(ir) * kp2, kp2, bp, c, N, nr, epi);
    } else {
      kernels[mr](K, A + (m0 + ir) * K, K, bp, c, N, nr, epi);
    }
  };
  auto finish = [&] {
#if SBERT_X86
    if (amx) amx::releaseTiles();
#endif
  };
  blocking::runGemmTiles(M, N, W.nr, shape.mr, shape.mcMax, 2.0 * double(M) * N * std::max(K, 1),
                         prepare, tile, finish);
}

}  // namespace sbert
