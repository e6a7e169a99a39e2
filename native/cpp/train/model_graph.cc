// ModelGraph, see model_graph.h.
//
// Training forward (T tokens, H hidden, I intermediate; dropout sites as transformers' BERT):
//   h0 = drop(LN(word + pos + type))                                  keeps zE, rstdE
//   per layer l (x = h_l):
//     qkv = x·Wqkvᵀ + b                                                keeps qkv
//     ctx = attention(qkv) with dropout on the probabilities           keeps P, mask
//     h1  = LN(drop(ctx·Woᵀ + bo) + x)                                 keeps ctx, z1, rstd1, h1
//     u   = h1·W1ᵀ + b1,  f = gelu(u)                                  keeps u, f
//     h_{l+1} = LN(drop(f·W2ᵀ + b2) + h1)                              keeps z2, rstd2, h_{l+1}
//   pooled = pool(h_L) → Dense chain (keeps pre-activations and outputs) → Normalize.
// Backward walks the same list in reverse with the kernels' ...Backward functions; the two
// gradients that meet at a residual add are summed in the GEMM epilogue of dX = dY·W.
// Weights are packed for the micro-kernel at every forward/encode (the optimizer changes them
// between steps) and transposed-packed at backward; packed buffers and workspaces are reused
// across steps. Token types are all 0 (single sentences, as sentence-transformers encodes).
// zeroGrad clears the word-embedding rows backward wrote rather than the whole table.
// Per-op wall times go to train/step_profile.h when it is enabled (bench/train_step_cpu.cc).
#include "train/model_graph.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>

#include "common/error.h"
#include "common/thread_pool.h"
#include "engine/backend.h"
#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/dense.h"
#include "kernels/dropout.h"
#include "kernels/embeddings.h"
#include "kernels/gemm.h"
#include "kernels/layernorm.h"
#include "kernels/normalize.h"
#include "kernels/pooling.h"
#include "train/step_profile.h"

