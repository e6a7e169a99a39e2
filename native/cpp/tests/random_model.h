// Random BERT-family models (test_plan.h's TestModel) for the trainer's tests and benchmark:
// every tensor of the given shape and module chain (token type embeddings only when
// typeVocabSize > 0, MPNet's relative bias table when relativeBuckets > 0), embeddings uniform in [−1, 1], Linear weights in
// ±0.35, biases in ±0.2, LayerNorm weights in 0.7..1.3 — large enough that every
// nonlinearity (softmax, GELU, tanh, LayerNorm) works away from its linear regime.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "test_plan.h"
#include "test_util.h"

namespace sbert::test {

struct DenseSpec {
  int out;
  Activation act;
  bool bias;
};

// all-MiniLM-L6-v2's encoder shape (hidden 384, 6 layers, 12 heads, FFN 1536, 512 positions),
// the benchmarks' model; dropout off unless the caller sets it.
inline BertShape miniLmL6Shape(int vocabSize) {
  BertShape s;
  s.vocabSize = vocabSize;
  s.hiddenSize = 384;
  s.numLayers = 6;
  s.numHeads = 12;
  s.intermediateSize = 1536;
  s.maxPositions = 512;
  s.typeVocabSize = 2;
  s.layerNormEps = 1e-12f;
  return s;
}

inline TestModel randomModel(const BertShape& shape, const std::vector<PoolMode>& pooling,
                             const std::vector<DenseSpec>& dense, bool normalize, uint32_t seed) {
  std::mt19937 rng(seed);
  TestModel m;
  m.shape = shape;
  const int64_t H = shape.hiddenSize, I = shape.intermediateSize;
  auto put = [&](const std::string& name, std::vector<int64_t> dims, float lo, float hi) {
    TestTensor t;
    t.shape = std::move(dims);
    t.data = randomVec(rng, size_t(t.numel()), lo, hi);
    m.tensors[name] = std::move(t);
  };
  const float wr = 0.35f, br = 0.2f;
  put("embeddings.word_embeddings.weight", {shape.vocabSize, H}, -1, 1);
  put("embeddings.position_embeddings.weight", {shape.maxPositions, H}, -1, 1);
  if (shape.typeVocabSize > 0) put("embeddings.token_type_embeddings.weight", {shape.typeVocabSize, H}, -1, 1);
  put("embeddings.LayerNorm.weight", {H}, 0.7f, 1.3f);
  put("embeddings.LayerNorm.bias", {H}, -br, br);
  for (int l = 0; l < shape.numLayers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    for (const char* qkv : {"query", "key", "value"}) {
      put(p + "attention.self." + qkv + ".weight", {H, H}, -wr, wr);
      put(p + "attention.self." + qkv + ".bias", {H}, -br, br);
    }
    put(p + "attention.output.dense.weight", {H, H}, -wr, wr);
    put(p + "attention.output.dense.bias", {H}, -br, br);
    put(p + "attention.output.LayerNorm.weight", {H}, 0.7f, 1.3f);
    put(p + "attention.output.LayerNorm.bias", {H}, -br, br);
    put(p + "intermediate.dense.weight", {I, H}, -wr, wr);
    put(p + "intermediate.dense.bias", {I}, -br, br);
    put(p + "output.dense.weight", {H, I}, -wr, wr);
    put(p + "output.dense.bias", {H}, -br, br);
    put(p + "output.LayerNorm.weight", {H}, 0.7f, 1.3f);
    put(p + "output.LayerNorm.bias", {H}, -br, br);
  }
  m.pooling = pooling;
  int dim = int(H) * int(pooling.size());
  for (const DenseSpec& d : dense) {
    TestDense td;
    td.inFeatures = dim;
    td.outFeatures = d.out;
    td.activation = d.act;
    td.weight.shape = {d.out, dim};
    td.weight.data = randomVec(rng, size_t(d.out) * dim, -wr, wr);
    if (d.bias) {
      td.bias.shape = {d.out};
      td.bias.data = randomVec(rng, size_t(d.out), -br, br);
    }
    m.dense.push_back(std::move(td));
    dim = d.out;
  }
  m.normalize = normalize;
  // Drawn last, so models without it keep the values they always had.
  if (shape.relativeBuckets > 0) {
    put("encoder.relative_attention_bias.weight", {shape.relativeBuckets, shape.numHeads}, -1, 1);
  }
  return m;
}

}  // namespace sbert::test
