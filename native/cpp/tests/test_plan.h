// A random ModelPlan for tests and benchmarks of the trainer: canonical names and roles, F32
// sources owned by the TestModel (kept alive with it).
#pragma once

#include <cstring>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "engine/model_plan.h"
#include "test_util.h"

// PlanParam::copyTo belongs to the engine (engine/model_plan.cc on main). Until this branch has
// it, this header supplies an F32-only version (include it from one translation unit per
// executable); weak, so the engine's definition wins once it is linked.
__attribute__((weak)) void sbert::PlanParam::copyTo(float* dst) const {
  std::memcpy(dst, source.data, sizeof(float) * size_t(numel()));
}

namespace sbert::test {

struct TestModel {
  ModelPlan plan;
  std::deque<std::vector<float>> storage;  // the F32 sources

  int add(const std::string& name, std::vector<int64_t> shape, ParamRole role, float lo,
          float hi, std::mt19937& rng) {
    PlanParam p;
    p.name = name;
    p.shape = std::move(shape);
    p.role = role;
    storage.push_back(test::randomVec(rng, size_t(p.numel()), lo, hi));
    p.source = {storage.back().data(), DType::F32};
    plan.params.push_back(std::move(p));
    return int(plan.params.size()) - 1;
  }
};

struct DenseSpec {
  int out;
  Activation act;
  bool bias;
};

// Fills m with a random plan of the given shape and module chain: embeddings uniform in
// [−1, 1], Linear weights in ±0.35, biases ±0.2, LayerNorm weights 0.7..1.3.
inline void makeModel(TestModel& m, const BertShape& shape, const std::vector<PoolMode>& pooling,
                      const std::vector<DenseSpec>& dense, bool normalize, uint32_t seed) {
  std::mt19937 rng(seed);
  m.plan.shape = shape;
  const BertShape& s = m.plan.shape;
  const int64_t H = s.hiddenSize, I = s.intermediateSize;
  const float wr = 0.35f;
  EmbeddingsPlan& e = m.plan.embeddings;
  e.word = m.add("embeddings.word_embeddings.weight", {s.vocabSize, H}, ParamRole::Embedding, -1,
                 1, rng);
  e.position = m.add("embeddings.position_embeddings.weight", {s.maxPositions, H},
                     ParamRole::Embedding, -1, 1, rng);
  e.tokenType = m.add("embeddings.token_type_embeddings.weight", {s.typeVocabSize, H},
                      ParamRole::Embedding, -1, 1, rng);
  e.lnGamma = m.add("embeddings.LayerNorm.weight", {H}, ParamRole::LayerNormWeight, 0.7f, 1.3f, rng);
  e.lnBeta = m.add("embeddings.LayerNorm.bias", {H}, ParamRole::LayerNormBias, -0.2f, 0.2f, rng);
  for (int l = 0; l < s.numLayers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    LayerPlan lp;
    lp.query = m.add(p + "attention.self.query.weight", {H, H}, ParamRole::Weight, -wr, wr, rng);
    lp.queryBias = m.add(p + "attention.self.query.bias", {H}, ParamRole::Bias, -0.2f, 0.2f, rng);
    lp.key = m.add(p + "attention.self.key.weight", {H, H}, ParamRole::Weight, -wr, wr, rng);
    lp.keyBias = m.add(p + "attention.self.key.bias", {H}, ParamRole::Bias, -0.2f, 0.2f, rng);
    lp.value = m.add(p + "attention.self.value.weight", {H, H}, ParamRole::Weight, -wr, wr, rng);
    lp.valueBias = m.add(p + "attention.self.value.bias", {H}, ParamRole::Bias, -0.2f, 0.2f, rng);
    lp.attnOut = m.add(p + "attention.output.dense.weight", {H, H}, ParamRole::Weight, -wr, wr, rng);
    lp.attnOutBias = m.add(p + "attention.output.dense.bias", {H}, ParamRole::Bias, -0.2f, 0.2f, rng);
    lp.attnLnGamma = m.add(p + "attention.output.LayerNorm.weight", {H},
                           ParamRole::LayerNormWeight, 0.7f, 1.3f, rng);
    lp.attnLnBeta = m.add(p + "attention.output.LayerNorm.bias", {H}, ParamRole::LayerNormBias,
                          -0.2f, 0.2f, rng);
    lp.ffnIn = m.add(p + "intermediate.dense.weight", {I, H}, ParamRole::Weight, -wr, wr, rng);
    lp.ffnInBias = m.add(p + "intermediate.dense.bias", {I}, ParamRole::Bias, -0.2f, 0.2f, rng);
    lp.ffnOut = m.add(p + "output.dense.weight", {H, I}, ParamRole::Weight, -wr, wr, rng);
    lp.ffnOutBias = m.add(p + "output.dense.bias", {H}, ParamRole::Bias, -0.2f, 0.2f, rng);
    lp.ffnLnGamma = m.add(p + "output.LayerNorm.weight", {H}, ParamRole::LayerNormWeight, 0.7f,
                          1.3f, rng);
    lp.ffnLnBeta = m.add(p + "output.LayerNorm.bias", {H}, ParamRole::LayerNormBias, -0.2f, 0.2f,
                         rng);
    m.plan.layers.push_back(lp);
  }
  m.plan.pooling = pooling;
  int dim = int(H) * int(pooling.size());
  for (size_t j = 0; j < dense.size(); ++j) {
    DensePlan d;
    d.inFeatures = dim;
    d.outFeatures = dense[j].out;
    d.activation = dense[j].act;
    const std::string p = "dense." + std::to_string(j) + ".linear.";
    d.weight = m.add(p + "weight", {d.outFeatures, d.inFeatures}, ParamRole::Weight, -wr, wr, rng);
    if (dense[j].bias) d.bias = m.add(p + "bias", {d.outFeatures}, ParamRole::Bias, -0.2f, 0.2f, rng);
    m.plan.dense.push_back(d);
    dim = d.outFeatures;
  }
  m.plan.normalize = normalize;
  m.plan.sentenceDim = dim;
}

}  // namespace sbert::test
