// LayerNorm over the last dimension, fused with a residual add (the "Add & Norm" of BERT):
//   out[r, :] = (y - mean(y)) / sqrt(var(y) + eps) * gamma + beta,  y = x[r, :] + residual[r, :]
// x, residual, out: [rows, cols] fp32 row-major; gamma, beta: [cols]. residual may be null.
// Mean and (biased, as torch) variance are accumulated in double over y rounded to fp32 (y is
// what torch would have materialised), two passes; z = (y - mean)·rstd is computed in double
// and rounded, then out = z·gamma + beta in fp32. `out` may alias x (or residual). Rows are
// independent and processed in parallel.
#pragma once

#include <cstdint>

#include "cpu_features.h"

namespace sbert {

void layerNorm(const float* x, const float* residual, const float* gamma, const float* beta,
               int64_t rows, int cols, float eps, float* out);

// One row, on the calling thread (for fused kernels): out = LN(y); out may alias y.
void layerNormRow(const float* y, const float* gamma, const float* beta, int cols, float eps,
                  float* out);

// For tests: one row through one ISA's body, which must all give the same bits. Returns false
// (and writes nothing) when this CPU or build lacks that ISA.
bool layerNormRowForIsa(CpuIsa isa, const float* y, const float* gamma, const float* beta, int cols,
                        float eps, float* out);

}  // namespace sbert
