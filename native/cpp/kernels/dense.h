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

}  // namespace sbert
