// Runtime CPU feature detection: the one dispatch mechanism every CPU kernel uses. The binary is
// built for baseline x86-64 and each kernel picks its vectorized body at run time.
//
// Two views of the same detection:
// - CpuFeatures: the individual instruction-set extensions (CPUID, and XGETBV for the register
//   state the OS saves), named as Linux's /proc/cpuinfo names them. The int8 and bf16 GEMMs
//   (gemm_int8.h, gemm_bf16.h) dispatch on these.
// - CpuIsa: the ordered fp32 level (portable < AVX2+FMA < AVX-512F) the fp32 kernels use.
//
// Environment (read once per process):
//   SBERT_CPU_ISA=portable|avx2|avxvnni|avx512|avx512vnni|avx512bf16|amx|native
//       forces exactly that feature set (each name implies the ones before it in its line:
//       avx2 = avx2+fma; avxvnni = avx2 + avx_vnni; avx512 = avx2 + avx512f/bw/vl/dq;
//       avx512vnni = avx512 + avx512_vnni; avx512bf16 = avx512vnni + avx512_bf16; amx =
//       avx512bf16 + avx_vnni + amx_tile/amx_int8/amx_bf16, as on Sapphire Rapids). A set this CPU cannot run, or an unknown
//       name, is refused: dispatch stays on what the hardware has and cpuIsaOverrideError()
//       says why (the loader turns it into an error; the C++ tests fail on it).
//   SBERT_CPU_FEATURES=portable|avx2|... caps the features (never an error; unknown values
//       leave everything on). Kept for the existing tests; applied after SBERT_CPU_ISA.
#pragma once

#include <string>

namespace sbert {

// Ordered: a higher level implies the lower ones.
enum class CpuIsa : int { Portable = 0, Avx2 = 1, Avx512 = 2 };

// Instruction-set extensions usable by this process (CPU support and OS register state).
struct CpuFeatures {
  bool avx2 = false;        // avx2
  bool fma = false;         // fma
  bool avx512f = false;     // avx512f
  bool avx512bw = false;    // avx512bw
  bool avx512vl = false;    // avx512vl
  bool avx512dq = false;    // avx512dq
  bool avx512vnni = false;  // avx512_vnni: vpdpbusd on zmm
  bool avxvnni = false;     // avx_vnni: VEX vpdpbusd on ymm (Alder Lake and later)
  bool avx512bf16 = false;  // avx512_bf16: vdpbf16ps, vcvtne2ps2bf16
  bool amxTile = false;     // amx_tile (OS tile state enabled; Linux permission is separate)
  bool amxInt8 = false;     // amx_int8
  bool amxBf16 = false;     // amx_bf16

  bool operator==(const CpuFeatures& o) const;
  bool operator!=(const CpuFeatures& o) const { return !(*this == o); }
};

// What CPUID and XGETBV report, ignoring the environment.
CpuFeatures hardwareCpuFeatures();
// The features kernels may use: hardware, after SBERT_CPU_ISA and SBERT_CPU_FEATURES.
const CpuFeatures& activeCpuFeatures();
// "" when SBERT_CPU_ISA is unset or honoured; otherwise why it was refused, e.g.
// "SBERT_CPU_ISA=avx512bf16 needs avx512_bf16, which this CPU lacks (it has: avx2 fma ...)".
const std::string& cpuIsaOverrideError();
// Space-separated /proc/cpuinfo names of the features set ("avx2 fma avx512f ...", or "none").
std::string cpuFeatureNames(const CpuFeatures& f);

// The resolution above as a pure function (tests feed it made-up hardware): `isa` and `cap` are
// the values of SBERT_CPU_ISA and SBERT_CPU_FEATURES (null when unset).
struct CpuDispatch {
  CpuFeatures features;
  std::string error;
};
CpuDispatch resolveCpuDispatch(const CpuFeatures& hardware, const char* isa, const char* cap);

// Linux asks a process to request the AMX tile state (arch_prctl ARCH_REQ_XCOMP_PERM) before
// its first tile instruction. Idempotent; false when the features or the permission are absent.
bool enableAmxTiles();

// The best fp32 level the active features allow. Constant for the process.
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
