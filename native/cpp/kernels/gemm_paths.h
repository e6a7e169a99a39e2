// Internal (not a public kernel API): the scaffolding the CPU GEMMs share around their ISA
// paths — a call's argument checks (all three precisions), and for the low-precision GEMMs
// (gemm_int8.cc, gemm_bf16.cc) listing and refusing paths and filling packed weight panels.
// What stays in each precision's file is what differs: its paths' feature needs, its packed
// element format and its micro-kernels.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <new>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/thread_pool.h"
#include "cpu_features.h"
#include "gemm.h"

namespace sbert::gemm {

// The checks every linear* entry point makes before computing, its name `fn` leading each
// message (ERR_INTERNAL: a caller's bug). False when there is nothing to compute (M or N is 0).
inline bool checkLinearCall(const char* fn, int packedK, int K, int64_t M, int N, bool packed,
                            bool runsHere, Epilogue ep, const float* residual) {
  // (SBERT_CHECK builds its message only when the check fails.)
  SBERT_CHECK(packedK == K, "ERR_INTERNAL", std::string(fn) + ": K does not match the packed weight");
  SBERT_CHECK(M >= 0, "ERR_INTERNAL", std::string(fn) + ": negative M");
  if (M == 0 || N == 0) return false;
  SBERT_CHECK(packed, "ERR_INTERNAL", std::string(fn) + ": empty packed weight");
  SBERT_CHECK(runsHere, "ERR_INTERNAL", std::string(fn) + ": weight packed for another CPU");
  SBERT_CHECK(ep != Epilogue::BiasResidual || residual != nullptr, "ERR_INTERNAL",
              std::string(fn) + ": BiasResidual needs a residual");
  return true;
}

// The paths of `slowestFirst` that can run here, in that order.
template <typename Path, typename Available>
std::vector<Path> availablePaths(std::initializer_list<Path> slowestFirst, const Available& available) {
  std::vector<Path> out;
  for (Path p : slowestFirst) {
    if (available(p)) out.push_back(p);
  }
  return out;
}

// A pack request for a path this process cannot run: ERR_UNSUPPORTED naming it and the
// active features.
[[noreturn]] inline void refuseUnavailablePath(const char* precision, const char* pathName) {
  throw Error("ERR_UNSUPPORTED", std::string(precision) + " path " + pathName +
                                     " cannot run on this CPU (active features: " +
                                     cpuFeatureNames(activeCpuFeatures()) + ")");
}

// `count` elements of T, 64-byte aligned (at least 64 bytes: a zero-sized weight still gets a
// buffer), released by the packed weight's Free.
template <typename T>
T* allocPanels(int64_t count) {
  const int64_t bytes = std::max<int64_t>(count * int64_t(sizeof(T)), 64);
  return static_cast<T*>(::operator new[](static_cast<size_t>(bytes), std::align_val_t(64)));
}

// Writes value(k), k = 0..K-1, as output channel j of a panel of nr channels whose k come in
// groups of G: [ceil(K/G)][nr][G] (the operand layout of vpdpbusd with G = 4, of vdpbf16ps
// with G = 2). The rest of the last group stays as it was (zero).
template <int G, typename T, typename Value>
inline void scatterRow(T* panel, int nr, int j, int K, const Value& value) {
  T* group = panel + int64_t(j) * G;
  const int64_t stride = int64_t(nr) * G;
  int k = 0;
  for (; k + G <= K; k += G, group += stride) {
    for (int t = 0; t < G; ++t) group[t] = value(k + t);
  }
  for (int t = 0; k + t < K; ++t) group[t] = value(k + t);
}

// Fills the ceil(N/nr) panels of `dst`, `groups` groups of G k each, on the thread pool: zeros
// (the K and channel padding), then row(n, panel, j) for each output channel n, which is
// channel j of `panel`.
template <int G, typename T, typename Row>
void fillPanels(T* dst, int N, int nr, int groups, const Row& row) {
  const int64_t panels = (N + nr - 1) / nr;
  const int64_t panelElements = int64_t(groups) * nr * G;
  parallelFor(0, panels, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* d = dst + p * panelElements;
      std::memset(d, 0, size_t(panelElements) * sizeof(T));
      for (int j = 0; j < nr; ++j) {
        const int64_t n = p * nr + j;
        if (n >= N) break;
        row(n, d, j);
      }
    }
  });
}

}  // namespace sbert::gemm
