// GEMM (kernels/gemm.h) against the double-accumulating reference, at odd and tail shapes and
// every epilogue, plus batch-composition independence. (Its speed: bench/native/gemm_bench.cc.)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>

#include "common/thread_pool.h"
#include "kernels/activation.h"
#include "kernels/gemm.h"
#include "test_util.h"

using namespace sbert;
using sbert::test::Tally;

namespace {

using test::epilogueName;

void checkShape(Tally& t, int64_t M, int K, int N, uint32_t seed) {
  std::mt19937 rng(seed);
  auto A = test::randomVec(rng, size_t(M) * K);
  auto W = test::randomVec(rng, size_t(N) * K);
  auto bias = test::randomVec(rng, N);
  auto res = test::randomVec(rng, size_t(M) * N);
  PackedWeight pw = packWeight(W.data(), N, K);
  t.check(pw.N == N && pw.K == K, "packWeight M=%lld K=%d N=%d keeps its shape", (long long)M, K, N);

  // Scale of each element: Σ|a||w| (+|bias|, +|residual|) — the bound fp32 rounding is relative to.
  std::vector<float> absA(A.size()), absW(W.size()), absB(N), absR(res.size());
  for (size_t i = 0; i < A.size(); ++i) absA[i] = std::fabs(A[i]);
  for (size_t i = 0; i < W.size(); ++i) absW[i] = std::fabs(W[i]);
  for (int i = 0; i < N; ++i) absB[i] = std::fabs(bias[i]);
  for (size_t i = 0; i < res.size(); ++i) absR[i] = std::fabs(res[i]);
  std::vector<float> scale(size_t(M) * N);
  linearReference(absA.data(), M, K, absW.data(), N, absB.data(), absR.data(),
                  Epilogue::BiasResidual, scale.data());

  std::vector<float> C(size_t(M) * N), R(size_t(M) * N);
  for (Epilogue ep : {Epilogue::None, Epilogue::Bias, Epilogue::BiasGelu, Epilogue::BiasResidual}) {
    std::fill(C.begin(), C.end(), NAN);
    linear(A.data(), M, K, pw, bias.data(), res.data(), ep, C.data());
    linearReference(A.data(), M, K, W.data(), N, bias.data(), res.data(), ep, R.data());
    double err = 0;
    for (size_t i = 0; i < C.size(); ++i) {
      double d = std::fabs(double(C[i]) - double(R[i]));
      if (!(d == d)) { err = INFINITY; break; }
      err = std::max(err, d / (double(scale[i]) + 1e-30));
    }
    t.check(err <= 1e-5, "linear M=%lld K=%d N=%d %s: max err %.3g (relative to sum|a||w|)",
            (long long)M, K, N, epilogueName(ep), err);
  }
}

void checkNullBias(Tally& t) {
  std::mt19937 rng(7);
  const int M = 9, K = 20, N = 40;
  auto A = test::randomVec(rng, M * K);
  auto W = test::randomVec(rng, N * K);
  PackedWeight pw = packWeight(W.data(), N, K);
  std::vector<float> C(M * N), R(M * N);
  linear(A.data(), M, K, pw, nullptr, nullptr, Epilogue::Bias, C.data());
  linearReference(A.data(), M, K, W.data(), N, nullptr, nullptr, Epilogue::None, R.data());
  t.check(test::maxAbsDiff(C.data(), R.data(), C.size()) < 1e-5, "Bias epilogue with null bias = no bias");
}

// GELU epilogue over a wide range: K = 1, W = 1 → C = gelu(a).
void checkGeluRange(Tally& t) {
  const int M = 200001;
  std::vector<float> A(M);
  for (int i = 0; i < M; ++i) A[i] = -12.f + 24.f * float(i) / float(M - 1);
  A[M / 2] = 0.f;
  float one = 1.f, zero = 0.f;
  PackedWeight pw = packWeight(&one, 1, 1);
  std::vector<float> C(M);
  linear(A.data(), M, 1, pw, &zero, nullptr, Epilogue::BiasGelu, C.data());
  double worst = 0, worstX = 0;
  for (int i = 0; i < M; ++i) {
    double x = A[i];
    double ref = 0.5 * x * std::erfc(-x / std::sqrt(2.0));
    double tol = 2.5e-7 * std::fabs(x) + 1.2e-7 * std::fabs(ref) + 1e-37;
    double e = std::fabs(C[i] - ref) / tol;
    if (!(e == e)) e = INFINITY;
    if (e > worst) { worst = e; worstX = x; }
  }
  t.check(worst <= 1.0, "gelu epilogue on [-12, 12]: error/(2.5e-7|x| + 1.2e-7|gelu|) max %.3g at x=%g",
          worst, worstX);
  t.check(C[M / 2] == 0.f, "gelu(0) == 0");
  // scalar geluErf (exact std::erf form)
  double w2 = 0;
  for (int i = 0; i < M; i += 7) {
    double x = A[i];
    double ref = 0.5 * x * std::erfc(-x / std::sqrt(2.0));
    w2 = std::max(w2, std::fabs(geluErf(A[i]) - ref) / (std::fabs(ref) * 4e-7 + 1e-30 + 1.2e-7 * std::fabs(x)));
  }
  t.check(w2 <= 1.0, "geluErf scalar error within bound (%.3g)", w2);
}

// A row's result must not depend on the rest of the batch (bitwise).
void checkRowIndependence(Tally& t, int K, int N) {
  std::mt19937 rng(99 + K + N);
  const int64_t M = 1000;
  auto A = test::randomVec(rng, size_t(M) * K);
  auto W = test::randomVec(rng, size_t(N) * K);
  auto bias = test::randomVec(rng, N);
  auto res = test::randomVec(rng, size_t(M) * N);
  PackedWeight pw = packWeight(W.data(), N, K);
  for (Epilogue ep : {Epilogue::BiasGelu, Epilogue::BiasResidual}) {
    std::vector<float> full(size_t(M) * N);
    linear(A.data(), M, K, pw, bias.data(), res.data(), ep, full.data());
    double worst = 0;
    for (int64_t r : {int64_t(0), int64_t(1), int64_t(13), int64_t(500), int64_t(999)}) {
      std::vector<float> one(N);
      linear(A.data() + r * K, 1, K, pw, bias.data(), res.data() + r * N, ep, one.data());
      worst = std::max(worst, test::maxAbsDiff(one.data(), full.data() + r * N, N));
    }
    for (int64_t r0 : {int64_t(3), int64_t(400)}) {
      const int64_t m = 37;
      std::vector<float> part(size_t(m) * N);
      linear(A.data() + r0 * K, m, K, pw, bias.data(), res.data() + r0 * N, ep, part.data());
      worst = std::max(worst, test::maxAbsDiff(part.data(), full.data() + r0 * N, size_t(m) * N));
    }
    t.check(worst == 0.0, "rows alone == rows in a batch of 1000 (K=%d N=%d %s): max diff %.3g",
            K, N, epilogueName(ep), worst);
  }
}

// Every sub-batch height 1..40 (every remainder micro-kernel, merged/split last tiles, one or
// several row blocks and N chunks) gives bitwise the rows of the full batch.
void checkEveryTileHeight(Tally& t, int K, int N) {
  std::mt19937 rng(7 + K + N);
  const int64_t M = 300;
  auto A = test::randomVec(rng, size_t(M) * K);
  auto W = test::randomVec(rng, size_t(N) * K);
  auto bias = test::randomVec(rng, N);
  auto res = test::randomVec(rng, size_t(M) * N);
  PackedWeight pw = packWeight(W.data(), N, K);
  for (Epilogue ep : {Epilogue::None, Epilogue::BiasGelu, Epilogue::BiasResidual}) {
    std::vector<float> full(size_t(M) * N);
    linear(A.data(), M, K, pw, bias.data(), res.data(), ep, full.data());
    double worst = 0;
    int worstM = 1;
    for (int64_t m = 1; m <= 40; ++m) {
      const int64_t r0 = (m * 37) % (M - m);
      std::vector<float> part(size_t(m) * N);
      linear(A.data() + r0 * K, m, K, pw, bias.data(), res.data() + r0 * N, ep, part.data());
      const double d = test::maxAbsDiff(part.data(), full.data() + r0 * N, size_t(m) * N);
      if (!(d <= worst)) { worst = d; worstM = int(m); }
    }
    t.check(worst == 0.0,
            "sub-batches of 1..40 rows == the same rows in a batch of %lld (K=%d N=%d %s): "
            "max diff %.3g (worst sub-batch M=%d)",
            (long long)M, K, N, epilogueName(ep), worst, worstM);
  }
}

}  // namespace

int main() {
  Tally t;
  struct Case { int64_t M; int K, N; };
  const Case cases[] = {
      {1, 1, 1},       {1, 384, 1152},  {1, 1536, 384},  {7, 3, 17},      {7, 17, 3},
      {7, 1536, 64},   {33, 32, 64},    {33, 64, 32},    {33, 1536, 384}, {33, 300, 97},
      {255, 17, 1536}, {255, 384, 384}, {255, 1, 33},    {1000, 64, 17},  {1000, 3, 1536},
      {1000, 384, 32}, {4097, 3, 64},   {4097, 32, 17},  {4097, 64, 384}, {4097, 384, 1},
      {13, 1536, 384}, {14, 384, 1152}, {19, 600, 100},  {25, 70, 33},
  };
  uint32_t seed = 1;
  for (const Case& c : cases) checkShape(t, c.M, c.K, c.N, seed++);
  checkNullBias(t);
  checkGeluRange(t);
  checkRowIndependence(t, 384, 1152);
  checkRowIndependence(t, 1536, 384);
  checkRowIndependence(t, 17, 33);
  checkEveryTileHeight(t, 384, 1152);
  checkEveryTileHeight(t, 1536, 384);
  checkEveryTileHeight(t, 600, 70);
  return t.finish();
}
