// The CPU engine: the full BERT forward over packed (unpadded) batches in fp32, then Pooling,
// Dense and Normalize — the reference the CUDA engine is checked against.
//
// Load: every parameter of the (already checked) ModelPlan is converted once, straight into
// this backend's storage: Q/K/V into one fused [3H, H] weight + [3H] bias, and every Linear
// weight packed for the GEMM micro-kernel. The backend keeps no reference into the plan.
// Encode (T tokens, H hidden, I intermediate):
//   validateBatch → x = LN(word + type + pos)                                 [T, H]
//   per layer:  qkv = x·Wqkvᵀ + b                                              [T, 3H]
//               ctx = attention(qkv)                                           [T, H]
//               x   = LN(ctx·Woᵀ + bo + x)        (bias + residual in the GEMM epilogue)
//               f   = gelu(x·W1ᵀ + b1)            (bias + GELU in the GEMM epilogue) [T, I]
//               x   = LN(f·W2ᵀ + b2 + x)
//   tokens = x (when asked); sentence = pool(x) → Dense layers → L2-normalize (when asked).
// Workspaces are sized by the tokens of the batch at hand, kept up to retainTokens and released
// after a larger batch. Every stage computes a token's/sequence's result from its own sequence
// only, so an embedding does not depend on the rest of the batch.
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

std::vector<float> toFloats(const ModelPlan& plan, int index) {
  const PlanParam& p = plan.param(index);
  std::vector<float> v(size_t(p.numel()));
  p.copyTo(v.data());
  return v;
}

// Packs a Linear weight through `scratch`, one fp32 staging buffer reused for every weight of the
// model: fresh memory is expensive here (page faults cost more than the copy), so the only new
// memory per weight is its packed storage.
PackedWeight packParam(const ModelPlan& plan, int index, std::vector<float>& scratch) {
  const PlanParam& p = plan.param(index);
  if (scratch.size() < size_t(p.numel())) scratch.resize(size_t(p.numel()));
  p.copyTo(scratch.data());
  return packWeight(scratch.data(), int(p.shape[0]), int(p.shape[1]));
}

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const ModelPlan& plan);
  void encode(const EncodeBatch& batch, const EncodeOutputs& out) override;
  void reserveWorkspace(int64_t tokens) override { ensureWorkspace(tokens); }
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
  void releaseWorkspace();

  BertShape shape_;
  std::vector<float> wordEmb_, posEmb_, typeEmb_, embGamma_, embBeta_;
  std::vector<Layer> layers_;
  std::vector<PoolMode> pooling_;
  std::vector<DenseLayer> dense_;
  bool normalize_ = false;
  int sentenceDim_ = 0;
  int64_t paramBytes_ = 0;

  // Workspaces, [capacity tokens, ...]; the Dense chain's two [n, maxDim] buffers.
  int64_t wsTokens_ = 0;
  std::vector<float> x_, big_, ctx_, tmp_, seqA_, seqB_;
};

CpuBackend::CpuBackend(const ModelPlan& plan) : shape_(plan.shape) {
  const int64_t H = shape_.hiddenSize, I = shape_.intermediateSize;
  const EmbeddingsPlan& e = plan.embeddings;
  wordEmb_ = toFloats(plan, e.word);
  posEmb_ = toFloats(plan, e.position);
  typeEmb_ = toFloats(plan, e.tokenType);
  embGamma_ = toFloats(plan, e.lnGamma);
  embBeta_ = toFloats(plan, e.lnBeta);
  paramBytes_ = int64_t(wordEmb_.size() + posEmb_.size() + typeEmb_.size() + 2 * H) * 4;

  std::vector<float> scratch;  // see packParam
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
    L.qkv = packWeight(wqkv, int(3 * H), int(H));
    L.attnOut = packParam(plan, P.attnOut, scratch);
    L.attnOutBias = toFloats(plan, P.attnOutBias);
    L.ln1Gamma = toFloats(plan, P.attnLnGamma);
    L.ln1Beta = toFloats(plan, P.attnLnBeta);
    L.ffnIn = packParam(plan, P.ffnIn, scratch);
    L.ffnInBias = toFloats(plan, P.ffnInBias);
    L.ffnOut = packParam(plan, P.ffnOut, scratch);
    L.ffnOutBias = toFloats(plan, P.ffnOutBias);
    L.ln2Gamma = toFloats(plan, P.ffnLnGamma);
    L.ln2Beta = toFloats(plan, P.ffnLnBeta);
    paramBytes_ += L.qkv.bytes() + L.attnOut.bytes() + L.ffnIn.bytes() + L.ffnOut.bytes() +
                   int64_t(3 * H + H + 2 * H + I + H + 2 * H) * 4;
  }

  pooling_ = plan.pooling;
  for (const DensePlan& d : plan.dense) {
    DenseLayer layer;
    layer.weight = packParam(plan, d.weight, scratch);
    if (d.bias >= 0) layer.bias = toFloats(plan, d.bias);
    layer.activation = d.activation;
    paramBytes_ += layer.weight.bytes() + int64_t(layer.bias.size()) * 4;
    dense_.push_back(std::move(layer));
  }
  sentenceDim_ = plan.sentenceDim;
  normalize_ = plan.normalize;
}

