// GEMM speed per precision and ISA path (issue 28): fp32 `linear` vs `linearInt8` vs
// `linearBf16` on the four Linear shapes of a MiniLM-L6 layer at M tokens (default 8192), plus
// one sentence (M = 14), with the fraction of each instruction's peak reached.
//
// Peaks are measured, not assumed: each thread runs a register-only loop of 12 independent
// accumulator chains of one instruction (vfmadd231ps zmm/ymm, vpdpbusd zmm/ymm, vdpbf16ps zmm,
// the avx2 int8 path's vpsignb + vpmaddubsw + vpmaddwd + vpaddd group; AMX: tdpbssd/tdpbf16ps
// into six tiles) on every thread at once, in the same run as the GEMMs, and both are counted
// per CPU-second (thread / process CPU clocks), so the shared VM's other load cancels out. The header also turns the peak into instructions per cycle per core, using a clock
// estimated from a dependent imul chain (3 cycles per imul) — that is the "ports × lanes ×
// clock" reading: e.g. 2 vpdpbusd zmm per cycle (ports 0 and 5) × 64 MACs × 2 ops × f × cores.
//
// Build after `npx cmake-js compile --out build` and run (never part of `npm test`):
//   g++ -O2 -std=c++17 -Inative/cpp bench/gemm_precision.cc build/libsbert_core.a -lpthread -o build/gemm_precision
//   build/gemm_precision [--m 8192] [--seconds 0.5] [--json]
//   build/gemm_precision --attention   (is int8 attention worth it? attention's share of a layer)
// The fp32 kernel is the one the process dispatches to (SBERT_CPU_ISA=avx2 gives the AVX2
// one); int8 and bf16 run every path this CPU has. The machine should be otherwise idle; on a
// shared VM the CPU-time column (GOP per CPU-second of this process) is steadier than wall
// time.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <immintrin.h>

#include "common/thread_pool.h"
#include "kernels/amx_tiles.h"
#include "kernels/attention.h"
#include "kernels/cpu_features.h"
#include "kernels/gemm.h"
#include "kernels/gemm_bf16.h"
#include "kernels/gemm_int8.h"

using namespace sbert;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double cpuNow() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double threadCpuNow() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// ---- peaks ---------------------------------------------------------------------------------

constexpr long kPeakIters = 20000000;

#define CHAINS12(OP)                                                                        \
  a0 = OP(a0); a1 = OP(a1); a2 = OP(a2); a3 = OP(a3); a4 = OP(a4); a5 = OP(a5);             \
  a6 = OP(a6); a7 = OP(a7); a8 = OP(a8); a9 = OP(a9); a10 = OP(a10); a11 = OP(a11);

#define KEEP12 asm volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5), \
                            "+v"(a6), "+v"(a7), "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11))

// Each returns the number of instructions (or instruction groups) executed.
__attribute__((target("avx512f"))) double loopFmaZmm() {
  __m512 a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11;
  a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = a9 = a10 = a11 = _mm512_set1_ps(1.f);
  const __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(1e-3f);
#define OP(x) _mm512_fmadd_ps(x, b, c)
  for (long i = 0; i < kPeakIters; ++i) { CHAINS12(OP) KEEP12; }
#undef OP
  volatile float sink = _mm512_reduce_add_ps(a0);
  (void)sink;
  return 12.0 * kPeakIters;
}

__attribute__((target("avx2,fma"))) double loopFmaYmm() {
  __m256 a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11;
  a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = a9 = a10 = a11 = _mm256_set1_ps(1.f);
  const __m256 b = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(1e-3f);
#define OP(x) _mm256_fmadd_ps(x, b, c)
  for (long i = 0; i < kPeakIters; ++i) { CHAINS12(OP) KEEP12; }
#undef OP
  return 12.0 * kPeakIters;
}

__attribute__((target("avx512f,avx512vnni"))) double loopVnniZmm() {
  __m512i a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11;
  a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = a9 = a10 = a11 = _mm512_setzero_si512();
  const __m512i b = _mm512_set1_epi8(3), c = _mm512_set1_epi8(-2);
#define OP(x) _mm512_dpbusd_epi32(x, b, c)
  for (long i = 0; i < kPeakIters; ++i) { CHAINS12(OP) KEEP12; }
#undef OP
  return 12.0 * kPeakIters;
}

