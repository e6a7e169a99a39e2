#include "activation.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/thread_pool.h"
#include "cpu_features.h"
#include "simd_math.h"

namespace sbert {

// ½·x·(1 + erf(x/√2)) written as ½·x·erfc(−x/√2): the same function, without the cancellation
// of 1 + erf for negative x, so the result is accurate to a few ulp everywhere.
float geluErf(float x) {
  return 0.5f * x * std::erfc(-x * 0.70710678118654752440f);
}

namespace {

template <typename F>
void mapInPlace(float* x, int64_t n, F f) {
  parallelFor(0, n, 1 << 14, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) x[i] = f(x[i]);
  });
}

}  // namespace

void applyActivation(float* x, int64_t n, Activation a) {
  switch (a) {
    case Activation::Identity:
      return;
    case Activation::Tanh:
      return mapInPlace(x, n, [](float v) { return std::tanh(v); });
    case Activation::Relu:
      return mapInPlace(x, n, [](float v) { return v < 0.f ? 0.f : v; });
    case Activation::Gelu:
      return mapInPlace(x, n, [](float v) { return geluErf(v); });
    case Activation::Sigmoid:
      return mapInPlace(x, n, [](float v) { return 1.f / (1.f + std::exp(-v)); });
  }
}

}  // namespace sbert

// ---- training ----------------------------------------------------------------------------

namespace sbert {
namespace {

constexpr int64_t kGrain = 1 << 14;
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;

template <int W>
struct VecF {
  typedef float f __attribute__((vector_size(4 * W)));
  typedef int32_t i __attribute__((vector_size(4 * W)));
};

// gelu'(u) = Φ(u) + u·φ(u) = ½(1 + erf(u/√2)) + u·exp(−u²/2)/√(2π), W floats at a time; the
// tail goes through a zero-padded vector so every element takes the same path.
template <int W>
__attribute__((always_inline)) inline void geluGradRange(const float* u, const float* dF,
                                                         int64_t b, int64_t e, float* dU) {
  using F = typename VecF<W>::f;
  using I = typename VecF<W>::i;
  for (int64_t i = b; i < e; i += W) {
    const int cnt = int(std::min<int64_t>(W, e - i));
    F x{}, g{};
    std::memcpy(&x, u + i, sizeof(float) * cnt);
    std::memcpy(&g, dF + i, sizeof(float) * cnt);
    const F cdf = simd::erfHalfGeneric(x) * 0.5f + 0.5f;
    const F pdf = simd::expGeneric<F, I>(x * x * -0.5f) * kInvSqrt2Pi;
    const F r = g * (cdf + x * pdf);
    std::memcpy(dU + i, &r, sizeof(float) * cnt);
  }
}

void geluGradPortable(const float* u, const float* dF, int64_t b, int64_t e, float* dU) {
  geluGradRange<4>(u, dF, b, e, dU);
}
#if SBERT_X86
SBERT_TARGET_AVX2 void geluGradAvx2(const float* u, const float* dF, int64_t b, int64_t e,
                                    float* dU) {
  geluGradRange<8>(u, dF, b, e, dU);
}
SBERT_TARGET_AVX512 void geluGradAvx512(const float* u, const float* dF, int64_t b, int64_t e,
                                        float* dU) {
  geluGradRange<16>(u, dF, b, e, dU);
}
#endif

// The forward GELU with the GEMM epilogue's vector code for this ISA (so the training forward
// gives the bits of Epilogue::BiasGelu); the tail runs through a zero-padded vector.
void geluPortable(const float* u, int64_t b, int64_t e, float* f) {
  using F = VecF<4>::f;
  for (int64_t i = b; i < e; i += 4) {
    const int cnt = int(std::min<int64_t>(4, e - i));
    F x{};
    std::memcpy(&x, u + i, sizeof(float) * cnt);
    const F y = simd::geluGeneric(x);
    std::memcpy(f + i, &y, sizeof(float) * cnt);
  }
}
#if SBERT_X86
SBERT_TARGET_AVX2 void geluAvx2(const float* u, int64_t b, int64_t e, float* f) {
  for (int64_t i = b; i < e; i += 8) {
    const int cnt = int(std::min<int64_t>(8, e - i));
    alignas(32) float tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(tmp, u + i, sizeof(float) * cnt);
    _mm256_store_ps(tmp, simd::gelu256(_mm256_load_ps(tmp)));
    std::memcpy(f + i, tmp, sizeof(float) * cnt);
  }
}
SBERT_TARGET_AVX512 void geluAvx512(const float* u, int64_t b, int64_t e, float* f) {
  for (int64_t i = b; i < e; i += 16) {
    const int cnt = int(std::min<int64_t>(16, e - i));
    const __mmask16 m = cnt == 16 ? __mmask16(0xFFFF) : __mmask16((1u << cnt) - 1);
    _mm512_mask_storeu_ps(f + i, m, simd::gelu512(_mm512_maskz_loadu_ps(m, u + i)));
  }
}
#endif

}  // namespace

void geluForward(const float* u, int64_t n, float* f) {
  void (*fn)(const float*, int64_t, int64_t, float*) = geluPortable;
#if SBERT_X86
  if (cpuHasAvx512()) fn = geluAvx512;
  else if (cpuHasAvx2Fma()) fn = geluAvx2;
#endif
  parallelFor(0, n, kGrain, [&](int64_t b, int64_t e) { fn(u, b, e, f); });
}

void geluBackward(const float* u, const float* dF, int64_t n, float* dU) {
  void (*fn)(const float*, const float*, int64_t, int64_t, float*) = geluGradPortable;
#if SBERT_X86
  if (cpuHasAvx512()) fn = geluGradAvx512;
  else if (cpuHasAvx2Fma()) fn = geluGradAvx2;
#endif
  parallelFor(0, n, kGrain, [&](int64_t b, int64_t e) { fn(u, dF, b, e, dU); });
}

void activationBackward(const float* pre, const float* out, const float* dOut, int64_t n,
                        Activation a, float* dPre) {
  parallelFor(0, n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float d = 1.f;
      switch (a) {
        case Activation::Identity: d = 1.f; break;
        case Activation::Tanh: d = 1.f - out[i] * out[i]; break;
        case Activation::Relu: d = pre[i] > 0.f ? 1.f : 0.f; break;
        case Activation::Sigmoid: d = out[i] * (1.f - out[i]); break;
        case Activation::Gelu: {
          const double x = pre[i];
          d = static_cast<float>(0.5 * std::erfc(-x * 0.70710678118654752440) +
                                 x * std::exp(-0.5 * x * x) * double(kInvSqrt2Pi));
          break;
        }
      }
      dPre[i] = dOut[i] * d;
    }
  });
}

}  // namespace sbert
