// bf16 GEMM (kernels/gemm_bf16.h) on every path this CPU can run: against the fp32 product
// (double reference) within bf16's rounding bound, and — tighter — against the product of the
// bf16-rounded operands, which only fp32 accumulation separates from the kernel; every epilogue,
// odd shapes, zero and huge rows, batch composition, guard pages, bf16Support() under
// SBERT_CPU_ISA, and refusal of unavailable paths.
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
#include "kernels/cpu_features.h"
#include "kernels/gemm_bf16.h"
#include "guarded_buffer.h"
#include "test_util.h"

using namespace sbert;
using sbert::test::Tally;

namespace {

const Epilogue kEpilogues[] = {Epilogue::None, Epilogue::Bias, Epilogue::BiasGelu,
                               Epilogue::BiasResidual, Epilogue::Accumulate};

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

float roundBf16(float x) { return bf16ToFloat(floatToBf16(x)); }

double geluExact(double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); }

// Whether the path rounds A to bf16 (the native one) or keeps it fp32 (the emulations).
bool roundsActivations(Bf16Path p) { return p == Bf16Path::Avx512Bf16 || p == Bf16Path::Amx; }

struct Case {
  int64_t M;
  int K, N;
};

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
void checkShape(Tally& t, const Case& c, uint32_t seed) {
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
    for (Epilogue ep : kEpilogues) {
      std::vector<float> C = ep == Epilogue::Accumulate ? c0 : std::vector<float>(c0.size(), NAN);
      linearBf16(A.data(), c.M, c.K, pw, bias.data(), res.data(), ep, C.data());
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

// A row's result must not depend on the rest of the batch (bitwise), sub-batches of 1..40.
void checkBatchIndependence(Tally& t, int K, int N) {
  std::mt19937 rng(77 + K + N);
  const int64_t M = 600;
  auto A = test::randomVec(rng, size_t(M) * K);
  auto W = test::randomVec(rng, size_t(N) * K);
  auto bias = test::randomVec(rng, size_t(N));
  auto res = test::randomVec(rng, size_t(M) * N);
  for (Bf16Path path : availableBf16Paths()) {
    PackedWeightBf16 pw = packWeightBf16(W.data(), N, K, path);
    for (Epilogue ep : {Epilogue::BiasGelu, Epilogue::BiasResidual}) {
      std::vector<float> full(size_t(M) * N);
      linearBf16(A.data(), M, K, pw, bias.data(), res.data(), ep, full.data());
      double worst = 0;
      for (int64_t m = 1; m <= 40; ++m) {
        const int64_t r0 = (m * 37) % (M - m);
        std::vector<float> part(size_t(m) * N);
        linearBf16(A.data() + r0 * K, m, K, pw, bias.data(), res.data() + r0 * N, ep, part.data());
        worst = std::max(worst, test::maxAbsDiff(part.data(), full.data() + r0 * N, part.size()));
      }
      t.check(worst == 0.0, "%-15s %s: sub-batches of 1..40 rows == the same rows of a batch of %lld (K=%d N=%d)",
              bf16PathName(path), epName(ep), (long long)M, K, N);
    }
  }
}

// Operands ending at a guard page: no path touches memory past A, bias, residual or C.
void checkNoOverrun(Tally& t) {
  const Case cases[] = {{7, 17, 33}, {1, 3, 1}, {13, 5, 17}, {2, 1541, 47}};
  for (const Case& c : cases) {
    std::mt19937 rng(21 + c.K);
    test::GuardedFloats A(test::randomVec(rng, size_t(c.M) * c.K));
    auto W = test::randomVec(rng, size_t(c.N) * c.K);
    test::GuardedFloats bias(test::randomVec(rng, size_t(c.N)));
    test::GuardedFloats res(test::randomVec(rng, size_t(c.M) * c.N));
    for (Bf16Path path : availableBf16Paths()) {
      PackedWeightBf16 pw = packWeightBf16(W.data(), c.N, c.K, path);
      bool same = true;
      for (Epilogue ep : kEpilogues) {
        const size_t mn = size_t(c.M) * c.N;
        test::GuardedFloats C(std::vector<float>(mn, 0.5f));
        linearBf16(A.data(), c.M, c.K, pw, bias.data(), res.data(), ep, C.data());
        std::vector<float> a(A.data(), A.data() + size_t(c.M) * c.K), b(bias.data(), bias.data() + c.N),
            r(res.data(), res.data() + mn), plain(mn, 0.5f);
        linearBf16(a.data(), c.M, c.K, pw, b.data(), r.data(), ep, plain.data());
        same = same && std::memcmp(plain.data(), C.data(), mn * sizeof(float)) == 0;
      }
      t.check(same, "%-15s M=%lld K=%d N=%d: operands ending at a guard page: no access past A, bias, residual or C",
              bf16PathName(path), (long long)c.M, c.K, c.N);
    }
  }
}

// Null bias = zeros; the epilogue semantics match linear's.
void checkNullBias(Tally& t) {
  std::mt19937 rng(7);
  const int64_t M = 9;
  const int K = 20, N = 40;
  auto A = test::randomVec(rng, size_t(M) * K);
  auto W = test::randomVec(rng, size_t(N) * K);
  std::vector<float> zeros(size_t(N), 0.f);
  for (Bf16Path path : availableBf16Paths()) {
    PackedWeightBf16 pw = packWeightBf16(W.data(), N, K, path);
    std::vector<float> C(size_t(M) * N), R(size_t(M) * N);
    linearBf16(A.data(), M, K, pw, nullptr, nullptr, Epilogue::BiasGelu, C.data());
    linearBf16(A.data(), M, K, pw, zeros.data(), nullptr, Epilogue::BiasGelu, R.data());
    t.check(std::memcmp(C.data(), R.data(), C.size() * sizeof(float)) == 0,
            "%-15s null bias == zero bias", bf16PathName(path));
  }
}

void checkUnavailablePaths(Tally& t) {
  float w[4] = {1, 2, 3, 4};
  for (Bf16Path path : {Bf16Path::Portable, Bf16Path::Avx2, Bf16Path::Avx512, Bf16Path::Avx512Bf16,
                        Bf16Path::Amx}) {
    std::string code;
    try {
      packWeightBf16(w, 1, 4, path);
    } catch (const Error& e) {
      code = e.code();
    }
    if (bf16PathAvailable(path)) {
      t.check(code.empty(), "%s is available and packs", bf16PathName(path));
    } else {
      t.check(code == "ERR_UNSUPPORTED", "%s is not available here and is refused (code %s)",
              bf16PathName(path), code.c_str());
    }
  }
}

// bf16Support() is true exactly where avx512_bf16 is usable, and names it otherwise.
void checkSupport(Tally& t) {
  t.check(cpuIsaOverrideError().empty(), "SBERT_CPU_ISA accepted: %s",
          cpuIsaOverrideError().empty() ? "(ok)" : cpuIsaOverrideError().c_str());
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

uint64_t fnv1a(const void* p, size_t n, uint64_t h) {
  const unsigned char* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

int printDigest() {
  uint64_t h = 1469598103934665603ull;
  const Case cases[] = {{601, 384, 129}, {255, 1541, 97}, {7, 17, 33}, {1, 384, 1536}};
  uint32_t seed = 100;
  for (const Case& c : cases) {
    std::mt19937 rng(seed++);
    auto A = test::randomVec(rng, size_t(c.M) * c.K);
    auto W = test::randomVec(rng, size_t(c.N) * c.K);
    auto bias = test::randomVec(rng, size_t(c.N));
    auto res = test::randomVec(rng, size_t(c.M) * c.N);
    PackedWeightBf16 pw = packWeightBf16(W.data(), c.N, c.K);
    for (Epilogue ep : kEpilogues) {
      std::vector<float> C(res);
      linearBf16(A.data(), c.M, c.K, pw, bias.data(), res.data(), ep, C.data());
      h = fnv1a(C.data(), C.size() * sizeof(float), h);
    }
  }
  std::printf("# bf16 path %s\ndigest %016llx\n", bf16PathName(bf16Support().path), (unsigned long long)h);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--digest") == 0) return printDigest();
  Tally t;
  std::string names;
  for (Bf16Path p : availableBf16Paths()) names += std::string(" ") + bf16PathName(p);
  std::printf("# SBERT_CPU_ISA=%s; bf16 paths here:%s (default %s); CPU features: %s\n",
              std::getenv("SBERT_CPU_ISA") ? std::getenv("SBERT_CPU_ISA") : "(unset)", names.c_str(),
              bf16PathName(bf16Support().path), cpuFeatureNames(activeCpuFeatures()).c_str());
  checkSupport(t);
  checkUnavailablePaths(t);
  const Case cases[] = {
      {1, 1, 1},      {1, 384, 1152},  {1, 1541, 384},  {7, 3, 17},     {7, 17, 3},
      {7, 100, 33},   {33, 384, 31},   {33, 1, 65},     {33, 1541, 47}, {255, 17, 129},
      {255, 384, 33}, {255, 100, 1},   {2049, 384, 35}, {3001, 3, 97},  {1200, 1541, 17},
      {14, 384, 385},
  };
  uint32_t seed = 1;
  if (argc > 1 && std::strcmp(argv[1], "--quick") == 0) {  // dispatch + a few shapes
    for (const Case& c : {cases[3], cases[8], cases[12]}) checkShape(t, c, seed++);
    return t.finish();
  }
  for (const Case& c : cases) checkShape(t, c, seed++);
  checkNullBias(t);
  checkNoOverrun(t);
  checkBatchIndependence(t, 384, 129);
  checkBatchIndependence(t, 17, 33);
  return t.finish();
}
