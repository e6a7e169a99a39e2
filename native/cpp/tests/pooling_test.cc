// pool (every mode, concatenation order, zero-length sequences), l2NormalizeRows (incl. a zero
// row), applyActivation and denseForward against naive references.
#include <cmath>
#include <vector>

#include "kernels/activation.h"
#include "kernels/dense.h"
#include "kernels/gemm.h"
#include "kernels/normalize.h"
#include "kernels/pooling.h"
#include "test_util.h"

using namespace sbert;
using sbert::test::Tally;

namespace {

const char* modeName(PoolMode m) {
  switch (m) {
    case PoolMode::Cls: return "cls";
    case PoolMode::Max: return "max";
    case PoolMode::Mean: return "mean";
    case PoolMode::MeanSqrtLen: return "mean_sqrt_len";
    case PoolMode::WeightedMean: return "weightedmean";
    case PoolMode::LastToken: return "lasttoken";
  }
  return "?";
}

// Naive per-mode reference in double over one sequence, written as sentence-transformers'
// Pooling.forward computes it: an attention mask that is 0 for the first `skip` tokens
// (include_prompt: false), padding-free. Masked tokens are -1e9 for Max, weight 0 in the sums
// (whose divisor is clamped at 1e-9), and LastToken gathers the last unmasked token (index 0
// when none is left) times its mask.
void refPool(const float* x, int L, int H, PoolMode m, double* o, int skip = 0) {
  auto mask = [&](int i) { return i >= skip ? 1.0 : 0.0; };
  for (int j = 0; j < H; ++j) {
    double v = 0;
    if (L == 0) { o[j] = 0; continue; }
    switch (m) {
      case PoolMode::Cls: v = x[j]; break;
      case PoolMode::LastToken: {
        int last = 0;
        for (int i = 0; i < L; ++i)
          if (mask(i) != 0) last = i;
        v = x[size_t(last) * H + j] * mask(last);
        break;
      }
      case PoolMode::Max:
        v = -INFINITY;
        for (int i = 0; i < L; ++i) v = std::max(v, mask(i) != 0 ? double(x[size_t(i) * H + j]) : -1e9);
        break;
      case PoolMode::Mean:
      case PoolMode::MeanSqrtLen: {
        double cnt = 0;
        for (int i = 0; i < L; ++i) {
          v += mask(i) * x[size_t(i) * H + j];
          cnt += mask(i);
        }
        cnt = std::max(cnt, 1e-9);
        v /= m == PoolMode::Mean ? cnt : std::sqrt(cnt);
        break;
      }
      case PoolMode::WeightedMean: {
        double w = 0;
        for (int i = 0; i < L; ++i) {
          v += mask(i) * double(i + 1) * x[size_t(i) * H + j];
          w += mask(i) * (i + 1);
        }
        v /= std::max(w, 1e-9);
        break;
      }
    }
    o[j] = v;
  }
}

void checkPool(Tally& t, const std::vector<PoolMode>& modes, const std::vector<int>& lens, int H,
               int skip = 0) {
  std::mt19937 rng(31 + H + 1000 * skip);
  auto cu = test::cuSeqlensOf(lens);
  const int n = int(lens.size());
  auto x = test::randomVec(rng, size_t(cu.back()) * H, -3, 3);
  const size_t D = size_t(H) * modes.size();
  std::vector<float> out(n * D + 1, NAN);
  pool(x.data(), H, cu.data(), n, modes, out.data(), skip);
  std::vector<double> ref(n * D);
  for (int s = 0; s < n; ++s)
    for (size_t m = 0; m < modes.size(); ++m)
      refPool(x.data() + size_t(cu[s]) * H, lens[s], H, modes[m], ref.data() + s * D + m * H, skip);
  std::string names;
  for (PoolMode m : modes) names += std::string(modeName(m)) + "+";
  names.pop_back();
  double err = test::maxRelErr(out.data(), ref.data(), n * D, 1.0);
  t.check(err <= 1e-6 && std::isnan(out[n * D]),
          "pool %s H=%d n=%d skip=%d: max err %.3g, no write past the end", names.c_str(), H, n, skip, err);
}

void checkNormalize(Tally& t) {
  std::mt19937 rng(41);
  const int rows = 50, cols = 385;
  auto x = test::randomVec(rng, rows * cols, -5, 5);
  for (int j = 0; j < cols; ++j) x[7 * cols + j] = 0.f;               // zero row
  for (int j = 0; j < cols; ++j) x[8 * cols + j] = j == 3 ? 1e-30f : 0.f;  // below eps
  std::vector<double> ref(x.size());
  for (int r = 0; r < rows; ++r) {
    double s = 0;
    for (int j = 0; j < cols; ++j) s += double(x[r * cols + j]) * x[r * cols + j];
    double nrm = std::max(std::sqrt(s), 1e-12);
    for (int j = 0; j < cols; ++j) ref[r * cols + j] = x[r * cols + j] / nrm;
  }
  l2NormalizeRows(x.data(), rows, cols);
  double err = test::maxRelErr(x.data(), ref.data(), x.size(), 1e-3);
  bool zeroOk = true;
  for (int j = 0; j < cols; ++j) zeroOk = zeroOk && x[7 * cols + j] == 0.f;
  t.check(err <= 1e-6, "l2NormalizeRows 50x385: max err %.3g", err);
  t.check(zeroOk, "l2NormalizeRows leaves a zero row zero (no NaN)");
  t.check(std::fabs(x[8 * cols + 3] - 1e-18f) <= 1e-24f, "l2NormalizeRows divides by 1e-12 below eps (%g)",
          x[8 * cols + 3]);
}

// The activations written out independently of kernels/activation.cc, in double, as torch
// defines them (GELU: the exact erf form, ½·x·(1 + erf(x/√2)) = ½·x·erfc(−x/√2)).
double refActivation(Activation a, double v) {
  switch (a) {
    case Activation::Identity: return v;
    case Activation::Tanh: return std::tanh(v);
    case Activation::Relu: return v < 0 ? 0.0 : v;
    case Activation::Gelu: return 0.5 * v * std::erfc(-v / std::sqrt(2.0));
    case Activation::Sigmoid: return 1 / (1 + std::exp(-v));
  }
  return NAN;
}

const struct { Activation a; const char* name; } kActivations[] = {
    {Activation::Identity, "identity"}, {Activation::Tanh, "tanh"}, {Activation::Relu, "relu"},
    {Activation::Gelu, "gelu"},         {Activation::Sigmoid, "sigmoid"},
};

void checkActivations(Tally& t) {
  std::vector<float> x(20001);
  for (size_t i = 0; i < x.size(); ++i) x[i] = -10.f + 20.f * float(i) / float(x.size() - 1);
  for (const auto& a : kActivations) {
    std::vector<float> y = x;
    applyActivation(y.data(), int64_t(y.size()), a.a);
    double err = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      const double r = refActivation(a.a, x[i]);
      // Relative error allowed: 1e-6, plus for GELU the rounding of x/√2 in fp32, which erfc
      // amplifies by 2(x/√2)² in its far tail.
      const double tol = 1e-6 + (a.a == Activation::Gelu ? 1.2e-7 * double(x[i]) * x[i] : 0.0);
      err = std::max(err, std::fabs(y[i] - r) / ((std::fabs(r) + 1e-30) * tol));
    }
    t.check(err <= 1.0, "applyActivation %s on [-10, 10]: max err/tol %.3g", a.name, err);
  }
}

