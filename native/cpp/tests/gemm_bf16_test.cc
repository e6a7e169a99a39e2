// bf16 GEMM (kernels/gemm_bf16.h) on every path this CPU can run: against the fp32 product
// (double reference) within bf16's rounding bound, and — tighter — against the product of the
// bf16-rounded operands, which only fp32 accumulation separates from the kernel; every epilogue,
// odd shapes, zero and huge rows, batch composition, guard pages, bf16Support() under
// SBERT_CPU_ISA, and refusal of unavailable paths.
//
// The checks every GEMM test shares (guard pages, sub-batches, path refusal, odd shapes,
// --quick, --digest) are gemm_harness.h's.
//
//   gemm_bf16_test             the checks
//   gemm_bf16_test --quick     the dispatch checks and three shapes (the JS runner's forced-ISA runs)
//   gemm_bf16_test --digest    "digest <hex>" of fixed products on the default path (the JS
//                              runner compares it across thread counts)
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/half.h"
#include "gemm_harness.h"
#include "kernels/cpu_features.h"
#include "kernels/gemm_bf16.h"
#include "test_util.h"

using namespace sbert;
using sbert::test::GemmCase;
using sbert::test::Operands;
using sbert::test::Tally;

namespace {

// The bf16 GEMM as the shared checks (gemm_harness.h) see it.
struct Bf16Gemm {
  using Path = Bf16Path;
  using Packed = PackedWeightBf16;
  static constexpr const char* kName = "bf16";
  static constexpr int kPathWidth = 15;
  static std::vector<Path> paths() { return availableBf16Paths(); }
  static Path defaultPath() { return bf16Support().path; }
  static const char* name(Path p) { return bf16PathName(p); }
  static Packed pack(const float* W, int N, int K, Path p) { return packWeightBf16(W, N, K, p); }
  static void run(const float* A, int64_t M, int K, const Packed& W, const float* bias,
                  const float* residual, Epilogue ep, float* C) {
    linearBf16(A, M, K, W, bias, residual, ep, C);
  }
};

float roundBf16(float x) { return bf16ToFloat(floatToBf16(x)); }

double geluExact(double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); }

// Whether the path rounds A to bf16 (the native one) or keeps it fp32 (the emulations).
bool roundsActivations(Bf16Path p) { return p == Bf16Path::Avx512Bf16 || p == Bf16Path::Amx; }

// Reference products in double: exact operands (dot), bf16-rounded operands as the path
// rounds them (dotRounded), and Σ|a||w| (mag).
struct Ref {
  std::vector<double> dot, dotRounded, mag;
};

Ref reference(const std::vector<float>& A, int64_t M, int K, const std::vector<float>& W, int N,
              bool roundA) {
  Ref r;
  r.dot.resize(size_t(M) * N);
  r.dotRounded.resize(size_t(M) * N);
  r.mag.resize(size_t(M) * N);
  std::vector<float> Ar(A.size()), Wr(W.size());
  for (size_t i = 0; i < A.size(); ++i) Ar[i] = roundA ? roundBf16(A[i]) : A[i];
  for (size_t i = 0; i < W.size(); ++i) Wr[i] = roundBf16(W[i]);
  for (int64_t m = 0; m < M; ++m) {
    for (int n = 0; n < N; ++n) {
      double d = 0, dr = 0, g = 0;
      for (int k = 0; k < K; ++k) {
        const size_t ia = size_t(m) * K + k, iw = size_t(n) * K + k;
        d += double(A[ia]) * W[iw];
        dr += double(Ar[ia]) * Wr[iw];
        g += std::fabs(double(A[ia]) * W[iw]);
      }
      r.dot[size_t(m) * N + n] = d;
      r.dotRounded[size_t(m) * N + n] = dr;
      r.mag[size_t(m) * N + n] = g;
    }
  }
  return r;
}

// The epilogue applied in double to a dot product.
double applyEpilogue(double y, Epilogue ep, double bias, double residual, double c0) {
  switch (ep) {
    case Epilogue::None: return y;
    case Epilogue::Bias: return y + bias;
    case Epilogue::BiasGelu: return geluExact(y + bias);
    case Epilogue::BiasResidual: return y + bias + residual;
    case Epilogue::Accumulate: return c0 + y;
  }
  return y;
}

