#include "embeddings.h"

#include <algorithm>

#include "common/thread_pool.h"
#include "layernorm.h"

namespace sbert {

void embeddingsLayerNorm(const int32_t* ids, const int32_t* typeIds, const int32_t* cuSeqlens,
                         int n, const float* wordEmb, const float* posEmb, const float* typeEmb,
                         const float* gamma, const float* beta, int hidden, float eps,
                         float* out) {
  if (n <= 0 || hidden <= 0) return;
  const int64_t T = cuSeqlens[n];
  const int64_t grain = std::max<int64_t>(1, 8192 / hidden);
  parallelFor(0, T, grain, [&](int64_t t0, int64_t t1) {
    // The sequence holding token t0: the last s with cuSeqlens[s] <= t0.
    int s = static_cast<int>(std::upper_bound(cuSeqlens, cuSeqlens + n + 1, int32_t(t0)) -
                             cuSeqlens) - 1;
    for (int64_t t = t0; t < t1; ++t) {
      while (t >= cuSeqlens[s + 1]) ++s;
      const int64_t pos = t - cuSeqlens[s];
      const float* w = wordEmb + int64_t(ids[t]) * hidden;
      const float* ty = typeEmb + int64_t(typeIds ? typeIds[t] : 0) * hidden;
      const float* p = posEmb + pos * hidden;
      float* o = out + t * hidden;
      for (int j = 0; j < hidden; ++j) o[j] = (w[j] + ty[j]) + p[j];
      layerNormRow(o, gamma, beta, hidden, eps, o);
    }
  });
}

}  // namespace sbert
