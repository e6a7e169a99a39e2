// Int8 GEMM (kernels/gemm_int8.h) on every path this CPU can run, each against a plain integer
// reference written from the header's definition (scalar fp32 quantization, int64 dot
// products): outputs must be bit-for-bit equal for every epilogue except BiasGelu, whose GELU
// is checked against exact erf on the bit-exact pre-activation. Also: integer-valued inputs
// whose scales are exactly 1 against raw integer dot products (independent of any quantization
// code), the quantization error bound against fp32, all-zero and huge rows, non-finite rows,
// batch composition, the dispatch under SBERT_CPU_ISA, and refusal of unavailable paths.
//
// The checks every GEMM test shares (guard pages, sub-batches, path refusal, odd shapes,
// --quick, --digest) are gemm_harness.h's.
//
//   gemm_int8_test             the checks
//   gemm_int8_test --quick     the dispatch checks and three shapes (the JS runner's forced-ISA runs)
//   gemm_int8_test --digest    prints "digest <hex>" of fixed products on the default path
//                              (test/native-kernels.test.js compares it across thread counts
//                              and forced ISA paths: it must never change)
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "gemm_harness.h"
#include "kernels/cpu_features.h"
#include "kernels/gemm_int8.h"
#include "test_util.h"

using namespace sbert;
using sbert::test::GemmCase;
using sbert::test::Operands;
using sbert::test::Tally;

namespace {

// The int8 GEMM as the shared checks (gemm_harness.h) see it.
struct Int8Gemm {
  using Path = Int8Path;
  using Packed = PackedWeightInt8;
  static constexpr const char* kName = "int8";
  static constexpr int kPathWidth = 11;
  static std::vector<Path> paths() { return availableInt8Paths(); }
  static Path defaultPath() { return bestInt8Path(); }
  static const char* name(Path p) { return int8PathName(p); }
  static Packed pack(const float* W, int N, int K, Path p) { return packWeightInt8(W, N, K, p); }
  static void run(const float* A, int64_t M, int K, const Packed& W, const float* bias,
                  const float* residual, Epilogue ep, float* C) {
    linearInt8(A, M, K, W, bias, residual, ep, C);
  }
};

// ---- the reference, written from gemm_int8.h's definition ----------------------------------

struct RefRow {
  float scale = 0.f;
  std::vector<int> q;
};

RefRow refQuantize(const float* x, int K) {
  RefRow r;
  r.q.assign(size_t(K), 0);
  float amax = 0.f;
  bool finite = true;
  for (int k = 0; k < K; ++k) {
    if (!std::isfinite(x[k])) finite = false;
    amax = std::max(amax, std::fabs(x[k]));
  }
  if (!finite) {
    r.scale = NAN;
    return r;
  }
  if (amax < std::ldexp(1.f, -119)) return r;
  r.scale = amax / 127.f;
  const float inv = 127.f / amax;
  for (int k = 0; k < K; ++k) {
    float y = x[k] * inv;
    y = y < -127.f ? -127.f : y > 127.f ? 127.f : y;
    r.q[size_t(k)] = int(std::nearbyint(y));
  }
  return r;
}

struct RefProduct {
  int64_t M = 0;
  int N = 0;
  std::vector<float> y;  // (float(acc) · sa) · sw, before the epilogue
  bool accumulatorsFit = true;
};

RefProduct refProduct(const float* A, int64_t M, int K, const float* W, int N) {
  RefProduct p;
  p.M = M;
  p.N = N;
  std::vector<RefRow> wq{size_t(N)}, aq{size_t(M)};
  for (int n = 0; n < N; ++n) wq[size_t(n)] = refQuantize(W + int64_t(n) * K, K);
  for (int64_t m = 0; m < M; ++m) aq[size_t(m)] = refQuantize(A + m * K, K);
  p.y.resize(size_t(M) * N);
  for (int64_t m = 0; m < M; ++m) {
    for (int n = 0; n < N; ++n) {
      int64_t acc = 0;
      const int* a = aq[size_t(m)].q.data();
      const int* w = wq[size_t(n)].q.data();
      for (int k = 0; k < K; ++k) acc += int64_t(a[k]) * w[k];
      if (acc > INT32_MAX || acc < INT32_MIN) p.accumulatorsFit = false;
      const float partial = float(acc) * aq[size_t(m)].scale;
      p.y[size_t(m) * N + n] = partial * wq[size_t(n)].scale;
    }
  }
  return p;
}

double geluExact(double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); }

