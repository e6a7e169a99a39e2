// The checks the GEMM tests (gemm_test.cc, gemm_int8_test.cc, gemm_bf16_test.cc) share, written
// once (header only). Each test describes its precision as a `Gemm` struct and keeps what is its
// own — its reference and error bounds:
//
//   struct Gemm {
//     using Path = ...;  using Packed = ...;
//     static constexpr const char* kName;         // "fp32", "int8", "bf16"
//     static constexpr int kPathWidth;            // printf width of path names in check lines
//     static std::vector<Path> paths();           // the paths this process can run, slowest first
//     static Path defaultPath();                  // what pack() without a path picks
//     static const char* name(Path);
//     static Packed pack(const float* W, int N, int K, Path);
//     static void run(const float* A, int64_t M, int K, const Packed&, const float* bias,
//                     const float* residual, Epilogue, float* C);
//   };
//
// Shared here: seeded operands, running one epilogue, guard-page overrun checks, sub-batch (row
// independence) checks, refusal of unavailable paths, the odd shapes every path is run over
// (and the --quick subset the JS runner uses under each SBERT_CPU_ISA), the header line and the
// --digest output the JS runner compares across thread counts and ISA paths.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "guarded_buffer.h"
#include "kernels/cpu_features.h"
#include "kernels/gemm.h"
#include "test_util.h"

