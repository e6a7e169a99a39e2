// CPU engine speed at all-MiniLM-L6-v2 shapes (hidden 384, 12 heads, 6 layers, ffn 1536, mean
// pooling, Normalize) with random weights: best time per encode for a few batch shapes, in
// tokens/s and sentences/s (never asserted; the peer comparison is bench/encode-cpu.js).
//   build/bench/cpu_engine_bench        (built with the addon: npx cmake-js compile --out build)
#include <chrono>
#include <cstdio>
#include <random>
#include <utility>
#include <vector>

#include "engine/backend.h"
#include "engine_harness.h"
#include "kernels/cpu_features.h"
#include "random_model.h"

using namespace sbert;

int main() {
  const BertShape shape = test::miniLmL6Shape(1000);
  const test::TestModel spec = test::randomModel(shape, {PoolMode::Mean}, {}, true, 1);
  auto be = makeCpuBackend(spec.plan());
  std::printf("# cpu engine: MiniLM-L6 shapes, gemm kernel %s\n", gemmKernelName());
  for (auto [n, len] : {std::pair<int, int>{1, 16}, {32, 16}, {64, 32}, {16, 128}, {4, 512}}) {
    std::mt19937 rng(2);
    const test::Batch b = test::randomBatch(rng, std::vector<int>(n, len), shape.vocabSize);
    test::run(*be, b.view(), shape.hiddenSize, shape.hiddenSize);
    double best = 1e9;
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0;; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      test::run(*be, b.view(), shape.hiddenSize, shape.hiddenSize);
      const auto t1 = std::chrono::steady_clock::now();
      best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
      if (std::chrono::duration<double>(t1 - start).count() > 1.5 && r >= 2) break;
    }
    std::printf("# bench %3d x %3d tokens: %8.2f ms  %8.0f tokens/s  %7.1f sentences/s\n", n, len, best * 1e3,
                n * len / best, n / best);
  }
  return 0;
}