// Compares linearInt8's C with the reference; returns the number of mismatching elements
// (bitwise; BiasGelu within the GELU approximation's bound). Both NaN counts as equal.
int64_t compareWithReference(const RefProduct& ref, Epilogue ep, const float* bias,
                             const float* residual, const float* c0, const float* C,
                             double* worstGelu) {
  int64_t bad = 0;
  for (int64_t m = 0; m < ref.M; ++m) {
    for (int n = 0; n < ref.N; ++n) {
      const size_t i = size_t(m) * ref.N + n;
      float want = ref.y[i];
      const float b = bias ? bias[n] : 0.f;
      if (ep == Epilogue::Accumulate) {
        want = c0[i] + want;
      } else if (ep != Epilogue::None) {
        want = want + b;
        if (ep == Epilogue::BiasResidual) want = want + residual[i];
      }
      const float got = C[i];
      if (ep == Epilogue::BiasGelu) {
        if (std::isnan(want)) {
          if (!std::isnan(got)) ++bad;
          continue;
        }
        const double g = geluExact(want);
        const double tol = 2.5e-7 * std::fabs(double(want)) + 1.2e-7 * std::fabs(g) + 1e-37;
        const double e = std::fabs(double(got) - g) / tol;
        if (!(e <= 1.0)) ++bad;
        if (worstGelu && e > *worstGelu) *worstGelu = e;
        continue;
      }
      const bool same = (std::isnan(want) && std::isnan(got)) ||
                        std::memcmp(&want, &got, sizeof(float)) == 0;
      if (!same) ++bad;
    }
  }
  return bad;
}

// ---- data ----------------------------------------------------------------------------------

// Gaussian-ish activations with a few special rows: all zero, one huge outlier, denormals only.
std::vector<float> makeActivations(std::mt19937& rng, int64_t M, int K) {
  auto A = test::randomVec(rng, size_t(M) * K, -1e-3f, 1e-3f);
  if (M >= 7) {
    std::fill(A.begin() + 2 * K, A.begin() + 3 * K, 0.f);          // all-zero row
    A[size_t(4) * K + size_t(K / 2)] = 1.0e6f;                    // huge outlier
    for (int k = 0; k < K; ++k) A[size_t(5) * K + k] = (k % 3 - 1) * 1e-40f;  // denormals only
  }
  return A;
}

std::vector<float> makeWeights(std::mt19937& rng, int N, int K) {
  auto W = test::randomVec(rng, size_t(N) * K, -0.5f, 0.5f);
  if (N >= 3) {
    std::fill(W.begin() + K, W.begin() + 2 * K, 0.f);  // all-zero output channel
    W[size_t(2) * K] = 1.0e30f;                         // huge outlier
  }
  // Near FLT_MAX (the scale stays finite), away from the activation outlier at K/2.
  if (N >= 5 && K >= 3) W[size_t(4) * K + size_t(K - 1)] = -3.0e38f;
  return W;
}

// The int8 tests' operands: special activation and weight rows (above), then bias and
// residual, drawn from rng in this order.
Operands makeOperands(std::mt19937& rng, const GemmCase& c) {
  Operands o{c.M, c.K, c.N, makeActivations(rng, c.M, c.K), makeWeights(rng, c.N, c.K), {}, {}};
  o.bias = test::randomVec(rng, size_t(c.N));
  o.res = test::randomVec(rng, size_t(c.M) * c.N);
  return o;
}

