// Runtime CPU feature detection: the one dispatch mechanism every CPU kernel uses. The binary is
// built for baseline x86-64 and each kernel picks its vectorized body at run time from
// activeCpuIsa() (capped by SBERT_CPU_FEATURES=portable|avx2 so tests can exercise every path
// on one machine).
#pragma once

namespace sbert {

// Ordered: a higher level implies the lower ones.
enum class CpuIsa : int { Portable = 0, Avx2 = 1, Avx512 = 2 };

// The best level this CPU has, after the SBERT_CPU_FEATURES cap. Constant for the process.
CpuIsa activeCpuIsa();
// min(want, activeCpuIsa()): a body the CPU lacks degrades to the next one down.
CpuIsa clampCpuIsa(CpuIsa want);
// "avx512", "avx2-fma" or "portable".
const char* cpuIsaName(CpuIsa isa);

inline bool cpuHasAvx2Fma() { return activeCpuIsa() >= CpuIsa::Avx2; }
inline bool cpuHasAvx512() { return activeCpuIsa() >= CpuIsa::Avx512; }
// Name of the GEMM micro-kernel in use ("avx512", "avx2-fma", "portable").
inline const char* gemmKernelName() { return cpuIsaName(activeCpuIsa()); }

}  // namespace sbert