// Every epilogue of every path at one shape. Errors are measured relative to
// S = Σ|a||w| (+ the other terms' magnitudes): bf16 rounding allows (2⁻⁷ + 2⁻¹⁶)·S with A
// rounded, (2⁻⁸)·S without; against the rounded operands only fp32 accumulation remains
// (1e-5·S, the fp32 GEMM test's bound).
void checkShape(Tally& t, const GemmCase& c, uint32_t seed) {
  std::mt19937 rng(seed);
  auto A = test::randomVec(rng, size_t(c.M) * c.K, -2.f, 2.f);
  auto W = test::randomVec(rng, size_t(c.N) * c.K, -0.5f, 0.5f);
  if (c.M >= 3) std::fill(A.begin() + c.K, A.begin() + 2 * c.K, 0.f);  // all-zero row
  if (c.N >= 3) {
    std::fill(W.begin() + c.K, W.begin() + 2 * c.K, 0.f);  // all-zero output channel
    W[size_t(2) * c.K] = 1.0e30f;                          // huge outlier
  }
  auto bias = test::randomVec(rng, size_t(c.N));
  auto res = test::randomVec(rng, size_t(c.M) * c.N);
  auto c0 = test::randomVec(rng, size_t(c.M) * c.N);
  Ref refs[2];
  bool haveRef[2] = {false, false};
  for (Bf16Path path : availableBf16Paths()) {
    const bool roundA = roundsActivations(path);
    if (!haveRef[roundA]) {
      refs[roundA] = reference(A, c.M, c.K, W, c.N, roundA);
      haveRef[roundA] = true;
    }
    const Ref& ref = refs[roundA];
    const double bf16Bound = roundA ? std::ldexp(1.0, -7) + std::ldexp(1.0, -16) : std::ldexp(1.0, -8);
    PackedWeightBf16 pw = packWeightBf16(W.data(), c.N, c.K, path);
    double worstBf16 = 0, worstAcc = 0;
    bool finite = true, zeroRowExact = true;
    for (Epilogue ep : test::kAllEpilogues) {
      const std::vector<float> C = test::runEpilogue<Bf16Gemm>(pw, A.data(), c.M, c.K, bias.data(),
                                                               res.data(), ep, c0);
      for (int64_t m = 0; m < c.M; ++m) {
        for (int n = 0; n < c.N; ++n) {
          const size_t i = size_t(m) * c.N + n;
          const double b = bias[size_t(n)], r = res[i], a0 = c0[i];
          const double want = applyEpilogue(ref.dot[i], ep, b, r, a0);
          const double wantRounded = applyEpilogue(ref.dotRounded[i], ep, b, r, a0);
          // Magnitude the fp32 roundings are relative to; GELU's slope is at most 1.13 and
          // its approximation adds 2.5e-7·|x|.
          const double other = std::fabs(b) + std::fabs(r) + std::fabs(a0) + std::fabs(want);
          const double slope = ep == Epilogue::BiasGelu ? 1.13 : 1.0;
          const double got = C[i];
          if (!std::isfinite(got)) finite = false;
          const double e1 = std::fabs(got - want) / (slope * bf16Bound * ref.mag[i] + 1e-6 * other + 1e-30);
          const double e2 = std::fabs(got - wantRounded) / (slope * 1e-5 * ref.mag[i] + 1e-6 * other + 1e-30);
          worstBf16 = std::max(worstBf16, std::isnan(e1) ? INFINITY : e1);
          worstAcc = std::max(worstAcc, std::isnan(e2) ? INFINITY : e2);
          if (ep == Epilogue::None && (m == 1 || n == 1) && c.M >= 3 && c.N >= 3 && got != 0.0) {
            zeroRowExact = false;
          }
        }
      }
    }
    t.check(worstBf16 <= 1.0 && worstAcc <= 1.0,
            "%-15s M=%lld K=%d N=%d all epilogues: error/(bf16 bound) %.3f, vs rounded operands "
            "error/(fp32 bound) %.3f",
            bf16PathName(path), (long long)c.M, c.K, c.N, worstBf16, worstAcc);
    t.check(finite && zeroRowExact,
            "%-15s M=%lld K=%d N=%d: finite with a 1e30 weight; zero rows/channels give exact zeros",
            bf16PathName(path), (long long)c.M, c.K, c.N);
  }
}

// bf16Support() is true exactly where avx512_bf16 is usable, and names it otherwise.
void checkSupport(Tally& t) {
  test::checkIsaOverrideAccepted(t);
  const Bf16Support s = bf16Support();
  const bool native = activeCpuFeatures().avx512bf16;
  t.check(s.supported == native, "bf16Support().supported (%d) == avx512_bf16 active (%d)",
          int(s.supported), int(native));
  if (s.supported) {
    const Bf16Path want = bf16PathAvailable(Bf16Path::Amx) ? Bf16Path::Amx : Bf16Path::Avx512Bf16;
    t.check(s.path == want && s.message.empty(), "supported: default path %s (want %s)",
            bf16PathName(s.path), bf16PathName(want));
  } else {
    t.check(s.missingFeature == "avx512_bf16" && s.message.find("avx512_bf16") != std::string::npos,
            "unsupported: the message names avx512_bf16: %s", s.message.c_str());
    t.check(s.path != Bf16Path::Avx512Bf16 && bf16PathAvailable(s.path),
            "unsupported: packWeightBf16 still packs for %s", bf16PathName(s.path));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--digest") == 0) {
    return test::printDigest<Bf16Gemm>(
        [](std::mt19937& rng, const GemmCase& c) { return test::randomOperands(rng, c.M, c.K, c.N); },
        {Epilogue::None, Epilogue::Bias, Epilogue::BiasGelu, Epilogue::BiasResidual,
         Epilogue::Accumulate});
  }
  Tally t;
  test::printPaths<Bf16Gemm>();
  checkSupport(t);
  test::checkUnavailablePaths<Bf16Gemm>(t, {Bf16Path::Portable, Bf16Path::Avx2, Bf16Path::Avx512,
                                            Bf16Path::Avx512Bf16, Bf16Path::Amx});
  test::forOddShapes(argc, argv, [&](const GemmCase& c, uint32_t seed) { checkShape(t, c, seed); });
  if (test::quickRun(argc, argv)) return t.finish();
  test::checkNullBias<Bf16Gemm>(t);
  test::checkNoOverrun<Bf16Gemm>(t);
  for (const auto& [K, N] : {std::pair{384, 129}, std::pair{17, 33}}) {
    test::checkSubBatches<Bf16Gemm>(t, 77 + K + N, 600, K, N,
                                    {Epilogue::BiasGelu, Epilogue::BiasResidual},
                                    test::everyTileHeight(600));
  }
  return t.finish();
}
