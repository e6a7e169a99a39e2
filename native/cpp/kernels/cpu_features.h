// Runtime CPU feature detection for the kernels' dispatch (AVX2/FMA, AVX-512) — the binary is
// built for baseline x86-64 and picks vectorized code paths at run time.
#pragma once

namespace sbert {

bool cpuHasAvx2Fma();
bool cpuHasAvx512();
// Name of the GEMM micro-kernel in use ("avx512", "avx2-fma", "portable"); defined in gemm.cc.
const char* gemmKernelName();

}  // namespace sbert
