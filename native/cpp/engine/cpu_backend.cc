// The CPU engine: the full BERT forward over packed (unpadded) batches in fp32, then Pooling,
// Dense and Normalize — the reference the CUDA engine is checked against.
//
// Load: every tensor's shape is checked against spec.shape (ERR_BAD_MODEL naming the tensor and
// both shapes), Q/K/V are fused into one [3H, H] weight + [3H] bias, and every Linear weight is
// packed once for the GEMM micro-kernel. The backend keeps no reference into the spec.
// Encode (T tokens, H hidden, I intermediate):
//   validateBatch → x = LN(word + type + pos)                                 [T, H]
//   per layer:  qkv = x·Wqkvᵀ + b                                              [T, 3H]
//               ctx = attention(qkv)                                           [T, H]
//               x   = LN(ctx·Woᵀ + bo + x)        (bias + residual in the GEMM epilogue)
//               f   = gelu(x·W1ᵀ + b1)            (bias + GELU in the GEMM epilogue) [T, I]
//               x   = LN(f·W2ᵀ + b2 + x)
//   tokens = x (when asked); sentence = pool(x) → Dense layers → L2-normalize (when asked).
// Workspaces are sized by the largest batch (or EncodeBatch::reserveTokens budget) seen and
// reused (calls on one backend are serialised by the binding). Every stage computes a token's/sequence's result from its own
// sequence only, so an embedding does not depend on the rest of the batch.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "backend.h"
#include "common/error.h"
#include "kernels/attention.h"
#include "kernels/dense.h"
#include "kernels/embeddings.h"
#include "kernels/gemm.h"
#include "kernels/layernorm.h"
#include "kernels/normalize.h"
#include "kernels/pooling.h"

namespace sbert {
namespace {

std::string shapeStr(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

void checkShape(const HostTensor& t, const std::string& name, const std::vector<int64_t>& want) {
  if (t.shape != want) {
    throw Error("ERR_BAD_MODEL",
                "tensor " + name + " has shape " + shapeStr(t.shape) + ", expected " +
                    shapeStr(want));
  }
  if (static_cast<int64_t>(t.data.size()) != t.numel()) {
    throw Error("ERR_BAD_MODEL", "tensor " + name + " holds " + std::to_string(t.data.size()) +
                                     " values but its shape " + shapeStr(t.shape) + " needs " +
                                     std::to_string(t.numel()));
  }
}

const std::vector<float>& expectTensor(const ModelSpec& spec, const std::string& name,
                                       const std::vector<int64_t>& want) {
  const HostTensor& t = spec.tensor(name);
  checkShape(t, name, want);
  return t.data;
}

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const ModelSpec& spec);
  void encode(const EncodeBatch& batch, EncodeOutputs& out) override;
  std::string deviceName() const override { return "cpu"; }
  int64_t memoryBytes() const override;

 private:
  struct Layer {
    PackedWeight qkv, attnOut, ffnIn, ffnOut;
    std::vector<float> qkvBias, attnOutBias, ln1Gamma, ln1Beta, ffnInBias, ffnOutBias, ln2Gamma,
        ln2Beta;
  };
  struct DenseLayer {
    PackedWeight weight;
    std::vector<float> bias;  // empty: no bias
    Activation activation = Activation::Identity;
  };

  void ensureWorkspace(int64_t tokens);

  BertShape shape_;
  std::vector<float> wordEmb_, posEmb_, typeEmb_, embGamma_, embBeta_;
  std::vector<Layer> layers_;
  std::vector<PoolMode> pooling_;
  std::vector<DenseLayer> dense_;
  bool normalize_ = false;
  int sentenceDim_ = 0;
  int64_t paramBytes_ = 0;

