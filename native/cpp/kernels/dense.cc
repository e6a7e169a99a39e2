#include "dense.h"

#include <algorithm>
#include <vector>

#include "activation.h"

namespace sbert {

void denseForward(const float* in, int64_t rows, const PackedWeight& W, const float* bias,
                  Activation act, float* out) {
  linear(in, rows, W.K, W, bias, nullptr, bias ? Epilogue::Bias : Epilogue::None, out);
  applyActivation(out, rows * W.N, act);
}

void denseForwardTrain(const float* in, int64_t rows, const PackedWeight& W, const float* bias,
                       Activation act, float* pre, float* out) {
  linear(in, rows, W.K, W, bias, nullptr, bias ? Epilogue::Bias : Epilogue::None, pre);
  std::copy(pre, pre + rows * W.N, out);
  applyActivation(out, rows * W.N, act);
}

void denseBackward(const float* in, int64_t rows, const float* weight, int N, int K,
                   Activation act, const float* pre, const float* out, const float* dOut,
                   float* dIn, float* dWeight, float* dBias) {
  std::vector<float> dPre(size_t(rows) * N);
  activationBackward(pre, out, dOut, rows * N, act, dPre.data());
  linearBackwardWeight(dPre.data(), N, rows, N, packWeightTransposed(in, int(rows), K), dWeight,
                       dBias);
  linearBackwardInput(dPre.data(), rows, packWeightTransposed(weight, N, K), nullptr, dIn);
}

}  // namespace sbert