bool allFinite(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

// Every epilogue of every available path at one shape, bit-exact against the reference.
void checkShape(Tally& t, const GemmCase& c, uint32_t seed) {
  std::mt19937 rng(seed);
  const Operands o = makeOperands(rng, c);
  const auto& A = o.A;
  const auto& W = o.W;
  const auto& bias = o.bias;
  const auto& res = o.res;
  auto c0 = test::randomVec(rng, size_t(c.M) * c.N);
  const RefProduct ref = refProduct(A.data(), c.M, c.K, W.data(), c.N);
  t.check(ref.accumulatorsFit, "reference accumulators fit int32 (M=%lld K=%d N=%d)",
          (long long)c.M, c.K, c.N);
  for (Int8Path path : availableInt8Paths()) {
    PackedWeightInt8 pw = packWeightInt8(W.data(), c.N, c.K, path);
    std::string fails;
    double worstGelu = 0;
    bool finite = true;
    for (Epilogue ep : test::kAllEpilogues) {
      const std::vector<float> C = test::runEpilogue<Int8Gemm>(pw, A.data(), c.M, c.K, bias.data(),
                                                               res.data(), ep, c0);
      const int64_t bad = compareWithReference(ref, ep, bias.data(), res.data(), c0.data(),
                                               C.data(), &worstGelu);
      if (bad) fails += std::string(" ") + test::epilogueName(ep) + ":" + std::to_string(bad);
      finite = finite && allFinite(C);
    }
    t.check(fails.empty(),
            "%-11s M=%lld K=%d N=%d: all epilogues match the integer reference bit for bit "
            "(gelu within bound, worst %.2f)%s",
            int8PathName(path), (long long)c.M, c.K, c.N, worstGelu, fails.c_str());
    t.check(finite, "%-11s M=%lld K=%d N=%d: outputs finite with zero rows, outliers, denormals",
            int8PathName(path), (long long)c.M, c.K, c.N);
  }
}

// Integer-valued inputs with a 127 in every row: both scales are exactly 1, so C must be the
// exact integer dot product (|acc| < 2^24 keeps float(acc) exact) — no quantization code needed.
void checkExactIntegers(Tally& t) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> d(-127, 127);
  const int64_t M = 37;
  const int K = 515, N = 45;
  std::vector<float> A(size_t(M) * K), W(size_t(N) * K);
  std::vector<int> Ai(A.size()), Wi(W.size());
  for (size_t i = 0; i < A.size(); ++i) A[i] = float(Ai[i] = d(rng));
  for (size_t i = 0; i < W.size(); ++i) W[i] = float(Wi[i] = d(rng));
  for (int64_t m = 0; m < M; ++m) A[size_t(m) * K + size_t(m) % K] = float(Ai[size_t(m) * K + size_t(m) % K] = (m % 2 ? 127 : -127));
  for (int n = 0; n < N; ++n) W[size_t(n) * K + size_t(n * 7) % K] = float(Wi[size_t(n) * K + size_t(n * 7) % K] = (n % 2 ? -127 : 127));
  for (Int8Path path : availableInt8Paths()) {
    PackedWeightInt8 pw = packWeightInt8(W.data(), N, K, path);
    std::vector<float> C(size_t(M) * N);
    linearInt8(A.data(), M, K, pw, nullptr, nullptr, Epilogue::None, C.data());
    int64_t bad = 0;
    for (int64_t m = 0; m < M; ++m) {
      for (int n = 0; n < N; ++n) {
        int64_t dot = 0;
        for (int k = 0; k < K; ++k) dot += int64_t(Ai[size_t(m) * K + k]) * Wi[size_t(n) * K + k];
        if (C[size_t(m) * N + n] != float(dot)) ++bad;
      }
    }
    t.check(bad == 0, "%-11s integer inputs (scales exactly 1): C == exact integer dot products (%lld wrong)",
            int8PathName(path), (long long)bad);
  }
}

