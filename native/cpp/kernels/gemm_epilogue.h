// Internal (not a public kernel API): what a CPU GEMM micro-kernel does with C, shared by the
// fp32, int8 and bf16 GEMMs (gemm.cc, gemm_int8.cc, gemm_bf16.cc), so each epilogue of gemm.h is
// written once per ISA instead of once per precision and ISA:
//   - TileEpilogue: a call's epilogue arguments offset to one micro-tile;
//   - starting an fp32 accumulation chain from C or from zero (the fp32 and bf16 SIMD kernels,
//     whose Accumulate is C + A·Wᵀ as one FMA chain through C);
//   - finishing a tile row y (the finished dot products) into C, with exactly these fp32
//     operations in this order:
//       None          y
//       Bias          y + bias
//       BiasGelu      gelu(y + bias)           (simd_math.h's rational erf)
//       BiasResidual  (y + bias) + residual
//       Accumulate    C + y                    (kernels whose chain already started from C
//                                               finish with None instead)
//     A null bias is skipped by the portable row and added as a zero vector by the SIMD rows
//     (as each path always did: the results are the same).
// One body per ISA: a row of 2 × 16 lanes (AVX-512, masks), 2 × 8 lanes (AVX2, mask loads) and
// generic 4-float vectors (portable). Each SIMD body carries its own target attribute and is
// force-inlined into kernels compiled for a superset of it: GCC cannot inline target-specific
// intrinsics into one template shared by both targets.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "gemm.h"
#include "simd_math.h"

namespace sbert::gemm {

// The epilogue of one micro-tile: bias at its first column, residual at its first element.
struct TileEpilogue {
  Epilogue ep = Epilogue::None;
  const float* bias = nullptr;      // may be null (zeros)
  const float* residual = nullptr;  // BiasResidual only
  int64_t ldr = 0;                  // residual row stride

  // The tile at row `row`, column n0 of a call's [M, N] output.
  static TileEpilogue at(Epilogue ep, const float* bias, const float* residual, int N, int64_t row,
                         int n0) {
    TileEpilogue e;
    e.ep = ep;
    e.bias = bias ? bias + n0 : nullptr;
    if (ep == Epilogue::BiasResidual) {
      e.residual = residual + row * N + n0;
      e.ldr = N;
    }
    return e;
  }
  bool addsBias() const {
    return ep != Epilogue::None && ep != Epilogue::Accumulate && bias != nullptr;
  }
};

#define SBERT_GEMM_INLINE __attribute__((always_inline)) inline

// ---- portable: generic 4-float vectors (SSE2 / NEON / scalar) ------------------------------

typedef float v4 __attribute__((vector_size(16)));

SBERT_GEMM_INLINE v4 load4(const float* p) {
  v4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Row i of a tile: y[0, NR) → C[0, nr) (lanes ≥ nr are computed and dropped).
template <int NR>
SBERT_GEMM_INLINE void storeRowPortable(const float* y, float* ci, int nr, int i,
                                        const TileEpilogue& e) {
  static_assert(NR % 4 == 0, "portable tiles are whole 4-float vectors wide");
  float row[NR];
  for (int v = 0; v < NR / 4; ++v) {
    v4 x = load4(y + 4 * v);
    if (e.ep != Epilogue::None && e.ep != Epilogue::Accumulate) {
      if (e.bias && 4 * v + 4 <= nr) {
        x += load4(e.bias + 4 * v);
      } else if (e.bias) {  // the tile's last columns: no read past the bias
        float bb[4] = {0.f, 0.f, 0.f, 0.f};
        for (int l = 0; l < 4 && 4 * v + l < nr; ++l) bb[l] = e.bias[4 * v + l];
        x += load4(bb);
      }
      if (e.ep == Epilogue::BiasGelu) x = simd::geluGeneric(x);
    }
    std::memcpy(row + 4 * v, &x, sizeof x);
  }
  if (e.ep == Epilogue::Accumulate) {
    for (int j = 0; j < nr; ++j) ci[j] = ci[j] + row[j];
  } else if (e.ep == Epilogue::BiasResidual) {
    for (int j = 0; j < nr; ++j) ci[j] = row[j] + e.residual[i * e.ldr + j];
  } else {
    for (int j = 0; j < nr; ++j) ci[j] = row[j];
  }
}

#if SBERT_X86

// ---- AVX-512: rows of 32 columns as two zmm halves -----------------------------------------

// Lanes [0, n) of 16 (n ≤ 0: none).
inline __mmask16 lowMask16(int n) {
  return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
}

// MR rows × 32 fp32 accumulators: C's first nr columns (accumulate) or zeros.
template <int MR>
SBERT_TARGET_AVX512 SBERT_GEMM_INLINE void startChain512(__m512* c0, __m512* c1, const float* c,
                                                         int64_t ldc, int nr, bool accumulate) {
  const __mmask16 m0 = lowMask16(nr), m1 = lowMask16(nr - 16);
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
}

// Finishes tile rows of nr ≤ 32 columns: built once per tile, store() once per row.
struct RowStore512 {
  __mmask16 m0, m1;
  __m512 bias0, bias1;

  SBERT_TARGET_AVX512 SBERT_GEMM_INLINE RowStore512(int nr, const TileEpilogue& e) {
    m0 = lowMask16(nr);
    m1 = lowMask16(nr - 16);
    bias0 = e.addsBias() ? _mm512_maskz_loadu_ps(m0, e.bias) : _mm512_setzero_ps();
    bias1 = e.addsBias() ? _mm512_maskz_loadu_ps(m1, e.bias + 16) : _mm512_setzero_ps();
  }

  // Row i: y = (v0, v1) → ci per the epilogue.
  SBERT_TARGET_AVX512 SBERT_GEMM_INLINE void store(__m512 v0, __m512 v1, float* ci, int i,
                                                   const TileEpilogue& e) const {
    if (e.ep == Epilogue::Accumulate) {
      v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, ci), v0);
      v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, ci + 16), v1);
    } else if (e.ep != Epilogue::None) {
      v0 = _mm512_add_ps(v0, bias0);
      v1 = _mm512_add_ps(v1, bias1);
      if (e.ep == Epilogue::BiasGelu) {
        v0 = simd::gelu512(v0);
        v1 = simd::gelu512(v1);
      } else if (e.ep == Epilogue::BiasResidual) {
        const float* r = e.residual + i * e.ldr;
        v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, r));
        v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, r + 16));
      }
    }
    _mm512_mask_storeu_ps(ci, m0, v0);
    _mm512_mask_storeu_ps(ci + 16, m1, v1);
  }
};

