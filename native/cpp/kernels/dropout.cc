// Inverted dropout, see dropout.h.
#include "dropout.h"

#include "common/thread_pool.h"
#include "cpu_features.h"
#include "simd_math.h"

namespace sbert {
namespace {

inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// lowbias32 (Chris Wellons): a 32-bit bijective mixer with low bias.
__attribute__((always_inline)) inline uint32_t hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

inline uint32_t keyOf(uint64_t seed) { return uint32_t(mix64(seed)); }
// Elements with (hash >> 8) below this are dropped.
inline uint32_t thresholdOf(float p) { return uint32_t(double(p) * 16777216.0); }

constexpr int64_t kGrain = 1 << 14;

struct Site {
  float* x;
  uint8_t* mask;
  uint32_t key, threshold, first;
  float scale;
};

__attribute__((always_inline)) inline void forwardRange(const Site& s, int64_t b, int64_t e) {
  for (int64_t i = b; i < e; ++i) {
    const uint32_t r = hash32(uint32_t(i) + s.first + s.key);
    const bool keep = (r >> 8) >= s.threshold;
    s.mask[i] = keep;
    s.x[i] = keep ? s.x[i] * s.scale : 0.f;
  }
}

void forwardPortable(const Site& s, int64_t b, int64_t e) { forwardRange(s, b, e); }
#if SBERT_X86
SBERT_TARGET_AVX2 void forwardAvx2(const Site& s, int64_t b, int64_t e) { forwardRange(s, b, e); }
SBERT_TARGET_AVX512 void forwardAvx512(const Site& s, int64_t b, int64_t e) {
  forwardRange(s, b, e);
}
#endif

}  // namespace

bool dropoutKeep(uint64_t seed, uint64_t index, float p) {
  return (hash32(uint32_t(index) + keyOf(seed)) >> 8) >= thresholdOf(p);
}

uint64_t dropoutStream(uint64_t seed, uint64_t step, uint64_t site) {
  return mix64(mix64(seed ^ 0x5bd1e995ULL) + step * 0x9e3779b97f4a7c15ULL + site);
}

void dropoutForward(float* x, int64_t n, float p, uint64_t seed, uint8_t* mask,
                    uint64_t firstIndex) {
  const Site s{x, mask, keyOf(seed), thresholdOf(p), uint32_t(firstIndex), 1.f / (1.f - p)};
  void (*fn)(const Site&, int64_t, int64_t) = forwardPortable;
#if SBERT_X86
  if (cpuHasAvx512()) fn = forwardAvx512;
  else if (cpuHasAvx2Fma()) fn = forwardAvx2;
#endif
  parallelFor(0, n, kGrain, [&](int64_t b, int64_t e) { fn(s, b, e); });
}

void dropoutBackward(float* d, int64_t n, float p, const uint8_t* mask) {
  const float scale = 1.f / (1.f - p);
  parallelFor(0, n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) d[i] = mask[i] ? d[i] * scale : 0.f;
  });
}

}  // namespace sbert
