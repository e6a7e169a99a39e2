// Inverted dropout, see dropout.h.
#include "dropout.h"

#include "common/thread_pool.h"

namespace sbert {
namespace {

inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr int64_t kGrain = 1 << 14;

}  // namespace

bool dropoutKeep(uint64_t seed, uint64_t index, float p) {
  // 24 random bits against p in units of 2^-24: exact for every p a config holds.
  const uint32_t r = uint32_t(mix64(seed + 0x9e3779b97f4a7c15ULL * (index + 1)) >> 40);
  return double(r) >= double(p) * 16777216.0;
}

uint64_t dropoutStream(uint64_t seed, uint64_t step, uint64_t site) {
  return mix64(mix64(seed ^ 0x5bd1e995ULL) + step * 0x9e3779b97f4a7c15ULL + site);
}

void dropoutForward(float* x, int64_t n, float p, uint64_t seed, uint8_t* mask) {
  const float scale = 1.f / (1.f - p);
  parallelFor(0, n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const bool keep = dropoutKeep(seed, uint64_t(i), p);
      mask[i] = keep;
      x[i] = keep ? x[i] * scale : 0.f;
    }
  });
}

void dropoutBackward(float* d, int64_t n, float p, const uint8_t* mask) {
  const float scale = 1.f / (1.f - p);
  parallelFor(0, n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) d[i] = mask[i] ? d[i] * scale : 0.f;
  });
}

}  // namespace sbert
