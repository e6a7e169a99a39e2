#include "activation.h"

#include <cmath>

#include "common/thread_pool.h"

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
