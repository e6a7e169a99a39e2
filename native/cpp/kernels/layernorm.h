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

// Training forward: layerNorm that also keeps what layerNormBackward needs: z [rows, cols], the
// normalized values (y − mean)·rstd before gamma/beta, and rstd [rows] = 1/sqrt(var + eps)
// (mean and variance in double). out may alias x or residual.
void layerNormForwardTrain(const float* x, const float* residual, const float* gamma,
                           const float* beta, int64_t rows, int cols, float eps, float* out,
                           float* z, float* rstd);

// Backward of out = z·gamma + beta with z = (y − mean(y))·rstd, from dOut [rows, cols]:
//   dY = rstd·(dz − mean(dz) − z·mean(dz·z)), dz = dOut·gamma   (written to dX; the residual's
//   gradient is the same dY: the caller routes it)
//   dGamma += Σ_rows dOut·z, dBeta += Σ_rows dOut (either may be null).
// dX may alias dOut. Parallel over rows; the parameter sums do not depend on the thread count.
void layerNormBackward(const float* dOut, const float* z, const float* rstd, const float* gamma,
                       int64_t rows, int cols, float* dX, float* dGamma, float* dBeta);

// For tests: one row through one ISA's body, which must all give the same bits. Returns false
// (and writes nothing) when this CPU or build lacks that ISA.
bool layerNormRowForIsa(CpuIsa isa, const float* y, const float* gamma, const float* beta, int cols,
                        float eps, float* out);

}  // namespace sbert
