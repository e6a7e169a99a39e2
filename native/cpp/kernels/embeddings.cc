#include "embeddings.h"

#include <algorithm>
#include <vector>

#include "common/thread_pool.h"
#include "layernorm.h"

namespace sbert {
namespace {

inline int64_t positionAt(const int32_t* positionIds, int64_t t, int64_t sequenceStart) {
  return positionIds ? positionIds[t] : t - sequenceStart;
}

// o = (word + type) + position for token t (no type term when the model has none).
inline void sumRow(int64_t t, int64_t pos, const int32_t* ids, const int32_t* typeIds, const float* wordEmb,
                   const float* posEmb, const float* typeEmb, int hidden, float* o) {
  const float* w = wordEmb + int64_t(ids[t]) * hidden;
  const float* p = posEmb + pos * hidden;
  if (typeEmb) {
    const float* ty = typeEmb + int64_t(typeIds ? typeIds[t] : 0) * hidden;
    for (int j = 0; j < hidden; ++j) o[j] = (w[j] + ty[j]) + p[j];
  } else {
    for (int j = 0; j < hidden; ++j) o[j] = w[j] + p[j];
  }
}

}  // namespace

void positionIdsAfterPadding(const int32_t* ids, const int32_t* cuSeqlens, int n, int paddingIdx, int32_t* out) {
  for (int s = 0; s < n; ++s) {
    int32_t count = 0;
    for (int64_t t = cuSeqlens[s]; t < cuSeqlens[s + 1]; ++t) {
      if (ids[t] == paddingIdx) {
        out[t] = paddingIdx;
      } else {
        out[t] = paddingIdx + ++count;
      }
    }
  }
}

void embeddingsLayerNorm(const int32_t* ids, const int32_t* typeIds, const int32_t* positionIds,
                         const int32_t* cuSeqlens, int n, const float* wordEmb, const float* posEmb,
                         const float* typeEmb, const float* gamma, const float* beta, int hidden, float eps,
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
      sumRow(t, positionAt(positionIds, t, cuSeqlens[s]), ids, typeIds, wordEmb, posEmb, typeEmb, hidden,
             out + t * hidden);
      layerNormRow(out + t * hidden, gamma, beta, hidden, eps, out + t * hidden);
    }
  });
}

}  // namespace sbert

// ---- training ----------------------------------------------------------------------------

namespace sbert {

void embeddingsForwardTrain(const int32_t* ids, const int32_t* typeIds, const int32_t* positionIds,
                            const int32_t* cuSeqlens, int n, const float* wordEmb, const float* posEmb,
                            const float* typeEmb, const float* gamma, const float* beta, int hidden, float eps,
                            float* out, float* z, float* rstd) {
  if (n <= 0 || hidden <= 0) return;
  const int64_t T = cuSeqlens[n];
  for (int s = 0; s < n; ++s) {
    for (int64_t t = cuSeqlens[s]; t < cuSeqlens[s + 1]; ++t) {
      sumRow(t, positionAt(positionIds, t, cuSeqlens[s]), ids, typeIds, wordEmb, posEmb, typeEmb, hidden,
             out + t * hidden);
    }
  }
  layerNormForwardTrain(out, nullptr, gamma, beta, T, hidden, eps, out, z, rstd);
}

void embeddingsBackward(const float* dOut, const float* z, const float* rstd, const int32_t* ids,
                        const int32_t* typeIds, const int32_t* positionIds, const int32_t* cuSeqlens, int n,
                        const float* gamma, int hidden, float* dWordEmb, float* dPosEmb, float* dTypeEmb,
                        float* dGamma, float* dBeta) {
  if (n <= 0 || hidden <= 0) return;
  const int64_t T = cuSeqlens[n];
  std::vector<float> dSum(size_t(T) * hidden);
  layerNormBackward(dOut, z, rstd, gamma, T, hidden, dSum.data(), dGamma, dBeta);
  // Scatter-add: tokens sharing an id (or a position) add into the same row, so the threads
  // split the hidden columns instead of the tokens: no two threads touch one element, and
  // every element sums its tokens in token order.
  parallelFor(0, hidden, 16, [&](int64_t c0, int64_t c1) {
    for (int s = 0; s < n; ++s) {
      for (int64_t t = cuSeqlens[s]; t < cuSeqlens[s + 1]; ++t) {
        const float* g = dSum.data() + t * hidden;
        float* w = dWordEmb + int64_t(ids[t]) * hidden;
        for (int64_t j = c0; j < c1; ++j) w[j] += g[j];
        if (dTypeEmb) {
          float* ty = dTypeEmb + int64_t(typeIds ? typeIds[t] : 0) * hidden;
          for (int64_t j = c0; j < c1; ++j) ty[j] += g[j];
        }
        if (dPosEmb) {
          float* p = dPosEmb + positionAt(positionIds, t, cuSeqlens[s]) * hidden;
          for (int64_t j = c0; j < c1; ++j) p[j] += g[j];
        }
      }
    }
  });
}

}  // namespace sbert
