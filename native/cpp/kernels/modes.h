// The small enums kernels take as arguments (pooling mode, Dense activation, storage dtype). They live with
// the kernels so that kernels never include engine headers; the engine's model plan uses them.
#pragma once

namespace sbert {

// Pooling modes in the order sentence-transformers concatenates them.
enum class PoolMode { Cls, Max, Mean, MeanSqrtLen, WeightedMean, LastToken };

// Activations a Dense module may apply after its Linear.
enum class Activation { Identity, Tanh, Relu, Gelu, Sigmoid };

// Storage dtypes of weights (model files, GPU storage).
enum class DType { F32, F16, BF16 };

}  // namespace sbert
