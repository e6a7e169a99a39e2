// GEMM (kernels/gemm.h) against the double-accumulating reference, at odd and tail shapes and
// every epilogue, plus batch-composition independence. `gemm_test --bench` also prints GFLOP/s
// for the MiniLM shapes (never asserted).
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

const char* epName(Epilogue e) {
  switch (e) {
    case Epilogue::None: return "none";
    case Epilogue::Bias: return "bias";
    case Epilogue::BiasGelu: return "bias+gelu";
    case Epilogue::BiasResidual: return "bias+residual";
    case Epilogue::Accumulate: return "accumulate";
  }
  return "?";
}

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
            (long long)M, K, N, epName(ep), err);
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
            K, N, epName(ep), worst);
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
            (long long)M, K, N, epName(ep), worst, worstM);
  }
}

void bench() {
  struct Shape { int64_t M; int K, N; };
  std::printf("# bench: kernel %s, %d threads\n", gemmKernelName(), numThreads());
  // 6,269 rows: a real 8,192-token batch of STSb sentences (not a multiple of any tile).
  for (Shape s : {Shape{6269, 384, 1152}, Shape{6269, 1536, 384}, Shape{6269, 384, 1536},
                  Shape{6269, 384, 384}}) {
    std::mt19937 rng(1);
    auto A = test::randomVec(rng, size_t(s.M) * s.K);
    auto W = test::randomVec(rng, size_t(s.N) * s.K);
    auto bias = test::randomVec(rng, s.N);
    PackedWeight pw = packWeight(W.data(), s.N, s.K);
    std::vector<float> C(size_t(s.M) * s.N);
    for (Epilogue ep : {Epilogue::Bias, Epilogue::BiasGelu}) {
      linear(A.data(), s.M, s.K, pw, bias.data(), nullptr, ep, C.data());
      std::vector<double> times;
      auto start = std::chrono::steady_clock::now();
      for (;;) {
        auto t0 = std::chrono::steady_clock::now();
        linear(A.data(), s.M, s.K, pw, bias.data(), nullptr, ep, C.data());
        auto t1 = std::chrono::steady_clock::now();
        times.push_back(std::chrono::duration<double>(t1 - t0).count());
        if (std::chrono::duration<double>(t1 - start).count() > 1.0 && times.size() >= 3) break;
      }
      std::sort(times.begin(), times.end());
      const double best = times.front(), median = times[times.size() / 2];
      const double flop = 2.0 * s.M * s.K * s.N;
      std::printf("# bench M=%lld K=%d N=%d %-9s best %.3f ms %.1f GFLOP/s, median %.1f GFLOP/s (%zu reps)\n",
                  (long long)s.M, s.K, s.N, epName(ep), best * 1e3, flop / best * 1e-9,
                  flop / median * 1e-9, times.size());
    }
  }
}

// Small M (one sentence): the four Linear layers of a MiniLM-L6 encoder layer, timed per call.
void benchSmallM() {
  struct Shape { int K, N; Epilogue ep; };
  const Shape layer[] = {{384, 1152, Epilogue::Bias},
                         {384, 384, Epilogue::BiasResidual},
                         {384, 1536, Epilogue::BiasGelu},
                         {1536, 384, Epilogue::BiasResidual}};
  for (int64_t M : {int64_t(1), int64_t(7), int64_t(14), int64_t(30)}) {
    double total = 0, flops = 0;
    for (const Shape& s : layer) {
      std::mt19937 rng(2);
      // Six layers' worth of distinct weights, as in the model: a sentence streams them all.
      std::vector<PackedWeight> pws;
      for (int l = 0; l < 6; ++l) {
        auto W = test::randomVec(rng, size_t(s.N) * s.K);
        pws.push_back(packWeight(W.data(), s.N, s.K));
      }
      auto A = test::randomVec(rng, size_t(M) * s.K);
      auto bias = test::randomVec(rng, s.N);
      auto res = test::randomVec(rng, size_t(M) * s.N);
      std::vector<float> C(size_t(M) * s.N);
      double best = 1e9;
      auto start = std::chrono::steady_clock::now();
      for (int reps = 0;; ++reps) {
        auto t0 = std::chrono::steady_clock::now();
        for (const PackedWeight& pw : pws) {
          linear(A.data(), M, s.K, pw, bias.data(), res.data(), s.ep, C.data());
        }
        auto t1 = std::chrono::steady_clock::now();
        best = std::min(best, std::chrono::duration<double>(t1 - t0).count() / pws.size());
        if (std::chrono::duration<double>(t1 - start).count() > 0.5 && reps >= 3) break;
      }
      std::printf("# bench small M=%lld K=%d N=%d %-13s best %.1f us  %.1f GFLOP/s\n",
                  (long long)M, s.K, s.N, epName(s.ep), best * 1e6,
                  2.0 * M * s.K * s.N / best * 1e-9);
      total += best;
      flops += 2.0 * M * s.K * s.N;
    }
    std::printf("# bench small M=%lld: one encoder layer's linears %.1f us (x6 = %.2f ms), %.1f GFLOP/s\n",
                (long long)M, total * 1e6, total * 6e3, flops / total * 1e-9);
  }
  // All 24 Linear layers of a 6-layer model in model order (weights ~42 MB, streamed from
  // memory as in a real one-sentence encode), M = 14 tokens.
  {
    const int64_t M = 14;
    std::mt19937 rng(3);
    std::vector<PackedWeight> pws;
    std::vector<const Shape*> shapes;
    for (int l = 0; l < 6; ++l) {
      for (const Shape& s : layer) {
        auto W = test::randomVec(rng, size_t(s.N) * s.K);
        pws.push_back(packWeight(W.data(), s.N, s.K));
        shapes.push_back(&s);
      }
    }
    auto A = test::randomVec(rng, size_t(M) * 1536);
    auto bias = test::randomVec(rng, 1536);
    auto res = test::randomVec(rng, size_t(M) * 1536);
    std::vector<float> C(size_t(M) * 1536);
    double best = 1e9, flops = 0;
    for (const Shape* s : shapes) flops += 2.0 * M * s->K * s->N;
    auto start = std::chrono::steady_clock::now();
    for (int reps = 0;; ++reps) {
      auto t0 = std::chrono::steady_clock::now();
      for (size_t i = 0; i < pws.size(); ++i) {
        const Shape& s = *shapes[i];
        linear(A.data(), M, s.K, pws[i], bias.data(), res.data(), s.ep, C.data());
      }
      auto t1 = std::chrono::steady_clock::now();
      best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
      if (std::chrono::duration<double>(t1 - start).count() > 1.0 && reps >= 3) break;
    }
    std::printf("# bench small M=14: all 24 linears of MiniLM-L6 in model order %.3f ms, %.1f GFLOP/s\n",
                best * 1e3, flops / best * 1e-9);
  }
}

}  // namespace

int main(int argc, char** argv) {
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
  if (argc > 1 && std::strcmp(argv[1], "--bench") == 0) {
    benchSmallM();
    bench();
  }
  if (argc > 1 && std::strcmp(argv[1], "--bench-small") == 0) benchSmallM();
  return t.finish();
}
