// The CPU engine: the weights of a model converted once into the form the one CPU forward
// (cpu_forward.h) runs with, and that forward's inference path — the reference the CUDA engine
// is checked against.
//
// Load: every parameter of the (already checked) ModelPlan is converted once, straight into
// this backend's storage: Q/K/V into one fused [3H, H] weight + [3H] bias, and every Linear
// weight packed for the GEMM micro-kernel — the encoder's Linears in the engine's precision
// (fp32, int8 or bf16: kernels/linear_weight.h), the Dense modules after pooling in fp32. The
// backend keeps no reference into the plan.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "engine/backend.h"
#include "engine/cpu_forward.h"
#include "kernels/cpu_features.h"
#include "kernels/gemm.h"
#include "kernels/gemm_bf16.h"
#include "kernels/gemm_int8.h"
#include "kernels/linear_weight.h"

namespace sbert {
namespace {

std::vector<float> toFloats(const ModelPlan& plan, int index) {
  const PlanParam& p = plan.param(index);
  std::vector<float> v(size_t(p.numel()));
  p.copyTo(v.data());
  return v;
}

// Linear weights are packed through `scratch`, one fp32 staging buffer reused for every weight of
// the model: fresh memory is expensive here (page faults cost more than the copy), so the only
// new memory per weight is its packed storage (int8 / bf16 never hold an fp32 copy).
const float* stageParam(const ModelPlan& plan, int index, std::vector<float>& scratch) {
  const PlanParam& p = plan.param(index);
  if (scratch.size() < size_t(p.numel())) scratch.resize(size_t(p.numel()));
  p.copyTo(scratch.data());
  return scratch.data();
}
// A Dense module's weight (always fp32).
PackedWeight packParam(const ModelPlan& plan, int index, std::vector<float>& scratch) {
  const PlanParam& p = plan.param(index);
  return packWeight(stageParam(plan, index, scratch), int(p.shape[0]), int(p.shape[1]));
}
// An encoder Linear in the engine's precision.
LinearWeight packLinear(const ModelPlan& plan, int index, LinearPrecision precision, std::vector<float>& scratch) {
  const PlanParam& p = plan.param(index);
  return LinearWeight::pack(stageParam(plan, index, scratch), int(p.shape[0]), int(p.shape[1]), precision);
}

LinearPrecision linearPrecisionOf(Precision precision) {
  switch (precision) {
    case Precision::Int8: return LinearPrecision::Int8;
    case Precision::Bf16: return LinearPrecision::Bf16;
    default: return LinearPrecision::Fp32;
  }
}

class CpuBackend final : public Backend {
 public:
  CpuBackend(const ModelPlan& plan, LinearPrecision precision);
  void encode(const EncodeBatch& batch, const EncodeOutputs& out) override {
    forward_.setRetainTokens(retainTokens_);
    forward_.encode(view_, batch, out);
  }
  void reserveWorkspace(int64_t tokens) override { forward_.reserve(view_.shape, tokens); }
  std::string deviceName() const override { return "cpu"; }
  int64_t memoryBytes() const override { return paramBytes_ + forward_.workspaceBytes(); }

 private:
  struct Layer {
    LinearWeight qkv, attnOut, ffnIn, ffnOut;
    std::vector<float> qkvBias, attnOutBias, ln1Gamma, ln1Beta, ffnInBias, ffnOutBias, ln2Gamma,
        ln2Beta;
  };
  struct DenseLayer {
    PackedWeight weight;
    std::vector<float> bias;  // empty: no bias
  };