void CpuBackend::releaseWorkspace() {
  for (std::vector<float>* v : {&x_, &big_, &ctx_, &tmp_}) std::vector<float>().swap(*v);
  wsTokens_ = 0;
}

void CpuBackend::ensureWorkspace(int64_t tokens) {
  if (tokens <= wsTokens_) return;
  const int64_t H = shape_.hiddenSize;
  const int64_t big = std::max<int64_t>(3 * H, shape_.intermediateSize);
  releaseWorkspace();  // release first so peak memory is not old + new
  x_.resize(size_t(tokens * H));
  big_.resize(size_t(tokens * big));
  ctx_.resize(size_t(tokens * H));
  tmp_.resize(size_t(tokens * H));
  wsTokens_ = tokens;
}

int64_t CpuBackend::memoryBytes() const {
  return paramBytes_ + int64_t(x_.capacity() + big_.capacity() + ctx_.capacity() +
                               tmp_.capacity() + seqA_.capacity() + seqB_.capacity()) * 4;
}

void CpuBackend::encode(const EncodeBatch& batch, const EncodeOutputs& out) {
  validateBatch(shape_, batch);
  validateOutputs(out);
  const int n = batch.numSequences;
  const int64_t T = batch.numTokens();
  const int H = shape_.hiddenSize;
  if (n == 0 || T == 0) return;

  ensureWorkspace(T);
  float* x = x_.data();
  float* big = big_.data();
  float* ctx = ctx_.data();
  float* tmp = tmp_.data();
  const float eps = shape_.layerNormEps;

  embeddingsLayerNorm(batch.ids, nullptr, batch.cuSeqlens, n, wordEmb_.data(), posEmb_.data(),
                      typeEmb_.data(), embGamma_.data(), embBeta_.data(), H, eps, x);
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

  if (out.tokens) std::memcpy(out.tokens, x, size_t(T) * H * sizeof(float));
  if (out.sentence) {
    // Pool into the caller's buffer when no Dense follows; else through two small buffers.
    const int pooledDim = H * int(pooling_.size());
    if (dense_.empty()) {
      pool(x, H, batch.cuSeqlens, n, pooling_, out.sentence, out.poolSkipTokens);
    } else {
      int maxDim = pooledDim;
      for (const DenseLayer& d : dense_) maxDim = std::max(maxDim, d.weight.N);
      seqA_.resize(size_t(n) * maxDim);
      seqB_.resize(size_t(n) * maxDim);
      float* cur = seqA_.data();
      float* next = seqB_.data();
      pool(x, H, batch.cuSeqlens, n, pooling_, cur, out.poolSkipTokens);
      for (size_t i = 0; i < dense_.size(); ++i) {
        const DenseLayer& d = dense_[i];
        float* dst = i + 1 == dense_.size() ? out.sentence : next;
        denseForward(cur, n, d.weight, d.bias.empty() ? nullptr : d.bias.data(), d.activation, dst);
        std::swap(cur, next);
      }
    }
    if (normalize_ || out.forceNormalize) l2NormalizeRows(out.sentence, n, sentenceDim_);
  }
  if (T > retainTokens_) {
    releaseWorkspace();
    std::vector<float>().swap(seqA_);
    std::vector<float>().swap(seqB_);
  }
}

}  // namespace

std::unique_ptr<Backend> makeCpuBackend(const ModelPlan& plan) {
  return std::make_unique<CpuBackend>(plan);
}

}  // namespace sbert
