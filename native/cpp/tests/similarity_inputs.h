// Inputs of the similarity kernels' test and benchmark (bench/native/similarity_bench.cc):
// seeded normal matrices, and every ISA level this process may run.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "kernels/cpu_features.h"

namespace sbert::test {

// rows × dim values ~ N(0, 1) from a seeded generator.
inline std::vector<float> randomMatrix(int64_t rows, int64_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(rows * dim));
  for (auto& x : v) x = nd(rng);
  return v;
}

// Every level the one CPU dispatch lets this process use (clampCpuIsa leaves it unchanged).
inline std::vector<CpuIsa> availableIsas() {
  std::vector<CpuIsa> out;
  for (CpuIsa isa : {CpuIsa::Portable, CpuIsa::Avx2, CpuIsa::Avx512}) {
    if (clampCpuIsa(isa) == isa) out.push_back(isa);
  }
  return out;
}

}  // namespace sbert::test