// denseForward against act(in·Wᵀ + b) computed here in double: neither the linear part nor the
// activation of the reference comes from the kernels under test.
void checkDense(Tally& t, bool withBias, Activation act, const char* actName) {
  std::mt19937 rng(51);
  const int rows = 13, K = 96, N = 40;
  auto in = test::randomVec(rng, rows * K), W = test::randomVec(rng, N * K), b = test::randomVec(rng, N);
  PackedWeight pw = packWeight(W.data(), N, K);
  std::vector<float> out(rows * N);
  std::vector<double> ref(rows * N);
  denseForward(in.data(), rows, pw, withBias ? b.data() : nullptr, act, out.data());
  for (int r = 0; r < rows; ++r)
    for (int n = 0; n < N; ++n) {
      double acc = withBias ? double(b[n]) : 0.0;
      for (int k = 0; k < K; ++k) acc += double(in[size_t(r) * K + k]) * W[size_t(n) * K + k];
      ref[size_t(r) * N + n] = refActivation(act, acc);
    }
  // floor 1 → absolute error for |ref| ≤ 1 (every activation here but identity/relu/gelu's tail).
  double err = test::maxRelErr(out.data(), ref.data(), out.size(), 1.0);
  t.check(err <= 1e-5, "denseForward bias=%d activation=%s: max err %.3g", int(withBias), actName, err);
}

}  // namespace

int main() {
  Tally t;
  const std::vector<PoolMode> all = {PoolMode::Cls, PoolMode::Max, PoolMode::Mean,
                                     PoolMode::MeanSqrtLen, PoolMode::WeightedMean, PoolMode::LastToken};
  const std::vector<int> lens = {1, 7, 33, 255, 2};
  for (PoolMode m : all) checkPool(t, {m}, lens, 32);
  checkPool(t, all, lens, 17);
  checkPool(t, {PoolMode::Mean, PoolMode::Cls, PoolMode::Max}, lens, 384);  // given order kept
  checkPool(t, all, {3, 0, 5, 0}, 8);                                      // empty sequences → zeros
  // include_prompt: false — the first `skip` tokens left out (skip ≥ length: nothing left).
  for (int skip : {1, 3, 7, 8, 33, 40}) {
    for (PoolMode m : all) checkPool(t, {m}, {1, 7, 33}, 32, skip);
    checkPool(t, all, {7, 1, 33, 0, 2}, 17, skip);
  }
  checkNormalize(t);
  checkActivations(t);
  for (const auto& a : kActivations) {
    checkDense(t, true, a.a, a.name);
    checkDense(t, false, a.a, a.name);
  }
  return t.finish();
}