// ---- AVX2: rows of 16 columns as two ymm halves --------------------------------------------

alignas(32) inline constexpr int32_t kLaneMaskTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                           0,  0,  0,  0,  0,  0,  0,  0};

// Lanes [0, n) of 8 as a vmaskmov mask (n clamped to [0, 8]).
SBERT_TARGET_AVX2 SBERT_GEMM_INLINE __m256i laneMask8(int n) {
  n = std::min(std::max(n, 0), 8);
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kLaneMaskTable + 8 - n));
}

template <int MR>
SBERT_TARGET_AVX2 SBERT_GEMM_INLINE void startChain256(__m256* c0, __m256* c1, const float* c,
                                                       int64_t ldc, int nr, bool accumulate) {
  const __m256i m0 = laneMask8(nr), m1 = laneMask8(nr - 8);
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
}

struct RowStore256 {
  __m256i m0, m1;
  __m256 bias0, bias1;

  SBERT_TARGET_AVX2 SBERT_GEMM_INLINE RowStore256(int nr, const TileEpilogue& e) {
    m0 = laneMask8(nr);
    m1 = laneMask8(nr - 8);
    bias0 = e.addsBias() ? _mm256_maskload_ps(e.bias, m0) : _mm256_setzero_ps();
    bias1 = e.addsBias() ? _mm256_maskload_ps(e.bias + 8, m1) : _mm256_setzero_ps();
  }

  SBERT_TARGET_AVX2 SBERT_GEMM_INLINE void store(__m256 v0, __m256 v1, float* ci, int i,
                                                 const TileEpilogue& e) const {
    if (e.ep == Epilogue::Accumulate) {
      v0 = _mm256_add_ps(_mm256_maskload_ps(ci, m0), v0);
      v1 = _mm256_add_ps(_mm256_maskload_ps(ci + 8, m1), v1);
    } else if (e.ep != Epilogue::None) {
      v0 = _mm256_add_ps(v0, bias0);
      v1 = _mm256_add_ps(v1, bias1);
      if (e.ep == Epilogue::BiasGelu) {
        v0 = simd::gelu256(v0);
        v1 = simd::gelu256(v1);
      } else if (e.ep == Epilogue::BiasResidual) {
        const float* r = e.residual + i * e.ldr;
        v0 = _mm256_add_ps(v0, _mm256_maskload_ps(r, m0));
        v1 = _mm256_add_ps(v1, _mm256_maskload_ps(r + 8, m1));
      }
    }
    _mm256_maskstore_ps(ci, m0, v0);
    _mm256_maskstore_ps(ci + 8, m1, v1);
  }
};

#endif  // SBERT_X86

}  // namespace sbert::gemm
