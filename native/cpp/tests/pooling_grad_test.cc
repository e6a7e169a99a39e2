// Pooling backward (pooling.h) for every mode, alone and concatenated, against central finite
// differences of a double-precision Pooling over packed sequences of lengths 1, 7, 33, 2; plus
// max pooling's tie rule (the gradient goes to the first token holding the maximum, as torch's
// max indices).
#include <vector>

#include "grad_check.h"
#include "kernels/pooling.h"

using namespace sbert;
using sbert::test::Tally;

namespace {

const char* modeName(PoolMode m) {
  switch (m) {
    case PoolMode::Cls: return "cls";
    case PoolMode::Max: return "max";
    case PoolMode::Mean: return "mean";
    case PoolMode::MeanSqrtLen: return "mean_sqrt_len_tokens";
    case PoolMode::WeightedMean: return "weightedmean";
    case PoolMode::LastToken: return "lasttoken";
  }
  return "?";
}

void checkModes(Tally& t, const std::vector<PoolMode>& modes, uint32_t seed) {
  std::mt19937 rng(seed);
  const int H = 13;
  const auto lens = test::oddLengths();
  const auto cu = test::cuSeqlensOf(lens);
  const int n = int(lens.size()), T = cu.back();
  const int outDim = H * int(modes.size());
  auto x = test::randomVec(rng, size_t(T) * H), w = test::randomVec(rng, size_t(n) * outDim);
  auto xd = test::toDouble(x);
  const auto wd = test::toDouble(w);
  auto loss = [&]() {
    double s = 0;
    for (int q = 0; q < n; ++q) {
      const int L = lens[q];
      const double* seq = xd.data() + size_t(cu[q]) * H;
      for (size_t m = 0; m < modes.size(); ++m) {
        for (int j = 0; j < H; ++j) {
          double v = 0;
          switch (modes[m]) {
            case PoolMode::Cls: v = seq[j]; break;
            case PoolMode::LastToken: v = seq[(L - 1) * H + j]; break;
            case PoolMode::Max:
              v = seq[j];
              for (int i = 1; i < L; ++i) v = std::max(v, seq[i * H + j]);
              break;
            case PoolMode::Mean:
            case PoolMode::MeanSqrtLen:
              for (int i = 0; i < L; ++i) v += seq[i * H + j];
              v /= modes[m] == PoolMode::Mean ? L : std::sqrt(double(L));
              break;
            case PoolMode::WeightedMean:
              for (int i = 0; i < L; ++i) v += (i + 1) * seq[i * H + j];
              v /= L * (L + 1) / 2.0;
              break;
          }
          s += wd[size_t(q) * outDim + m * H + j] * v;
        }
      }
    }
    return s;
  };
  std::vector<float> dx(x.size(), NAN);
  poolBackward(x.data(), H, cu.data(), n, modes, w.data(), dx.data());
  const double e = test::gradError(loss, xd, dx.data(), xd.size(), rng);
  std::string names;
  for (PoolMode m : modes) names += std::string(names.empty() ? "" : "+") + modeName(m);
  t.check(e <= 1e-5, "poolBackward %s: err %.3g", names.c_str(), e);
}

}  // namespace

int main() {
  Tally t;
  uint32_t seed = 1;
  for (PoolMode m : {PoolMode::Cls, PoolMode::Max, PoolMode::Mean, PoolMode::MeanSqrtLen,
                     PoolMode::WeightedMean, PoolMode::LastToken}) {
    checkModes(t, {m}, seed++);
  }
  checkModes(t, {PoolMode::Cls, PoolMode::Max, PoolMode::Mean, PoolMode::MeanSqrtLen}, seed++);

  // Ties: column 0 is constant, column 1 peaks at tokens 2 and 4 → tokens 0 and 2 get it.
  const int H = 2, L = 5;
  std::vector<float> x = {1, 0, 1, 1, 1, 3, 1, 2, 1, 3};
  std::vector<int32_t> cu = {0, L};
  std::vector<float> g = {0.5f, -2.f}, dx(size_t(L) * H, NAN);
  poolBackward(x.data(), H, cu.data(), 1, {PoolMode::Max}, g.data(), dx.data());
  const std::vector<float> want = {0.5f, 0, 0, 0, 0, -2.f, 0, 0, 0, 0};
  t.check(dx == want, "poolBackward max: ties go to the first maximum");
  return t.finish();
}
