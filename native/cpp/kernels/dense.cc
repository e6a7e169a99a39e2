#include "dense.h"

#include "activation.h"

namespace sbert {

void denseForward(const float* in, int64_t rows, const PackedWeight& W, const float* bias,
                  Activation act, float* out) {
  linear(in, rows, W.K, W, bias, nullptr, bias ? Epilogue::Bias : Epilogue::None, out);
  applyActivation(out, rows * W.N, act);
}

}  // namespace sbert
