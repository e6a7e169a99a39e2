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

// ---- training ----
// f[0..n) = gelu(u) with the vector GELU of the GEMM epilogue (the bits Epilogue::BiasGelu
// gives for the same pre-activation); the training forward keeps u for geluBackward.
void geluForward(const float* u, int64_t n, float* f);
// dU = dF·gelu'(u), gelu'(u) = Φ(u) + u·φ(u) (vector erf of simd_math.h and vector exp);
// dU may alias dF.
void geluBackward(const float* u, const float* dF, int64_t n, float* dU);
// Dense activations' backward: dPre = dOut·act'(pre), from the pre-activation and the output
// (tanh: 1 − out², sigmoid: out·(1 − out), relu: pre > 0, gelu: exact erf in double).
// dPre may alias dOut.
void activationBackward(const float* pre, const float* out, const float* dOut, int64_t n,
                        Activation a, float* dPre);

}  // namespace sbert
