// Tiny helpers for the C++ kernel tests (header only; each tests/*.cc is its own executable).
// A check prints one line "ok|FAIL  name  detail"; main() ends with `return t.finish();`, which
// prints "N passed, M failed" and returns non-zero when anything failed.
#pragma once

#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/gemm.h"

namespace sbert::test {

struct Tally {
  int passed = 0, failed = 0;
  Tally() {
    const char* f = std::getenv("SBERT_CPU_FEATURES");
    std::printf("# SBERT_CPU_FEATURES=%s gemm kernel: %s\n", f ? f : "(unset)", gemmKernelName());
  }
  bool check(bool ok, const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    std::printf("%s  %s\n", ok ? "ok  " : "FAIL", buf);
    std::fflush(stdout);
    (ok ? passed : failed)++;
    return ok;
  }
  int finish() {
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
  }
};

inline std::vector<float> randomVec(std::mt19937& rng, size_t n, float lo = -1.f, float hi = 1.f) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Max over i of |a[i] - b[i]| / (scale[i] or max(|b[i]|, floor)).
inline double maxRelErr(const float* a, const double* ref, size_t n, double floor) {
  double m = 0;
  for (size_t i = 0; i < n; ++i) {
    double d = std::fabs(double(a[i]) - ref[i]);
    if (!(d == d)) return INFINITY;
    m = std::max(m, d / std::max(std::fabs(ref[i]), floor));
  }
  return m;
}

inline double maxAbsDiff(const float* a, const float* b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; ++i) {
    double d = std::fabs(double(a[i]) - double(b[i]));
    if (!(d == d)) return INFINITY;
    m = std::max(m, d);
  }
  return m;
}

// A GEMM epilogue's name, for check lines and bench tables.
inline const char* epilogueName(Epilogue e) {
  switch (e) {
    case Epilogue::None: return "none";
    case Epilogue::Bias: return "bias";
    case Epilogue::BiasGelu: return "bias+gelu";
    case Epilogue::BiasResidual: return "bias+residual";
    case Epilogue::Accumulate: return "accumulate";
  }
  return "?";
}

// Packed batch of random sequence lengths: returns cuSeqlens (n + 1 entries).
inline std::vector<int32_t> cuSeqlensOf(const std::vector<int>& lens) {
  std::vector<int32_t> cu(lens.size() + 1, 0);
  for (size_t i = 0; i < lens.size(); ++i) cu[i + 1] = cu[i] + lens[i];
  return cu;
}

}  // namespace sbert::test
