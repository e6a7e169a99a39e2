// Internal math helpers shared by the CPU kernels (not part of the public kernel API).
// Vector exact-form GELU for the GEMM epilogue — AVX-512F and AVX2+FMA intrinsics (each with its
// own target attribute, so translation units stay baseline x86-64 and only code reached through
// the runtime dispatch uses those ISAs) and a generic version for GCC/Clang vector types — plus
// the constants of the vector exp used by attention's softmax (attention.cc).
//
// exp:  Cody–Waite reduction x = n·ln2 + r, |r| ≤ ln2/2, degree-7 Taylor polynomial, scaled by
//       2^n; relative error ≈ 1 ulp; inputs below −87.33 give 0, inputs are capped at 88.
// gelu: gelu(x) = ½x·(1 + erf(x/√2)) with erf(x/√2) ≈ x·P(x²)/Q(x²) (odd degree-11 / even
//       degree-10 rational minimax fit made for this project, clamped at |x| = 5.45 where
//       erf rounds to ±1); |erf error| ≤ 4e-7 in fp32 evaluation (torch's vectorized CPU erf:
//       1.5e-7), so |gelu error| ≤ 2e-7·|x| + 1 ulp. Tails are handled by the callers with
//       masks, so every element of a row goes through the same code.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports its own _mm512_undefined_ps() (inside _mm512_min_ps/max_ps) as maybe-uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// The generic vector helpers are always inlined into their ISA's caller: no vector crosses a
// call boundary, so GCC's by-value ABI note does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
#define SBERT_X86 1
#define SBERT_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))
#define SBERT_TARGET_AVX2 __attribute__((target("avx2,fma")))
#else
#define SBERT_X86 0
#endif

