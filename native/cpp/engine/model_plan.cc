// ModelPlan: conversion of parameter sources into backend storage, and the contract check.
#include "model_plan.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/half.h"

namespace sbert {
namespace {

size_t dtypeBytes(DType d) { return d == DType::F32 ? 4 : 2; }

std::string shapeStr(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

[[noreturn]] void nonFinite(const PlanParam& p, int64_t i, float v) {
  throw Error("ERR_BAD_MODEL", "tensor " + p.name + " holds a non-finite value (" +
                                   std::to_string(v) + " at flat index " + std::to_string(i) +
                                   "); the model file is corrupt or was saved after a diverged run");
}

// Reads element i of the source as fp32.
inline float sourceAt(const TensorSource& s, int64_t i) {
  switch (s.dtype) {
    case DType::F32: {
      float v;
      std::memcpy(&v, static_cast<const char*>(s.data) + 4 * i, 4);
      return v;
    }
    case DType::F16: {
      uint16_t h;
      std::memcpy(&h, static_cast<const char*>(s.data) + 2 * i, 2);
      return halfToFloat(h);
    }
    case DType::BF16: {
      uint16_t h;
      std::memcpy(&h, static_cast<const char*>(s.data) + 2 * i, 2);
      return bf16ToFloat(h);
    }
  }
  return 0.f;
}

// Reads `bytes` bytes of a file-backed source into dst (ERR_BAD_MODEL naming the tensor when
// the file cannot be read or is shorter than its header said).
void readSource(const PlanParam& p, void* dst, int64_t bytes) {
  std::ifstream in(p.source.file, std::ios::binary);
  if (in) in.seekg(p.source.offset);
  if (in) in.read(static_cast<char*>(dst), bytes);
  if (!in || in.gcount() != bytes) {
    throw Error("ERR_BAD_MODEL", "tensor " + p.name + ": cannot read " + std::to_string(bytes) +
                                     " bytes at offset " + std::to_string(p.source.offset) + " of " +
                                     p.source.file + " (was the file changed while loading?)");
  }
}

// The source in memory: its own bytes, or the file's read into `staging`.
TensorSource inMemory(const PlanParam& p, std::vector<char>& staging) {
  if (p.source.file.empty()) return p.source;
  const int64_t bytes = p.numel() * int64_t(dtypeBytes(p.source.dtype));
  staging.resize(size_t(bytes));
  readSource(p, staging.data(), bytes);
  TensorSource s;
  s.data = staging.data();
  s.dtype = p.source.dtype;
  return s;
}

}  // namespace

void PlanParam::copyTo(float* dst) const {
  const int64_t n = numel();
  if (source.dtype == DType::F32) {
    if (source.file.empty()) std::memcpy(dst, source.data, size_t(n) * 4);
    else readSource(*this, dst, n * 4);  // straight into the destination
  } else {
    std::vector<char> staging;
    const TensorSource src = inMemory(*this, staging);
    for (int64_t i = 0; i < n; ++i) dst[i] = sourceAt(src, i);
  }
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(dst[i])) nonFinite(*this, i, dst[i]);
  }
}

void PlanParam::copyTo(void* dst, DType dtype) const {
  if (dtype == DType::F32) return copyTo(static_cast<float*>(dst));
  const int64_t n = numel();
  uint16_t* out = static_cast<uint16_t*>(dst);
  if (source.dtype == dtype) {
    // Same bits: no fp32 round trip.
    if (source.file.empty()) std::memcpy(dst, source.data, size_t(n) * 2);
    else readSource(*this, dst, n * 2);
    for (int64_t i = 0; i < n; ++i) {
      const float v = dtype == DType::F16 ? halfToFloat(out[i]) : bf16ToFloat(out[i]);
      if (!std::isfinite(v)) nonFinite(*this, i, v);
    }
    return;
  }
  std::vector<char> staging;
  const TensorSource src = inMemory(*this, staging);
  for (int64_t i = 0; i < n; ++i) {
    const float v = sourceAt(src, i);
    if (!std::isfinite(v)) nonFinite(*this, i, v);
    out[i] = dtype == DType::F16 ? floatToHalf(v) : floatToBf16(v);
  }
}

int64_t ModelPlan::parameterCount() const {
  int64_t n = 0;
  for (const PlanParam& p : params) n += p.numel();
  return n;
}