// The extremes of vpmaddubsw/vpdpbusd: every product ±127·±127 with the same sign, so the
// avx2 path's int16 pair sums sit at their maximum 2·127² and any saturation would show.
void checkSaturationEdge(Tally& t) {
  const int64_t M = 5;
  const int K = 1536 + 5, N = 33;
  std::vector<float> A(size_t(M) * K), W(size_t(N) * K);
  for (int64_t m = 0; m < M; ++m)
    for (int k = 0; k < K; ++k) A[size_t(m) * K + k] = (m % 2 ? -1.f : 1.f) * ((k + m) % 5 == 0 ? -1.f : 1.f);
  for (int n = 0; n < N; ++n)
    for (int k = 0; k < K; ++k) W[size_t(n) * K + k] = (n % 3 ? 1.f : -1.f) * ((k + 2 * n) % 7 == 0 ? -1.f : 1.f);
  const RefProduct ref = refProduct(A.data(), M, K, W.data(), N);
  for (Int8Path path : availableInt8Paths()) {
    PackedWeightInt8 pw = packWeightInt8(W.data(), N, K, path);
    std::vector<float> C(size_t(M) * N);
    linearInt8(A.data(), M, K, pw, nullptr, nullptr, Epilogue::None, C.data());
    const int64_t bad = compareWithReference(ref, Epilogue::None, nullptr, nullptr, nullptr, C.data(), nullptr);
    t.check(bad == 0, "%-11s all operands ±127 (K=%d): no saturation, matches reference (%lld wrong)",
            int8PathName(path), K, (long long)bad);
  }
}

// Against fp32: |C - A·Wᵀ| ≤ Σ_k (|a|·sw/2 + |ŵ|·sa/2) (+ fp32 slop), the rounding of both
// operands to their grids — catches a wrong scale that the reference might share.
void checkErrorBound(Tally& t) {
  std::mt19937 rng(5);
  const int64_t M = 64;
  const int K = 384, N = 96;
  auto A = test::randomVec(rng, size_t(M) * K, -3.f, 3.f);
  auto W = test::randomVec(rng, size_t(N) * K, -0.1f, 0.1f);
  for (Int8Path path : availableInt8Paths()) {
    PackedWeightInt8 pw = packWeightInt8(W.data(), N, K, path);
    std::vector<float> C(size_t(M) * N);
    linearInt8(A.data(), M, K, pw, nullptr, nullptr, Epilogue::None, C.data());
    double worst = 0, relSum = 0;
    for (int64_t m = 0; m < M; ++m) {
      float amaxA = 0;
      for (int k = 0; k < K; ++k) amaxA = std::max(amaxA, std::fabs(A[size_t(m) * K + k]));
      for (int n = 0; n < N; ++n) {
        float amaxW = 0;
        for (int k = 0; k < K; ++k) amaxW = std::max(amaxW, std::fabs(W[size_t(n) * K + k]));
        const double sa = amaxA / 127.0, sw = amaxW / 127.0;
        double dot = 0, bound = 0, mag = 0;
        for (int k = 0; k < K; ++k) {
          const double a = A[size_t(m) * K + k], w = W[size_t(n) * K + k];
          dot += a * w;
          bound += std::fabs(a) * sw / 2 + (std::fabs(w) + sw / 2) * sa / 2;
          mag += std::fabs(a * w);
        }
        const double err = std::fabs(C[size_t(m) * N + n] - dot);
        worst = std::max(worst, err / (bound * 1.0001 + 1e-6 * mag));
        relSum += err / mag;
      }
    }
    t.check(worst <= 1.0, "%-11s error vs fp32 within the rounding bound (worst %.3f of it; mean |err|/Σ|aw| %.2e)",
            int8PathName(path), worst, relSum / double(M * N));
  }
}

// Non-finite activations poison only their own row; non-finite weights are refused.
void checkNonFinite(Tally& t) {
  const int64_t M = 9;
  const int K = 40, N = 19;
  Operands o = test::randomOperands(9, M, K, N);
  auto& A = o.A;
  auto& W = o.W;
  A[size_t(3) * K + 7] = NAN;
  A[size_t(6) * K + 1] = INFINITY;
  for (Int8Path path : availableInt8Paths()) {
    PackedWeightInt8 pw = packWeightInt8(W.data(), N, K, path);
    std::vector<float> C(size_t(M) * N);
    linearInt8(A.data(), M, K, pw, nullptr, nullptr, Epilogue::None, C.data());
    bool ok = true;
    for (int64_t m = 0; m < M; ++m)
      for (int n = 0; n < N; ++n) {
        const float v = C[size_t(m) * N + n];
        ok = ok && ((m == 3 || m == 6) ? std::isnan(v) : std::isfinite(v));
      }
    t.check(ok, "%-11s a NaN/Inf activation row gives NaN in that row only", int8PathName(path));
  }
  W[size_t(5) * K + 3] = INFINITY;
  std::string code;
  try {
    packWeightInt8(W.data(), N, K);
  } catch (const Error& e) {
    code = e.code();
  }
  t.check(code == "ERR_BAD_MODEL", "packWeightInt8 refuses a non-finite weight (code %s)", code.c_str());
}

