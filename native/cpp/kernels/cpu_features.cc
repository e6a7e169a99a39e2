#include "cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace sbert {
namespace {

// SBERT_CPU_FEATURES=portable|avx2 caps the dispatch, so tests can exercise every path on one
// machine.
int featureCap() {
  const char* env = std::getenv("SBERT_CPU_FEATURES");
  if (!env) return 2;
  if (std::strcmp(env, "portable") == 0) return 0;
  if (std::strcmp(env, "avx2") == 0) return 1;
  return 2;
}

}  // namespace

bool cpuHasAvx2Fma() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool has = featureCap() >= 1 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
#else
  return false;
#endif
}

bool cpuHasAvx512() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool has = featureCap() >= 2 && __builtin_cpu_supports("avx512f") && cpuHasAvx2Fma();
  return has;
#else
  return false;
#endif
}

}  // namespace sbert
