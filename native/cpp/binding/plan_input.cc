// Reads the JS model spec (lib/weights/plan.ts buildNativeSpec → NativeModelSpec) into a
// PlanInput. Tensor bytes are not copied: the plan's sources point into the JS buffers, which
// the holder keeps alive, or name a file and offset that the backend reads itself. Only the structure is checked here (types, integer ranges, byte
// lengths against shapes come in resolveModelPlan); the JS loader validated the model.
#include "plan_input.h"

#include <string>

#include "options.h"

namespace sbert::binding {

PlanInputHolder ReadPlanInput(Napi::Env env, Napi::Value specValue) {
  const Options spec = Options::Of(specValue, "spec");
  PlanInputHolder holder;
  ModelPlan& plan = holder.input.plan;

  const Options s = spec.object("shape");
  BertShape& shape = plan.shape;
  auto positiveInt = [&](const char* key, int min) { return static_cast<int>(s.integer(key, min, kMaxInt32)); };
  shape.vocabSize = positiveInt("vocabSize", 1);
  shape.hiddenSize = positiveInt("hiddenSize", 1);
  shape.numLayers = positiveInt("numLayers", 0);
  shape.numHeads = positiveInt("numHeads", 1);
  shape.intermediateSize = positiveInt("intermediateSize", 1);
  shape.maxPositions = positiveInt("maxPositions", 1);
  shape.typeVocabSize = positiveInt("typeVocabSize", 0);
  shape.layerNormEps = static_cast<float>(s.number("layerNormEps"));
  shape.hiddenDropout = static_cast<float>(s.number("hiddenDropout"));
  shape.attentionDropout = static_cast<float>(s.number("attentionDropout"));
  shape.positionIds = s.oneOf<PositionIds>(
      "positionIds", {{"from_zero", PositionIds::FromZero}, {"after_padding", PositionIds::AfterPadding}},
      PositionIds::FromZero);
  shape.paddingIdx = static_cast<int>(s.integer("paddingIdx", 0, kMaxInt32, 0));
  shape.relativeBuckets = static_cast<int>(s.integer("relativeBuckets", 0, kMaxInt32, 0));
  shape.relativeMaxDistance = static_cast<int>(s.integer("relativeMaxDistance", 0, kMaxInt32, 0));

  Napi::Array params = spec.array("params");
  for (uint32_t i = 0; i < params.Length(); ++i) {
    const Options po = Options::Of(params.Get(i), "spec.params[" + std::to_string(i) + "]");
    PlanParam p;
    p.name = po.string("name");
    Napi::Array dims = po.array("shape");
    for (uint32_t d = 0; d < dims.Length(); ++d) {
      p.shape.push_back(IntegerValue(dims.Get(d), po.pathOf("shape") + "[" + std::to_string(d) + "]", 0));
    }
    p.source.dtype = po.oneOf<DType>("dtype", {{"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}});
    p.role = po.oneOf<ParamRole>("role", {{"embedding", ParamRole::Embedding},
                                          {"weight", ParamRole::Weight},
                                          {"bias", ParamRole::Bias},
                                          {"layernorm_weight", ParamRole::LayerNormWeight},
                                          {"layernorm_bias", ParamRole::LayerNormBias},
                                          {"frozen", ParamRole::Frozen}});
    if (po.has("file")) {
      // A tensor in a file: native code reads it itself (PlanParam::copyTo).
      p.source.file = po.string("file");
      p.source.offset = po.integer("offset", 0);
      // Unsigned (wraps instead of overflowing); resolveModelPlan refuses absurd shapes anyway.
      uint64_t bytes = p.source.dtype == DType::F32 ? 4 : 2;
      for (int64_t d : p.shape) bytes *= static_cast<uint64_t>(d);
      holder.input.byteLengths.push_back(static_cast<int64_t>(bytes));
    } else {
      Napi::Value bytes = po.value("bytes");
      if (!bytes.IsTypedArray() || bytes.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
        ThrowTypeError(env, po.pathOf("bytes") + " must be a Uint8Array (or give .file and .offset)");
      }
      Napi::Uint8Array view = bytes.As<Napi::Uint8Array>();
      Napi::ArrayBuffer buffer = view.ArrayBuffer();
      p.source.data = static_cast<const uint8_t*>(buffer.Data()) + view.ByteOffset();
      holder.input.byteLengths.push_back(static_cast<int64_t>(view.ByteLength()));
      holder.keepAlive.push_back(Napi::Persistent(buffer.As<Napi::Object>()));
    }
    plan.params.push_back(std::move(p));
  }

  // An index into spec.params, or -1 for "none".
  const int64_t last = static_cast<int64_t>(plan.params.size()) - 1;
  auto index = [&](const Options& o, const char* key) { return static_cast<int>(o.integer(key, -1, last)); };
  const Options e = spec.object("embeddings");
  plan.embeddings.word = index(e, "word");
  plan.embeddings.position = index(e, "position");
  plan.embeddings.lnGamma = index(e, "lnGamma");
  plan.embeddings.lnBeta = index(e, "lnBeta");
  plan.embeddings.tokenType = index(e, "tokenType");
  plan.embeddings.relativeBias = e.has("relativeBias") ? index(e, "relativeBias") : -1;
  Napi::Array layers = spec.array("layers");
  for (uint32_t i = 0; i < layers.Length(); ++i) {
    const Options l = Options::Of(layers.Get(i), "spec.layers[" + std::to_string(i) + "]");
    LayerPlan L;
    L.query = index(l, "query");
    L.queryBias = index(l, "queryBias");
    L.key = index(l, "key");
    L.keyBias = index(l, "keyBias");
    L.value = index(l, "value");
    L.valueBias = index(l, "valueBias");
    L.attnOut = index(l, "attnOut");
    L.attnOutBias = index(l, "attnOutBias");
    L.attnLnGamma = index(l, "attnLnGamma");
    L.attnLnBeta = index(l, "attnLnBeta");
    L.ffnIn = index(l, "ffnIn");
    L.ffnInBias = index(l, "ffnInBias");
    L.ffnOut = index(l, "ffnOut");
    L.ffnOutBias = index(l, "ffnOutBias");
    L.ffnLnGamma = index(l, "ffnLnGamma");
    L.ffnLnBeta = index(l, "ffnLnBeta");
    plan.layers.push_back(L);
  }

  Napi::Array pooling = spec.array("pooling");
  for (uint32_t i = 0; i < pooling.Length(); ++i) {
    const std::string where = "spec.pooling[" + std::to_string(i) + "]";
    Napi::Value m = pooling.Get(i);
    if (!m.IsString()) ThrowTypeError(env, where + " must be a string");
    plan.pooling.push_back(Options::Choose<PoolMode>(env, m.As<Napi::String>().Utf8Value(), where,
                                                     {{"cls", PoolMode::Cls},
                                                      {"max", PoolMode::Max},
                                                      {"mean", PoolMode::Mean},
                                                      {"mean_sqrt_len_tokens", PoolMode::MeanSqrtLen},
                                                      {"weightedmean", PoolMode::WeightedMean},
                                                      {"lasttoken", PoolMode::LastToken}}));
  }
  Napi::Array dense = spec.array("dense");
  for (uint32_t i = 0; i < dense.Length(); ++i) {
    const Options d = Options::Of(dense.Get(i), "spec.dense[" + std::to_string(i) + "]");
    DensePlan D;
    D.inFeatures = static_cast<int>(d.integer("inFeatures", 1, kMaxInt32));
    D.outFeatures = static_cast<int>(d.integer("outFeatures", 1, kMaxInt32));
    D.activation = d.oneOf<Activation>("activation", {{"identity", Activation::Identity},
                                                      {"tanh", Activation::Tanh},
                                                      {"relu", Activation::Relu},
                                                      {"gelu", Activation::Gelu},
                                                      {"sigmoid", Activation::Sigmoid}});
    D.weight = index(d, "weight");
    D.bias = index(d, "bias");
    if (d.has("dropoutBefore")) {
      const double p = d.number("dropoutBefore");
      if (!(p >= 0 && p < 1)) ThrowRangeError(d.Env(), d.pathOf("dropoutBefore") + " must be in [0, 1)");
      D.dropoutBefore = static_cast<float>(p);
    }
    plan.dense.push_back(D);
  }
  plan.normalize = spec.boolean("normalize", false);
  plan.sentenceDim = static_cast<int>(spec.integer("sentenceDim", 1, kMaxInt32));
  return holder;
}

}  // namespace sbert::binding
