// LayerNorm, see layernorm.h.
//
// One row at a time, three passes: (1) y = x + residual staged in `out`, (2) mean and biased
// variance accumulated in double over eight interleaved partial sums (element j goes to sum
// j mod 8) combined in one fixed tree, (3) z = (y − mean)·rstd in double rounded to fp32, then
// out = z·gamma + beta as a separate fp32 multiply and add. The portable body and the AVX-512 /
// AVX2 bodies (chosen at run time) perform exactly these operations in this order — the eight
// partial sums are the lanes of one zmm (two ymm) of doubles, and no FMA is used — so every ISA
// gives the same bits. The vector bodies exist because the portable one, compiled for baseline
// x86-64, spent ~3.5% of an encode in LayerNorm.
#include "layernorm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/thread_pool.h"
#include "cpu_features.h"
#include "simd_math.h"

// No FMA contraction in this file: the fp32 z·gamma + beta and the double d·d + q must round
// twice on every ISA (GCC contracts vector code for FMA targets by default).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace sbert {
namespace {

// The fixed combination tree of the eight partial sums.
inline double combine8(const double* s) {
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

// Pass (1): y = x + residual, or a copy of x; y may alias x or residual.
inline void stageRow(const float* x, const float* res, int cols, float* y) {
  if (res) {
    for (int j = 0; j < cols; ++j) y[j] = x[j] + res[j];
  } else if (y != x) {
    for (int j = 0; j < cols; ++j) y[j] = x[j];
  }
}

void normRowPortable(const float* y, const float* gamma, const float* beta, int cols, float eps,
                     float* out) {
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int j = 0;
  for (; j + 8 <= cols; j += 8)
    for (int u = 0; u < 8; ++u) s[u] += y[j + u];
  for (; j < cols; ++j) s[j % 8] += y[j];
  const double mean = combine8(s) / cols;
  double q[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (j = 0; j < cols; ++j) {
    const double d = y[j] - mean;
    q[j % 8] += d * d;
  }
  const double var = combine8(q) / cols;
  const double rstd = 1.0 / std::sqrt(var + double(eps));
  for (j = 0; j < cols; ++j) {
    const float z = static_cast<float>((double(y[j]) - mean) * rstd);
    const float zg = z * gamma[j];
    out[j] = zg + beta[j];
  }
}

#if SBERT_X86

// 8-float loads and stores through zmm with 16-bit masks (AVX-512F only, no VL needed).
SBERT_TARGET_AVX512 inline __m256 load8(__mmask8 m, const float* p) {
  return _mm512_castps512_ps256(_mm512_maskz_loadu_ps(__mmask16(m), p));
}
SBERT_TARGET_AVX512 inline void store8(__mmask8 m, float* p, __m256 v) {
  _mm512_mask_storeu_ps(p, __mmask16(m), _mm512_castps256_ps512(v));
}

SBERT_TARGET_AVX512 void normRowAvx512(const float* y, const float* gamma, const float* beta,
                                       int cols, float eps, float* out) {
  const int full = cols / 8 * 8;
  const __mmask8 tail = __mmask8((1u << (cols - full)) - 1);
  __m512d s = _mm512_setzero_pd();
  for (int j = 0; j < full; j += 8) s = _mm512_add_pd(s, _mm512_cvtps_pd(_mm256_loadu_ps(y + j)));
  if (tail) {
    s = _mm512_mask_add_pd(s, tail, s, _mm512_cvtps_pd(load8(tail, y + full)));
  }
  alignas(64) double lanes[8];
  _mm512_store_pd(lanes, s);
  const double mean = combine8(lanes) / cols;
  const __m512d vmean = _mm512_set1_pd(mean);
  __m512d q = _mm512_setzero_pd();
  for (int j = 0; j < full; j += 8) {
    const __m512d d = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(y + j)), vmean);
    q = _mm512_add_pd(q, _mm512_mul_pd(d, d));
  }
  if (tail) {
    const __m512d d =
        _mm512_sub_pd(_mm512_cvtps_pd(load8(tail, y + full)), vmean);
    q = _mm512_mask_add_pd(q, tail, q, _mm512_mul_pd(d, d));
  }
  _mm512_store_pd(lanes, q);
  const double var = combine8(lanes) / cols;
  const __m512d vrstd = _mm512_set1_pd(1.0 / std::sqrt(var + double(eps)));
  // Plain 8-float loads and stores for the full blocks: `out` usually aliases `y`, and a masked
  // store followed by a load of the next block defeats store forwarding (4x slower rows).
  for (int j = 0; j < full; j += 8) {
    const __m512d d = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(y + j)), vmean);
    const __m256 z = _mm512_cvtpd_ps(_mm512_mul_pd(d, vrstd));
    const __m256 zg = _mm256_mul_ps(z, _mm256_loadu_ps(gamma + j));
    _mm256_storeu_ps(out + j, _mm256_add_ps(zg, _mm256_loadu_ps(beta + j)));
  }
  if (tail) {
    const __m512d d = _mm512_sub_pd(_mm512_cvtps_pd(load8(tail, y + full)), vmean);
    const __m256 z = _mm512_cvtpd_ps(_mm512_mul_pd(d, vrstd));
    const __m256 zg = _mm256_mul_ps(z, load8(tail, gamma + full));
    store8(tail, out + full, _mm256_add_ps(zg, load8(tail, beta + full)));
  }
}

