// bf16 GEMM for Linear layers: C[M, N] ≈ A[M, K] · Wᵀ (+ epilogue), a drop-in for `linear`
// (gemm.h) with the same layouts, Epilogue values and argument order. W [N, K] is rounded to
// bf16 once by `packWeightBf16` (round to nearest even, common/half.h); accumulation is fp32.
//
// Paths (chosen at pack time; the packed layout belongs to one path):
//   amx-bf16     AMX tiles: tdpbf16ps on 32 × 32 blocks of 2 × 2 tiles, A rounded to bf16 as
//                below, K in 32-element tile steps (zero-padded); the default where amx_bf16
//                and Linux's tile permission are present.
//   avx512-bf16  vdpbf16ps zmm, 12×32 micro-tiles: A is rounded to bf16 too (vcvtne2ps2bf16,
//                round to nearest even, denormals to zero), a row block at a time, and each
//                instruction adds two exact bf16 products per lane into the fp32 accumulator.
//                Its speed depends on the core: on Sapphire Rapids vdpbf16ps retires a quarter
//                as often as vfmadd231ps (16 bf16 MACs per cycle against 32 fp32 ones), so this
//                path is slower than fp32 there and AMX is the fast one; cores that run it at
//                the FMA rate (AMD Zen 4/5) get twice fp32's multiply-adds per instruction.
//   avx512, avx2 (emulation, measured by bench/gemm_precision.cc and not picked by default)
//                the fp32 micro-kernels with the bf16 weights widened in registers (a shift and
//                a mask per pair of k); A stays fp32 and is read in place.
//   portable     the emulation in plain C++: one fp32 multiply-add chain over k per element.
// Weights are packed in panels of nr output channels as [ceil(K/2)][nr][2] bf16 (K zero-
// padded to even, to a multiple of 32 for AMX), the operand layout of vdpbf16ps, of an AMX B
// tile (16 rows of a panel) and of the emulation's widening.
//
// Error: each product a·w is replaced by ã·w̃ with |ã - a| ≤ 2⁻⁸|a| (A rounded on the native
// path only) and |w̃ - w| ≤ 2⁻⁸|w|, so |C - A·Wᵀ| ≤ (2⁻⁷ + 2⁻¹⁶)·Σ_k |a||w| plus fp32
// accumulation rounding (the test's bound).
//
// Epilogues as `linear`: None, Bias, BiasGelu (the same vector rational erf), BiasResidual,
// Accumulate (C + A·Wᵀ: the SIMD paths start their accumulators from C, AMX adds C to the
// finished dot products); `bias` may be null. residual and C must not
// alias A, residual must not alias C.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gemm.h"

namespace sbert {

enum class Bf16Path : int { Portable = 0, Avx2 = 1, Avx512 = 2, Avx512Bf16 = 3, Amx = 4 };

struct PackedWeightBf16 {
  int N = 0;   // output features
  int K = 0;   // input features
  int nr = 0;  // panel width
  Bf16Path path = Bf16Path::Portable;
  struct Free {
    void operator()(uint16_t* p) const;
  };
  std::unique_ptr<uint16_t[], Free> data;  // ceil(N / nr) panels, 64-byte aligned
  int64_t elements = 0;

  int64_t bytes() const { return elements * 2; }
  bool empty() const { return !data; }
};

// Whether bf16 is worth offering here, and which path packWeightBf16 picks by default.
struct Bf16Support {
  bool supported = false;        // a path with native bf16 dot products can run
  Bf16Path path = Bf16Path::Portable;
  std::string missingFeature;    // "avx512_bf16" when unsupported
  std::string message;           // for the loader's error, naming the feature and this CPU's
};
Bf16Support bf16Support();

bool bf16PathAvailable(Bf16Path path);
// "amx-bf16", "avx512-bf16", "avx512-emulated", "avx2-emulated", "portable".
const char* bf16PathName(Bf16Path path);
// Every path that can run here, slowest first (tests, benchmarks, buildInfo()).
std::vector<Bf16Path> availableBf16Paths();

// Packs for bf16Support().path, or for `path` (ERR_UNSUPPORTED when it cannot run here).
PackedWeightBf16 packWeightBf16(const float* W, int N, int K);
PackedWeightBf16 packWeightBf16(const float* W, int N, int K, Bf16Path path);

void linearBf16(const float* A, int64_t M, int K, const PackedWeightBf16& W, const float* bias,
                const float* residual, Epilogue ep, float* C);

}  // namespace sbert
