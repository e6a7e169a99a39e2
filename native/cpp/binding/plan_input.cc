// Reads the JS model spec (lib/weights/plan.ts buildNativeSpec → NativeModelSpec) into a
// PlanInput. Tensor bytes are not copied: the plan's sources point into the JS buffers, which
// the holder keeps alive, or name a file and offset that the backend reads itself. Only the structure is checked here (types, integer ranges, byte
// lengths against shapes come in resolveModelPlan); the JS loader validated the model.
#include "plan_input.h"

#include <cmath>
#include <string>

#include "js_error.h"

namespace sbert::binding {
namespace {

Napi::Object GetObject(Napi::Object o, const char* key, const std::string& where) {
  Napi::Value v = o.Get(key);
  if (!v.IsObject()) ThrowTypeError(o.Env(), where + "." + key + " must be an object");
  return v.As<Napi::Object>();
}

Napi::Array GetArray(Napi::Object o, const char* key, const std::string& where) {
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) ThrowTypeError(o.Env(), where + "." + key + " must be an array");
  return v.As<Napi::Array>();
}

double GetNumber(Napi::Object o, const char* key, const std::string& where) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) ThrowTypeError(o.Env(), where + "." + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

// An integer in [lo, 2^31 - 1].
int GetInt(Napi::Object o, const char* key, const std::string& where, int lo = 0) {
  const double d = GetNumber(o, key, where);
  if (!(d >= lo && d <= 2147483647.0) || d != std::floor(d)) {
    ThrowRangeError(o.Env(), where + "." + key + " must be an integer >= " + std::to_string(lo));
  }
  return static_cast<int>(d);
}

std::string GetString(Napi::Object o, const char* key, const std::string& where) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) ThrowTypeError(o.Env(), where + "." + key + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

template <typename T>
T Parse(Napi::Env env, const std::string& value, const std::string& where,
        std::initializer_list<std::pair<const char*, T>> table) {
  std::string names;
  for (const auto& [name, v] : table) {
    if (value == name) return v;
    names += (names.empty() ? "" : ", ") + std::string(name);
  }
  ThrowRangeError(env, where + " must be one of " + names + " (got '" + value + "')");
}

}  // namespace