// AVX2: the eight partial sums are two ymm of four doubles (lanes 0-3 and 4-7). Rows whose
// length is not a multiple of 8 finish their tail with the portable element order.
SBERT_TARGET_AVX2 void normRowAvx2(const float* y, const float* gamma, const float* beta, int cols,
                                   float eps, float* out) {
  const int full = cols / 8 * 8;
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
  for (int j = 0; j < full; j += 8) {
    s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm_loadu_ps(y + j)));
    s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm_loadu_ps(y + j + 4)));
  }
  alignas(32) double lanes[8];
  _mm256_store_pd(lanes, s0);
  _mm256_store_pd(lanes + 4, s1);
  for (int j = full; j < cols; ++j) lanes[j % 8] += y[j];
  const double mean = combine8(lanes) / cols;
  const __m256d vmean = _mm256_set1_pd(mean);
  __m256d q0 = _mm256_setzero_pd(), q1 = _mm256_setzero_pd();
  for (int j = 0; j < full; j += 8) {
    const __m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(y + j)), vmean);
    const __m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(y + j + 4)), vmean);
    q0 = _mm256_add_pd(q0, _mm256_mul_pd(d0, d0));
    q1 = _mm256_add_pd(q1, _mm256_mul_pd(d1, d1));
  }
  _mm256_store_pd(lanes, q0);
  _mm256_store_pd(lanes + 4, q1);
  for (int j = full; j < cols; ++j) {
    const double d = y[j] - mean;
    lanes[j % 8] += d * d;
  }
  const double var = combine8(lanes) / cols;
  const double rstd = 1.0 / std::sqrt(var + double(eps));
  const __m256d vrstd = _mm256_set1_pd(rstd);
  for (int j = 0; j < full; j += 8) {
    const __m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(y + j)), vmean);
    const __m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(y + j + 4)), vmean);
    const __m256 z = _mm256_set_m128(_mm256_cvtpd_ps(_mm256_mul_pd(d1, vrstd)),
                                     _mm256_cvtpd_ps(_mm256_mul_pd(d0, vrstd)));
    const __m256 zg = _mm256_mul_ps(z, _mm256_loadu_ps(gamma + j));
    _mm256_storeu_ps(out + j, _mm256_add_ps(zg, _mm256_loadu_ps(beta + j)));
  }
  for (int j = full; j < cols; ++j) {
    const float z = static_cast<float>((double(y[j]) - mean) * rstd);
    const float zg = z * gamma[j];
    out[j] = zg + beta[j];
  }
}

#endif  // SBERT_X86

using NormRowFn = void (*)(const float*, const float*, const float*, int, float, float*);

NormRowFn normRowFn() {
  static const NormRowFn fn =
#if SBERT_X86
      cpuHasAvx512() ? normRowAvx512 : cpuHasAvx2Fma() ? normRowAvx2 :
#endif
                                                       normRowPortable;
  return fn;
}

}  // namespace

bool layerNormRowForIsa(CpuIsa isa, const float* y, const float* gamma, const float* beta, int cols,
                        float eps, float* out) {
  NormRowFn fn = nullptr;
  if (isa == CpuIsa::Portable) fn = normRowPortable;
#if SBERT_X86
  if (isa == CpuIsa::Avx2 && cpuHasAvx2Fma()) fn = normRowAvx2;
  if (isa == CpuIsa::Avx512 && cpuHasAvx512()) fn = normRowAvx512;
#endif
  if (!fn || cols <= 0) return false;
  fn(y, gamma, beta, cols, eps, out);
  return true;
}