ModelPlan resolveModelPlan(const PlanInput& input) {
  const ModelPlan& plan = input.plan;
  const BertShape& s = plan.shape;
  auto broken = [](const std::string& what) -> Error {
    return Error("ERR_INTERNAL", "model plan contract broken: " + what);
  };
  if (s.vocabSize <= 0 || s.hiddenSize <= 0 || s.numLayers < 0 || s.numHeads <= 0 ||
      s.intermediateSize <= 0 || s.maxPositions <= 0 || s.typeVocabSize < 0 ||
      s.maxSequenceLength() < 1 || s.paddingIdx < 0 ||
      (s.positionIds == PositionIds::AfterPadding && s.paddingIdx >= s.vocabSize) ||
      (s.relativeBuckets != 0 && (s.relativeBuckets < 4 || s.relativeBuckets % 4 != 0 ||
                                  s.relativeMaxDistance <= s.relativeBuckets / 4)) ||
      s.hiddenSize % s.numHeads != 0 || !(s.layerNormEps > 0.f) || !std::isfinite(s.layerNormEps) ||
      !(s.hiddenDropout >= 0.f && s.hiddenDropout < 1.f) ||
      !(s.attentionDropout >= 0.f && s.attentionDropout < 1.f)) {
    throw broken("shape");
  }
  if (input.byteLengths.size() != plan.params.size()) throw broken("byte lengths");
  for (size_t i = 0; i < plan.params.size(); ++i) {
    const PlanParam& p = plan.params[i];
    int64_t n = 1;
    for (int64_t d : p.shape) {
      if (d < 0 || (d > 0 && n > (int64_t{1} << 40) / d)) throw broken(p.name + " shape");
      n *= d;
    }
    if (!p.source.data && p.source.file.empty() && n > 0) throw broken(p.name + " has no data");
    if (input.byteLengths[i] != n * int64_t(dtypeBytes(p.source.dtype))) {
      throw broken(p.name + ": " + std::to_string(input.byteLengths[i]) + " bytes for shape " +
                   shapeStr(p.shape));
    }
  }
  // Every role's tensor exists and has the shape the config implies.
  const int64_t H = s.hiddenSize, I = s.intermediateSize;
  auto expect = [&](int index, std::vector<int64_t> shape, const char* what) {
    if (index < 0 || size_t(index) >= plan.params.size()) throw broken(std::string(what) + " missing");
    const PlanParam& p = plan.params[size_t(index)];
    if (p.shape != shape) {
      throw broken(p.name + " has shape " + shapeStr(p.shape) + ", expected " + shapeStr(shape));
    }
  };
  const EmbeddingsPlan& e = plan.embeddings;
  expect(e.word, {s.vocabSize, H}, "word embeddings");
  expect(e.position, {s.maxPositions, H}, "position embeddings");
  if (s.typeVocabSize > 0) expect(e.tokenType, {s.typeVocabSize, H}, "token type embeddings");
  else if (e.tokenType != -1) throw broken("token type embeddings without typeVocabSize");
  if (s.relativeBuckets > 0) expect(e.relativeBias, {s.relativeBuckets, s.numHeads}, "relative attention bias");
  else if (e.relativeBias != -1) throw broken("relative attention bias without relativeBuckets");
  expect(e.lnGamma, {H}, "embeddings LayerNorm weight");
  expect(e.lnBeta, {H}, "embeddings LayerNorm bias");
  if (plan.layers.size() != size_t(s.numLayers)) throw broken("layer count");
  for (const LayerPlan& L : plan.layers) {
    for (int w : {L.query, L.key, L.value, L.attnOut}) expect(w, {H, H}, "attention weight");
    for (int b : {L.queryBias, L.keyBias, L.valueBias, L.attnOutBias, L.attnLnGamma, L.attnLnBeta,
                  L.ffnOutBias, L.ffnLnGamma, L.ffnLnBeta}) {
      expect(b, {H}, "layer vector");
    }
    expect(L.ffnIn, {I, H}, "intermediate weight");
    expect(L.ffnInBias, {I}, "intermediate bias");
    expect(L.ffnOut, {H, I}, "output weight");
  }
  if (plan.pooling.empty() || plan.pooling.size() > 6) throw broken("pooling modes");
  int64_t dim = H * int64_t(plan.pooling.size());
  for (const DensePlan& d : plan.dense) {
    if (d.inFeatures != dim || d.outFeatures <= 0) throw broken("Dense dimensions");
    expect(d.weight, {d.outFeatures, d.inFeatures}, "Dense weight");
    if (d.bias >= 0) expect(d.bias, {d.outFeatures}, "Dense bias");
    dim = d.outFeatures;
  }
  if (plan.sentenceDim != dim) throw broken("sentence dimension");
  return plan;
}

}  // namespace sbert
