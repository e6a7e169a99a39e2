// sentence-transformers' Dense module: out[rows, N] = act(in[rows, K] · Wᵀ + bias), W the
// PyTorch Linear weight [N, K] prepacked with packWeight (gemm.h), bias [N] or null (no bias),
// activation applied with the exact functions of activation.h (torch's). `out` must not alias
// `in`.
#pragma once

#include <cstdint>

#include "modes.h"
#include "gemm.h"

namespace sbert {

void denseForward(const float* in, int64_t rows, const PackedWeight& W, const float* bias,
                  Activation act, float* out);

// ---- training ----
// Training forward: also keeps the pre-activation pre [rows, N] (out = act(pre)).
void denseForwardTrain(const float* in, int64_t rows, const PackedWeight& W, const float* bias,
                       Activation act, float* pre, float* out);
// Backward from dOut [rows, N]: dIn [rows, K] = (written) dPre·W, dWeight [N, K] += dPreᵀ·in,
// dBias [N] += Σ dPre (null: no bias), dPre = dOut·act'(pre) (activationBackward). weight is
// the unpacked [N, K] PyTorch layout.
void denseBackward(const float* in, int64_t rows, const float* weight, int N, int K,
                   Activation act, const float* pre, const float* out, const float* dOut,
                   float* dIn, float* dWeight, float* dBias);

}  // namespace sbert
