// The Normalize module: x[r, :] ← x[r, :] / max(‖x[r, :]‖₂, 1e-12) in place, like
// torch.nn.functional.normalize(p=2, dim=1). x [rows, cols] fp32 row-major. The norm is
// accumulated in double and rounded to fp32; the division is fp32. A zero row stays zero.
// Parallel over rows.
#pragma once

#include <cstdint>

namespace sbert {

void l2NormalizeRows(float* x, int64_t rows, int cols);

// Backward from dY [rows, cols] given the forward's input x: dX = (dY − y·(y·dY))/‖x‖ with
// y = x/‖x‖, or dY/1e-12 where the 1e-12 clamp is active (as torch's clamp_min). Double
// accumulation. dX may alias dY.
void l2NormalizeBackward(const float* x, const float* dY, int64_t rows, int cols, float* dX);

}  // namespace sbert
