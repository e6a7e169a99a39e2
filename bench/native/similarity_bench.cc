// The similarity kernels' speed against the machine's fp32 FMA peak, as one JSON line (never
// asserted; correctness: native/cpp/tests/similarity_test.cc):
//   build/bench/similarity_bench [--nq N --nc N --dim D --k K --reps R]
// The peak is a calibration loop of independent FMA chains (AVX-512 and AVX2 where present), per
// thread and over all threads, by wall clock and by CPU time; the kernel's figure per CPU-second
// is comparable with the per-core peak even on a shared machine. bench/similarity.js and
// bench/train-cpu.js read this line.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/thread_pool.h"
#include "kernels/cpu_features.h"
#include "kernels/similarity.h"
#include "similarity_inputs.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define SIMTEST_X86 1
#include <immintrin.h>
#endif

using namespace sbert;
using test::availableIsas;
using test::randomMatrix;

namespace {

#ifdef SIMTEST_X86
__attribute__((target("avx512f,fma"))) float fmaLoop512(int64_t iters) {
  __m512 acc[16];
  for (int v = 0; v < 16; ++v) acc[v] = _mm512_set1_ps(float(v) * 1e-3f);
  const __m512 m = _mm512_set1_ps(0.9999999f), a = _mm512_set1_ps(1e-7f);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 16
    for (int v = 0; v < 16; ++v) acc[v] = _mm512_fmadd_ps(acc[v], m, a);
  }
  __m512 s = acc[0];
  for (int v = 1; v < 16; ++v) s = _mm512_add_ps(s, acc[v]);
  return _mm512_reduce_add_ps(s);
}
__attribute__((target("avx2,fma"))) float fmaLoop256(int64_t iters) {
  __m256 acc[12];
  for (int v = 0; v < 12; ++v) acc[v] = _mm256_set1_ps(float(v) * 1e-3f);
  const __m256 m = _mm256_set1_ps(0.9999999f), a = _mm256_set1_ps(1e-7f);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int v = 0; v < 12; ++v) acc[v] = _mm256_fmadd_ps(acc[v], m, a);
  }
  float out[8];
  __m256 s = acc[0];
  for (int v = 1; v < 12; ++v) s = _mm256_add_ps(s, acc[v]);
  _mm256_storeu_ps(out, s);
  return out[0] + out[7];
}
#endif

#ifdef _WIN32
// No per-thread CPU clock here: fall back to wall time.
double threadCpuSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
double processCpuSeconds() { return threadCpuSeconds(); }
#else
double threadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}
double processCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}
#endif

// Peak fp32 FMA GFLOP/s: `threads` threads each run an independent-chain FMA loop. Returns
// {wall-clock total, sum over threads of flops / that thread's CPU time}. The second is what
// the cores can do when they get to run (robust to other load on the machine); the first is
// what this run got.
std::pair<double, double> measurePeak(int threads, bool avx512) {
#ifdef SIMTEST_X86
  const int64_t iters = avx512 ? 20000000 : 25000000;
  const double flopsPerIter = avx512 ? 16.0 * 16 * 2 : 12.0 * 8 * 2;
  std::vector<std::thread> ts;
  std::vector<float> sink(threads);
  std::vector<double> cpu(threads);
  auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      const double c0 = threadCpuSeconds();
      sink[t] = avx512 ? fmaLoop512(iters) : fmaLoop256(iters);
      cpu[t] = threadCpuSeconds() - c0;
    });
  }
  for (auto& t : ts) t.join();
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  volatile float keep = sink[0];
  (void)keep;
  double perCpu = 0;
  for (int t = 0; t < threads; ++t) perCpu += flopsPerIter * iters / cpu[t] / 1e9;
  return {flopsPerIter * iters * threads / sec / 1e9, perCpu};
#else
  (void)threads;
  (void)avx512;
  return {0, 0};
#endif
}

int runBench(int argc, char** argv) {
  int64_t nq = 4096, nc = 16384, dim = 384, k = 10, reps = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string f = argv[i];
    const int64_t v = std::atoll(argv[i + 1]);
    if (f == "--nq") nq = v;
    else if (f == "--nc") nc = v;
    else if (f == "--dim") dim = v;
    else if (f == "--k") k = v;
    else if (f == "--reps") reps = v;
  }
  const int threads = numThreads();
  std::string json = "{\"threads\":" + std::to_string(threads);
  char buf[512];
  double peakCore512 = 0, peakCore256 = 0;  // per-core peak by CPU time, per ISA
  for (bool avx512 : {true, false}) {
    if (avx512 ? !cpuHasAvx512() : !cpuHasAvx2Fma()) continue;
    const auto one = measurePeak(1, avx512);
    const auto all = measurePeak(threads, avx512);
    (avx512 ? peakCore512 : peakCore256) = one.second;
    std::snprintf(buf, sizeof buf,
                  ",\"peak%s\":{\"oneThreadWall\":%.1f,\"oneThreadCpu\":%.1f,\"allThreadsWall\":%.1f,"
                  "\"allThreadsCpu\":%.1f}",
                  avx512 ? "Avx512" : "Avx2", one.first, one.second, all.first, all.second);
    json += buf;
  }
  const auto q = randomMatrix(nq, dim, 1), c = randomMatrix(nc, dim, 2);
  const double flop = 2.0 * nq * nc * dim;
  std::snprintf(buf, sizeof buf, ",\"nq\":%lld,\"nc\":%lld,\"dim\":%lld,\"k\":%lld,\"kernels\":{", (long long)nq,
                (long long)nc, (long long)dim, (long long)k);
  json += buf;
  bool first = true;
  auto isas = availableIsas();
  if (isas.size() > 1) isas.erase(isas.begin());  // the portable path takes minutes at this size
  for (CpuIsa isa : isas) {
    SimilarityConfig cfg;
    cfg.isa = isa;
    std::vector<int32_t> idx(nq * std::min(k, nc));
    std::vector<float> sc(idx.size());
    double best = 1e30, bestCpu = 1e30;
    for (int64_t r = 0; r < reps; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      const double c0 = processCpuSeconds();
      similarityTopK({q.data(), nq, dim, "queries"}, {c.data(), nc, dim, "corpus"}, k, cfg, idx.data(), sc.data());
      bestCpu = std::min(bestCpu, processCpuSeconds() - c0);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    // gflopsPerCore: flops per CPU-second of this process, comparable with the per-core peak
    // even when other processes share the machine.
    const double perCore = flop / bestCpu / 1e9;
    // Each path against the peak of the instructions it uses.
    const double peakCore = isa == CpuIsa::Avx512 ? peakCore512 : peakCore256;
    std::snprintf(buf, sizeof buf,
                  "%s\"%s\":{\"seconds\":%.4f,\"gflops\":%.1f,\"cpuSeconds\":%.4f,\"gflopsPerCore\":%.1f,"
                  "\"fractionOfCorePeak\":%.3f}",
                  first ? "" : ",", cpuIsaName(isa), best, flop / best / 1e9, bestCpu, perCore,
                  peakCore > 0 ? perCore / peakCore : 0.0);
    json += buf;
    first = false;
  }
  json += "}}";
  std::printf("%s\n", json.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return runBench(argc, argv); }
