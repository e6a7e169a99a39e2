// Helpers for the gradient checks (native/cpp/tests/*_grad_test.cc): a scalar loss
// L = Σ w·f(x) of a double-precision reference f, its central finite differences in double,
// and the comparison with the fp32 backward kernels' gradients.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "test_util.h"

namespace sbert::test {

inline std::vector<double> toDouble(const std::vector<float>& v) {
  return std::vector<double>(v.begin(), v.end());
}

inline double dotD(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Central difference of loss() with respect to x[i] (x restored afterwards). The step is
// relative to |x[i]| so large and small entries are perturbed alike.
inline double centralDiff(const std::function<double()>& loss, std::vector<double>& x, size_t i,
                          double h = 1e-5) {
  const double x0 = x[i];
  const double step = h * std::max(1.0, std::fabs(x0));
  x[i] = x0 + step;
  const double up = loss();
  x[i] = x0 - step;
  const double down = loss();
  x[i] = x0;
  return (up - down) / (2 * step);
}

// Compares an analytic fp32 gradient with central differences at `samples` indices (all of
// them when samples >= n): error = max |analytic − numeric| / max(max |numeric|, floor). Returns
// the error; NaN/Inf give infinity.
inline double gradError(const std::function<double()>& loss, std::vector<double>& x,
                        const float* analytic, size_t samples, std::mt19937& rng,
                        double floor = 1e-6) {
  const size_t n = x.size();
  std::vector<size_t> idx;
  if (samples >= n) {
    for (size_t i = 0; i < n; ++i) idx.push_back(i);
  } else {
    for (size_t k = 0; k < samples; ++k) idx.push_back(size_t(rng() % n));
  }
  double maxDiff = 0, maxNum = floor;
  for (size_t i : idx) {
    const double num = centralDiff(loss, x, i);
    const double d = std::fabs(double(analytic[i]) - num);
    if (!(d == d) || std::isinf(d)) return INFINITY;
    maxDiff = std::max(maxDiff, d);
    maxNum = std::max(maxNum, std::fabs(num));
  }
  return maxDiff / maxNum;
}

// The packed batch every op is checked on: sequence lengths 1, 7 and 33 (and a 2 for two
// short ones side by side).
inline std::vector<int> oddLengths() { return {1, 7, 33, 2}; }

}  // namespace sbert::test
