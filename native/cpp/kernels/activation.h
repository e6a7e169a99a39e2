// Elementwise activations of sentence-transformers Dense modules, fp32 in place, computed with
// the exact functions torch uses (erf GELU, std::tanh, 1/(1+e^-x)); NaN propagates.
//   geluErf(x)        = ½·x·(1 + erf(x/√2))  (torch.nn.GELU(), approximate='none'), evaluated
//                       as ½·x·erfc(−x/√2) to stay accurate for negative x
//   applyActivation   x[0..n) ← act(x), multithreaded for large n.
// (The GEMM epilogue's BiasGelu uses a vectorized rational erf on SIMD paths, see simd_math.h.)
#pragma once

#include <cstdint>

#include "modes.h"

namespace sbert {

float geluErf(float x);
void applyActivation(float* x, int64_t n, Activation a);

}  // namespace sbert
