// MPNet's relative attention bias, see relative_position.h.
#include "relative_position.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace sbert {

int relativePositionBucket(int keyMinusQuery, int numBuckets, int maxDistance) {
  const int n = -keyMinusQuery;  // query − key, as transformers negates the relative position
  const int half = numBuckets / 2;
  const int exact = half / 2;
  const int bucket = n < 0 ? half : 0;
  const int distance = std::abs(n);
  if (distance < exact) return bucket + distance;
  // fp32 throughout, as torch: log(float(n) / exact) / float(log(maxDistance / exact)) · (half − exact)
  const float ratio = std::log(float(distance) / float(exact));
  const float scale = float(std::log(double(maxDistance) / double(exact)));
  const float large = ratio / scale * float(half - exact);
  const int value = exact + static_cast<int>(large);  // truncation toward zero (large ≥ 0)
  return bucket + std::min(value, half - 1);
}

void expandRelativeBias(const float* table, int numBuckets, int maxDistance, int numHeads, int maxLen,
                        float* byDelta) {
  const int stride = scoreBiasStride(maxLen);
  for (int h = 0; h < numHeads; ++h) std::memset(byDelta + int64_t(h) * stride, 0, sizeof(float) * stride);
  for (int delta = -(maxLen - 1); delta <= maxLen - 1; ++delta) {
    const int b = relativePositionBucket(delta, numBuckets, maxDistance);
    for (int h = 0; h < numHeads; ++h) byDelta[int64_t(h) * stride + delta + maxLen - 1] = table[int64_t(b) * numHeads + h];
  }
}

void relativeBiasBackward(const float* dPairs, const int64_t* pairOffsets, const int32_t* cuSeqlens, int n,
                          int numHeads, int numBuckets, int maxDistance, float* dTable) {
  int maxLen = 0;
  for (int s = 0; s < n; ++s) maxLen = std::max(maxLen, cuSeqlens[s + 1] - cuSeqlens[s]);
  std::vector<int> bucketOf(size_t(std::max(2 * maxLen - 1, 0)));  // by (key − query) + maxLen − 1
  for (int delta = -(maxLen - 1); delta <= maxLen - 1; ++delta) {
    bucketOf[size_t(delta + maxLen - 1)] = relativePositionBucket(delta, numBuckets, maxDistance);
  }
  for (int s = 0; s < n; ++s) {
    const int L = cuSeqlens[s + 1] - cuSeqlens[s];
    for (int h = 0; h < numHeads; ++h) {
      const float* d = dPairs + pairOffsets[s] + int64_t(h) * (2 * L - 1);
      for (int delta = -(L - 1); delta <= L - 1; ++delta) {
        dTable[int64_t(bucketOf[size_t(delta + maxLen - 1)]) * numHeads + h] += d[delta + L - 1];
      }
    }
  }
}

}  // namespace sbert
