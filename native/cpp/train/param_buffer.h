// A trainable parameter: fp32 master value and gradient, one buffer each (training keeps fp32
// master weights whatever the model file's dtype). Model parameters come from the ModelPlan in
// its order; losses with parameters of their own (SoftmaxLoss's classifier) add theirs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sbert {

struct ParamBuffer {
  std::string name;            // canonical name (model parameters) or e.g. "classifier.weight"
  std::vector<int64_t> shape;  // PyTorch layout
  bool weightDecay = true;     // false for biases and LayerNorm weights/biases
  bool trainable = true;       // false: kept out of the optimizer (a frozen table)
  std::vector<float> value;
  std::vector<float> grad;     // same size as value; accumulated by backward, zeroed per step

  int64_t numel() const { return static_cast<int64_t>(value.size()); }
};

}  // namespace sbert
