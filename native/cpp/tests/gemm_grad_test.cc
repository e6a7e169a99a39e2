// Linear backward (gemm.h: packWeightTransposed, linearBackwardInput, linearBackwardWeight)
// against central finite differences of a double-precision Linear, at odd shapes (rows from the
// packed lengths 1, 7, 33, 2; K and N not multiples of any panel width; inner dimensions above
// the 256-wide K block).
#include <vector>

#include "grad_check.h"
#include "kernels/gemm.h"

using namespace sbert;
using sbert::test::Tally;

namespace {

void checkLinear(Tally& t, int M, int K, int N, size_t samples, uint32_t seed) {
  std::mt19937 rng(seed);
  auto X = test::randomVec(rng, size_t(M) * K), W = test::randomVec(rng, size_t(N) * K);
  auto b = test::randomVec(rng, N), w = test::randomVec(rng, size_t(M) * N);
  auto Xd = test::toDouble(X), Wd = test::toDouble(W), bd = test::toDouble(b);
  const auto wd = test::toDouble(w);
  // L = Σ w ⊙ (X·Wᵀ + b)
  auto loss = [&]() {
    double s = 0;
    for (int m = 0; m < M; ++m)
      for (int n = 0; n < N; ++n) {
        double y = bd[n];
        for (int k = 0; k < K; ++k) y += Xd[size_t(m) * K + k] * Wd[size_t(n) * K + k];
        s += wd[size_t(m) * N + n] * y;
      }
    return s;
  };

  std::vector<float> dX(size_t(M) * K);
  linearBackwardInput(w.data(), M, packWeightTransposed(W.data(), N, K), nullptr, dX.data());
  // dW and db accumulate: start from P and compare the increment.
  auto P = test::randomVec(rng, size_t(N) * K), Pb = test::randomVec(rng, N);
  std::vector<float> dW = P, db = Pb;
  linearBackwardWeight(w.data(), N, M, N, packWeightTransposed(X.data(), M, K), dW.data(),
                       db.data());
  for (size_t i = 0; i < dW.size(); ++i) dW[i] -= P[i];
  for (int i = 0; i < N; ++i) db[i] -= Pb[i];

  double e = test::gradError(loss, Xd, dX.data(), samples, rng);
  t.check(e <= 1e-5, "linear dX M=%d K=%d N=%d: err %.3g", M, K, N, e);
  e = test::gradError(loss, Wd, dW.data(), samples, rng);
  t.check(e <= 1e-5, "linear dW (+=) M=%d K=%d N=%d: err %.3g", M, K, N, e);
  e = test::gradError(loss, bd, db.data(), samples, rng);
  t.check(e <= 1e-5, "linear db (+=) M=%d K=%d N=%d: err %.3g", M, K, N, e);

  // The residual epilogue adds another path's gradient: dX' = dY·W + R.
  auto R = test::randomVec(rng, size_t(M) * K);
  std::vector<float> dXr(dX.size());
  linearBackwardInput(w.data(), M, packWeightTransposed(W.data(), N, K), R.data(), dXr.data());
  double worst = 0;
  for (size_t i = 0; i < dX.size(); ++i)
    worst = std::max(worst, std::fabs(double(dXr[i]) - (double(dX[i]) + R[i])));
  t.check(worst <= 1e-5, "linear dX + residual M=%d K=%d N=%d: max diff %.3g", M, K, N, worst);

  // A strided dY (a column slice, as Q/K/V of a fused QKV gradient) gives the same dW.
  const int ld = N + 5;
  std::vector<float> wide(size_t(M) * ld, 7.f);
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) wide[size_t(m) * ld + 3 + n] = w[size_t(m) * N + n];
  std::vector<float> dW2(dW.size(), 0.f);
  linearBackwardWeight(wide.data() + 3, ld, M, N, packWeightTransposed(X.data(), M, K),
                       dW2.data(), nullptr);
  worst = 0;
  for (size_t i = 0; i < dW.size(); ++i) worst = std::max(worst, std::fabs(double(dW2[i]) - dW[i]));
  t.check(worst <= 1e-4, "linear dW strided dY M=%d K=%d N=%d: max diff %.3g", M, K, N, worst);
}

}  // namespace

int main() {
  Tally t;
  int M = 0;
  for (int len : test::oddLengths()) M += len;
  checkLinear(t, M, 37, 45, 400, 1);
  checkLinear(t, 1, 19, 33, 400, 2);
  checkLinear(t, 270, 24, 259, 60, 3);  // inner dimensions 270 (dW) and 259 (dX) > 256
  return t.finish();
}
