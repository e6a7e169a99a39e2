// One Linear weight of the encoder in the precision the engine runs it in: fp32 (`linear`,
// gemm.h), int8 (`linearInt8`, gemm_int8.h) or bf16 (`linearBf16`, gemm_bf16.h). The three
// GEMMs share layouts, argument order and epilogues, so the forward (engine/cpu_forward.cc)
// calls `apply` and never asks which one it holds: the op list is the same in every precision.
//
// The weight is packed once for the best path of its precision on this CPU (gemm_int8.h,
// gemm_bf16.h say which); only the packed form is kept (no fp32 copy beside an int8 weight).
// fp32 is exactly `linear` on a `packWeight` panel set: results are bit-for-bit those of the
// plain fp32 engine. The trainer's weights are always fp32 and are refilled in place every step
// (`repackFp32`, which reuses the buffer as packWeightInto does).
#pragma once

#include <cstdint>

#include "gemm.h"
#include "gemm_bf16.h"
#include "gemm_int8.h"

namespace sbert {

enum class LinearPrecision : int { Fp32 = 0, Int8 = 1, Bf16 = 2 };

// "fp32", "int8", "bf16".
const char* linearPrecisionName(LinearPrecision precision);

class LinearWeight {
 public:
  LinearWeight() = default;
  LinearWeight(LinearWeight&&) = default;
  LinearWeight& operator=(LinearWeight&&) = default;

  // W [N, K] (PyTorch Linear layout, row-major fp32) packed in `precision` for the default path
  // of that precision here. ERR_UNSUPPORTED when no path of it can run (the loader checks
  // first, see engine/cpu_backend.cc); ERR_BAD_MODEL for a non-finite weight in int8.
  static LinearWeight pack(const float* W, int N, int K, LinearPrecision precision);

  // Makes this an fp32 weight holding W [N, K], reusing the packed buffer when it is large
  // enough (training repacks its master weights every step).
  void repackFp32(const float* W, int N, int K);

  // C[M, N] = A[M, K] · Wᵀ with the epilogue, through the GEMM of this weight's precision; the
  // arguments mean what they mean for `linear` (gemm.h).
  void apply(const float* A, int64_t M, int K, const float* bias, const float* residual, Epilogue ep,
             float* C) const;

  LinearPrecision precision() const { return precision_; }
  int N() const;
  int K() const;
  // Bytes of the packed weight (what the engine reports as its memory).
  int64_t bytes() const;
  // The GEMM path the weight was packed for: "avx512", "amx-int8", "avx512-bf16", ...
  const char* pathName() const;

 private:
  LinearPrecision precision_ = LinearPrecision::Fp32;
  PackedWeight fp32_;
  PackedWeightInt8 int8_;
  PackedWeightBf16 bf16_;
};

}  // namespace sbert
