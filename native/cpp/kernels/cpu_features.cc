#include "cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace sbert {
namespace {

// SBERT_CPU_FEATURES=portable|avx2 caps the dispatch, so tests can exercise every path on one
// machine.
CpuIsa featureCap() {
  const char* env = std::getenv("SBERT_CPU_FEATURES");
  if (!env) return CpuIsa::Avx512;
  if (std::strcmp(env, "portable") == 0) return CpuIsa::Portable;
  if (std::strcmp(env, "avx2") == 0) return CpuIsa::Avx2;
  return CpuIsa::Avx512;
}

CpuIsa detect() {
  CpuIsa hw = CpuIsa::Portable;
#if defined(__x86_64__) || defined(__i386__)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    hw = __builtin_cpu_supports("avx512f") ? CpuIsa::Avx512 : CpuIsa::Avx2;
  }
#endif
  const CpuIsa cap = featureCap();
  return static_cast<int>(hw) < static_cast<int>(cap) ? hw : cap;
}

}  // namespace

CpuIsa activeCpuIsa() {
  static const CpuIsa isa = detect();
  return isa;
}

CpuIsa clampCpuIsa(CpuIsa want) {
  const CpuIsa have = activeCpuIsa();
  return static_cast<int>(want) < static_cast<int>(have) ? want : have;
}

const char* cpuIsaName(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::Avx512: return "avx512";
    case CpuIsa::Avx2: return "avx2-fma";
    default: return "portable";
  }
}

}  // namespace sbert
