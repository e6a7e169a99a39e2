// GEMM (kernels/gemm.h) against the double-accumulating reference, at odd and tail shapes and
// every epilogue, plus batch-composition independence, null bias and guard pages (the checks
// shared with the int8 and bf16 tests: gemm_harness.h). (Its speed: bench/native/gemm_bench.cc.)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>

#include "common/thread_pool.h"
#include "gemm_harness.h"
#include "kernels/activation.h"
#include "kernels/gemm.h"
#include "test_util.h"

using namespace sbert;
using sbert::test::Tally;

namespace {

using test::epilogueName;

// The fp32 GEMM as the shared checks see it: one path, the kernel the process dispatches to.
struct Fp32Gemm {
  using Path = CpuIsa;
  using Packed = PackedWeight;
  static constexpr const char* kName = "fp32";
  static constexpr int kPathWidth = 8;
  static std::vector<Path> paths() { return {activeCpuIsa()}; }
  static Path defaultPath() { return activeCpuIsa(); }
  static const char* name(Path p) { return cpuIsaName(p); }
  static Packed pack(const float* W, int N, int K, Path) { return packWeight(W, N, K); }
  static void run(const float* A, int64_t M, int K, const Packed& W, const float* bias,
                  const float* residual, Epilogue ep, float* C) {
    linear(A, M, K, W, bias, residual, ep, C);
  }
};

void checkShape(Tally& t, int64_t M, int K, int N, uint32_t seed) {
  const test::Operands o = test::randomOperands(seed, M, K, N);
  const auto& A = o.A;
  const auto& W = o.W;
  const auto& bias = o.bias;
  const auto& res = o.res;
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

  // Accumulate starts C (and the reference) from the residual's values, so the scale covers C.
  for (Epilogue ep : test::kAllEpilogues) {
    const std::vector<float> C =
        test::runEpilogue<Fp32Gemm>(pw, A.data(), M, K, bias.data(), res.data(), ep, res);
    std::vector<float> R(res);
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
  test::checkNullBias<Fp32Gemm>(t);
  test::checkNoOverrun<Fp32Gemm>(t);
  checkGeluRange(t);
  // Single rows and 37-row blocks of a 1000-row batch; then every tile height 1..40 (every
  // remainder micro-kernel, merged/split last tiles, one or several row blocks and N chunks).
  const std::vector<std::pair<int64_t, int64_t>> rowsOf1000 = {{0, 1},   {1, 1}, {13, 1}, {500, 1},
                                                               {999, 1}, {3, 37}, {400, 37}};
  for (const auto& [K, N] : {std::pair{384, 1152}, std::pair{1536, 384}, std::pair{17, 33}}) {
    test::checkSubBatches<Fp32Gemm>(t, 99 + K + N, 1000, K, N,
                                    {Epilogue::BiasGelu, Epilogue::BiasResidual}, rowsOf1000);
  }
  for (const auto& [K, N] : {std::pair{384, 1152}, std::pair{1536, 384}, std::pair{600, 70}}) {
    test::checkSubBatches<Fp32Gemm>(t, 7 + K + N, 300, K, N,
                                    {Epilogue::None, Epilogue::BiasGelu, Epilogue::BiasResidual},
                                    test::everyTileHeight(300));
  }
  return t.finish();
}
