// Time per training step (ModelGraph forward + backward, no loss or optimizer) on an
// all-MiniLM-L6-v2-shaped random plan (hidden 384, 12 heads, 6 layers, ffn 1536, vocab 30522,
// mean pooling, Normalize), batches of 16 STSb-train pairs (32 sentences; token lengths from
// our tokenizer), dropout on; per-op breakdown and achieved GFLOP/s (matrix-multiply FLOPs of
// the GEMMs and of attention's QKᵀ / PV products and their gradients).
//
// Built with the addon (`npx cmake-js compile --out build`, into build/bench/); never part of
// `npm test`:
//   build/bench/train_step_cpu [steps=10] [peakGflops=435]
// peakGflops is the machine's fp32 FMA peak over its 2 cores; per-core figures use half of it.
// The machine is shared: wall-clock GFLOP/s then says more about the other processes than about
// this code, so the CPU-time figures (GFLOP per CPU-second of this process) are printed too.
#include <chrono>
#include <cstdio>
#include <ctime>

#include <sys/resource.h>
#include <cstdlib>
#include <random>
#include <vector>

#include "kernels/gemm.h"
#include "random_model.h"
#include "train/model_graph.h"
#include "common/step_profile.h"

using namespace sbert;

namespace {

// Token lengths of 20 batches of 16 random STSb-train pairs (seeded), sentence-major per pair.
const int kBatches[][32] = {
    {9, 8, 19, 14, 31, 22, 10, 12, 9, 7, 7, 10, 13, 13, 20, 20, 10, 8, 6, 6, 9, 10, 13, 14, 11, 12, 10, 10, 33, 25, 14, 14},
    {21, 18, 9, 10, 11, 12, 12, 12, 9, 8, 17, 23, 14, 16, 11, 12, 10, 11, 12, 10, 9, 7, 11, 18, 10, 11, 19, 18, 14, 10, 15, 11},
    {10, 9, 17, 14, 15, 20, 25, 29, 10, 13, 20, 21, 6, 8, 16, 15, 26, 24, 13, 12, 11, 8, 13, 11, 29, 26, 8, 8, 10, 10, 9, 11},
    {12, 14, 8, 8, 7, 11, 18, 19, 11, 9, 13, 16, 15, 32, 16, 17, 19, 12, 11, 12, 27, 38, 9, 9, 8, 7, 7, 11, 10, 9, 9, 9},
    {10, 12, 16, 14, 11, 11, 11, 12, 13, 12, 24, 29, 23, 25, 13, 9, 11, 11, 11, 10, 9, 10, 27, 28, 25, 23, 30, 29, 12, 9, 11, 11},
    {13, 13, 11, 10, 13, 10, 26, 34, 9, 9, 13, 11, 10, 13, 11, 14, 24, 26, 13, 15, 10, 11, 8, 8, 13, 9, 11, 11, 10, 8, 19, 25},
    {7, 10, 34, 40, 7, 10, 11, 11, 18, 20, 13, 16, 12, 13, 16, 14, 11, 10, 14, 14, 14, 13, 9, 15, 10, 9, 10, 9, 8, 8, 12, 12},
    {13, 18, 38, 33, 10, 9, 15, 16, 12, 10, 11, 12, 14, 13, 10, 7, 29, 24, 12, 11, 10, 10, 12, 12, 13, 16, 21, 18, 27, 27, 8, 8},
    {10, 10, 24, 22, 15, 12, 11, 14, 11, 8, 11, 9, 27, 34, 12, 10, 12, 10, 33, 25, 12, 16, 10, 14, 9, 5, 11, 15, 14, 15, 14, 17},
    {10, 7, 25, 28, 10, 8, 12, 9, 20, 23, 7, 9, 8, 11, 14, 12, 24, 34, 28, 26, 9, 7, 10, 10, 19, 20, 9, 9, 10, 11, 14, 14},
    {9, 9, 10, 10, 10, 11, 8, 9, 9, 12, 16, 16, 8, 13, 15, 13, 12, 9, 24, 26, 12, 12, 14, 14, 11, 11, 12, 8, 17, 9, 8, 9},
    {14, 12, 9, 9, 30, 22, 8, 11, 12, 12, 10, 12, 13, 20, 11, 8, 19, 17, 33, 30, 8, 16, 27, 18, 11, 8, 12, 12, 13, 14, 8, 9},
    {13, 13, 8, 9, 10, 11, 17, 16, 33, 35, 7, 9, 8, 10, 53, 43, 15, 17, 11, 17, 28, 27, 37, 42, 26, 26, 15, 16, 11, 10, 11, 11},
    {19, 15, 12, 11, 8, 12, 14, 9, 10, 12, 7, 11, 19, 14, 12, 14, 11, 14, 9, 12, 13, 16, 24, 19, 12, 9, 7, 11, 19, 18, 11, 10},
    {9, 11, 10, 12, 10, 11, 28, 32, 11, 10, 11, 9, 10, 10, 22, 10, 35, 35, 43, 52, 35, 34, 9, 11, 12, 10, 13, 10, 9, 7, 13, 19},
    {11, 9, 13, 13, 11, 10, 9, 9, 27, 18, 10, 10, 14, 16, 10, 9, 12, 14, 11, 12, 9, 11, 10, 10, 12, 16, 9, 9, 12, 8, 8, 8},
    {11, 10, 9, 9, 10, 11, 9, 11, 9, 9, 12, 11, 11, 9, 9, 8, 10, 14, 19, 20, 21, 22, 32, 28, 10, 12, 9, 10, 33, 14, 9, 12},
    {13, 18, 9, 11, 13, 13, 7, 13, 25, 21, 12, 14, 23, 21, 9, 9, 11, 11, 20, 26, 20, 17, 44, 32, 15, 13, 9, 10, 32, 29, 29, 22},
    {9, 10, 7, 11, 10, 11, 10, 8, 10, 12, 10, 8, 10, 10, 11, 11, 12, 13, 8, 11, 11, 11, 19, 14, 8, 9, 12, 14, 17, 23, 10, 12},
    {26, 26, 30, 26, 11, 14, 9, 11, 19, 17, 17, 18, 12, 10, 11, 10, 12, 16, 32, 28, 14, 14, 9, 9, 9, 12, 9, 8, 13, 14, 23, 27},
};

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// CPU seconds of all threads of the process: unlike wall time, it does not count the time other
// processes hold the cores (the machine is shared), so flops / CPU-seconds / cores is the
// fraction of peak the code reaches while it runs.
double cpuNow() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// The forward GEMM alone ([T, 384] × [1536, 384]ᵀ, the shape of FFN-in) under the same load:
// what this machine gives a GEMM right now.
void calibrate(int64_t T, double peak) {
  std::mt19937 rng(1);
  auto A = test::randomVec(rng, size_t(T) * 384), W = test::randomVec(rng, size_t(1536) * 384);
  std::vector<float> C(size_t(T) * 1536);
  const PackedWeight pw = packWeight(W.data(), 1536, 384);
  const int reps = 40;
  linear(A.data(), T, 384, pw, nullptr, nullptr, Epilogue::None, C.data());
  const double w0 = now(), c0 = cpuNow();
  for (int r = 0; r < reps; ++r) linear(A.data(), T, 384, pw, nullptr, nullptr, Epilogue::None, C.data());
  const double wall = now() - w0, cpu = cpuNow() - c0;
  const double f = 2.0 * T * 1536 * 384 * reps;
  std::printf("calibration: forward GEMM %lldx384x1536: %.1f GFLOP/s wall (%.1f%% of peak), "
              "%.1f GFLOP per CPU-second (%.1f%% of the per-core peak %.1f)\n",
              (long long)T, f / wall / 1e9, 100 * f / wall / 1e9 / peak, f / cpu / 1e9,
              100 * f / cpu / 1e9 / (peak / 2), peak / 2);
}

}  // namespace

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::atoi(argv[1]) : 10;
  const double peak = argc > 2 ? std::atof(argv[2]) : 435.0;
  BertShape s = test::miniLmL6Shape(30522);
  s.hiddenDropout = 0.1f;
  s.attentionDropout = 0.1f;
  const test::TestModel model = test::randomModel(s, {PoolMode::Mean}, {}, true, 1);
  ModelGraph g(model.plan(), 7);
  std::mt19937 rng(3);
  const int H = s.hiddenSize, I = s.intermediateSize, L = s.numLayers;
  const int numBatches = int(sizeof(kBatches) / sizeof(kBatches[0]));

  calibrate(458, peak);
  double total = 0, flops = 0, cpuTotal = 0;
  int64_t tokens = 0;
  for (int it = -2; it < steps; ++it) {  // two warm-up steps
    const int* lens = kBatches[(it + 2) % numBatches];
    std::vector<int32_t> cu(33, 0);
    for (int i = 0; i < 32; ++i) cu[i + 1] = cu[i] + lens[i];
    const int64_t T = cu[32];
    std::vector<int32_t> ids(T);
    for (auto& id : ids) id = int32_t(rng() % s.vocabSize);
    std::vector<float> dEmb = test::randomVec(rng, size_t(32) * g.sentenceDim());
    if (it == 0) {
      stepProfile::enable(true);
      stepProfile::reset();
    }
    const double t0 = now(), c0 = cpuNow();
    g.zeroGrad();
    EncodeBatch batch;
    batch.ids = ids.data();
    batch.cuSeqlens = cu.data();
    batch.numSequences = 32;
    g.forward(batch, true);
    g.backward(dEmb.data());
    const double dt = now() - t0;
    if (it < 0) continue;
    total += dt;
    cpuTotal += cpuNow() - c0;
    tokens += T;
    double sumL2 = 0;
    for (int i = 0; i < 32; ++i) sumL2 += double(lens[i]) * lens[i];
    const double linearFwd = 2.0 * T * (4.0 * H * H + 2.0 * H * I);
    flops += L * (3 * linearFwd + 12.0 * sumL2 * H);
  }
  const double perStep = total / steps;
  const double gflops = flops / total / 1e9;
  std::printf("steps %d, %.1f tokens/step, %.1f ms/step, %.2f GFLOP/step, %.1f GFLOP/s = %.1f%% "
              "of %.0f GFLOP/s peak\n",
              steps, double(tokens) / steps, perStep * 1e3, flops / steps / 1e9, gflops,
              100 * gflops / peak, peak);
  std::printf("CPU time: %.1f ms/step (2 threads: %.1f ms per thread), %.1f GFLOP per "
              "CPU-second = %.1f%% of the per-core peak\n",
              cpuTotal / steps * 1e3, cpuTotal / steps / 2 * 1e3, flops / cpuTotal / 1e9,
              100 * flops / cpuTotal / 1e9 / (peak / 2));
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  std::printf("peak RSS %.1f MB (fp32 weights + grads %.1f MB)\n", double(ru.ru_maxrss) / 1024,
              2.0 * 4 * double(model.plan().parameterCount()) / 1e6);
  std::printf("%-36s %10s %7s\n", "op", "ms/step", "share");
  double profiled = 0;
  for (const auto& e : stepProfile::totals()) profiled += e.second;
  for (const auto& e : stepProfile::totals()) {
    std::printf("%-36s %10.2f %6.1f%%\n", e.first.c_str(), e.second / steps * 1e3,
                100 * e.second / total);
  }
  std::printf("%-36s %10.2f %6.1f%%\n", "(outside the profiled ops)", (total - profiled) / steps * 1e3,
              100 * (total - profiled) / total);
  return 0;
}
