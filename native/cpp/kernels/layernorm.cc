#include "layernorm.h"

#include <algorithm>
#include <cmath>

#include "common/thread_pool.h"

namespace sbert {
namespace {

// One row; y (cols floats) holds x + residual and may be `out`, x or residual.
inline void normRow(const float* x, const float* res, const float* gamma, const float* beta,
                    int cols, float eps, float* y, float* out) {
  if (res) {
    for (int j = 0; j < cols; ++j) y[j] = x[j] + res[j];
  } else if (y != x) {
    for (int j = 0; j < cols; ++j) y[j] = x[j];
  }
  // Eight independent double partial sums (vectorizable, fixed order).
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int j = 0;
  for (; j + 8 <= cols; j += 8)
    for (int u = 0; u < 8; ++u) s[u] += y[j + u];
  for (; j < cols; ++j) s[0] += y[j];
  const double mean = (((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))) / cols;
  double q[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  j = 0;
  for (; j + 8 <= cols; j += 8)
    for (int u = 0; u < 8; ++u) {
      const double d = y[j + u] - mean;
      q[u] += d * d;
    }
  for (; j < cols; ++j) {
    const double d = y[j] - mean;
    q[0] += d * d;
  }
  const double var = (((q[0] + q[1]) + (q[2] + q[3])) + ((q[4] + q[5]) + (q[6] + q[7]))) / cols;
  const double rstd = 1.0 / std::sqrt(var + double(eps));
  for (j = 0; j < cols; ++j) {
    const float z = static_cast<float>((double(y[j]) - mean) * rstd);
    out[j] = z * gamma[j] + beta[j];
  }
}

}  // namespace

void layerNormRow(const float* y, const float* gamma, const float* beta, int cols, float eps,
                  float* out) {
  normRow(y, nullptr, gamma, beta, cols, eps, out, out);
}

void layerNorm(const float* x, const float* residual, const float* gamma, const float* beta,
               int64_t rows, int cols, float eps, float* out) {
  if (rows <= 0 || cols <= 0) return;
  const int64_t grain = std::max<int64_t>(1, 16384 / cols);
  parallelFor(0, rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t off = r * cols;
      // y = x + residual is staged in `out`: every pass reads element j before writing it, so
      // out may alias x or residual.
      normRow(x + off, residual ? residual + off : nullptr, gamma, beta, cols, eps, out + off,
              out + off);
    }
  });
}

}  // namespace sbert