  // Workspaces, [capacity tokens, ...].
  int64_t wsTokens_ = 0;
  std::vector<float> x_, big_, ctx_, tmp_;
};

CpuBackend::CpuBackend(const ModelSpec& spec) : shape_(spec.shape) {
  const BertShape& s = shape_;
  auto positive = [](int v, const char* what) {
    if (v <= 0) {
      throw Error("ERR_BAD_MODEL",
                  std::string(what) + " must be positive (got " + std::to_string(v) + ")");
    }
  };
  positive(s.vocabSize, "vocab_size");
  positive(s.hiddenSize, "hidden_size");
  if (s.numLayers < 0) throw Error("ERR_BAD_MODEL", "num_hidden_layers must be >= 0");
  positive(s.numHeads, "num_attention_heads");
  positive(s.intermediateSize, "intermediate_size");
  positive(s.maxPositions, "max_position_embeddings");
  positive(s.typeVocabSize, "type_vocab_size");
  if (s.hiddenSize % s.numHeads != 0) {
    throw Error("ERR_BAD_MODEL", "hidden_size " + std::to_string(s.hiddenSize) +
                                     " is not a multiple of num_attention_heads " +
                                     std::to_string(s.numHeads));
  }
  if (!(s.layerNormEps > 0.f)) throw Error("ERR_BAD_MODEL", "layer_norm_eps must be positive");

  const int64_t H = s.hiddenSize, I = s.intermediateSize;
  wordEmb_ = expectTensor(spec, "embeddings.word_embeddings.weight", {s.vocabSize, H});
  posEmb_ = expectTensor(spec, "embeddings.position_embeddings.weight", {s.maxPositions, H});
  typeEmb_ = expectTensor(spec, "embeddings.token_type_embeddings.weight", {s.typeVocabSize, H});
  embGamma_ = expectTensor(spec, "embeddings.LayerNorm.weight", {H});
  embBeta_ = expectTensor(spec, "embeddings.LayerNorm.bias", {H});
  paramBytes_ = int64_t(wordEmb_.size() + posEmb_.size() + typeEmb_.size() + 2 * H) * 4;

  layers_.resize(s.numLayers);
  for (int l = 0; l < s.numLayers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    Layer& L = layers_[l];
    // Fused QKV: rows [0, H) query, [H, 2H) key, [2H, 3H) value.
    std::vector<float> wqkv(size_t(3 * H * H));
    L.qkvBias.resize(size_t(3 * H));
    const char* names[3] = {"query", "key", "value"};
    for (int j = 0; j < 3; ++j) {
      const auto& w = expectTensor(spec, p + "attention.self." + names[j] + ".weight", {H, H});
      const auto& b = expectTensor(spec, p + "attention.self." + names[j] + ".bias", {H});
      std::copy(w.begin(), w.end(), wqkv.begin() + j * H * H);
      std::copy(b.begin(), b.end(), L.qkvBias.begin() + j * H);
    }
    L.qkv = packWeight(wqkv.data(), int(3 * H), int(H));
    L.attnOut = packWeight(expectTensor(spec, p + "attention.output.dense.weight", {H, H}).data(),
                           int(H), int(H));
    L.attnOutBias = expectTensor(spec, p + "attention.output.dense.bias", {H});
    L.ln1Gamma = expectTensor(spec, p + "attention.output.LayerNorm.weight", {H});
    L.ln1Beta = expectTensor(spec, p + "attention.output.LayerNorm.bias", {H});
    L.ffnIn = packWeight(expectTensor(spec, p + "intermediate.dense.weight", {I, H}).data(), int(I),
                         int(H));
    L.ffnInBias = expectTensor(spec, p + "intermediate.dense.bias", {I});
    L.ffnOut = packWeight(expectTensor(spec, p + "output.dense.weight", {H, I}).data(), int(H),
                          int(I));
    L.ffnOutBias = expectTensor(spec, p + "output.dense.bias", {H});
    L.ln2Gamma = expectTensor(spec, p + "output.LayerNorm.weight", {H});
    L.ln2Beta = expectTensor(spec, p + "output.LayerNorm.bias", {H});
    paramBytes_ += L.qkv.bytes() + L.attnOut.bytes() + L.ffnIn.bytes() + L.ffnOut.bytes() +
                   int64_t(3 * H + H + 2 * H + I + H + 2 * H) * 4;
  }

  pooling_ = spec.pooling;
  int dim = int(H) * int(pooling_.size());
  if (!spec.dense.empty() && pooling_.empty()) {
    throw Error("ERR_BAD_MODEL", "the model has Dense modules but no Pooling module");
  }
  for (size_t i = 0; i < spec.dense.size(); ++i) {
    const DenseSpec& d = spec.dense[i];
    const std::string name = "dense[" + std::to_string(i) + "]";
    if (d.inFeatures != dim) {
      throw Error("ERR_BAD_MODEL", name + " has in_features " + std::to_string(d.inFeatures) +
                                       " but its input has dimension " + std::to_string(dim));
    }
    if (d.outFeatures <= 0) {
      throw Error("ERR_BAD_MODEL", name + " has out_features " + std::to_string(d.outFeatures));
    }
    checkShape(d.weight, name + ".weight", {d.outFeatures, d.inFeatures});
    DenseLayer layer;
    if (!d.bias.shape.empty() || !d.bias.data.empty()) {
      checkShape(d.bias, name + ".bias", {d.outFeatures});
      layer.bias = d.bias.data;
    }
    layer.weight = packWeight(d.weight.data.data(), d.outFeatures, d.inFeatures);
    layer.activation = d.activation;
    paramBytes_ += layer.weight.bytes() + int64_t(layer.bias.size()) * 4;
    dense_.push_back(std::move(layer));
    dim = d.outFeatures;
  }
  sentenceDim_ = dim;
  normalize_ = spec.normalize;
}

void CpuBackend::ensureWorkspace(int64_t tokens) {
  if (tokens <= wsTokens_) return;
  const int64_t H = shape_.hiddenSize;
  const int64_t big = std::max<int64_t>(3 * H, shape_.intermediateSize);
  // Release first so peak memory is not old + new.
  x_ = {};
  big_ = {};
  ctx_ = {};
  tmp_ = {};
  x_.resize(size_t(tokens * H));
  big_.resize(size_t(tokens * big));
  ctx_.resize(size_t(tokens * H));
  tmp_.resize(size_t(tokens * H));
  wsTokens_ = tokens;
}

int64_t CpuBackend::memoryBytes() const {
  return paramBytes_ +
         int64_t(x_.capacity() + big_.capacity() + ctx_.capacity() + tmp_.capacity()) * 4;
}

void CpuBackend::encode(const EncodeBatch& batch, EncodeOutputs& out) {
  validateBatch(shape_, batch);
  if (out.wantSentence && pooling_.empty()) {
    throw Error("ERR_BAD_INPUT",
                "sentence embeddings were requested but the model has no Pooling module; ask "
                "for token embeddings instead");
  }
  const int n = batch.numSequences;
  const int64_t T = batch.numTokens();
  const int H = shape_.hiddenSize;
  out.sentence.clear();
  out.tokens.clear();
  if (n == 0 || T == 0) return;

  ensureWorkspace(std::max<int64_t>(T, batch.reserveTokens));  // the caller's token budget
  float* x = x_.data();
  float* big = big_.data();
  float* ctx = ctx_.data();
  float* tmp = tmp_.data();
  const float eps = shape_.layerNormEps;

  embeddingsLayerNorm(batch.ids, batch.typeIds, batch.cuSeqlens, n, wordEmb_.data(),
                      posEmb_.data(), typeEmb_.data(), embGamma_.data(), embBeta_.data(), H, eps,
                      x);
  for (const Layer& L : layers_) {
    linear(x, T, H, L.qkv, L.qkvBias.data(), nullptr, Epilogue::Bias, big);
    attention(big, batch.cuSeqlens, n, shape_.numHeads, shape_.headDim(), ctx);
    linear(ctx, T, H, L.attnOut, L.attnOutBias.data(), x, Epilogue::BiasResidual, tmp);
    layerNorm(tmp, nullptr, L.ln1Gamma.data(), L.ln1Beta.data(), T, H, eps, x);
    linear(x, T, H, L.ffnIn, L.ffnInBias.data(), nullptr, Epilogue::BiasGelu, big);
    linear(big, T, shape_.intermediateSize, L.ffnOut, L.ffnOutBias.data(), x,
           Epilogue::BiasResidual, tmp);
    layerNorm(tmp, nullptr, L.ln2Gamma.data(), L.ln2Beta.data(), T, H, eps, x);
  }

  if (out.wantTokens) out.tokens.assign(x, x + T * H);
  if (!out.wantSentence) return;

  std::vector<float> cur(size_t(n) * H * pooling_.size());
  pool(x, H, batch.cuSeqlens, n, pooling_, cur.data());
  for (const DenseLayer& d : dense_) {
    std::vector<float> next(size_t(n) * d.weight.N);
    denseForward(cur.data(), n, d.weight, d.bias.empty() ? nullptr : d.bias.data(), d.activation,
                 next.data());
    cur.swap(next);
  }
  if ((normalize_ && out.applyNormalize) || out.forceNormalize) {
    l2NormalizeRows(cur.data(), n, sentenceDim_);
  }
  out.sentence.swap(cur);
}

}  // namespace

std::unique_ptr<Backend> makeCpuBackend(const ModelSpec& spec) {
  return std::make_unique<CpuBackend>(spec);
}

}  // namespace sbert
