// A BERT model held in test code (fp32 tensors by canonical name, module chain), and the
// ModelPlan viewing it — how the C++ tests build models for the backends without JS.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/model_plan.h"

namespace sbert::test {

struct TestTensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

struct TestDense {
  int inFeatures = 0, outFeatures = 0;
  Activation activation = Activation::Identity;
  TestTensor weight;  // [out, in]
  TestTensor bias;    // [out] or empty
};

struct TestModel {
  BertShape shape;
  std::map<std::string, TestTensor> tensors;  // canonical BERT names
  std::set<std::string> frozen;               // names planned with ParamRole::Frozen
  std::vector<PoolMode> pooling;
  std::vector<TestDense> dense;
  bool normalize = false;

  int sentenceDim() const {
    return dense.empty() ? shape.hiddenSize * int(pooling.size()) : dense.back().outFeatures;
  }

  // The plan as the JS loader would build it, viewing this model's tensors (valid while the
  // model lives and is not modified). A missing tensor gets index -1.
  PlanInput planInput() const {
    PlanInput in;
    ModelPlan& p = in.plan;
    p.shape = shape;
    auto add = [&](const std::string& name, const TestTensor* t, ParamRole role) -> int {
      if (!t) return -1;
      PlanParam param;
      param.name = name;
      param.shape = t->shape;
      param.role = frozen.count(name) ? ParamRole::Frozen : role;
      param.source = {t->data.data(), DType::F32};
      p.params.push_back(param);
      in.byteLengths.push_back(int64_t(t->data.size()) * 4);
      return int(p.params.size()) - 1;
    };
    auto get = [&](const std::string& name, ParamRole role) {
      auto it = tensors.find(name);
      return add(name, it == tensors.end() ? nullptr : &it->second, role);
    };
    p.embeddings.word = get("embeddings.word_embeddings.weight", ParamRole::Embedding);
    p.embeddings.position = get("embeddings.position_embeddings.weight", ParamRole::Embedding);
    p.embeddings.tokenType = get("embeddings.token_type_embeddings.weight", ParamRole::Embedding);
    p.embeddings.lnGamma = get("embeddings.LayerNorm.weight", ParamRole::LayerNormWeight);
    p.embeddings.lnBeta = get("embeddings.LayerNorm.bias", ParamRole::LayerNormBias);
    p.embeddings.relativeBias = get("encoder.relative_attention_bias.weight", ParamRole::Weight);
    for (int l = 0; l < shape.numLayers; ++l) {
      const std::string x = "encoder.layer." + std::to_string(l) + ".";
      LayerPlan L;
      L.query = get(x + "attention.self.query.weight", ParamRole::Weight);
      L.queryBias = get(x + "attention.self.query.bias", ParamRole::Bias);
      L.key = get(x + "attention.self.key.weight", ParamRole::Weight);
      L.keyBias = get(x + "attention.self.key.bias", ParamRole::Bias);
      L.value = get(x + "attention.self.value.weight", ParamRole::Weight);
      L.valueBias = get(x + "attention.self.value.bias", ParamRole::Bias);
      L.attnOut = get(x + "attention.output.dense.weight", ParamRole::Weight);
      L.attnOutBias = get(x + "attention.output.dense.bias", ParamRole::Bias);
      L.attnLnGamma = get(x + "attention.output.LayerNorm.weight", ParamRole::LayerNormWeight);
      L.attnLnBeta = get(x + "attention.output.LayerNorm.bias", ParamRole::LayerNormBias);
      L.ffnIn = get(x + "intermediate.dense.weight", ParamRole::Weight);
      L.ffnInBias = get(x + "intermediate.dense.bias", ParamRole::Bias);
      L.ffnOut = get(x + "output.dense.weight", ParamRole::Weight);
      L.ffnOutBias = get(x + "output.dense.bias", ParamRole::Bias);
      L.ffnLnGamma = get(x + "output.LayerNorm.weight", ParamRole::LayerNormWeight);
      L.ffnLnBeta = get(x + "output.LayerNorm.bias", ParamRole::LayerNormBias);
      p.layers.push_back(L);
    }
    p.pooling = pooling;
    for (size_t j = 0; j < dense.size(); ++j) {
      const TestDense& d = dense[j];
      const std::string x = "dense." + std::to_string(j) + ".linear.";
      DensePlan D;
      D.inFeatures = d.inFeatures;
      D.outFeatures = d.outFeatures;
      D.activation = d.activation;
      D.weight = add(x + "weight", &d.weight, ParamRole::Weight);
      D.bias = d.bias.data.empty() ? -1 : add(x + "bias", &d.bias, ParamRole::Bias);
      p.dense.push_back(D);
    }
    p.normalize = normalize;
    p.sentenceDim = sentenceDim();
    return in;
  }

  ModelPlan plan() const { return resolveModelPlan(planInput()); }
};

}  // namespace sbert::test