// The same product on every path gives the same bits (the integer core is exact and the
// epilogue is the same fp32 operations everywhere; BiasGelu excepted, see the header).
void checkPathsAgree(Tally& t) {
  const int64_t M = 301;
  const int K = 384, N = 97;
  const Operands o = test::randomOperands(3, M, K, N);
  const std::vector<Int8Path> paths = availableInt8Paths();
  std::vector<float> first;
  for (Int8Path path : paths) {
    PackedWeightInt8 pw = packWeightInt8(o.W.data(), N, K, path);
    std::vector<float> C(size_t(M) * N);
    linearInt8(o.A.data(), M, K, pw, o.bias.data(), nullptr, Epilogue::Bias, C.data());
    if (first.empty()) {
      first = C;
      continue;
    }
    t.check(std::memcmp(first.data(), C.data(), C.size() * sizeof(float)) == 0,
            "%s gives the same bits as %s", int8PathName(path), int8PathName(paths[0]));
  }
}

// Under SBERT_CPU_ISA the default path is the one that set implies (the JS runner forces each).
void checkDispatch(Tally& t) {
  test::checkIsaOverrideAccepted(t);
  const char* isa = std::getenv("SBERT_CPU_ISA");
  const char* cap = std::getenv("SBERT_CPU_FEATURES");
  if (!isa || cap) return;
  struct Want { const char* isa; Int8Path path; };
  const Want wants[] = {{"portable", Int8Path::Portable}, {"avx2", Int8Path::Avx2},
                        {"avxvnni", Int8Path::AvxVnni},   {"avx512", Int8Path::Avx2},
                        {"avx512vnni", Int8Path::Avx512Vnni}, {"avx512bf16", Int8Path::Avx512Vnni},
                        {"amx", Int8Path::Amx}};
  for (const Want& w : wants) {
    if (std::strcmp(isa, w.isa) != 0) continue;
    t.check(bestInt8Path() == w.path, "SBERT_CPU_ISA=%s dispatches int8 to %s (got %s)", isa,
            int8PathName(w.path), int8PathName(bestInt8Path()));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--digest") == 0) {
    // No BiasGelu: its GELU may differ in the last bits between the portable and SIMD paths.
    return test::printDigest<Int8Gemm>(makeOperands, {Epilogue::None, Epilogue::Bias,
                                                      Epilogue::BiasResidual, Epilogue::Accumulate});
  }
  Tally t;
  test::printPaths<Int8Gemm>();
  checkDispatch(t);
  test::checkUnavailablePaths<Int8Gemm>(t, {Int8Path::Portable, Int8Path::Avx2, Int8Path::AvxVnni,
                                            Int8Path::Avx512Vnni, Int8Path::Amx});
  test::forOddShapes(argc, argv, [&](const GemmCase& c, uint32_t seed) { checkShape(t, c, seed); });
  if (test::quickRun(argc, argv)) return t.finish();
  test::checkNoOverrun<Int8Gemm>(t);
  checkExactIntegers(t);
  checkSaturationEdge(t);
  checkErrorBound(t);
  checkNonFinite(t);
  for (const auto& [K, N] : {std::pair{384, 129}, std::pair{17, 33}}) {
    test::checkSubBatches<Int8Gemm>(t, 77 + K + N, 600, K, N,
                                    {Epilogue::BiasGelu, Epilogue::BiasResidual},
                                    test::everyTileHeight(600));
  }
  checkPathsAgree(t);
  return t.finish();
}
