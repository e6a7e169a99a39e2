// Dense module backward (dense.h) with each activation, with and without bias, against central
// finite differences of a double-precision act(x·Wᵀ + b): dIn, dWeight (+=), dBias (+=).
#include <vector>

#include "grad_check.h"
#include "kernels/activation.h"
#include "kernels/dense.h"

using namespace sbert;
using sbert::test::Tally;

namespace {

double actD(Activation a, double x) {
  switch (a) {
    case Activation::Identity: return x;
    case Activation::Tanh: return std::tanh(x);
    case Activation::Relu: return x > 0 ? x : 0;
    case Activation::Gelu: return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
    case Activation::Sigmoid: return 1 / (1 + std::exp(-x));
  }
  return 0;
}

void checkDense(Tally& t, Activation act, bool withBias, uint32_t seed) {
  std::mt19937 rng(seed);
  const int rows = 5, K = 23, N = 17;
  auto in = test::randomVec(rng, size_t(rows) * K), W = test::randomVec(rng, size_t(N) * K),
       b = test::randomVec(rng, N), w = test::randomVec(rng, size_t(rows) * N);
  auto inD = test::toDouble(in), WD = test::toDouble(W), bD = test::toDouble(b);
  const auto wd = test::toDouble(w);
  auto loss = [&]() {
    double s = 0;
    for (int r = 0; r < rows; ++r)
      for (int o = 0; o < N; ++o) {
        double y = withBias ? bD[o] : 0;
        for (int k = 0; k < K; ++k) y += inD[size_t(r) * K + k] * WD[size_t(o) * K + k];
        s += wd[size_t(r) * N + o] * actD(act, y);
      }
    return s;
  };
  std::vector<float> pre(size_t(rows) * N), out(pre.size()), ref(pre.size());
  const PackedWeight pw = packWeight(W.data(), N, K);
  denseForwardTrain(in.data(), rows, pw, withBias ? b.data() : nullptr, act, pre.data(),
                    out.data());
  denseForward(in.data(), rows, pw, withBias ? b.data() : nullptr, act, ref.data());
  t.check(test::maxAbsDiff(out.data(), ref.data(), out.size()) == 0,
          "denseForwardTrain = denseForward (act %d, bias %d)", int(act), int(withBias));
  std::vector<float> dIn(in.size()), dW(W.size(), 0.f), db(N, 0.f);
  denseBackward(in.data(), rows, W.data(), N, K, act, pre.data(), out.data(), w.data(),
                dIn.data(), dW.data(), withBias ? db.data() : nullptr);
  double e = test::gradError(loss, inD, dIn.data(), inD.size(), rng);
  t.check(e <= 1e-5, "denseBackward dIn act %d bias %d: err %.3g", int(act), int(withBias), e);
  e = test::gradError(loss, WD, dW.data(), WD.size(), rng);
  t.check(e <= 1e-5, "denseBackward dWeight act %d bias %d: err %.3g", int(act), int(withBias), e);
  if (withBias) {
    e = test::gradError(loss, bD, db.data(), bD.size(), rng);
    t.check(e <= 1e-5, "denseBackward dBias act %d: err %.3g", int(act), e);
  }
}

}  // namespace

int main() {
  Tally t;
  uint32_t seed = 1;
  for (Activation a : {Activation::Identity, Activation::Tanh, Activation::Relu,
                       Activation::Gelu, Activation::Sigmoid}) {
    checkDense(t, a, true, seed++);
    checkDense(t, a, false, seed++);
  }
  return t.finish();
}