namespace sbert {
namespace simd {

// Rational erf(x/√2) coefficients, highest power first (Horner order): numerator in s = x²
// (times x), denominator in s. One table for every GELU body below.
constexpr float kGeluClamp = 5.45f;
constexpr float kGeluNum[6] = {4.497096739e-08f, 1.272154987e-05f, 3.430998477e-04f,
                               9.387998842e-03f, 6.826618314e-02f, 7.978845835e-01f};
constexpr float kGeluDen[6] = {1.190285388e-06f, 7.445992378e-05f, 1.900090836e-03f,
                               2.880515531e-02f, 2.522248924e-01f, 1.f};

constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693145751953125f;       // exact in 16 bits
constexpr float kLn2Lo = 1.428606765330187045e-06f;
constexpr float kExpMin = -87.33654f;              // below: exp underflows to < FLT_MIN → 0
constexpr float kExpMax = 88.0f;

// erf(x/√2) on any GCC/Clang vector type: the rational form above, clamped to [−1, 1] and
// exactly ±1 beyond |x| = kGeluClamp. geluGeneric and the GELU derivative (activation.cc) use it.
template <typename V>
__attribute__((always_inline)) inline V erfHalfGeneric(V x) {
  const V lim = V{} + kGeluClamp, nlim = V{} - kGeluClamp, one = V{} + 1.f, mone = V{} - 1.f;
  V xc = x < nlim ? nlim : x;
  xc = xc > lim ? lim : xc;
  const V s = xc * xc;
  V num = V{} + kGeluNum[0], den = V{} + kGeluDen[0];
#pragma GCC unroll 5
  for (int i = 1; i < 6; ++i) {
    num = num * s + kGeluNum[i];
    den = den * s + kGeluDen[i];
  }
  V y = (xc * num) / den;
  y = y > one ? one : y;
  y = y < mone ? mone : y;
  y = x >= lim ? one : y;
  y = x <= nlim ? mone : y;
  return y;
}

// Portable GELU on any GCC/Clang vector type (same rational form as the SIMD versions; used by
// the portable GEMM path, where it compiles to SSE2, NEON or scalar code).
template <typename V>
__attribute__((always_inline)) inline V geluGeneric(V x) {
  const V y = erfHalfGeneric(x);
  const V hx = x * 0.5f;
  return hx * y + hx;
}

// exp on any GCC/Clang float vector type F with its same-width int32 vector type I: the
// Cody–Waite / degree-7 Taylor form described above (x < kExpMin → 0, capped at kExpMax).
template <typename F, typename I>
__attribute__((always_inline)) inline F expGeneric(F x) {
  const I under = x < kExpMin;
  x = x < kExpMin ? F{} + kExpMin : x;
  x = x > kExpMax ? F{} + kExpMax : x;
  const F magic = F{} + 12582912.f;  // 1.5·2^23: adding and subtracting rounds to nearest
  const F n = (x * kLog2e + magic) - magic;
  F r = x - n * kLn2Hi;
  r = r - n * kLn2Lo;
  F p = F{} + 1.f / 5040.f;
  p = p * r + (1.f / 720.f);
  p = p * r + (1.f / 120.f);
  p = p * r + (1.f / 24.f);
  p = p * r + (1.f / 6.f);
  p = p * r + 0.5f;
  p = p * r + 1.f;
  p = p * r + 1.f;
  const I e = (__builtin_convertvector(n, I) + 127) << 23;
  const F y = p * (F)e;  // bit cast
  return under ? F{} : y;
}

#if SBERT_X86

// ---- AVX-512 ---------------------------------------------------------------------------

// p(s) for a kGeluNum / kGeluDen table: fused multiply-adds, highest power first.
SBERT_TARGET_AVX512 static inline __m512 horner512(__m512 s, const float (&c)[6]) {
  __m512 p = _mm512_set1_ps(c[0]);
#pragma GCC unroll 5
  for (int i = 1; i < 6; ++i) p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(c[i]));
  return p;
}

SBERT_TARGET_AVX512 static inline __m512 gelu512(__m512 x) {
  const __m512 lim = _mm512_set1_ps(kGeluClamp);
  __m512 xc = _mm512_min_ps(_mm512_max_ps(x, _mm512_sub_ps(_mm512_setzero_ps(), lim)), lim);
  __m512 s = _mm512_mul_ps(xc, xc);
  __m512 y = _mm512_div_ps(_mm512_mul_ps(xc, horner512(s, kGeluNum)), horner512(s, kGeluDen));
  const __m512 one = _mm512_set1_ps(1.f);
  y = _mm512_min_ps(_mm512_max_ps(y, _mm512_sub_ps(_mm512_setzero_ps(), one)), one);
  // Beyond the clamp erf(x/√2) is ±1 in fp32.
  const __mmask16 hi = _mm512_cmp_ps_mask(x, lim, _CMP_GE_OQ);
  const __mmask16 lo = _mm512_cmp_ps_mask(x, _mm512_sub_ps(_mm512_setzero_ps(), lim), _CMP_LE_OQ);
  y = _mm512_mask_mov_ps(y, hi, one);
  y = _mm512_mask_mov_ps(y, lo, _mm512_sub_ps(_mm512_setzero_ps(), one));
  __m512 hx = _mm512_mul_ps(x, _mm512_set1_ps(0.5f));
  return _mm512_fmadd_ps(hx, y, hx);
}

// ---- AVX2 + FMA ------------------------------------------------------------------------

SBERT_TARGET_AVX2 static inline __m256 horner256(__m256 s, const float (&c)[6]) {
  __m256 p = _mm256_set1_ps(c[0]);
#pragma GCC unroll 5
  for (int i = 1; i < 6; ++i) p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(c[i]));
  return p;
}

SBERT_TARGET_AVX2 static inline __m256 gelu256(__m256 x) {
  const __m256 lim = _mm256_set1_ps(kGeluClamp);
  const __m256 nlim = _mm256_set1_ps(-kGeluClamp);
  __m256 xc = _mm256_min_ps(_mm256_max_ps(x, nlim), lim);
  __m256 s = _mm256_mul_ps(xc, xc);
  __m256 y = _mm256_div_ps(_mm256_mul_ps(xc, horner256(s, kGeluNum)), horner256(s, kGeluDen));
  const __m256 one = _mm256_set1_ps(1.f);
  const __m256 mone = _mm256_set1_ps(-1.f);
  y = _mm256_min_ps(_mm256_max_ps(y, mone), one);
  y = _mm256_blendv_ps(y, one, _mm256_cmp_ps(x, lim, _CMP_GE_OQ));
  y = _mm256_blendv_ps(y, mone, _mm256_cmp_ps(x, nlim, _CMP_LE_OQ));
  __m256 hx = _mm256_mul_ps(x, _mm256_set1_ps(0.5f));
  return _mm256_fmadd_ps(hx, y, hx);
}

#endif  // SBERT_X86

}  // namespace simd
}  // namespace sbert