namespace sbert::test {

inline constexpr Epilogue kAllEpilogues[] = {Epilogue::None, Epilogue::Bias, Epilogue::BiasGelu,
                                             Epilogue::BiasResidual, Epilogue::Accumulate};

struct GemmCase {
  int64_t M;
  int K, N;
};

// Odd shapes for every path: M of 1, 7, 14, 33, 255 and thousands of rows; K and N of 1, 3,
// 17, 100, 384, 1541, ... (every micro-tile height, panel tail and K padding).
inline constexpr GemmCase kOddShapes[] = {
    {1, 1, 1},      {1, 384, 1152},  {1, 1541, 384}, {7, 3, 17},      {7, 17, 3},
    {7, 100, 33},   {33, 384, 31},   {33, 1, 65},    {33, 1541, 47},  {255, 17, 129},
    {255, 384, 33}, {255, 100, 1},   {2049, 384, 35}, {3001, 3, 97},  {1200, 1541, 17},
    {14, 384, 385},
};

// The operands of one product, uniform in [-1, 1], drawn from rng (or a generator seeded with
// `seed`) in this order.
struct Operands {
  int64_t M;
  int K, N;
  std::vector<float> A, W, bias, res;
};
inline Operands randomOperands(std::mt19937& rng, int64_t M, int K, int N) {
  Operands o{M, K, N, {}, {}, {}, {}};
  o.A = randomVec(rng, size_t(M) * K);
  o.W = randomVec(rng, size_t(N) * K);
  o.bias = randomVec(rng, size_t(N));
  o.res = randomVec(rng, size_t(M) * N);
  return o;
}
inline Operands randomOperands(uint32_t seed, int64_t M, int K, int N) {
  std::mt19937 rng(seed);
  return randomOperands(rng, M, K, N);
}

// C for one epilogue: starts as c0 for Accumulate, as NaN otherwise (an element the kernel does
// not write shows).
template <typename Gemm>
std::vector<float> runEpilogue(const typename Gemm::Packed& pw, const float* A, int64_t M, int K,
                               const float* bias, const float* res, Epilogue ep,
                               const std::vector<float>& c0) {
  std::vector<float> C = ep == Epilogue::Accumulate ? c0 : std::vector<float>(c0.size(), NAN);
  Gemm::run(A, M, K, pw, bias, res, ep, C.data());
  return C;
}

inline uint64_t fnv1a(const void* p, size_t n, uint64_t h = 1469598103934665603ull) {
  const unsigned char* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

// Operands ending at a guard page: no path touches memory past A, bias, residual or C (a fault
// ends the process, which the runner reports), and the results equal those computed from
// ordinary vectors.
template <typename Gemm>
void checkNoOverrun(Tally& t) {
  const GemmCase cases[] = {{7, 17, 33}, {1, 3, 1}, {13, 5, 17}, {2, 1541, 47}};
  for (const GemmCase& c : cases) {
    const Operands o = randomOperands(21 + c.K, c.M, c.K, c.N);
    GuardedFloats A(o.A), bias(o.bias), res(o.res);
    for (auto path : Gemm::paths()) {
      const typename Gemm::Packed pw = Gemm::pack(o.W.data(), c.N, c.K, path);
      bool same = true;
      for (Epilogue ep : kAllEpilogues) {
        const size_t mn = size_t(c.M) * c.N;
        GuardedFloats C(std::vector<float>(mn, 0.5f));
        Gemm::run(A.data(), c.M, c.K, pw, bias.data(), res.data(), ep, C.data());
        std::vector<float> plain(mn, 0.5f);
        Gemm::run(o.A.data(), c.M, c.K, pw, o.bias.data(), o.res.data(), ep, plain.data());
        same = same && std::memcmp(plain.data(), C.data(), mn * sizeof(float)) == 0;
      }
      t.check(same, "%-*s M=%lld K=%d N=%d: operands ending at a guard page: no access past A, "
              "bias, residual or C", Gemm::kPathWidth, Gemm::name(path), (long long)c.M, c.K, c.N);
    }
  }
}

// A null bias is a zero bias, bitwise, for every epilogue that adds one.
template <typename Gemm>
void checkNullBias(Tally& t) {
  const int64_t M = 9;
  const int K = 20, N = 40;
  const Operands o = randomOperands(7, M, K, N);
  const std::vector<float> zeros(size_t(N), 0.f), c0(size_t(M) * N, 0.f);
  for (auto path : Gemm::paths()) {
    const typename Gemm::Packed pw = Gemm::pack(o.W.data(), N, K, path);
    bool same = true;
    for (Epilogue ep : {Epilogue::Bias, Epilogue::BiasGelu, Epilogue::BiasResidual}) {
      const auto C = runEpilogue<Gemm>(pw, o.A.data(), M, K, nullptr, o.res.data(), ep, c0);
      const auto R = runEpilogue<Gemm>(pw, o.A.data(), M, K, zeros.data(), o.res.data(), ep, c0);
      same = same && std::memcmp(C.data(), R.data(), C.size() * sizeof(float)) == 0;
    }
    t.check(same, "%-*s null bias == zero bias (bias, bias+gelu, bias+residual)", Gemm::kPathWidth,
            Gemm::name(path));
  }
}

// Every sub-batch height 1..40 (every remainder micro-kernel, merged/split last tiles, one or
// several row blocks and column chunks) at its own offset into an M-row batch.
inline std::vector<std::pair<int64_t, int64_t>> everyTileHeight(int64_t M) {
  std::vector<std::pair<int64_t, int64_t>> blocks;
  for (int64_t m = 1; m <= 40; ++m) blocks.push_back({(m * 37) % (M - m), m});
  return blocks;
}

// A row's result must not depend on the rest of the batch: each (first row, rows) block run
// alone gives bitwise the same rows as the whole M-row batch, for every epilogue of `eps`.
template <typename Gemm>
void checkSubBatches(Tally& t, uint32_t seed, int64_t M, int K, int N,
                     std::initializer_list<Epilogue> eps,
                     const std::vector<std::pair<int64_t, int64_t>>& blocks) {
  const Operands o = randomOperands(seed, M, K, N);
  for (auto path : Gemm::paths()) {
    const typename Gemm::Packed pw = Gemm::pack(o.W.data(), N, K, path);
    for (Epilogue ep : eps) {
      std::vector<float> full(size_t(M) * N);
      Gemm::run(o.A.data(), M, K, pw, o.bias.data(), o.res.data(), ep, full.data());
      double worst = 0;
      int64_t worstRows = 0;
      for (const auto& [r0, m] : blocks) {
        std::vector<float> part(size_t(m) * N);
        Gemm::run(o.A.data() + r0 * K, m, K, pw, o.bias.data(), o.res.data() + r0 * N, ep,
                  part.data());
        const double d = maxAbsDiff(part.data(), full.data() + r0 * N, part.size());
        if (!(d <= worst)) {
          worst = d;
          worstRows = m;
        }
      }
      t.check(worst == 0.0, "%-*s %s: %zu sub-batches == the same rows of a batch of %lld (K=%d "
              "N=%d): max diff %.3g (worst at %lld rows)", Gemm::kPathWidth, Gemm::name(path),
              epilogueName(ep), blocks.size(), (long long)M, K, N, worst, (long long)worstRows);
    }
  }
}

// Each of `all` is refused at pack time with ERR_UNSUPPORTED exactly when it cannot run here.
template <typename Gemm>
void checkUnavailablePaths(Tally& t, std::initializer_list<typename Gemm::Path> all) {
  const float w[4] = {1, 2, 3, 4};
  const std::vector<typename Gemm::Path> here = Gemm::paths();
  for (auto path : all) {
    std::string code;
    try {
      Gemm::pack(w, 1, 4, path);
    } catch (const Error& e) {
      code = e.code();
    }
    if (std::find(here.begin(), here.end(), path) != here.end()) {
      t.check(code.empty(), "%s is available and packs", Gemm::name(path));
    } else {
      t.check(code == "ERR_UNSUPPORTED", "%s is not available here and is refused (code %s)",
              Gemm::name(path), code.c_str());
    }
  }
}

inline void checkIsaOverrideAccepted(Tally& t) {
  t.check(cpuIsaOverrideError().empty(), "SBERT_CPU_ISA accepted: %s",
          cpuIsaOverrideError().empty() ? "(ok)" : cpuIsaOverrideError().c_str());
}

// "# SBERT_CPU_ISA=...; int8 paths here: ... (default ...); CPU features: ...".
template <typename Gemm>
void printPaths() {
  std::string names;
  for (auto p : Gemm::paths()) names += std::string(" ") + Gemm::name(p);
  const char* isa = std::getenv("SBERT_CPU_ISA");
  std::printf("# SBERT_CPU_ISA=%s; %s paths here:%s (default %s); CPU features: %s\n",
              isa ? isa : "(unset)", Gemm::kName, names.c_str(), Gemm::name(Gemm::defaultPath()),
              cpuFeatureNames(activeCpuFeatures()).c_str());
}

// checkShape(t, case, seed) over kOddShapes, or over three of them with --quick (the JS
// runner's run under each SBERT_CPU_ISA, after the dispatch checks).
inline void forOddShapes(int argc, char** argv, const std::function<void(const GemmCase&, uint32_t)>& checkShape) {
  uint32_t seed = 1;
  if (argc > 1 && std::strcmp(argv[1], "--quick") == 0) {
    for (int i : {3, 8, 12}) checkShape(kOddShapes[i], seed++);
    return;
  }
  for (const GemmCase& c : kOddShapes) checkShape(c, seed++);
}
inline bool quickRun(int argc, char** argv) { return argc > 1 && std::strcmp(argv[1], "--quick") == 0; }

// --digest: "digest <hex>" of fixed products on the default path, each case's operands from
// makeOperands(generator seeded 100, 101, ..., case), every epilogue of `eps` (the JS runner
// requires it to be the same for 1 and 2 threads, and for int8 on every ISA path).
template <typename Gemm>
int printDigest(const std::function<Operands(std::mt19937&, const GemmCase&)>& makeOperands,
                std::initializer_list<Epilogue> eps) {
  uint64_t h = fnv1a(nullptr, 0);
  const GemmCase cases[] = {{601, 384, 129}, {255, 1541, 97}, {7, 17, 33}, {1, 384, 1536}};
  uint32_t seed = 100;
  for (const GemmCase& c : cases) {
    std::mt19937 rng(seed++);
    const Operands o = makeOperands(rng, c);
    const typename Gemm::Packed pw = Gemm::pack(o.W.data(), c.N, c.K, Gemm::defaultPath());
    for (Epilogue ep : eps) {
      std::vector<float> C(o.res);
      Gemm::run(o.A.data(), c.M, c.K, pw, o.bias.data(), o.res.data(), ep, C.data());
      h = fnv1a(C.data(), C.size() * sizeof(float), h);
    }
  }
  std::printf("# %s path %s\ndigest %016llx\n", Gemm::kName, Gemm::name(Gemm::defaultPath()),
              (unsigned long long)h);
  return 0;
}

}  // namespace sbert::test
