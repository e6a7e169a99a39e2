// Inverted dropout, see dropout.h.
#include "dropout.h"

#include <cstring>

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

// W elements at a time as GCC/Clang vectors (the hash is integer math: every lane gives the
// scalar function's bits), the tail one by one.
template <int W>
struct Lanes {
  typedef uint32_t u __attribute__((vector_size(4 * W)));
  typedef int32_t i __attribute__((vector_size(4 * W)));
  typedef float f __attribute__((vector_size(4 * W)));
  typedef uint8_t b __attribute__((vector_size(W)));
};

template <int W>
__attribute__((always_inline)) inline void forwardRange(const Site& s, int64_t b, int64_t e) {
  using U = typename Lanes<W>::u;
  using I = typename Lanes<W>::i;
  using F = typename Lanes<W>::f;
  using B = typename Lanes<W>::b;
  U lane;
  for (int l = 0; l < W; ++l) lane[l] = uint32_t(l);
  int64_t i = b;
  for (; i + W <= e; i += W) {
    U x = lane + (uint32_t(i) + s.first + s.key);
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    const I keep = (x >> 8) >= s.threshold;  // lanes: −1 kept, 0 dropped
    F v;
    std::memcpy(&v, s.x + i, sizeof v);
    const F zero{};
    v = keep ? v * s.scale : zero;
    std::memcpy(s.x + i, &v, sizeof v);
    const B m = __builtin_convertvector(keep & 1, B);
    std::memcpy(s.mask + i, &m, sizeof m);
  }
  for (; i < e; ++i) {
    const uint32_t r = hash32(uint32_t(i) + s.first + s.key);
    const bool keep = (r >> 8) >= s.threshold;
    s.mask[i] = keep;
    s.x[i] = keep ? s.x[i] * s.scale : 0.f;
  }
}

void forwardPortable(const Site& s, int64_t b, int64_t e) { forwardRange<4>(s, b, e); }
#if SBERT_X86
SBERT_TARGET_AVX2 void forwardAvx2(const Site& s, int64_t b, int64_t e) { forwardRange<8>(s, b, e); }
SBERT_TARGET_AVX512 void forwardAvx512(const Site& s, int64_t b, int64_t e) {
  forwardRange<16>(s, b, e);
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
