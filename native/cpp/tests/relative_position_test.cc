// MPNet's relative position buckets (kernels/relative_position.h): the bucket of every distance
// against a double-precision evaluation of transformers' formula away from the bucket edges,
// PyTorch's fp32 values at the edges (|n| = 16, 32, 64 with 32 buckets / max distance 128:
// torch.log of the fp32 quotient gives exactly 2.0, 4.0, 6.0 there, so the edge belongs to the
// upper bucket), the shape of the table (exact below 8, logarithmic to 15, saturated, negative
// distances in the upper half); and the expansion by distance with its zero tail.
#include <cmath>
#include <vector>

#include "kernels/relative_position.h"
#include "test_util.h"

using namespace sbert;
using sbert::test::Tally;

namespace {

// The formula in double; `edge` is set when the value lies within 1e-4 of an integer (fp32
// rounding then decides, checked separately).
int bucketDouble(int keyMinusQuery, int numBuckets, int maxDistance, bool& edge) {
  const int n = -keyMinusQuery, half = numBuckets / 2, exact = half / 2;
  int ret = n < 0 ? half : 0;
  const int a = std::abs(n);
  edge = false;
  if (a < exact) return ret + a;
  const double x = std::log(double(a) / exact) / std::log(double(maxDistance) / exact) * (half - exact);
  edge = std::fabs(x - std::round(x)) < 1e-4;
  return ret + std::min(exact + int(x), half - 1);
}

}  // namespace

int main() {
  Tally t;
  int mismatches = 0, edges = 0;
  for (int buckets : {32, 16, 8}) {
    for (int maxDistance : {128, 20, 9}) {
      if (maxDistance <= buckets / 4) continue;
      for (int delta = -700; delta <= 700; ++delta) {
        bool edge = false;
        const int want = bucketDouble(delta, buckets, maxDistance, edge);
        if (edge) {
          ++edges;
          continue;
        }
        if (relativePositionBucket(delta, buckets, maxDistance) != want) ++mismatches;
      }
    }
  }
  t.check(mismatches == 0, "relativePositionBucket = transformers' formula off the edges (%d mismatches, %d edges)",
          mismatches, edges);
  // PyTorch (fp32) at the edges of MPNet's 32 buckets: query − key = 16 → 8 + 2, 32 → 8 + 4,
  // 64 → 8 + 6; negative query − key (key after query) adds 16.
  t.check(relativePositionBucket(-16, 32, 128) == 10 && relativePositionBucket(-32, 32, 128) == 12 &&
              relativePositionBucket(-64, 32, 128) == 14,
          "edges 16, 32, 64 fall in the upper bucket, as in PyTorch");
  t.check(relativePositionBucket(16, 32, 128) == 26 && relativePositionBucket(0, 32, 128) == 0 &&
              relativePositionBucket(1, 32, 128) == 17 && relativePositionBucket(-1, 32, 128) == 1,
          "key after query uses the upper half; distance 0 is bucket 0");
  bool saturated = true, monotone = true;
  for (int a = 128; a < 2000; ++a) saturated = saturated && relativePositionBucket(-a, 32, 128) == 15;
  for (int a = 1; a < 300; ++a) {
    monotone = monotone && relativePositionBucket(-a, 32, 128) >= relativePositionBucket(-(a - 1), 32, 128);
  }
  t.check(saturated, "distances >= max distance share the last bucket");
  t.check(monotone, "buckets grow with the distance");

  // Expansion: row h, column delta + maxLen − 1 is table[bucket(delta)][h]; the tail is zero.
  const int heads = 3, buckets = 32, maxLen = 70;
  std::vector<float> table(size_t(buckets) * heads);
  for (size_t i = 0; i < table.size(); ++i) table[i] = float(i) + 0.5f;
  std::vector<float> byDelta(size_t(heads) * scoreBiasStride(maxLen), -1.f);
  expandRelativeBias(table.data(), buckets, 128, heads, maxLen, byDelta.data());
  bool ok = true;
  for (int h = 0; h < heads; ++h) {
    const float* row = byDelta.data() + size_t(h) * scoreBiasStride(maxLen);
    for (int delta = -(maxLen - 1); delta < maxLen; ++delta) {
      ok = ok && row[delta + maxLen - 1] == table[size_t(relativePositionBucket(delta, buckets, 128)) * heads + h];
    }
    for (int c = 2 * maxLen - 1; c < scoreBiasStride(maxLen); ++c) ok = ok && row[c] == 0.f;
  }
  t.check(ok, "expandRelativeBias: table rows by distance, zero tail");
  return t.finish();
}
