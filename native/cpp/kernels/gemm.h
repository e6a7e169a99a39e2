// Dense fp32 GEMM for Linear layers: C[M, N] = A[M, K] · Wᵀ (+ epilogue), W in the PyTorch
// Linear layout [N, K] (out_features × in_features), all matrices row-major and contiguous.
//
// - W is packed once at load (`packWeight`) into column panels of NR output features,
//   [K][NR] each, zero-padded in the last panel; the panel width follows the micro-kernel the
//   process dispatches to (AVX-512: 32, AVX2+FMA: 16, portable: 16).
// - `linear` tiles M and N (A is read in place, row-major) and runs the tiles on the thread
//   pool. Accumulation is fp32, one sequential FMA chain over k
//   per output element (K blocks continue the chain through C), so a row's result does not
//   depend on M, on the row's position or on the other rows of the batch.
// - Epilogues are fused into the micro-kernel's final store:
//     None          C = A·Wᵀ
//     Bias          C = A·Wᵀ + bias[N]
//     BiasGelu      C = gelu_erf(A·Wᵀ + bias[N])   (exact-erf GELU; the SIMD paths use a
//                   rational erf with |error| ≤ 4e-7, the portable path std::erf)
//     BiasResidual  C = A·Wᵀ + bias[N] + residual[M, N]
//     Accumulate    C += A·Wᵀ   (each element's FMA chain starts from C; bias ignored)
//   `bias` may be null for Bias/BiasResidual/BiasGelu (treated as zeros). `residual` and C must
//   not alias A; residual must not alias C.
// Dispatch: AVX-512F micro-kernel, else AVX2+FMA, else portable C++ (cpu_features.h; the
// SBERT_CPU_FEATURES environment variable caps it for tests).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace sbert {

enum class Epilogue { None, Bias, BiasGelu, BiasResidual, Accumulate };

// A Linear weight prepacked for the micro-kernel. Movable, not copyable.
struct PackedWeight {
  int N = 0;        // output features
  int K = 0;        // input features
  int nr = 0;       // panel width
  int isa = 0;      // micro-kernel the panels were packed for (internal)
  int64_t floats = 0;
  int64_t capacity = 0;  // floats allocated (≥ floats): the *Into packers reuse the buffer
  struct Free {
    void operator()(float* p) const;
  };
  std::unique_ptr<float[], Free> data;  // ceil(N / nr) panels of [K][nr], 64-byte aligned

  int64_t bytes() const { return floats * static_cast<int64_t>(sizeof(float)); }
  bool empty() const { return !data; }
};

PackedWeight packWeight(const float* W, int N, int K);

// ---- backward (training) ----
// A Linear's gradients from dY = dL/dC [M, N] (row stride ldDY):
//   dX [M, K] = dY · W      (+ residual: another path's gradient into the same X, fused)
//   dW [N, K] += dYᵀ · X     db [N] += Σ_rows dY
// Both run on the forward micro-kernel: `packWeightTransposed(W, N, K)` packs Wᵀ (the [K, N]
// matrix) the way packWeight packs a [N, K] one, so `linear` with it multiplies by W; and dW is
// the Linear dYᵀ · (Xᵀ)ᵀ with Xᵀ packed by packWeightTransposed(X, M, K) (pack it once when
// several gradients share one input, e.g. Q, K and V). db is summed in double.

// Packs the transpose of the row-major [N, K] matrix W: result.N = K, result.K = N.
PackedWeight packWeightTransposed(const float* W, int N, int K);
// The same, into an existing PackedWeight whose buffer is reused when large enough (training
// repacks every step: no allocation, no page faults once the shapes have been seen).
void packWeightInto(PackedWeight& pw, const float* W, int N, int K);
void packWeightTransposedInto(PackedWeight& pw, const float* W, int N, int K);
// dX = dY·W (+ residual [M, K] when non-null), Wt = packWeightTransposed(W, N, K); dY is
// [M, Wt.K] contiguous. dX must not alias dY or residual.
void linearBackwardInput(const float* dY, int64_t M, const PackedWeight& Wt,
                         const float* residual, float* dX);
// dW [N, K] += dYᵀ·X and db [N] += Σ_rows dY (db may be null), Xt = packWeightTransposed(X, M, K).
void linearBackwardWeight(const float* dY, int64_t ldDY, int64_t M, int N, const PackedWeight& Xt,
                          float* dW, float* db);

void linear(const float* A, int64_t M, int K, const PackedWeight& W, const float* bias,
            const float* residual, Epilogue ep, float* C);

// Naive reference (double accumulation, std::erf GELU) for tests.
void linearReference(const float* A, int64_t M, int K, const float* W, int N, const float* bias,
                     const float* residual, Epilogue ep, float* C);

}  // namespace sbert