void layerNormRow(const float* y, const float* gamma, const float* beta, int cols, float eps,
                  float* out) {
  if (cols <= 0) return;
  normRowFn()(y, gamma, beta, cols, eps, out);
}

void layerNorm(const float* x, const float* residual, const float* gamma, const float* beta,
               int64_t rows, int cols, float eps, float* out) {
  if (rows <= 0 || cols <= 0) return;
  const NormRowFn fn = normRowFn();
  const int64_t grain = std::max<int64_t>(1, 16384 / cols);
  parallelFor(0, rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t off = r * cols;
      // y = x + residual is staged in `out`: every pass reads element j before writing it, so
      // out may alias x or residual.
      stageRow(x + off, residual ? residual + off : nullptr, cols, out + off);
      fn(out + off, gamma, beta, cols, eps, out + off);
    }
  });
}

}  // namespace sbert

// ---- training ----------------------------------------------------------------------------

namespace sbert {

void layerNormForwardTrain(const float* x, const float* residual, const float* gamma,
                           const float* beta, int64_t rows, int cols, float eps, float* out,
                           float* z, float* rstd) {
  if (rows <= 0 || cols <= 0) return;
  const int64_t grain = std::max<int64_t>(1, 16384 / cols);
  parallelFor(0, rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t off = r * cols;
      float* y = out + off;
      stageRow(x + off, residual ? residual + off : nullptr, cols, y);
      double s = 0;
      for (int j = 0; j < cols; ++j) s += y[j];
      const double mean = s / cols;
      double q = 0;
      for (int j = 0; j < cols; ++j) q += (y[j] - mean) * (y[j] - mean);
      const double rs = 1.0 / std::sqrt(q / cols + double(eps));
      rstd[r] = static_cast<float>(rs);
      float* zr = z + off;
      for (int j = 0; j < cols; ++j) {
        zr[j] = static_cast<float>((double(y[j]) - mean) * rs);
        y[j] = zr[j] * gamma[j] + beta[j];
      }
    }
  });
}

void layerNormBackward(const float* dOut, const float* z, const float* rstd, const float* gamma,
                       int64_t rows, int cols, float* dX, float* dGamma, float* dBeta) {
  if (rows <= 0 || cols <= 0) return;
  // dGamma/dBeta: one partial per fixed row chunk (not per thread), summed in chunk order, so
  // the result does not depend on the thread count.
  const int64_t chunkRows = std::max<int64_t>(16, (rows + 63) / 64);
  const int64_t chunks = (rows + chunkRows - 1) / chunkRows;
  std::vector<float> partial(size_t(chunks) * 2 * cols, 0.f);
  parallelFor(0, chunks, 1, [&](int64_t c0, int64_t c1) {
    std::vector<float> dz(cols);
    for (int64_t c = c0; c < c1; ++c) {
      float* pg = partial.data() + size_t(c) * 2 * cols;
      float* pb = pg + cols;
      const int64_t rEnd = std::min(rows, (c + 1) * chunkRows);
      for (int64_t r = c * chunkRows; r < rEnd; ++r) {
        const float* g = dOut + r * cols;
        const float* zr = z + r * cols;
        float a = 0.f, b = 0.f;
        for (int j = 0; j < cols; ++j) {
          dz[j] = g[j] * gamma[j];
          a += dz[j];
          b += dz[j] * zr[j];
          pg[j] += g[j] * zr[j];
          pb[j] += g[j];
        }
        a /= float(cols);
        b /= float(cols);
        const float rs = rstd[r];
        float* dx = dX + r * cols;
        for (int j = 0; j < cols; ++j) dx[j] = rs * (dz[j] - a - zr[j] * b);
      }
    }
  });
  for (int64_t c = 0; c < chunks; ++c) {
    const float* pg = partial.data() + size_t(c) * 2 * cols;
    for (int j = 0; j < cols; ++j) {
      if (dGamma) dGamma[j] += pg[j];
      if (dBeta) dBeta[j] += pg[cols + j];
    }
  }
}

}  // namespace sbert