PlanInputHolder ReadPlanInput(Napi::Env env, Napi::Value specValue) {
  if (!specValue.IsObject()) ThrowTypeError(env, "spec must be an object");
  Napi::Object spec = specValue.As<Napi::Object>();
  PlanInputHolder holder;
  ModelPlan& plan = holder.input.plan;

  Napi::Object s = GetObject(spec, "shape", "spec");
  BertShape& shape = plan.shape;
  shape.vocabSize = GetInt(s, "vocabSize", "spec.shape", 1);
  shape.hiddenSize = GetInt(s, "hiddenSize", "spec.shape", 1);
  shape.numLayers = GetInt(s, "numLayers", "spec.shape");
  shape.numHeads = GetInt(s, "numHeads", "spec.shape", 1);
  shape.intermediateSize = GetInt(s, "intermediateSize", "spec.shape", 1);
  shape.maxPositions = GetInt(s, "maxPositions", "spec.shape", 1);
  shape.typeVocabSize = GetInt(s, "typeVocabSize", "spec.shape", 1);
  shape.layerNormEps = static_cast<float>(GetNumber(s, "layerNormEps", "spec.shape"));
  shape.hiddenDropout = static_cast<float>(GetNumber(s, "hiddenDropout", "spec.shape"));
  shape.attentionDropout = static_cast<float>(GetNumber(s, "attentionDropout", "spec.shape"));

  Napi::Array params = GetArray(spec, "params", "spec");
  for (uint32_t i = 0; i < params.Length(); ++i) {
    const std::string where = "spec.params[" + std::to_string(i) + "]";
    Napi::Value pv = params.Get(i);
    if (!pv.IsObject()) ThrowTypeError(env, where + " must be an object");
    Napi::Object po = pv.As<Napi::Object>();
    PlanParam p;
    p.name = GetString(po, "name", where);
    Napi::Array dims = GetArray(po, "shape", where);
    for (uint32_t d = 0; d < dims.Length(); ++d) {
      Napi::Value dv = dims.Get(d);
      const double v = dv.IsNumber() ? dv.As<Napi::Number>().DoubleValue() : -1;
      if (!(v >= 0 && v <= 9.0e15) || v != std::floor(v)) {
        ThrowRangeError(env, where + ".shape must hold non-negative integers");
      }
      p.shape.push_back(static_cast<int64_t>(v));
    }
    p.source.dtype = Parse<DType>(env, GetString(po, "dtype", where), where + ".dtype",
                                  {{"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}});
    p.role = Parse<ParamRole>(env, GetString(po, "role", where), where + ".role",
                              {{"embedding", ParamRole::Embedding},
                               {"weight", ParamRole::Weight},
                               {"bias", ParamRole::Bias},
                               {"layernorm_weight", ParamRole::LayerNormWeight},
                               {"layernorm_bias", ParamRole::LayerNormBias}});
    Napi::Value file = po.Get("file");
    if (file.IsString()) {
      // A tensor in a file: native code reads it itself (PlanParam::copyTo).
      p.source.file = file.As<Napi::String>().Utf8Value();
      const double off = GetNumber(po, "offset", where);
      if (!(off >= 0 && off <= 9.0e15) || off != std::floor(off)) {
        ThrowRangeError(env, where + ".offset must be a non-negative integer");
      }
      p.source.offset = static_cast<int64_t>(off);
      // Unsigned (wraps instead of overflowing); resolveModelPlan refuses absurd shapes anyway.
      uint64_t bytes = p.source.dtype == DType::F32 ? 4 : 2;
      for (int64_t d : p.shape) bytes *= static_cast<uint64_t>(d);
      holder.input.byteLengths.push_back(static_cast<int64_t>(bytes));
    } else {
      Napi::Value bytes = po.Get("bytes");
      if (!bytes.IsTypedArray() || bytes.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
        ThrowTypeError(env, where + ".bytes must be a Uint8Array (or give .file and .offset)");
      }
      Napi::Uint8Array view = bytes.As<Napi::Uint8Array>();
      Napi::ArrayBuffer buffer = view.ArrayBuffer();
      p.source.data = static_cast<const uint8_t*>(buffer.Data()) + view.ByteOffset();
      holder.input.byteLengths.push_back(static_cast<int64_t>(view.ByteLength()));
      holder.keepAlive.push_back(Napi::Persistent(buffer.As<Napi::Object>()));
    }
    plan.params.push_back(std::move(p));
  }

  const int last = static_cast<int>(plan.params.size()) - 1;
  auto index = [&](Napi::Object o, const char* key, const std::string& where) {
    const int i = GetInt(o, key, where, -1);
    if (i > last) ThrowRangeError(env, where + "." + key + " is not an index into spec.params");
    return i;
  };
  Napi::Object e = GetObject(spec, "embeddings", "spec");
  plan.embeddings = {index(e, "word", "spec.embeddings"), index(e, "position", "spec.embeddings"),
                     index(e, "tokenType", "spec.embeddings"), index(e, "lnGamma", "spec.embeddings"),
                     index(e, "lnBeta", "spec.embeddings")};
  Napi::Array layers = GetArray(spec, "layers", "spec");
  for (uint32_t i = 0; i < layers.Length(); ++i) {
    const std::string where = "spec.layers[" + std::to_string(i) + "]";
    Napi::Value lv = layers.Get(i);
    if (!lv.IsObject()) ThrowTypeError(env, where + " must be an object");
    Napi::Object l = lv.As<Napi::Object>();
    LayerPlan L;
    L.query = index(l, "query", where);
    L.queryBias = index(l, "queryBias", where);
    L.key = index(l, "key", where);
    L.keyBias = index(l, "keyBias", where);
    L.value = index(l, "value", where);
    L.valueBias = index(l, "valueBias", where);
    L.attnOut = index(l, "attnOut", where);
    L.attnOutBias = index(l, "attnOutBias", where);
    L.attnLnGamma = index(l, "attnLnGamma", where);
    L.attnLnBeta = index(l, "attnLnBeta", where);
    L.ffnIn = index(l, "ffnIn", where);
    L.ffnInBias = index(l, "ffnInBias", where);
    L.ffnOut = index(l, "ffnOut", where);
    L.ffnOutBias = index(l, "ffnOutBias", where);
    L.ffnLnGamma = index(l, "ffnLnGamma", where);
    L.ffnLnBeta = index(l, "ffnLnBeta", where);
    plan.layers.push_back(L);
  }

  Napi::Array pooling = GetArray(spec, "pooling", "spec");
  for (uint32_t i = 0; i < pooling.Length(); ++i) {
    Napi::Value m = pooling.Get(i);
    if (!m.IsString()) ThrowTypeError(env, "spec.pooling must hold strings");
    plan.pooling.push_back(Parse<PoolMode>(env, m.As<Napi::String>().Utf8Value(), "spec.pooling[]",
                                           {{"cls", PoolMode::Cls},
                                            {"max", PoolMode::Max},
                                            {"mean", PoolMode::Mean},
                                            {"mean_sqrt_len_tokens", PoolMode::MeanSqrtLen},
                                            {"weightedmean", PoolMode::WeightedMean},
                                            {"lasttoken", PoolMode::LastToken}}));
  }
  Napi::Array dense = GetArray(spec, "dense", "spec");
  for (uint32_t i = 0; i < dense.Length(); ++i) {
    const std::string where = "spec.dense[" + std::to_string(i) + "]";
    Napi::Value dv = dense.Get(i);
    if (!dv.IsObject()) ThrowTypeError(env, where + " must be an object");
    Napi::Object d = dv.As<Napi::Object>();
    DensePlan D;
    D.inFeatures = GetInt(d, "inFeatures", where, 1);
    D.outFeatures = GetInt(d, "outFeatures", where, 1);
    D.activation = Parse<Activation>(env, GetString(d, "activation", where), where + ".activation",
                                     {{"identity", Activation::Identity},
                                      {"tanh", Activation::Tanh},
                                      {"relu", Activation::Relu},
                                      {"gelu", Activation::Gelu},
                                      {"sigmoid", Activation::Sigmoid}});
    D.weight = index(d, "weight", where);
    D.bias = index(d, "bias", where);
    plan.dense.push_back(D);
  }
  plan.normalize = spec.Get("normalize").ToBoolean().Value();
  plan.sentenceDim = GetInt(spec, "sentenceDim", "spec", 1);
  return holder;
}

}  // namespace sbert::binding