__attribute__((target("avx2,avxvnni"))) double loopVnniYmm() {
  __m256i a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11;
  a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = a9 = a10 = a11 = _mm256_setzero_si256();
  const __m256i b = _mm256_set1_epi8(3), c = _mm256_set1_epi8(-2);
#define OP(x) _mm256_dpbusd_avx_epi32(x, b, c)
  for (long i = 0; i < kPeakIters; ++i) { CHAINS12(OP) KEEP12; }
#undef OP
  return 12.0 * kPeakIters;
}

__attribute__((target("avx512f,avx512bf16"))) double loopBf16Zmm() {
  __m512 a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11;
  a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = a9 = a10 = a11 = _mm512_set1_ps(1.f);
  const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.5f), _mm512_set1_ps(0.25f));
#define OP(x) _mm512_dpbf16_ps(x, b, b)
  for (long i = 0; i < kPeakIters; ++i) { CHAINS12(OP) KEEP12; }
#undef OP
  return 12.0 * kPeakIters;
}

// The avx2 int8 path's inner group (sign, maddubs, madd, add) for 32 MACs.
__attribute__((target("avx2"))) double loopInt8Avx2() {
  __m256i a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11;
  a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = a9 = a10 = a11 = _mm256_setzero_si256();
  __m256i w = _mm256_set1_epi8(3), x = _mm256_set1_epi8(-2);
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256i ax = _mm256_abs_epi8(x);
#define OP(acc) \
  _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(w, x)), ones))
  for (long i = 0; i < kPeakIters / 2; ++i) {
    CHAINS12(OP) KEEP12;
    asm volatile("" : "+v"(x), "+v"(w));
  }
#undef OP
  return 12.0 * (kPeakIters / 2);
}

// AMX: tdpbssd / tdpbf16ps into six accumulator tiles from two fixed operand tiles.
SBERT_TARGET_AMX double loopAmx(bool bf16) {
  alignas(64) static int8_t src[16 * 64] = {1};
  amx::configureTiles();
  SBERT_TILE_LOAD(6, src, 64);
  SBERT_TILE_LOAD(7, src, 64);
  for (int t = 0; t < 1; ++t) {
    _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3); _tile_zero(4); _tile_zero(5);
  }
  const long n = kPeakIters / 64;
  for (long i = 0; i < n; ++i) {
    if (bf16) {
      _tile_dpbf16ps(0, 6, 7); _tile_dpbf16ps(1, 6, 7); _tile_dpbf16ps(2, 6, 7);
      _tile_dpbf16ps(3, 6, 7); _tile_dpbf16ps(4, 6, 7); _tile_dpbf16ps(5, 6, 7);
    } else {
      _tile_dpbssd(0, 6, 7); _tile_dpbssd(1, 6, 7); _tile_dpbssd(2, 6, 7);
      _tile_dpbssd(3, 6, 7); _tile_dpbssd(4, 6, 7); _tile_dpbssd(5, 6, 7);
    }
  }
  amx::releaseTiles();
  return 6.0 * n;
}
double loopAmxInt8() { return loopAmx(false); }
double loopAmxBf16() { return loopAmx(true); }

// Dependent imul chain (3 cycles each) timed on this thread's CPU clock: cycles per CPU-second.
double imulClockGhz() {
  uint64_t x = 3;
  const long n = 100000000;
  const double t0 = threadCpuNow();
  for (long i = 0; i < n; ++i) asm volatile("imul %0, %0\n\timul %0, %0" : "+r"(x));
  return 6.0 * n / (threadCpuNow() - t0) / 1e9;
}

struct Peak {
  const char* name;
  double macsPerInstr;
  double (*loop)();
  bool available;
  double gops = 0;  // 2 ops per MAC, all threads
  double perCycle = 0;
};

// Runs `loop` on every thread at once; returns instructions per CPU-second of each thread,
// summed over the threads (the rate with every thread on its own core, whatever else the
// shared machine runs).
double runOnAllThreads(double (*loop)()) {
  const int threads = numThreads();
  std::vector<double> secs(static_cast<size_t>(threads)), instrs(static_cast<size_t>(threads));
  parallelFor(0, threads, 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const double t0 = threadCpuNow();
      instrs[size_t(t)] = loop();
      secs[size_t(t)] = threadCpuNow() - t0;
    }
  });
  double rate = 0;
  for (int t = 0; t < threads; ++t) rate += instrs[size_t(t)] / secs[size_t(t)];
  return rate;
}

// ---- GEMMs ---------------------------------------------------------------------------------

struct Shape {
  const char* name;
  int N, K;
  Epilogue ep;
};

struct Timing {
  double best = 1e30, median = 0, cpuPerCall = 0;
  int reps = 0;
};

