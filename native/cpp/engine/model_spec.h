// What a backend needs to run one sentence-transformers model: the BERT shape, the weights
// (already converted to fp32 on the host, canonical names, PyTorch layouts), and the modules
// after the transformer (pooling, Dense layers, Normalize). Built once by the binding from the
// JS model loader's output; backends copy what they need (CPU: repacked fp32, CUDA: fp16/bf16
// on the device) and do not keep references into it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kernels/modes.h"

namespace sbert {

struct BertShape {
  int vocabSize = 0;
  int hiddenSize = 0;
  int numLayers = 0;
  int numHeads = 0;
  int intermediateSize = 0;
  int maxPositions = 0;
  int typeVocabSize = 0;
  float layerNormEps = 1e-12f;
  int headDim() const { return numHeads > 0 ? hiddenSize / numHeads : 0; }
};

// A host tensor in fp32, row-major, PyTorch layout (Linear weights are [out, in]).
struct HostTensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};


struct DenseSpec {
  int inFeatures = 0;
  int outFeatures = 0;
  Activation activation = Activation::Identity;
  HostTensor weight;  // [out, in]
  HostTensor bias;    // [out], empty when the layer has no bias
};

struct ModelSpec {
  BertShape shape;
  // Canonical names: embeddings.word_embeddings.weight, encoder.layer.{i}.attention.self.query.weight, ...
  std::map<std::string, HostTensor> tensors;
  std::vector<PoolMode> pooling;  // empty → no pooling module (token embeddings only)
  std::vector<DenseSpec> dense;   // applied in order after pooling
  bool normalize = false;         // L2-normalize the final vector (Normalize module)

  // Dimension of the sentence embedding after pooling and Dense layers.
  int sentenceDim() const {
    int d = shape.hiddenSize * static_cast<int>(pooling.size());
    if (!dense.empty()) d = dense.back().outFeatures;
    return d;
  }
  const HostTensor& tensor(const std::string& name) const;  // throws ERR_BAD_MODEL when absent
};

}  // namespace sbert
