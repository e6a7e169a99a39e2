// attention (kernels/attention.h) against a naive double-precision per-sequence reference, with
// sequence lengths 1, 7, 33, 255 (and more) mixed in one packed batch, head dims 8, 24, 32, 64,
// with and without a score bias by key − query distance (MPNet's relative position bias, a
// random table here); and a sequence alone vs inside a batch (bitwise).
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/attention.h"
#include "kernels/relative_position.h"
#include "test_util.h"

using namespace sbert;
using sbert::test::Tally;

namespace {

// A random score bias for sequences of at most maxLen tokens (zero tail, as the kernel expects).
std::vector<float> randomBias(std::mt19937& rng, int heads, int maxLen, ScoreBias& bias) {
  const int stride = scoreBiasStride(maxLen);
  std::vector<float> byDelta = test::randomVec(rng, size_t(heads) * stride, -2.f, 2.f);
  for (int h = 0; h < heads; ++h)
    for (int c = 2 * maxLen - 1; c < stride; ++c) byDelta[size_t(h) * stride + c] = 0.f;
  bias = ScoreBias{byDelta.data(), maxLen, stride};
  return byDelta;
}

void reference(const std::vector<float>& qkv, const std::vector<int32_t>& cu, int heads, int d,
               const ScoreBias& bias, std::vector<double>& out) {
  const int H = heads * d, ld = 3 * H;
  const int n = int(cu.size()) - 1;
  out.assign(size_t(cu[n]) * H, 0.0);
  const double scale = 1.0 / std::sqrt(double(d));
  for (int s = 0; s < n; ++s) {
    const int t0 = cu[s], L = cu[s + 1] - cu[s];
    for (int h = 0; h < heads; ++h) {
      for (int i = 0; i < L; ++i) {
        std::vector<double> sc(L);
        double mx = -INFINITY;
        for (int j = 0; j < L; ++j) {
          double dot = 0;
          for (int c = 0; c < d; ++c)
            dot += double(qkv[size_t(t0 + i) * ld + h * d + c]) * qkv[size_t(t0 + j) * ld + H + h * d + c];
          sc[j] = dot * scale;
          if (bias.byDelta) sc[j] += bias.byDelta[size_t(h) * bias.stride + (j - i) + bias.maxLen - 1];
          mx = std::max(mx, sc[j]);
        }
        double sum = 0;
        for (int j = 0; j < L; ++j) sum += (sc[j] = std::exp(sc[j] - mx));
        for (int c = 0; c < d; ++c) {
          double o = 0;
          for (int j = 0; j < L; ++j) o += sc[j] / sum * qkv[size_t(t0 + j) * ld + 2 * H + h * d + c];
          out[size_t(t0 + i) * H + h * d + c] = o;
        }
      }
    }
  }
}

void checkCase(Tally& t, const std::vector<int>& lens, int heads, int d, float range, uint32_t seed,
               bool withBias = false) {
  std::mt19937 rng(seed);
  auto cu = test::cuSeqlensOf(lens);
  const int T = cu.back(), H = heads * d;
  auto qkv = test::randomVec(rng, size_t(T) * 3 * H, -range, range);
  ScoreBias bias;
  std::vector<float> byDelta;
  if (withBias) byDelta = randomBias(rng, heads, *std::max_element(lens.begin(), lens.end()) + 3, bias);
  std::vector<float> out(size_t(T) * H, NAN);
  attention(qkv.data(), cu.data(), int(lens.size()), heads, d, bias, out.data());
  std::vector<double> ref;
  reference(qkv, cu, heads, d, bias, ref);
  double err = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    double e = std::fabs(out[i] - ref[i]);
    if (!(e == e)) { err = INFINITY; break; }
    err = std::max(err, e);
  }
  std::string ls;
  for (int l : lens) ls += std::to_string(l) + ",";
  // fp32 score rounding grows with Σ|q||k|/√d ≤ range²·√d; outputs scale with |v| ≤ range.
  const double tol = range * (1e-6 + 2e-7 * range * range * std::sqrt(double(d)));
  t.check(err <= tol, "attention heads=%d d=%d lens=%s range=%g bias=%d: max abs err %.3g (tol %.3g)",
          heads, d, ls.c_str(), range, int(withBias), err, tol);
}

void checkIndependence(Tally& t, int heads, int d) {
  std::mt19937 rng(5);
  std::vector<int> lens = {3, 40, 1, 17, 100, 9};
  auto cu = test::cuSeqlensOf(lens);
  const int T = cu.back(), H = heads * d;
  auto qkv = test::randomVec(rng, size_t(T) * 3 * H, -2, 2);
  ScoreBias bias;
  const std::vector<float> byDelta = randomBias(rng, heads, 100, bias);
  std::vector<float> out(size_t(T) * H);
  attention(qkv.data(), cu.data(), int(lens.size()), heads, d, bias, out.data());
  double worst = 0;
  for (size_t s = 0; s < lens.size(); ++s) {
    int32_t one[2] = {0, lens[s]};
    std::vector<float> alone(size_t(lens[s]) * H);
    attention(qkv.data() + size_t(cu[s]) * 3 * H, one, 1, heads, d, bias, alone.data());
    worst = std::max(worst, test::maxAbsDiff(alone.data(), out.data() + size_t(cu[s]) * H, alone.size()));
  }
  t.check(worst == 0.0, "attention heads=%d d=%d (with a score bias): sequences alone == in batch (max diff %.3g)",
          heads, d, worst);
}

}  // namespace

int main() {
  Tally t;
  uint32_t seed = 11;
  const std::vector<int> mixed = {1, 7, 33, 255, 7, 1, 33};
  checkCase(t, mixed, 4, 8, 1.f, seed++);
  checkCase(t, mixed, 2, 32, 1.f, seed++);
  checkCase(t, mixed, 3, 64, 1.f, seed++);
  checkCase(t, mixed, 5, 24, 1.f, seed++);
  checkCase(t, mixed, 3, 20, 1.f, seed++);  // head dims that are not multiples of 8/16
  checkCase(t, mixed, 2, 40, 1.f, seed++);
  checkCase(t, {5, 17}, 2, 1, 1.f, seed++);
  checkCase(t, {1}, 1, 8, 1.f, seed++);
  checkCase(t, {16, 17, 15, 32, 31}, 2, 24, 1.f, seed++);
  checkCase(t, {300, 2}, 12, 32, 0.5f, seed++);
  checkCase(t, {64, 5}, 2, 64, 4.f, seed++);  // peaked softmax (large scores)
  checkCase(t, mixed, 4, 8, 1.f, seed++, true);  // with a score bias by distance
  checkCase(t, mixed, 3, 64, 1.f, seed++, true);
  checkCase(t, {16, 17, 15, 32, 31}, 2, 24, 1.f, seed++, true);
  checkCase(t, {1}, 1, 8, 1.f, seed++, true);
  checkIndependence(t, 4, 8);
  checkIndependence(t, 3, 24);
  // n == 0 must be a no-op: qkv is never read (null here) and nothing is written to out
  int32_t zero = 0;
  std::vector<float> untouched(4 * 8, 12345.f);
  attention(nullptr, &zero, 0, 4, 8, ScoreBias{}, untouched.data());
  bool same = true;
  for (float v : untouched) same = same && v == 12345.f;
  t.check(same, "attention with n == 0 writes nothing");
  return t.finish();
}
