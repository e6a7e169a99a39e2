// Int8 GEMM for Linear layers: C[M, N] ≈ A[M, K] · Wᵀ (+ epilogue), a drop-in for `linear`
// (gemm.h) with the same layouts, Epilogue values and argument order. W is the PyTorch Linear
// weight [N, K] in fp32, quantized once by `packWeightInt8`; A is fp32 and quantized per call.
//
// Quantization (exact definition; every path computes bit-identical results from it):
//   For a vector x (a weight row W[n, :] at pack time, an activation row A[m, :] per call):
//     amax = max_k |x_k|;  if amax < 2⁻¹¹⁹ (all zeros, or nearly): s = 0, q = 0 (so 127/amax
//     stays finite);
//     else s = amax / 127, inv = 127 / amax (each one fp32 rounding),
//          q_k = nearbyint(clamp(x_k · inv, -127, 127))      (round half to even)
//   so weights are symmetric int8 per output channel (sw[n]) and activations symmetric int8
//   per token row (sa[m]), both in [-127, 127]. Per row rather than per tensor: a row's result
//   does not depend on the other rows of the batch, and it is the more accurate of the two
//   (bench/int8_scheme_accuracy.py measures per-row/per-tensor, symmetric/asymmetric).
//   An activation row holding NaN or ±Inf gets sa = NaN, so its outputs are NaN (as fp32 would
//   give); packWeightInt8 refuses non-finite weights (ERR_BAD_MODEL).
//   acc[m, n] = Σ_k qa[m, k] · qw[n, k]  in int32 (exact: |acc| ≤ 127²·K; K ≤ kMaxInt8K)
//   y[m, n]   = (float(acc) · sa[m]) · sw[n]      (fp32, in this order, no FMA: the partial
//               product is about Σ_k a·qw, so no intermediate overflows where y itself fits —
//               sa·sw first would overflow for a huge activation row times a huge weight row)
// Epilogues, applied to y exactly as `linear` applies them to its dot product:
//   None: y   Bias: y + bias[n]   BiasGelu: gelu_erf(y + bias[n])
//   BiasResidual: (y + bias[n]) + residual[m, n]   Accumulate: C[m, n] + y (bias ignored)
//   `bias` may be null (zeros); residual and C must not alias A, residual must not alias C.
//   GELU is the same vector rational erf as `linear` (|error| ≤ 4e-7; the portable path's
//   non-FMA evaluation may differ from the SIMD paths in the last bits).
//
// Paths (chosen at pack time; the packed layout belongs to one path):
//   avx512-vnni  vpdpbusd zmm, 12×32 micro-tiles. vpdpbusd multiplies unsigned by signed bytes,
//                so activations are stored as u8 = qa + 128 and the accumulator starts at
//                −128·Σ_k qw[n, k] (precomputed per output channel at pack time).
//   avx-vnni     the same with VEX vpdpbusd on ymm (Alder Lake and later), 6×16 tiles.
//   avx2         vpmaddubsw + vpmaddwd, 4×16 tiles, on s8 activations: |qa| times sign(qa)·qw,
//                so each int16 pair sum is at most 2·127·127 = 32258 < 32767 — vpmaddubsw's
//                saturation cannot be reached with operands in [-127, 127].
//   amx-int8     AMX tiles: tdpbssd (s8 × s8, so no offset) on 32 × 32 blocks of 2 × 2 tiles,
//                K in 64-byte tile steps (K padded to a multiple of 64 in the packed weight and
//                in the row block), the accumulator tiles stored and dequantized by the
//                avx512-vnni path's epilogue. Where the CPU and OS allow it (amx_tile, amx_int8,
//                Linux's arch_prctl permission); the default there.
//   portable     plain C++ int32 dot products (the reference the others are tested against).
// Weights are packed in panels of nr output channels, [ceil(K/4)][nr][4] bytes each (K zero-
// padded to a multiple of 4, of 64 for AMX), which is the operand layout of all five paths (an
// AMX B tile is 16 rows of such a panel).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "gemm.h"

namespace sbert {

enum class Int8Path : int { Portable = 0, Avx2 = 1, AvxVnni = 2, Avx512Vnni = 3, Amx = 4 };

// Largest K the int32 accumulators are proven safe for (with the u8 offset of the VNNI paths:
// (128 + 255)·127·K < 2³¹).
constexpr int kMaxInt8K = 32768;

struct PackedWeightInt8 {
  int N = 0;   // output features
  int K = 0;   // input features
  int nr = 0;  // panel width
  Int8Path path = Int8Path::Portable;
  struct Free {
    void operator()(int8_t* p) const;
  };
  std::unique_ptr<int8_t[], Free> data;  // ceil(N / nr) panels, 64-byte aligned
  std::vector<float> scale;              // sw per output channel, panels·nr (padding: 0)
  std::vector<int32_t> accInit;          // per output channel: −128·Σ_k qw (u8 paths) or 0
  int64_t packedBytes = 0;

  // Memory held by the packed weight (quantized panels + per-channel vectors).
  int64_t bytes() const {
    return packedBytes + int64_t(scale.size()) * 4 + int64_t(accInit.size()) * 4;
  }
  bool empty() const { return !data; }
};

// The fastest path the active CPU features allow (cpu_features.h).
Int8Path bestInt8Path();
// Whether `path` can run here (the active CPU features include what it needs).
bool int8PathAvailable(Int8Path path);
// "amx-int8", "avx512-vnni", "avx-vnni", "avx2", "portable".
const char* int8PathName(Int8Path path);
// Every path that can run here, slowest first (for buildInfo() and the tests).
std::vector<Int8Path> availableInt8Paths();

// Quantizes W [N, K] (fp32, row-major) for the best path, or for `path` (ERR_UNSUPPORTED when
// it cannot run here). ERR_BAD_MODEL for a non-finite weight; ERR_INTERNAL for K > kMaxInt8K.
PackedWeightInt8 packWeightInt8(const float* W, int N, int K);
PackedWeightInt8 packWeightInt8(const float* W, int N, int K, Int8Path path);

// C = dequant(quant(A) · Wᵀ) with the epilogue, on the thread pool; see the header comment.
void linearInt8(const float* A, int64_t M, int K, const PackedWeightInt8& W, const float* bias,
                const float* residual, Epilogue ep, float* C);

}  // namespace sbert