Timing timeIt(const std::function<void()>& fn, double seconds) {
  fn();  // warm-up (first touch, thread start)
  std::vector<double> ts;
  double cpu = 0;
  const double start = now();
  for (;;) {
    const double c0 = cpuNow(), t0 = now();
    fn();
    const double t1 = now();
    cpu += cpuNow() - c0;
    ts.push_back(t1 - t0);
    if (t1 - start > seconds && ts.size() >= 3) break;
  }
  std::sort(ts.begin(), ts.end());
  Timing t;
  t.best = ts.front();
  t.median = ts[ts.size() / 2];
  t.reps = int(ts.size());
  t.cpuPerCall = cpu / double(ts.size());
  return t;
}

struct Row {
  std::string precision, path, shape;
  int64_t M;
  double gopsBest, gopsMedian, gopsCpu, peakFraction, ms, cpuMs;
};

// Attention (fp32, kernels/attention.h: QKᵀ, softmax, PV per sequence and head) against one
// layer's four Linears in fp32 and in int8 on the best path, on ~8192-token packed batches of
// equal-length sequences: 11 tokens (STSb's mean with [CLS]/[SEP] is 10.6), 32, 128, 256.
// Attention's share of the layer bounds what an int8 QKᵀ/PV could save.
void attentionShare(double seconds) {
  const int hidden = 384, heads = 12, headDim = 32, ffn = 1536;
  std::printf("\n# attention vs one layer's Linears (MiniLM-L6 shapes), ~8192 tokens per batch\n");
  std::printf("%-8s %-8s %12s %14s %14s %16s %16s\n", "seq len", "tokens", "attention ms", "fp32 lin. ms",
              "int8 lin. ms", "attn/layer fp32", "attn/layer int8");
  for (int len : {11, 32, 128, 256}) {
    const int n = std::max(1, 8192 / len);
    const int64_t T = int64_t(n) * len;
    std::vector<int32_t> cu(size_t(n) + 1);
    for (int i = 0; i <= n; ++i) cu[size_t(i)] = i * len;
    std::mt19937 rng(5);
    std::normal_distribution<float> nd(0.f, 1.f);
    std::vector<float> qkv(size_t(T) * 3 * hidden), out(size_t(T) * hidden);
    for (auto& x : qkv) x = nd(rng);
    const Timing ta = timeIt([&] { attention(qkv.data(), cu.data(), n, heads, headDim, ScoreBias{}, out.data()); }, seconds);
    double lin32 = 0, lin8 = 0;
    const int shapes[4][2] = {{3 * hidden, hidden}, {hidden, hidden}, {ffn, hidden}, {hidden, ffn}};
    for (const auto& sh : shapes) {
      const int N = sh[0], K = sh[1];
      std::vector<float> A(size_t(T) * K), W(size_t(N) * K), bias(static_cast<size_t>(N)), C(size_t(T) * N);
      for (auto& x : A) x = nd(rng);
      for (auto& x : W) x = 0.05f * nd(rng);
      PackedWeight p32 = packWeight(W.data(), N, K);
      PackedWeightInt8 p8 = packWeightInt8(W.data(), N, K);
      lin32 += timeIt([&] { linear(A.data(), T, K, p32, bias.data(), nullptr, Epilogue::Bias, C.data()); }, seconds).cpuPerCall;
      lin8 += timeIt([&] { linearInt8(A.data(), T, K, p8, bias.data(), nullptr, Epilogue::Bias, C.data()); }, seconds).cpuPerCall;
    }
    const double at = ta.cpuPerCall;
    std::printf("%-8d %-8lld %12.3f %14.3f %14.3f %15.1f%% %15.1f%%\n", len, (long long)T, at * 1e3,
                lin32 * 1e3, lin8 * 1e3, 100 * at / (at + lin32), 100 * at / (at + lin8));
  }
  std::printf("# times are CPU-seconds per call (all threads); int8 path %s\n", int8PathName(bestInt8Path()));
}

}  // namespace

