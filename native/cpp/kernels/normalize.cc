#include "normalize.h"

#include <algorithm>
#include <cmath>

#include "common/thread_pool.h"

namespace sbert {

void l2NormalizeRows(float* x, int64_t rows, int cols) {
  if (rows <= 0 || cols <= 0) return;
  const int64_t grain = std::max<int64_t>(1, 16384 / cols);
  parallelFor(0, rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* row = x + r * cols;
      double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      int j = 0;
      for (; j + 8 <= cols; j += 8)
        for (int u = 0; u < 8; ++u) s[u] += double(row[j + u]) * row[j + u];
      for (; j < cols; ++j) s[0] += double(row[j]) * row[j];
      const double sq = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
      const float norm = std::max(static_cast<float>(std::sqrt(sq)), 1e-12f);
      for (j = 0; j < cols; ++j) row[j] = row[j] / norm;
    }
  });
}

}  // namespace sbert

namespace sbert {

void l2NormalizeBackward(const float* x, const float* dY, int64_t rows, int cols, float* dX) {
  if (rows <= 0 || cols <= 0) return;
  parallelFor(0, rows, std::max<int64_t>(1, 16384 / cols), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      const float* g = dY + r * cols;
      float* d = dX + r * cols;
      double sq = 0, xg = 0;
      for (int j = 0; j < cols; ++j) {
        sq += double(xr[j]) * xr[j];
        xg += double(xr[j]) * g[j];
      }
      const double norm = std::sqrt(sq);
      if (norm > 1e-12) {
        // y = x/‖x‖: dx = (g − y·(y·g))/‖x‖.
        const double c = xg / (norm * norm);
        for (int j = 0; j < cols; ++j) d[j] = static_cast<float>((g[j] - xr[j] * c) / norm);
      } else {
        // The clamp is active: y = x/1e-12, whose gradient does not flow into the norm.
        for (int j = 0; j < cols; ++j) d[j] = static_cast<float>(g[j] / 1e-12);
      }
    }
  });
}

}  // namespace sbert