namespace sbert {

namespace {

// What one layer's backward needs from its forward.
struct LayerActivations {
  std::vector<float> qkv, probs, ctx, z1, rstd1, h1, u, f, z2, rstd2;
  std::vector<uint8_t> probMask, attnOutMask, ffnOutMask;
};

struct LayerWeights {
  std::vector<float> wqkv, bqkv;  // Q|K|V fused, [3H, H] and [3H]
  PackedWeight qkv, attnOut, ffnIn, ffnOut;
};

// Runs f, adding its wall time to `op` when the step profile is on.
template <typename F>
void timed(const char* op, F&& f) {
  if (!stepProfile::enabled()) {
    f();
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  f();
  stepProfile::add(op, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

// Grows a workspace to at least n elements (contents are not kept: every user overwrites it),
// with 25% slack so batches of slightly different sizes do not reallocate each step.
template <typename T>
void ensure(std::vector<T>& v, int64_t n) {
  if (int64_t(v.size()) >= n) return;
  v = std::vector<T>();  // release first: peak memory is not old + new
  v.resize(size_t(n + n / 4));
}

}  // namespace

struct ModelGraph::Impl {
  BertShape shape;
  EmbeddingsPlan emb;
  std::vector<LayerPlan> layerPlans;
  std::vector<PoolMode> pooling;
  std::vector<DensePlan> dense;
  bool normalize = false;
  int sentenceDim = 0;
  std::vector<ParamBuffer> params;
  uint64_t seed = 0;
  uint64_t step = 0;

  std::vector<LayerWeights> weights;
  std::vector<PackedWeight> densePacked;

  // The last training forward's batch and activations.
  bool haveForward = false;
  bool dropout = false;
  std::vector<int32_t> ids, cu;
  int n = 0;
  int64_t T = 0;
  std::vector<int64_t> probOffsets;
  std::vector<float> embZ, embRstd;
  std::vector<uint8_t> embMask;
  std::vector<std::vector<float>> hidden;  // numLayers + 1 of [T, H]
  std::vector<LayerActivations> acts;
  std::vector<float> pooled, normIn, output, tmp;
  std::vector<std::vector<float>> densePre, denseOut;
  // Backward scratch.
  std::vector<float> gA, gB, gC, gBig;
  PackedWeight packedT;  // the transposed-packed operand of the current gradient GEMM
  // Word-embedding rows backward has written since the last zeroGrad (sorted, unique), so
  // zeroGrad clears those rows instead of the whole [vocab, H] table; tracked once a zeroGrad
  // has cleared everything. Gradients are written only by backward (and scaled in place by
  // gradient clipping, which keeps zeros zero).
  std::vector<int32_t> dirtyWordRows;
  bool wordRowsTracked = false;

  float* value(int i) { return params[size_t(i)].value.data(); }
  float* grad(int i) { return i < 0 ? nullptr : params[size_t(i)].grad.data(); }

  void checkBatch(const int32_t* ids, const int32_t* cuSeqlens, int n) const;
  void packWeights();
  void forward(const int32_t* ids, const int32_t* cuSeqlens, int n, bool dropout);
  void headForward();
  void headBackward(const float* dEmbeddings, float* dTokens);
  void backward(const float* dEmbeddings);
  void encode(const int32_t* ids, const int32_t* cuSeqlens, int n, float* out);
};

ModelGraph::ModelGraph(const ModelPlan& plan, uint64_t seed) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  SBERT_CHECK(!plan.pooling.empty(), "ERR_BAD_MODEL",
              "training needs a Pooling module (sentence embeddings)");
  SBERT_CHECK(int(plan.layers.size()) == plan.shape.numLayers, "ERR_BAD_MODEL",
              "model plan: layer count does not match num_hidden_layers");
  const float pH = plan.shape.hiddenDropout, pA = plan.shape.attentionDropout;
  SBERT_CHECK(pH >= 0.f && pH < 1.f && pA >= 0.f && pA < 1.f, "ERR_BAD_MODEL",
              "dropout probabilities must be in [0, 1)");
  m.shape = plan.shape;
  m.emb = plan.embeddings;
  m.layerPlans = plan.layers;
  m.pooling = plan.pooling;
  m.dense = plan.dense;
  m.normalize = plan.normalize;
  m.sentenceDim = plan.sentenceDim;
  m.seed = seed;
  m.params.reserve(plan.params.size());
  for (const PlanParam& p : plan.params) {
    ParamBuffer b;
    b.name = p.name;
    b.shape = p.shape;
    b.weightDecay = p.weightDecay();
    b.value.resize(size_t(p.numel()));
    p.copyTo(b.value.data());
    b.grad.assign(size_t(p.numel()), 0.f);
    m.params.push_back(std::move(b));
  }
  m.weights.resize(plan.layers.size());
}

ModelGraph::~ModelGraph() = default;

std::vector<ParamBuffer>& ModelGraph::parameters() { return impl_->params; }
int ModelGraph::sentenceDim() const { return impl_->sentenceDim; }

const float* ModelGraph::forward(const int32_t* ids, const int32_t* cuSeqlens, int n,
                                 bool dropout) {
  impl_->forward(ids, cuSeqlens, n, dropout);
  return impl_->output.data();
}

void ModelGraph::backward(const float* dEmbeddings) { impl_->backward(dEmbeddings); }

void ModelGraph::zeroGrad() {
  Impl& m = *impl_;
  timed("zero grad", [&] {
    for (size_t p = 0; p < m.params.size(); ++p) {
      float* g = m.params[p].grad.data();
      if (int(p) == m.emb.word && m.wordRowsTracked) {
        // Only the rows backward scattered into since the last zeroGrad can be non-zero (the
        // table has vocabSize rows; a batch touches a few hundred).
        const int H = m.shape.hiddenSize;
        for (int32_t r : m.dirtyWordRows) std::fill(g + int64_t(r) * H, g + int64_t(r + 1) * H, 0.f);
      } else {
        parallelFor(0, m.params[p].numel(), 1 << 16,
                    [g](int64_t b, int64_t e) { std::fill(g + b, g + e, 0.f); });
      }
    }
    m.dirtyWordRows.clear();
    m.wordRowsTracked = true;
  });
}

void ModelGraph::encode(const int32_t* ids, const int32_t* cuSeqlens, int n, float* out) {
  impl_->encode(ids, cuSeqlens, n, out);
}

void ModelGraph::Impl::checkBatch(const int32_t* ids, const int32_t* cuSeqlens, int n) const {
  SBERT_CHECK(n >= 1, "ERR_BAD_INPUT", "a training batch needs at least one sequence");
  EncodeBatch batch;
  batch.ids = ids;
  batch.cuSeqlens = cuSeqlens;
  batch.numSequences = n;
  validateBatch(shape, batch);
}

void ModelGraph::Impl::packWeights() {
  const int H = shape.hiddenSize, I = shape.intermediateSize;
  for (size_t l = 0; l < layerPlans.size(); ++l) {
    const LayerPlan& lp = layerPlans[l];
    LayerWeights& w = weights[l];
    w.wqkv.resize(size_t(3) * H * H);
    w.bqkv.resize(size_t(3) * H);
    const int wIdx[3] = {lp.query, lp.key, lp.value}, bIdx[3] = {lp.queryBias, lp.keyBias,
                                                                 lp.valueBias};
    for (int j = 0; j < 3; ++j) {
      std::memcpy(w.wqkv.data() + size_t(j) * H * H, value(wIdx[j]), sizeof(float) * H * H);
      std::memcpy(w.bqkv.data() + size_t(j) * H, value(bIdx[j]), sizeof(float) * H);
    }
    packWeightInto(w.qkv, w.wqkv.data(), 3 * H, H);
    packWeightInto(w.attnOut, value(lp.attnOut), H, H);
    packWeightInto(w.ffnIn, value(lp.ffnIn), I, H);
    packWeightInto(w.ffnOut, value(lp.ffnOut), H, I);
  }
  densePacked.resize(dense.size());
  for (size_t j = 0; j < dense.size(); ++j) {
    packWeightInto(densePacked[j], value(dense[j].weight), dense[j].outFeatures,
                   dense[j].inFeatures);
  }
}

void ModelGraph::Impl::forward(const int32_t* idsIn, const int32_t* cuIn, int nIn, bool drop) {
  checkBatch(idsIn, cuIn, nIn);
  n = nIn;
  T = cuIn[n];
  ids.assign(idsIn, idsIn + T);
  cu.assign(cuIn, cuIn + n + 1);
  dropout = drop;
  ++step;
  timed("pack weights", [&] { packWeights(); });

  const int H = shape.hiddenSize, I = shape.intermediateSize, L = shape.numLayers;
  const float eps = shape.layerNormEps;
  const float pH = drop ? shape.hiddenDropout : 0.f, pA = drop ? shape.attentionDropout : 0.f;
  uint64_t site = 0;
  auto stream = [&]() { return dropoutStream(seed, step, site++); };

  hidden.resize(size_t(L) + 1);
  for (auto& h : hidden) ensure(h, T * H);
  ensure(embZ, T * H);
  ensure(embRstd, T);
  ensure(tmp, T * H);
  timed("embeddings fwd", [&] {
    embeddingsForwardTrain(ids.data(), nullptr, cu.data(), n, value(emb.word),
                           value(emb.position), value(emb.tokenType), value(emb.lnGamma),
                           value(emb.lnBeta), H, eps, hidden[0].data(), embZ.data(),
                           embRstd.data());
  });
  if (pH > 0.f) {
    ensure(embMask, T * H);
    timed("dropout", [&] { dropoutForward(hidden[0].data(), T * H, pH, stream(), embMask.data()); });
  }

  probOffsets.resize(size_t(n) + 1);
  attentionProbOffsets(cu.data(), n, shape.numHeads, probOffsets.data());
  acts.resize(size_t(L));
  for (int l = 0; l < L; ++l) {
    const LayerPlan& lp = layerPlans[size_t(l)];
    const LayerWeights& w = weights[size_t(l)];
    LayerActivations& a = acts[size_t(l)];
    const float* x = hidden[size_t(l)].data();
    ensure(a.qkv, T * 3 * H);
    ensure(a.probs, probOffsets[size_t(n)]);
    ensure(a.ctx, T * H);
    ensure(a.z1, T * H);
    ensure(a.rstd1, T);
    ensure(a.h1, T * H);
    ensure(a.u, T * I);
    ensure(a.f, T * I);
    ensure(a.z2, T * H);
    ensure(a.rstd2, T);
    if (pA > 0.f) ensure(a.probMask, probOffsets[size_t(n)]);
    if (pH > 0.f) {
      ensure(a.attnOutMask, T * H);
      ensure(a.ffnOutMask, T * H);
    }

    timed("linear fwd", [&] {
      linear(x, T, H, w.qkv, w.bqkv.data(), nullptr, Epilogue::Bias, a.qkv.data());
    });
    const uint64_t attnSeed = pA > 0.f ? stream() : 0;
    timed("attention fwd", [&] {
      attentionForwardTrain(a.qkv.data(), cu.data(), n, shape.numHeads, shape.headDim(),
                            probOffsets.data(), pA, attnSeed, a.probs.data(),
                            pA > 0.f ? a.probMask.data() : nullptr, a.ctx.data());
    });
    // Sub-layer output: LN(drop(in·Wᵀ + b) + residual); without dropout the residual add
    // rides the GEMM epilogue.
    auto addNorm = [&](const float* in, int K, const PackedWeight& pw, int bias,
                       const float* residual, std::vector<uint8_t>& mask, int gamma, int beta,
                       float* out, float* z, float* rstd) {
      const bool drop = pH > 0.f;
      timed("linear fwd", [&] {
        linear(in, T, K, pw, value(bias), drop ? nullptr : residual,
               drop ? Epilogue::Bias : Epilogue::BiasResidual, tmp.data());
      });
      if (drop) {
        const uint64_t dropSeed = stream();
        timed("dropout", [&] { dropoutForward(tmp.data(), T * H, pH, dropSeed, mask.data()); });
      }
      timed("layernorm fwd", [&] {
        layerNormForwardTrain(tmp.data(), drop ? residual : nullptr, value(gamma), value(beta),
                              T, H, eps, out, z, rstd);
      });
    };
    addNorm(a.ctx.data(), H, w.attnOut, lp.attnOutBias, x, a.attnOutMask, lp.attnLnGamma,
            lp.attnLnBeta, a.h1.data(), a.z1.data(), a.rstd1.data());
    timed("linear fwd", [&] {
      linear(a.h1.data(), T, H, w.ffnIn, value(lp.ffnInBias), nullptr, Epilogue::Bias,
             a.u.data());
    });
    timed("gelu fwd", [&] { geluForward(a.u.data(), T * I, a.f.data()); });
    addNorm(a.f.data(), I, w.ffnOut, lp.ffnOutBias, a.h1.data(), a.ffnOutMask, lp.ffnLnGamma,
            lp.ffnLnBeta, hidden[size_t(l) + 1].data(), a.z2.data(), a.rstd2.data());
  }

  timed("head fwd (pool, dense, normalize)", [&] { headForward(); });
  haveForward = true;
}

void ModelGraph::Impl::headForward() {
  const int H = shape.hiddenSize, L = shape.numLayers;
  const int pooledDim = H * int(pooling.size());
  pooled.resize(size_t(n) * pooledDim);
  pool(hidden[size_t(L)].data(), H, cu.data(), n, pooling, pooled.data());
  densePre.resize(dense.size());
  denseOut.resize(dense.size());
  const float* in = pooled.data();
  for (size_t j = 0; j < dense.size(); ++j) {
    const DensePlan& d = dense[j];
    densePre[j].resize(size_t(n) * d.outFeatures);
    denseOut[j].resize(size_t(n) * d.outFeatures);
    denseForwardTrain(in, n, densePacked[j], d.bias >= 0 ? value(d.bias) : nullptr, d.activation,
                      densePre[j].data(), denseOut[j].data());
    in = denseOut[j].data();
  }
  output.assign(in, in + size_t(n) * sentenceDim);
  if (normalize) {
    normIn = output;
    l2NormalizeRows(output.data(), n, sentenceDim);
  }
}

void ModelGraph::Impl::backward(const float* dEmbeddings) {
  SBERT_CHECK(haveForward, "ERR_INTERNAL", "ModelGraph::backward without a forward");
  const int H = shape.hiddenSize, I = shape.intermediateSize, L = shape.numLayers;
  const float pH = dropout ? shape.hiddenDropout : 0.f, pA = dropout ? shape.attentionDropout : 0.f;

  ensure(gA, T * H);
  ensure(gB, T * H);
  ensure(gC, T * H);
  ensure(gBig, T * std::max(3 * H, I));
  float* dX = gA.data();  // gradient of the current layer's output
  timed("head bwd (pool, dense, normalize)", [&] { headBackward(dEmbeddings, dX); });

  // Where a hidden-dropout site sits, its gradient is a scaled copy in gC.
  auto throughDropout = [&](float* g, const std::vector<uint8_t>& mask) -> float* {
    if (pH <= 0.f) return g;
    timed("dropout", [&] {
      std::memcpy(gC.data(), g, sizeof(float) * size_t(T * H));
      dropoutBackward(gC.data(), T * H, pH, mask.data());
    });
    return gC.data();
  };
  // dW += dYᵀ·X and db += Σ dY for a Linear whose input was X [T, K].
  auto weightGrad = [&](const float* dY, int N, const float* X, int K, int w, int b) {
    timed("pack transposed", [&] { packWeightTransposedInto(packedT, X, int(T), K); });
    timed("linear dW", [&] { linearBackwardWeight(dY, N, T, N, packedT, grad(w), grad(b)); });
  };
  // dX = dY·W (+ residual) for a Linear with weight W [N, K].
  auto inputGrad = [&](const float* dY, const float* W, int N, int K, const float* residual,
                       float* out) {
    timed("pack transposed", [&] { packWeightTransposedInto(packedT, W, N, K); });
    timed("linear dX", [&] { linearBackwardInput(dY, T, packedT, residual, out); });
  };

  for (int l = L - 1; l >= 0; --l) {
    const LayerPlan& lp = layerPlans[size_t(l)];
    const LayerWeights& w = weights[size_t(l)];
    const LayerActivations& a = acts[size_t(l)];
    float* dY = gB.data();
    float* dBig = gBig.data();

    // h_{l+1} = LN(drop(f·W2ᵀ + b2) + h1)
    timed("layernorm bwd", [&] {
      layerNormBackward(dX, a.z2.data(), a.rstd2.data(), value(lp.ffnLnGamma), T, H, dY,
                        grad(lp.ffnLnGamma), grad(lp.ffnLnBeta));
    });
    const float* dFo = throughDropout(dY, a.ffnOutMask);
    weightGrad(dFo, H, a.f.data(), I, lp.ffnOut, lp.ffnOutBias);
    inputGrad(dFo, value(lp.ffnOut), H, I, nullptr, dBig);
    // f = gelu(u), u = h1·W1ᵀ + b1; h1 also feeds the residual (dY).
    timed("gelu bwd", [&] { geluBackward(a.u.data(), dBig, T * I, dBig); });
    weightGrad(dBig, I, a.h1.data(), H, lp.ffnIn, lp.ffnInBias);
    inputGrad(dBig, value(lp.ffnIn), I, H, dY, dX);

    // h1 = LN(drop(ctx·Woᵀ + bo) + x)
    timed("layernorm bwd", [&] {
      layerNormBackward(dX, a.z1.data(), a.rstd1.data(), value(lp.attnLnGamma), T, H, dY,
                        grad(lp.attnLnGamma), grad(lp.attnLnBeta));
    });
    const float* dAo = throughDropout(dY, a.attnOutMask);
    weightGrad(dAo, H, a.ctx.data(), H, lp.attnOut, lp.attnOutBias);
    inputGrad(dAo, value(lp.attnOut), H, H, nullptr, dX);
    timed("attention bwd", [&] {
      attentionBackward(a.qkv.data(), cu.data(), n, shape.numHeads, shape.headDim(),
                        probOffsets.data(), pA, a.probs.data(),
                        pA > 0.f ? a.probMask.data() : nullptr, dX, dBig);
    });
    // qkv = x·Wqkvᵀ + b: Q, K and V share x's packed transpose.
    timed("pack transposed", [&] {
      packWeightTransposedInto(packedT, hidden[size_t(l)].data(), int(T), H);
    });
    const int wIdx[3] = {lp.query, lp.key, lp.value}, bIdx[3] = {lp.queryBias, lp.keyBias,
                                                                 lp.valueBias};
    timed("linear dW", [&] {
      for (int j = 0; j < 3; ++j) {
        linearBackwardWeight(dBig + int64_t(j) * H, 3 * H, T, H, packedT, grad(wIdx[j]),
                             grad(bIdx[j]));
      }
    });
    // x feeds Q/K/V and the residual into LN1 (dY).
    inputGrad(dBig, w.wqkv.data(), 3 * H, H, dY, dX);
  }

  if (pH > 0.f) timed("dropout", [&] { dropoutBackward(dX, T * H, pH, embMask.data()); });
  std::vector<int32_t> rows(ids.begin(), ids.end());
  rows.insert(rows.end(), dirtyWordRows.begin(), dirtyWordRows.end());
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  dirtyWordRows.swap(rows);
  timed("embeddings bwd", [&] {
    embeddingsBackward(dX, embZ.data(), embRstd.data(), ids.data(), nullptr, cu.data(), n,
                       value(emb.lnGamma), H, grad(emb.word), grad(emb.position),
                       grad(emb.tokenType), grad(emb.lnGamma), grad(emb.lnBeta));
  });
}

void ModelGraph::Impl::headBackward(const float* dEmbeddings, float* dTokens) {
  const int H = shape.hiddenSize, L = shape.numLayers;
  // Normalize → Dense chain (reverse) → Pooling.
  std::vector<float> d(dEmbeddings, dEmbeddings + size_t(n) * sentenceDim);
  if (normalize) l2NormalizeBackward(normIn.data(), d.data(), n, sentenceDim, d.data());
  for (size_t j = dense.size(); j-- > 0;) {
    const DensePlan& dp = dense[j];
    const float* in = j == 0 ? pooled.data() : denseOut[j - 1].data();
    std::vector<float> dIn(size_t(n) * dp.inFeatures);
    denseBackward(in, n, value(dp.weight), dp.outFeatures, dp.inFeatures, dp.activation,
                  densePre[j].data(), denseOut[j].data(), d.data(), dIn.data(), grad(dp.weight),
                  grad(dp.bias));
    d.swap(dIn);
  }
  poolBackward(hidden[size_t(L)].data(), H, cu.data(), n, pooling, d.data(), dTokens);
}

void ModelGraph::Impl::encode(const int32_t* idsIn, const int32_t* cuIn, int nIn, float* out) {
  checkBatch(idsIn, cuIn, nIn);
  packWeights();
  // The inference kernels, in the CPU engine's order (fused epilogues, no saved activations).
  const int H = shape.hiddenSize, I = shape.intermediateSize;
  const int64_t tokens = cuIn[nIn];
  const float eps = shape.layerNormEps;
  std::vector<float> x(size_t(tokens) * H), big(size_t(tokens) * std::max(3 * H, I)),
      ctx(size_t(tokens) * H), t(size_t(tokens) * H);
  embeddingsLayerNorm(idsIn, nullptr, cuIn, nIn, value(emb.word), value(emb.position),
                      value(emb.tokenType), value(emb.lnGamma), value(emb.lnBeta), H, eps,
                      x.data());
  for (size_t l = 0; l < layerPlans.size(); ++l) {
    const LayerPlan& lp = layerPlans[l];
    const LayerWeights& w = weights[l];
    linear(x.data(), tokens, H, w.qkv, w.bqkv.data(), nullptr, Epilogue::Bias, big.data());
    attention(big.data(), cuIn, nIn, shape.numHeads, shape.headDim(), ctx.data());
    linear(ctx.data(), tokens, H, w.attnOut, value(lp.attnOutBias), x.data(),
           Epilogue::BiasResidual, t.data());
    layerNorm(t.data(), nullptr, value(lp.attnLnGamma), value(lp.attnLnBeta), tokens, H, eps,
              x.data());
    linear(x.data(), tokens, H, w.ffnIn, value(lp.ffnInBias), nullptr, Epilogue::BiasGelu,
           big.data());
    linear(big.data(), tokens, I, w.ffnOut, value(lp.ffnOutBias), x.data(),
           Epilogue::BiasResidual, t.data());
    layerNorm(t.data(), nullptr, value(lp.ffnLnGamma), value(lp.ffnLnBeta), tokens, H, eps,
              x.data());
  }
  std::vector<float> cur(size_t(nIn) * H * pooling.size());
  pool(x.data(), H, cuIn, nIn, pooling, cur.data());
  for (size_t j = 0; j < dense.size(); ++j) {
    const DensePlan& d = dense[j];
    std::vector<float> next(size_t(nIn) * d.outFeatures);
    denseForward(cur.data(), nIn, densePacked[j], d.bias >= 0 ? value(d.bias) : nullptr,
                 d.activation, next.data());
    cur.swap(next);
  }
  if (normalize) l2NormalizeRows(cur.data(), nIn, sentenceDim);
  std::memcpy(out, cur.data(), sizeof(float) * cur.size());
}

}  // namespace sbert
