// Hamming top-k vs a brute-force reference (popcount of each byte's XOR, full sort by
// (distance, index)), on every path this CPU has (avx512-vpopcntdq, popcnt, portable), at several
// shapes and blockings, with many exact ties. Prints `N passed, M failed`; non-zero exit on failure.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "kernels/hamming.h"
#include "test_util.h"

using namespace sbert;

namespace {

// Bits set in one byte, by shifting: independent of every popcount the kernel uses.
int bitsInByte(uint8_t x) {
  int n = 0;
  for (; x; x >>= 1) n += x & 1;
  return n;
}

struct Ref {
  std::vector<int32_t> index, distance;
};

Ref bruteForce(const std::vector<uint8_t>& q, int64_t nq, const std::vector<uint8_t>& c, int64_t nc, int64_t rowBytes,
               int64_t k) {
  const int64_t kk = std::min(k, nc);
  Ref r;
  for (int64_t i = 0; i < nq; ++i) {
    std::vector<std::pair<int32_t, int32_t>> all;
    for (int64_t j = 0; j < nc; ++j) {
      int32_t d = 0;
      for (int64_t b = 0; b < rowBytes; ++b) d += bitsInByte(q[i * rowBytes + b] ^ c[j * rowBytes + b]);
      all.push_back({d, static_cast<int32_t>(j)});
    }
    std::sort(all.begin(), all.end());
    for (int64_t t = 0; t < kk; ++t) {
      r.distance.push_back(all[t].first);
      r.index.push_back(all[t].second);
    }
  }
  return r;
}

// Random rows where `dup` of every 4 corpus rows repeat an earlier row (exact ties) and bits are
// biased so many distances collide.
std::vector<uint8_t> randomRows(std::mt19937& rng, int64_t rows, int64_t rowBytes, bool duplicates) {
  std::vector<uint8_t> v(static_cast<size_t>(rows * rowBytes));
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& x : v) x = static_cast<uint8_t>(byte(rng) & byte(rng));
  if (duplicates) {
    for (int64_t i = 3; i < rows; i += 4) std::memcpy(&v[i * rowBytes], &v[(i / 2) * rowBytes], rowBytes);
  }
  return v;
}

}  // namespace

int main() {
  test::Tally t;
  std::vector<CpuIsa> isas;
  for (CpuIsa isa : {CpuIsa::Portable, CpuIsa::Avx2, CpuIsa::Avx512}) {
    if (clampCpuIsa(isa) == isa) isas.push_back(isa);
  }
  std::printf("# hamming paths: %s (active)\n", hammingKernelName(activeCpuIsa()));
  struct Case {
    int64_t nq, nc, rowBytes, k;
  };
  const std::vector<Case> cases = {{1, 1, 1, 1},     {3, 17, 5, 4},     {9, 100, 48, 10},  {17, 333, 13, 7},
                                   {70, 1000, 48, 10}, {8, 64, 128, 64}, {5, 40, 3, 100},   {130, 257, 96, 1},
                                   {2, 5000, 0, 3}};
  struct Blocking {
    int64_t chunk, qb, segs;
  };
  const std::vector<Blocking> blockings = {{0, 0, 0}, {8, 8, 1}, {24, 16, 3}, {64, 8, 7}};
  std::mt19937 rng(42);
  std::vector<std::string> seenPaths;
  for (const Case& cs : cases) {
    const auto q = randomRows(rng, cs.nq, cs.rowBytes, false);
    const auto c = randomRows(rng, cs.nc, cs.rowBytes, true);
    const Ref ref = bruteForce(q, cs.nq, c, cs.nc, cs.rowBytes, cs.k);
    for (CpuIsa isa : isas) {
      for (const Blocking& b : blockings) {
        HammingConfig cfg;
        cfg.isa = isa;
        cfg.corpusChunk = b.chunk;
        cfg.queryBlock = b.qb;
        cfg.corpusSegments = b.segs;
        std::vector<int32_t> idx(ref.index.size(), -1), dist(ref.index.size(), -1);
        hammingTopK(q.data(), cs.nq, c.data(), cs.nc, cs.rowBytes, cs.k, cfg, idx.data(), dist.data());
        t.check(idx == ref.index && dist == ref.distance, "%s nq=%lld nc=%lld bytes=%lld k=%lld blocks=%lld/%lld/%lld",
                hammingKernelName(isa), (long long)cs.nq, (long long)cs.nc, (long long)cs.rowBytes, (long long)cs.k,
                (long long)b.chunk, (long long)b.qb, (long long)b.segs);
      }
    }
  }
  // Each requested level reaches the path this CPU has for it (VPOPCNTDQ is separate from AVX-512F).
  for (CpuIsa isa : isas) {
    const std::string name = hammingKernelName(isa);
    const bool ok = isa == CpuIsa::Portable ? name == "portable"
                    : isa == CpuIsa::Avx2   ? name == "popcnt" || name == "portable"
                                            : name == "avx512-vpopcntdq" || name == "popcnt";
    t.check(ok, "level %s runs path %s", cpuIsaName(isa), name.c_str());
  }
  // Errors and empty inputs.
  std::vector<int32_t> idx(4, -7), dist(4, -7);
  const std::vector<uint8_t> one(8, 1);
  try {
    hammingTopK(one.data(), 1, one.data(), 1, 8, 0, {}, idx.data(), dist.data());
    t.check(false, "k = 0 throws");
  } catch (const Error& e) {
    t.check(e.code() == "ERR_OUT_OF_RANGE", "k = 0 throws ERR_OUT_OF_RANGE (%s)", e.what());
  }
  hammingTopK(nullptr, 0, one.data(), 1, 8, 3, {}, idx.data(), dist.data());
  hammingTopK(one.data(), 1, nullptr, 0, 8, 3, {}, idx.data(), dist.data());
  t.check(std::all_of(idx.begin(), idx.end(), [](int32_t v) { return v == -7; }) &&
              std::all_of(dist.begin(), dist.end(), [](int32_t v) { return v == -7; }),
          "empty queries or corpus write nothing");
  return t.finish();
}