  std::vector<float> wordEmb_, posEmb_, typeEmb_, relativeBias_, embGamma_, embBeta_;
  std::vector<Layer> layers_;
  std::vector<DenseLayer> dense_;
  int64_t paramBytes_ = 0;
  CpuWeights view_;  // points into the members above
  CpuForward forward_;
};

CpuBackend::CpuBackend(const ModelPlan& plan, LinearPrecision precision) {
  const BertShape& shape = plan.shape;
  const int64_t H = shape.hiddenSize, I = shape.intermediateSize;
  const EmbeddingsPlan& e = plan.embeddings;
  wordEmb_ = toFloats(plan, e.word);
  posEmb_ = toFloats(plan, e.position);
  if (e.tokenType >= 0) typeEmb_ = toFloats(plan, e.tokenType);
  if (e.relativeBias >= 0) relativeBias_ = toFloats(plan, e.relativeBias);
  embGamma_ = toFloats(plan, e.lnGamma);
  embBeta_ = toFloats(plan, e.lnBeta);
  paramBytes_ = int64_t(wordEmb_.size() + posEmb_.size() + typeEmb_.size() + relativeBias_.size() + 2 * H) * 4;

  std::vector<float> scratch;  // see stageParam
  layers_.resize(plan.layers.size());
  for (size_t l = 0; l < plan.layers.size(); ++l) {
    const LayerPlan& P = plan.layers[l];
    Layer& L = layers_[l];
    // Fused QKV: rows [0, H) query, [H, 2H) key, [2H, 3H) value.
    if (scratch.size() < size_t(3 * H * H)) scratch.resize(size_t(3 * H * H));
    float* wqkv = scratch.data();
    L.qkvBias.resize(size_t(3 * H));
    const int weights[3] = {P.query, P.key, P.value};
    const int biases[3] = {P.queryBias, P.keyBias, P.valueBias};
    for (int j = 0; j < 3; ++j) {
      plan.param(weights[j]).copyTo(wqkv + j * H * H);
      plan.param(biases[j]).copyTo(L.qkvBias.data() + j * H);
    }
    L.qkv = LinearWeight::pack(wqkv, int(3 * H), int(H), precision);
    L.attnOut = packLinear(plan, P.attnOut, precision, scratch);
    L.attnOutBias = toFloats(plan, P.attnOutBias);
    L.ln1Gamma = toFloats(plan, P.attnLnGamma);
    L.ln1Beta = toFloats(plan, P.attnLnBeta);
    L.ffnIn = packLinear(plan, P.ffnIn, precision, scratch);
    L.ffnInBias = toFloats(plan, P.ffnInBias);
    L.ffnOut = packLinear(plan, P.ffnOut, precision, scratch);
    L.ffnOutBias = toFloats(plan, P.ffnOutBias);
    L.ln2Gamma = toFloats(plan, P.ffnLnGamma);
    L.ln2Beta = toFloats(plan, P.ffnLnBeta);
    paramBytes_ += L.qkv.bytes() + L.attnOut.bytes() + L.ffnIn.bytes() + L.ffnOut.bytes() +
                   int64_t(3 * H + H + 2 * H + I + H + 2 * H) * 4;
  }

  for (const DensePlan& d : plan.dense) {
    DenseLayer layer;
    layer.weight = packParam(plan, d.weight, scratch);
    if (d.bias >= 0) layer.bias = toFloats(plan, d.bias);
    paramBytes_ += layer.weight.bytes() + int64_t(layer.bias.size()) * 4;
    dense_.push_back(std::move(layer));
  }

  view_.shape = shape;
  view_.wordEmb = wordEmb_.data();
  view_.posEmb = posEmb_.data();
  view_.typeEmb = typeEmb_.empty() ? nullptr : typeEmb_.data();
  view_.relativeBias = relativeBias_.empty() ? nullptr : relativeBias_.data();
  view_.embLnGamma = embGamma_.data();
  view_.embLnBeta = embBeta_.data();
  for (const Layer& L : layers_) {
    view_.layers.push_back({&L.qkv, L.qkvBias.data(), &L.attnOut, L.attnOutBias.data(), L.ln1Gamma.data(),
                            L.ln1Beta.data(), &L.ffnIn, L.ffnInBias.data(), &L.ffnOut, L.ffnOutBias.data(),
                            L.ln2Gamma.data(), L.ln2Beta.data()});
  }
  view_.pooling = plan.pooling;
  for (size_t j = 0; j < dense_.size(); ++j) {
    view_.dense.push_back({&dense_[j].weight, dense_[j].bias.empty() ? nullptr : dense_[j].bias.data(),
                           plan.dense[j].activation});
  }
  view_.normalize = plan.normalize;
  view_.sentenceDim = plan.sentenceDim;
}

}  // namespace

const char* precisionName(Precision precision) {
  switch (precision) {
    case Precision::Fp16: return "fp16";
    case Precision::Bf16: return "bf16";
    case Precision::Int8: return "int8";
    default: return "fp32";
  }
}

// Where the features were narrowed on purpose, say so: "this CPU lacks" would mislead.
static std::string featureLimitNote() {
  const char* isa = std::getenv("SBERT_CPU_ISA");
  const char* cap = std::getenv("SBERT_CPU_FEATURES");
  if (isa && *isa) return std::string(" (SBERT_CPU_ISA=") + isa + " limits the features used)";
  if (cap && *cap) return std::string(" (SBERT_CPU_FEATURES=") + cap + " limits the features used)";
  return "";
}

void checkCpuPrecision(Precision precision) {
  // A refused SBERT_CPU_ISA would leave every kernel on the hardware's paths while the caller
  // believes it forced another: refuse to build an engine under it, in every precision.
  if (!cpuIsaOverrideError().empty()) throw Error("ERR_UNSUPPORTED", cpuIsaOverrideError());
  switch (precision) {
    case Precision::Fp32: return;
    case Precision::Fp16:
      throw Error("ERR_UNSUPPORTED",
                  "precision 'fp16' is a GPU storage precision: the CPU engine has no fp16 GEMM (CPU precisions: "
                  "'fp32' (default), 'int8', 'bf16'; leave precision unset for fp16 on a GPU and fp32 on the CPU)");
    case Precision::Bf16: {
      const Bf16Support s = bf16Support();
      if (!s.supported) throw Error("ERR_UNSUPPORTED", s.message + featureLimitNote() + "; use precision 'fp32' or 'int8'");
      return;
    }
    case Precision::Int8:
      if (bestInt8Path() == Int8Path::Portable) {
        throw Error("ERR_UNSUPPORTED",
                    "int8 on the CPU needs avx2 and fma (vpmaddubsw / vpdpbusd), which this CPU lacks (it has: " +
                        cpuFeatureNames(activeCpuFeatures()) + ")" + featureLimitNote() +
                        "; without them int8 is many times slower than fp32, so use precision 'fp32'");
      }
      return;
  }
}

std::unique_ptr<Backend> makeCpuBackend(const ModelPlan& plan, Precision precision) {
  checkCpuPrecision(precision);
  return std::make_unique<CpuBackend>(plan, linearPrecisionOf(precision));
}

}  // namespace sbert