int main(int argc, char** argv) {
  int64_t M = 8192;
  double seconds = 0.5;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--m") && i + 1 < argc) M = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--json")) json = true;
    else if (!std::strcmp(argv[i], "--attention")) {
      attentionShare(seconds);
      return 0;
    }
    else {
      std::fprintf(stderr, "usage: gemm_precision [--m 8192] [--seconds 0.5] [--json] | --attention\n");
      return 2;
    }
  }
  const CpuFeatures& f = activeCpuFeatures();
  const int threads = numThreads();
  std::printf("# CPU features: %s\n# threads %d, fp32 kernel %s\n", cpuFeatureNames(f).c_str(),
              threads, gemmKernelName());
  const double ghz = imulClockGhz();
  Peak peaks[] = {
      {"fp32 vfmadd231ps zmm", 16, loopFmaZmm, f.avx512f},
      {"fp32 vfmadd231ps ymm", 8, loopFmaYmm, f.avx2 && f.fma},
      {"int8 vpdpbusd zmm", 64, loopVnniZmm, f.avx512vnni},
      {"int8 vpdpbusd ymm", 32, loopVnniYmm, f.avxvnni},
      {"int8 avx2 group", 32, loopInt8Avx2, f.avx2},
      {"bf16 vdpbf16ps zmm", 32, loopBf16Zmm, f.avx512bf16},
      {"int8 amx tdpbssd", 16 * 16 * 64, loopAmxInt8, f.amxInt8 && enableAmxTiles()},
      {"bf16 amx tdpbf16ps", 16 * 16 * 32, loopAmxBf16, f.amxBf16 && enableAmxTiles()},
  };
  std::printf("# clock estimate (dependent imul chain, cycles per CPU-second of one thread): %.2f GHz\n", ghz);
  std::printf("# measured peaks (%d threads at once, register-only loops, per CPU-second of each thread):\n", threads);
  for (Peak& p : peaks) {
    if (!p.available) continue;
    const double rate = runOnAllThreads(p.loop);
    p.gops = rate * p.macsPerInstr * 2 / 1e9;
    p.perCycle = rate / (ghz * 1e9) / threads;
    std::printf("#   %-22s %8.1f GOP/s  (%.2f instr/cycle/core at %.2f GHz, %g MACs each)\n", p.name,
                p.gops, p.perCycle, ghz, p.macsPerInstr);
  }
  auto peakOf = [&](const char* name) {
    for (const Peak& p : peaks)
      if (!std::strcmp(p.name, name)) return p.gops;
    return 0.0;
  };
  const double fp32Peak = cpuHasAvx512() ? peakOf("fp32 vfmadd231ps zmm") : peakOf("fp32 vfmadd231ps ymm");

  const Shape shapes[] = {{"qkv 1152x384", 1152, 384, Epilogue::Bias},
                          {"out 384x384", 384, 384, Epilogue::BiasResidual},
                          {"ffn1 1536x384", 1536, 384, Epilogue::BiasGelu},
                          {"ffn2 384x1536", 384, 1536, Epilogue::BiasResidual}};
  std::vector<Row> rows;
  for (int64_t m : {M, int64_t(14)}) {
    std::printf("\n%-6s %-22s %-15s %9s %9s %9s %8s %9s\n", "M", "precision/path", "shape", "ms",
                "GOP/s", "median", "CPU-GOP/s", "of peak");
    std::printf("# ms and GOP/s: best wall time; CPU-GOP/s: per CPU-second × threads (as if each thread had its core);\n"
                "# of peak: CPU-GOP/s over the measured peak of the path's instruction\n");
    for (const Shape& s : shapes) {
      std::mt19937 rng(1);
      std::normal_distribution<float> nd(0.f, 1.f);
      std::vector<float> A(size_t(m) * s.K), W(size_t(s.N) * s.K), bias(size_t(s.N)),
          res(size_t(m) * s.N), C(size_t(m) * s.N);
      for (auto& x : A) x = nd(rng);
      for (auto& x : W) x = 0.05f * nd(rng);
      for (auto& x : bias) x = 0.1f * nd(rng);
      for (auto& x : res) x = nd(rng);
      const double ops = 2.0 * double(m) * s.N * s.K;
      auto report = [&](const std::string& prec, const std::string& path, const Timing& t, double peak) {
        Row r{prec, path, s.name, m, ops / t.best / 1e9, ops / t.median / 1e9,
              ops / t.cpuPerCall / 1e9 * threads, 0, t.best * 1e3, t.cpuPerCall * 1e3};
        r.peakFraction = peak > 0 ? r.gopsCpu / peak : 0;
        std::printf("%-6lld %-22s %-15s %9.3f %9.1f %9.1f %9.1f %7.1f%%\n", (long long)m,
                    (prec + " " + path).c_str(), s.name, r.ms, r.gopsBest, r.gopsMedian, r.gopsCpu,
                    100 * r.peakFraction);
        rows.push_back(r);
      };
      {
        PackedWeight pw = packWeight(W.data(), s.N, s.K);
        report("fp32", gemmKernelName(),
               timeIt([&] { linear(A.data(), m, s.K, pw, bias.data(), res.data(), s.ep, C.data()); }, seconds),
               fp32Peak);
      }
      for (Int8Path p : availableInt8Paths()) {
        if (p == Int8Path::Portable && m > 1000) continue;  // minutes; correctness-only path
        PackedWeightInt8 pw = packWeightInt8(W.data(), s.N, s.K, p);
        const double peak = p == Int8Path::Amx        ? peakOf("int8 amx tdpbssd")
                            : p == Int8Path::Avx512Vnni ? peakOf("int8 vpdpbusd zmm")
                            : p == Int8Path::AvxVnni  ? peakOf("int8 vpdpbusd ymm")
                            : p == Int8Path::Avx2     ? peakOf("int8 avx2 group")
                                                      : 0;
        report("int8", int8PathName(p),
               timeIt([&] { linearInt8(A.data(), m, s.K, pw, bias.data(), res.data(), s.ep, C.data()); }, seconds),
               peak);
      }
      for (Bf16Path p : availableBf16Paths()) {
        if (p == Bf16Path::Portable && m > 1000) continue;
        PackedWeightBf16 pw = packWeightBf16(W.data(), s.N, s.K, p);
        const double peak = p == Bf16Path::Amx        ? peakOf("bf16 amx tdpbf16ps")
                            : p == Bf16Path::Avx512Bf16 ? peakOf("bf16 vdpbf16ps zmm")
                            : p == Bf16Path::Avx512   ? peakOf("fp32 vfmadd231ps zmm")
                            : p == Bf16Path::Avx2     ? peakOf("fp32 vfmadd231ps ymm")
                                                      : 0;
        report("bf16", bf16PathName(p),
               timeIt([&] { linearBf16(A.data(), m, s.K, pw, bias.data(), res.data(), s.ep, C.data()); }, seconds),
               peak);
      }
    }
    // One layer's four Linears, per precision/path: CPU time per call summed (steady on a
    // shared VM; wall best times in brackets) and the speed-up over fp32.
    std::printf("# M=%lld, one layer's four Linears (CPU-ms per call summed; wall best in brackets):\n", (long long)m);
    struct Total {
      std::string key;
      double cpuMs = 0, wallMs = 0;
    };
    std::vector<Total> totals;
    for (const Row& r : rows) {
      if (r.M != m) continue;
      const std::string key = r.precision + " " + r.path;
      auto it = std::find_if(totals.begin(), totals.end(), [&](const Total& x) { return x.key == key; });
      if (it == totals.end()) it = totals.insert(totals.end(), Total{key});
      it->cpuMs += r.cpuMs;
      it->wallMs += r.ms;
    }
    double fp32Cpu = 0, fp32Wall = 0;
    for (const Total& x : totals)
      if (x.key.rfind("fp32", 0) == 0) fp32Cpu = x.cpuMs, fp32Wall = x.wallMs;
    for (const Total& x : totals) {
      std::printf("#   %-22s %9.3f CPU-ms  %.2fx fp32   [%9.3f ms  %.2fx]\n", x.key.c_str(), x.cpuMs,
                  fp32Cpu / x.cpuMs, x.wallMs, fp32Wall / x.wallMs);
    }
  }
  if (json) {
    std::printf("{\"cpuFeatures\":\"%s\",\"threads\":%d,\"clockGhz\":%.3f,\"peaks\":{", cpuFeatureNames(f).c_str(),
                threads, ghz);
    bool first = true;
    for (const Peak& p : peaks) {
      if (!p.available) continue;
      std::printf("%s\"%s\":%.1f", first ? "" : ",", p.name, p.gops);
      first = false;
    }
    std::printf("},\"rows\":[");
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      std::printf("%s{\"precision\":\"%s\",\"path\":\"%s\",\"shape\":\"%s\",\"M\":%lld,\"ms\":%.4f,"
                  "\"cpuMs\":%.4f,\"gops\":%.1f,\"gopsMedian\":%.1f,\"gopsCpu\":%.1f,\"peakFraction\":%.3f}",
                  i ? "," : "", r.precision.c_str(), r.path.c_str(), r.shape.c_str(), (long long)r.M,
                  r.ms, r.cpuMs, r.gopsBest, r.gopsMedian, r.gopsCpu, r.peakFraction);
    }
    std::printf("]}\n");
  }
  return 0;
}
