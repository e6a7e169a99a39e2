// Packed varlen attention training forward/backward (attention.h) against a double-precision
// per-(sequence, head) softmax attention and its central finite differences in Q, K and V,
// with and without attention-probability dropout (the reference applies the kernel's keep
// mask), over packed sequences of lengths 1, 7, 33, 2, for a head size below one vector (5) and
// one with a vector tail (24); and with MPNet's relative position bias: the gradient of the
// bias table (attentionBackward's per-distance sums reduced by relativeBiasBackward) against
// finite differences in the table.
#include <vector>

#include "grad_check.h"
#include "kernels/attention.h"
#include "kernels/dropout.h"
#include "kernels/relative_position.h"

using namespace sbert;
using sbert::test::Tally;

namespace {

// relativeBuckets 0: no bias. With buckets, a small maxDistance so that the 33-token sequence
// spans exact, logarithmic and saturated buckets.
void checkAttention(Tally& t, int heads, int d, float dropP, uint32_t seed, int buckets = 0) {
  std::mt19937 rng(seed);
  const auto lens = test::oddLengths();
  const auto cu = test::cuSeqlensOf(lens);
  const int n = int(lens.size()), T = cu.back(), H = heads * d;
  const int maxDistance = 20, maxLen = 33;
  auto qkv = test::randomVec(rng, size_t(T) * 3 * H, -1.5f, 1.5f);
  auto w = test::randomVec(rng, size_t(T) * H);
  auto table = test::randomVec(rng, size_t(std::max(buckets, 1)) * heads, -1.f, 1.f);
  std::vector<float> byDelta;
  ScoreBias bias;
  if (buckets > 0) {
    byDelta.resize(size_t(heads) * scoreBiasStride(maxLen));
    expandRelativeBias(table.data(), buckets, maxDistance, heads, maxLen, byDelta.data());
    bias = ScoreBias{byDelta.data(), maxLen, scoreBiasStride(maxLen)};
  }
  std::vector<int64_t> off(n + 1);
  attentionProbOffsets(cu.data(), n, heads, off.data());
  std::vector<float> probs(off[n]), out(size_t(T) * H);
  std::vector<uint8_t> mask(off[n], 0);
  attentionForwardTrain(qkv.data(), cu.data(), n, heads, d, bias, off.data(), dropP, 1234, probs.data(),
                        mask.data(), out.data());

  auto qd = test::toDouble(qkv);
  auto tableD = test::toDouble(table);
  const auto wd = test::toDouble(w);
  const double scale = 1 / std::sqrt(double(d)), keep = 1 / (1 - double(dropP));
  // Reference forward writes outD; the loss is Σ w·out.
  std::vector<double> outD(out.size());
  auto forward = [&]() {
    for (int s = 0; s < n; ++s) {
      const int L = lens[s];
      for (int h = 0; h < heads; ++h) {
        const int64_t base = off[s] + int64_t(h) * L * L;
        for (int i = 0; i < L; ++i) {
          std::vector<double> p(L);
          double mx = -INFINITY;
          for (int j = 0; j < L; ++j) {
            double dot = 0;
            for (int c = 0; c < d; ++c)
              dot += qd[size_t(cu[s] + i) * 3 * H + h * d + c] *
                     qd[size_t(cu[s] + j) * 3 * H + H + h * d + c];
            p[j] = dot * scale;
            if (buckets > 0) p[j] += tableD[size_t(relativePositionBucket(j - i, buckets, maxDistance)) * heads + h];
            mx = std::max(mx, p[j]);
          }
          double sum = 0;
          for (int j = 0; j < L; ++j) sum += (p[j] = std::exp(p[j] - mx));
          for (int c = 0; c < d; ++c) {
            double o = 0;
            for (int j = 0; j < L; ++j) {
              const double pj = p[j] / sum;
              const double pk = dropP > 0 ? (mask[base + i * L + j] ? pj * keep : 0) : pj;
              o += pk * qd[size_t(cu[s] + j) * 3 * H + 2 * H + h * d + c];
            }
            outD[size_t(cu[s] + i) * H + h * d + c] = o;
          }
        }
      }
    }
  };
  auto loss = [&]() {
    forward();
    return test::dotD(wd, outD);
  };
  forward();
  const double fe = test::maxRelErr(out.data(), outD.data(), out.size(), 1.0);
  t.check(fe <= 2e-6, "attentionForwardTrain heads=%d d=%d drop=%g buckets=%d vs double: err %.3g", heads, d,
          dropP, buckets, fe);
  if (dropP == 0.f) {
    std::vector<float> inf(out.size());
    attention(qkv.data(), cu.data(), n, heads, d, bias, inf.data());
    const double de = test::maxAbsDiff(inf.data(), out.data(), out.size());
    t.check(de <= 2e-6, "attentionForwardTrain = attention (no dropout) d=%d: max diff %.3g", d,
            de);
  } else {
    int64_t kept = 0;
    for (uint8_t m : mask) kept += m;
    const double frac = double(kept) / double(mask.size());
    t.check(std::fabs(frac - (1 - dropP)) < 0.05, "attention dropout keeps %.3f (p = %g)", frac,
            dropP);
  }

  std::vector<float> dQkv(qkv.size(), NAN);
  std::vector<int64_t> biasOff(n + 1);
  attentionBiasGradOffsets(cu.data(), n, heads, biasOff.data());
  std::vector<float> dPairs(biasOff[n], 0.f);
  attentionBackward(qkv.data(), cu.data(), n, heads, d, bias, off.data(), dropP, probs.data(), mask.data(), w.data(),
                    dQkv.data(), biasOff.data(), dPairs.data());
  const double e = test::gradError(loss, qd, dQkv.data(), 1500, rng);
  t.check(e <= 2e-5, "attentionBackward dQ|dK|dV heads=%d d=%d drop=%g buckets=%d: err %.3g", heads, d,
          dropP, buckets, e);
  if (buckets > 0) {
    std::vector<float> dTable(table.size(), 0.f);
    relativeBiasBackward(dPairs.data(), biasOff.data(), cu.data(), n, heads, buckets, maxDistance, dTable.data());
    const double eb = test::gradError(loss, tableD, dTable.data(), tableD.size(), rng);
    t.check(eb <= 2e-5, "attentionBackward + relativeBiasBackward dTable heads=%d d=%d drop=%g: err %.3g", heads, d,
            dropP, eb);
  }
}

}  // namespace

int main() {
  Tally t;
  checkAttention(t, 3, 5, 0.f, 1);
  checkAttention(t, 2, 24, 0.f, 2);
  checkAttention(t, 2, 24, 0.25f, 3);
  checkAttention(t, 3, 5, 0.5f, 4);
  checkAttention(t, 2, 24, 0.f, 5, 16);
  checkAttention(t, 3, 5, 0.25f, 6, 8);
  return t.finish();
}
