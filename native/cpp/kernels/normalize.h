// The Normalize module: x[r, :] ← x[r, :] / max(‖x[r, :]‖₂, 1e-12) in place, like
// torch.nn.functional.normalize(p=2, dim=1). x [rows, cols] fp32 row-major. The norm is
// accumulated in double and rounded to fp32; the division is fp32. A zero row stays zero.
// Parallel over rows.
#pragma once

#include <cstdint>

namespace sbert {

void l2NormalizeRows(float* x, int64_t rows, int cols);

}  // namespace sbert
