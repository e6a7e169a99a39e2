// GELU training forward/backward and the Dense activations' backward (activation.h) against
// double-precision references and their central finite differences, over inputs spanning the
// GELU clamp (|x| > 5.45), zero and both signs, at an odd length (every vector tail).
#include <vector>

#include "grad_check.h"
#include "kernels/activation.h"

using namespace sbert;
using sbert::test::Tally;

namespace {

double geluD(double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); }

double actD(Activation a, double x) {
  switch (a) {
    case Activation::Identity: return x;
    case Activation::Tanh: return std::tanh(x);
    case Activation::Relu: return x > 0 ? x : 0;
    case Activation::Gelu: return geluD(x);
    case Activation::Sigmoid: return 1 / (1 + std::exp(-x));
  }
  return 0;
}

const char* actName(Activation a) {
  switch (a) {
    case Activation::Identity: return "identity";
    case Activation::Tanh: return "tanh";
    case Activation::Relu: return "relu";
    case Activation::Gelu: return "gelu";
    case Activation::Sigmoid: return "sigmoid";
  }
  return "?";
}

}  // namespace

int main() {
  Tally t;
  std::mt19937 rng(5);
  const size_t n = 1237;
  auto u = test::randomVec(rng, n, -7.f, 7.f), w = test::randomVec(rng, n);
  // Keep relu's kink away from the finite-difference step.
  for (auto& v : u)
    if (std::fabs(v) < 1e-3f) v = 0.5f;
  auto ud = test::toDouble(u);
  const auto wd = test::toDouble(w);

  std::vector<float> f(n);
  geluForward(u.data(), int64_t(n), f.data());
  std::vector<double> ref(n);
  for (size_t i = 0; i < n; ++i) ref[i] = geluD(ud[i]);
  const double fe = test::maxRelErr(f.data(), ref.data(), n, 1.0);
  t.check(fe <= 1e-6, "geluForward vs erf GELU: max err %.3g", fe);

  auto geluLoss = [&]() {
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += wd[i] * geluD(ud[i]);
    return s;
  };
  std::vector<float> dU(n);
  geluBackward(u.data(), w.data(), int64_t(n), dU.data());
  double e = test::gradError(geluLoss, ud, dU.data(), n, rng);
  t.check(e <= 2e-6, "geluBackward vs finite differences: err %.3g", e);
  std::vector<float> inPlace = w;
  geluBackward(u.data(), inPlace.data(), int64_t(n), inPlace.data());
  t.check(test::maxAbsDiff(inPlace.data(), dU.data(), n) == 0, "geluBackward in place");

  for (Activation a : {Activation::Identity, Activation::Tanh, Activation::Relu,
                       Activation::Gelu, Activation::Sigmoid}) {
    std::vector<float> out = u;
    applyActivation(out.data(), int64_t(n), a);
    std::vector<float> dPre(n);
    activationBackward(u.data(), out.data(), w.data(), int64_t(n), a, dPre.data());
    auto loss = [&]() {
      double s = 0;
      for (size_t i = 0; i < n; ++i) s += wd[i] * actD(a, ud[i]);
      return s;
    };
    e = test::gradError(loss, ud, dPre.data(), n, rng);
    t.check(e <= 2e-6, "activationBackward %s: err %.3g", actName(a), e);
  }
  return t.finish();
}
