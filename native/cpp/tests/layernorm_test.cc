// layerNorm (with/without residual, in place) and embeddingsLayerNorm against double references.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/embeddings.h"
#include "kernels/layernorm.h"
#include "test_util.h"

using namespace sbert;
using sbert::test::Tally;

namespace {

void refLN(const float* y, const float* g, const float* b, int cols, double eps, double* out) {
  double mean = 0;
  for (int j = 0; j < cols; ++j) mean += y[j];
  mean /= cols;
  double var = 0;
  for (int j = 0; j < cols; ++j) var += (y[j] - mean) * (y[j] - mean);
  var /= cols;
  for (int j = 0; j < cols; ++j) out[j] = (y[j] - mean) / std::sqrt(var + eps) * g[j] + b[j];
}

void checkLN(Tally& t, int64_t rows, int cols, bool withResidual, bool inPlace, float eps,
             float offset, uint32_t seed) {
  std::mt19937 rng(seed);
  auto x = test::randomVec(rng, size_t(rows) * cols, offset - 2, offset + 2);
  auto r = test::randomVec(rng, size_t(rows) * cols);
  auto g = test::randomVec(rng, cols, 0.5f, 1.5f);
  auto b = test::randomVec(rng, cols);
  std::vector<double> ref(x.size());
  std::vector<float> y(cols);
  for (int64_t i = 0; i < rows; ++i) {
    for (int j = 0; j < cols; ++j) y[j] = x[i * cols + j] + (withResidual ? r[i * cols + j] : 0.f);
    refLN(y.data(), g.data(), b.data(), cols, eps, ref.data() + i * cols);
  }
  std::vector<float> out(x.size(), NAN);
  float* dst = inPlace ? x.data() : out.data();
  layerNorm(x.data(), withResidual ? r.data() : nullptr, g.data(), b.data(), rows, cols, eps, dst);
  double err = test::maxRelErr(dst, ref.data(), x.size(), 1.0);
  t.check(err <= 2e-6, "layerNorm rows=%lld cols=%d residual=%d inPlace=%d eps=%g offset=%g: max err %.3g",
          (long long)rows, cols, int(withResidual), int(inPlace), eps, offset, err);
}

void checkEmbeddings(Tally& t, bool withTypes) {
  std::mt19937 rng(3);
  const int vocab = 50, maxPos = 40, types = 3, H = 24;
  const float eps = 1e-12f;
  auto word = test::randomVec(rng, vocab * H), pos = test::randomVec(rng, maxPos * H);
  auto type = test::randomVec(rng, types * H), g = test::randomVec(rng, H, 0.5f, 1.5f),
       b = test::randomVec(rng, H);
  std::vector<int> lens = {1, 40, 7, 13};
  auto cu = test::cuSeqlensOf(lens);
  const int T = cu.back();
  std::vector<int32_t> ids(T), tids(T);
  for (int i = 0; i < T; ++i) {
    ids[i] = int32_t(rng() % vocab);
    tids[i] = int32_t(rng() % types);
  }
  std::vector<float> out(size_t(T) * H, NAN);
  embeddingsLayerNorm(ids.data(), withTypes ? tids.data() : nullptr, nullptr, cu.data(), int(lens.size()),
                      word.data(), pos.data(), type.data(), g.data(), b.data(), H, eps, out.data());
  std::vector<double> ref(out.size());
  std::vector<float> y(H);
  for (size_t s = 0; s < lens.size(); ++s) {
    for (int p = 0; p < lens[s]; ++p) {
      const int tok = cu[s] + p;
      const int ty = withTypes ? tids[tok] : 0;
      for (int j = 0; j < H; ++j) y[j] = (word[ids[tok] * H + j] + type[ty * H + j]) + pos[p * H + j];
      refLN(y.data(), g.data(), b.data(), H, eps, ref.data() + size_t(tok) * H);
    }
  }
  double err = test::maxRelErr(out.data(), ref.data(), out.size(), 1.0);
  t.check(err <= 2e-6, "embeddingsLayerNorm typeIds=%s lens=1,40,7,13: max err %.3g",
          withTypes ? "given" : "null", err);
}

// Every ISA body this CPU has gives the portable body's bits (no FMA, same partial-sum lanes).
void checkIsasAgree(Tally& t, int cols, uint32_t seed) {
  std::mt19937 rng(seed);
  auto y = test::randomVec(rng, cols, -3.f, 5.f);
  auto g = test::randomVec(rng, cols, 0.5f, 1.5f);
  auto b = test::randomVec(rng, cols);
  std::vector<float> ref(cols), out(cols);
  layerNormRowForIsa(CpuIsa::Portable, y.data(), g.data(), b.data(), cols, 1e-12f, ref.data());
  for (CpuIsa isa : {CpuIsa::Avx2, CpuIsa::Avx512}) {
    std::fill(out.begin(), out.end(), NAN);
    if (!layerNormRowForIsa(isa, y.data(), g.data(), b.data(), cols, 1e-12f, out.data())) continue;
    int diff = 0;
    for (int j = 0; j < cols; ++j) diff += std::memcmp(&out[j], &ref[j], sizeof(float)) != 0;
    t.check(diff == 0, "layerNorm ISA %s == portable, bit for bit, cols=%d: %d elements differ",
            cpuIsaName(isa), cols, diff);
  }
}

}  // namespace

int main() {
  Tally t;
  uint32_t seed = 21;
  for (int cols : {1, 7, 32, 384, 1000}) {
    for (int res = 0; res < 2; ++res) {
      checkLN(t, 33, cols, res, false, 1e-12f, 0.f, seed++);
      checkLN(t, 33, cols, res, true, 1e-5f, 3.f, seed++);
    }
  }
  checkLN(t, 4097, 384, true, false, 1e-12f, 100.f, seed++);  // large mean: two-pass variance
  for (int cols : {1, 7, 8, 9, 33, 255, 384, 385, 1024}) checkIsasAgree(t, cols, seed++);
  checkEmbeddings(t, false);
  checkEmbeddings(t, true);
  return t.finish();
}
