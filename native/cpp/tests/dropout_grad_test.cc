// Inverted dropout (dropout.h): the kept fraction is 1 − p, kept values are scaled by 1/(1 − p),
// masks are a function of the seed only (same seed → same mask, other seed → another), p = 0
// keeps everything, and dropoutBackward is the derivative of the forward (central differences
// of Σ w·dropout(x) with the mask held fixed).
#include <vector>

#include "grad_check.h"
#include "kernels/dropout.h"

using namespace sbert;
using sbert::test::Tally;

int main() {
  Tally t;
  std::mt19937 rng(9);
  const int64_t n = 100003;
  const auto x = test::randomVec(rng, size_t(n));
  for (float p : {0.1f, 0.5f}) {
    std::vector<float> y = x;
    std::vector<uint8_t> mask(n);
    dropoutForward(y.data(), n, p, dropoutStream(42, 1, 0), mask.data());
    int64_t kept = 0;
    bool scaled = true;
    for (int64_t i = 0; i < n; ++i) {
      kept += mask[i];
      scaled = scaled && y[i] == (mask[i] ? x[i] * (1.f / (1.f - p)) : 0.f);
    }
    bool same = true;  // the (vectorized) forward agrees with the scalar keep function
    for (int64_t i = 0; i < n; ++i) same = same && bool(mask[i]) == dropoutKeep(dropoutStream(42, 1, 0), uint64_t(i), p);
    t.check(same, "dropout p=%g: forward mask = dropoutKeep element by element", p);
    const double frac = double(kept) / double(n);
    t.check(std::fabs(frac - (1 - p)) < 0.01, "dropout p=%g keeps %.4f", p, frac);
    t.check(scaled, "dropout p=%g: kept values ×1/(1−p), dropped 0", p);

    std::vector<float> y2 = x;
    std::vector<uint8_t> mask2(n), mask3(n);
    dropoutForward(y2.data(), n, p, dropoutStream(42, 1, 0), mask2.data());
    t.check(mask2 == mask, "dropout p=%g: same seed, same mask", p);
    dropoutForward(y2.data(), n, p, dropoutStream(42, 2, 0), mask3.data());
    t.check(mask3 != mask, "dropout p=%g: another step, another mask", p);

    // Backward = derivative with the mask fixed.
    const int64_t m = 257;
    auto w = test::randomVec(rng, size_t(m));
    auto xd = test::toDouble(std::vector<float>(x.begin(), x.begin() + m));
    auto loss = [&]() {
      double s = 0;
      for (int64_t i = 0; i < m; ++i) s += w[i] * (mask[i] ? xd[i] / (1.0 - p) : 0.0);
      return s;
    };
    std::vector<float> g = w;
    dropoutBackward(g.data(), m, p, mask.data());
    const double e = test::gradError(loss, xd, g.data(), size_t(m), rng);
    t.check(e <= 1e-6, "dropoutBackward p=%g: err %.3g", p, e);
  }
  std::vector<float> y = x;
  std::vector<uint8_t> mask(n);
  dropoutForward(y.data(), n, 0.f, 7, mask.data());
  t.check(y == x, "dropout p=0 keeps every value unchanged");
  return t.finish();
}
