// CPU GEMM speed (kernels/gemm.h: packed weights, fused epilogues) at all-MiniLM-L6-v2 shapes,
// never asserted (correctness: native/cpp/tests/gemm_test.cc):
//   build/bench/gemm_bench           one-sentence (small M) layers, then 6,269-row batches
//   build/bench/gemm_bench --small   only the small-M part
// GFLOP/s are wall-clock on a possibly shared machine: compare runs on the same load.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "common/thread_pool.h"
#include "kernels/gemm.h"
#include "test_util.h"

using namespace sbert;
using sbert::test::epilogueName;

namespace {

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
                  (long long)s.M, s.K, s.N, epilogueName(ep), best * 1e3, flop / best * 1e-9,
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
                  (long long)M, s.K, s.N, epilogueName(s.ep), best * 1e6,
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
  const bool smallOnly = argc > 1 && std::strcmp(argv[1], "--small") == 0;
  benchSmallM();
  if (!smallOnly) bench();
  return 0;
}
