// Normalize backward (normalize.h) against central finite differences of a double-precision
// x/max(‖x‖, 1e-12), at an odd width; a row under the clamp gets dY/1e-12 (torch's clamp_min
// passes no gradient to the norm).
#include <vector>

#include "grad_check.h"
#include "kernels/normalize.h"

using namespace sbert;
using sbert::test::Tally;

int main() {
  Tally t;
  std::mt19937 rng(3);
  const int rows = 5, cols = 37;
  auto x = test::randomVec(rng, size_t(rows) * cols), w = test::randomVec(rng, x.size());
  for (int j = 0; j < cols; ++j) x[cols + j] *= 1e-3f;  // a short row
  auto xd = test::toDouble(x);
  const auto wd = test::toDouble(w);
  auto loss = [&]() {
    double s = 0;
    for (int r = 0; r < rows; ++r) {
      double sq = 0;
      for (int j = 0; j < cols; ++j) sq += xd[size_t(r) * cols + j] * xd[size_t(r) * cols + j];
      const double norm = std::max(std::sqrt(sq), 1e-12);
      for (int j = 0; j < cols; ++j) s += wd[size_t(r) * cols + j] * xd[size_t(r) * cols + j] / norm;
    }
    return s;
  };
  std::vector<float> dx(x.size());
  l2NormalizeBackward(x.data(), w.data(), rows, cols, dx.data());
  const double e = test::gradError(loss, xd, dx.data(), xd.size(), rng);
  t.check(e <= 1e-5, "l2NormalizeBackward: err %.3g", e);

  std::vector<float> tiny(cols, 1e-15f), g(cols), dt(cols);
  for (int j = 0; j < cols; ++j) g[j] = float(j) - 3.f;
  l2NormalizeBackward(tiny.data(), g.data(), 1, cols, dt.data());
  double worst = 0;
  for (int j = 0; j < cols; ++j) worst = std::max(worst, std::fabs(dt[j] / (g[j] / 1e-12) - 1.0));
  t.check(worst <= 1e-6, "l2NormalizeBackward under the clamp: dY/1e-12 (rel err %.3g)", worst);

  std::vector<float> inPlace = w;
  l2NormalizeBackward(x.data(), inPlace.data(), rows, cols, inPlace.data());
  t.check(test::maxAbsDiff(inPlace.data(), dx.data(), dx.size()) == 0,
          "l2NormalizeBackward in place");
  return t.finish();
}
