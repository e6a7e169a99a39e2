// LayerNorm training forward and backward (layernorm.h) against a double-precision LayerNorm and
// its central finite differences: dX (= the residual's gradient), dGamma, dBeta, at odd widths
// over the packed rows of lengths 1, 7, 33, 2.
#include <vector>

#include "grad_check.h"
#include "kernels/layernorm.h"

using namespace sbert;
using sbert::test::Tally;

namespace {

void refLayerNorm(const double* y, const double* g, const double* b, int cols, double eps,
                  double* out) {
  double mean = 0;
  for (int j = 0; j < cols; ++j) mean += y[j];
  mean /= cols;
  double var = 0;
  for (int j = 0; j < cols; ++j) var += (y[j] - mean) * (y[j] - mean);
  var /= cols;
  for (int j = 0; j < cols; ++j) out[j] = (y[j] - mean) / std::sqrt(var + eps) * g[j] + b[j];
}

void checkLayerNorm(Tally& t, int cols, float eps, uint32_t seed) {
  std::mt19937 rng(seed);
  int rows = 0;
  for (int len : test::oddLengths()) rows += len;
  auto x = test::randomVec(rng, size_t(rows) * cols, -2, 2), r = test::randomVec(rng, x.size());
  auto g = test::randomVec(rng, cols, 0.5f, 1.5f), b = test::randomVec(rng, cols);
  auto w = test::randomVec(rng, x.size());
  auto xd = test::toDouble(x), rd = test::toDouble(r), gd = test::toDouble(g),
       bd = test::toDouble(b);
  const auto wd = test::toDouble(w);
  auto loss = [&]() {
    std::vector<double> y(cols), o(cols);
    double s = 0;
    for (int i = 0; i < rows; ++i) {
      for (int j = 0; j < cols; ++j) y[j] = xd[size_t(i) * cols + j] + rd[size_t(i) * cols + j];
      refLayerNorm(y.data(), gd.data(), bd.data(), cols, eps, o.data());
      for (int j = 0; j < cols; ++j) s += wd[size_t(i) * cols + j] * o[j];
    }
    return s;
  };

  std::vector<float> out(x.size()), z(x.size()), rstd(rows), ref(x.size());
  layerNormForwardTrain(x.data(), r.data(), g.data(), b.data(), rows, cols, eps, out.data(),
                        z.data(), rstd.data());
  layerNorm(x.data(), r.data(), g.data(), b.data(), rows, cols, eps, ref.data());
  const double fwd = test::maxAbsDiff(out.data(), ref.data(), out.size());
  t.check(fwd <= 2e-6, "layerNormForwardTrain = layerNorm cols=%d: max diff %.3g", cols, fwd);

  std::vector<float> dX(x.size()), dG(cols, 0.25f), dB(cols, -0.5f);
  layerNormBackward(w.data(), z.data(), rstd.data(), g.data(), rows, cols, dX.data(), dG.data(),
                    dB.data());
  for (int j = 0; j < cols; ++j) {
    dG[j] -= 0.25f;
    dB[j] += 0.5f;
  }
  double e = test::gradError(loss, xd, dX.data(), 600, rng);
  t.check(e <= 2e-5, "layerNorm dX cols=%d eps=%g: err %.3g", cols, eps, e);
  e = test::gradError(loss, rd, dX.data(), 200, rng);
  t.check(e <= 2e-5, "layerNorm dResidual cols=%d: err %.3g", cols, e);
  e = test::gradError(loss, gd, dG.data(), cols, rng);
  t.check(e <= 2e-5, "layerNorm dGamma (+=) cols=%d: err %.3g", cols, e);
  e = test::gradError(loss, bd, dB.data(), cols, rng);
  t.check(e <= 2e-5, "layerNorm dBeta (+=) cols=%d: err %.3g", cols, e);

  // In place (dX aliasing dOut) gives the same gradient.
  std::vector<float> inPlace = w, dG2(cols, 0.f), dB2(cols, 0.f);
  layerNormBackward(inPlace.data(), z.data(), rstd.data(), g.data(), rows, cols, inPlace.data(),
                    dG2.data(), dB2.data());
  const double alias = test::maxAbsDiff(inPlace.data(), dX.data(), dX.size());
  t.check(alias == 0, "layerNormBackward in place cols=%d: max diff %.3g", cols, alias);
}

}  // namespace

int main() {
  Tally t;
  checkLayerNorm(t, 37, 1e-12f, 1);
  checkLayerNorm(t, 16, 1e-5f, 2);
  checkLayerNorm(t, 1, 1e-5f, 3);  // one column: z = 0, the gradient into x is 0
  return t.finish();
}
