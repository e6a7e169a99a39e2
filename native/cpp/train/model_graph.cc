// ModelGraph, see model_graph.h.
//
// The training forward is the one CPU forward (engine/cpu_forward.h) with a ForwardTrace: it
// keeps, per layer, qkv, the attention probabilities, ctx, the LayerNorms' z and rstd, h1, the
// FFN pre-activation u and f, and every layer's output; dropout sites are transformers' BERT's
// (embeddings, attention probabilities, both sub-layer outputs).
// Backward walks the same op list in reverse with the kernels' ...Backward functions; the two
// gradients that meet at a residual add are summed in the GEMM epilogue of dX = dY·W.
// Weights are packed for the micro-kernel at every forward/encode (the optimizer changes them
// between steps) and transposed-packed at backward; packed buffers and workspaces are reused
// across steps. Token types are all 0 (single sentences, as sentence-transformers encodes).
// zeroGrad clears the word-embedding rows backward wrote rather than the whole table.
// Per-op wall times go to common/step_profile.h when it is enabled (bench/train_step_cpu.cc).
#include "train/model_graph.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "common/error.h"
#include "common/grow.h"
#include "common/step_profile.h"
#include "common/thread_pool.h"
#include "engine/backend.h"
#include "engine/cpu_forward.h"
#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/dense.h"
#include "kernels/dropout.h"
#include "kernels/embeddings.h"
#include "kernels/gemm.h"
#include "kernels/layernorm.h"
#include "kernels/linear_weight.h"
#include "kernels/normalize.h"
#include "kernels/pooling.h"
#include "kernels/relative_position.h"

namespace sbert {

namespace {

struct LayerWeights {
  std::vector<float> wqkv, bqkv;  // Q|K|V fused, [3H, H] and [3H]
  LinearWeight qkv, attnOut, ffnIn, ffnOut;  // always fp32: training runs in fp32
};

using stepProfile::timed;

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

  // The weights as the one forward reads them (points into params and the packed weights).
  CpuWeights view;
  CpuForward cpuForward;
  // The last training forward's batch (a copy: backward reads it) and trace.
  bool haveForward = false;
  std::vector<int32_t> ids, cu, typeIds;  // typeIds empty: all type 0
  int n = 0;
  int64_t T = 0;
  ForwardTrace trace;
  // Backward scratch.
  std::vector<float> gA, gB, gC, gBig;
  // The relative bias's gradient per (sequence, head) and distance, summed over the layers.
  std::vector<int64_t> biasOffsets;
  std::vector<float> dBiasPairs;
  PackedWeight packedT;  // the transposed-packed operand of the current gradient GEMM
  // Word-embedding rows backward has written since the last zeroGrad (sorted, unique), so
  // zeroGrad clears those rows instead of the whole [vocab, H] table; tracked once a zeroGrad
  // has cleared everything. Gradients are written only by backward (and scaled in place by
  // gradient clipping, which keeps zeros zero).
  std::vector<int32_t> dirtyWordRows;
  bool wordRowsTracked = false;

  float* value(int i) { return params[size_t(i)].value.data(); }
  float* grad(int i) { return i < 0 ? nullptr : params[size_t(i)].grad.data(); }
  // Null for a frozen parameter (no gradient is computed for it) or none (-1).
  float* trainableGrad(int i) { return i < 0 || !params[size_t(i)].trainable ? nullptr : grad(i); }

  void packWeights();
  void forward(const EncodeBatch& batch, bool dropout);
  void headBackward(const float* dEmbeddings, float* dTokens);
  void backward(const float* dEmbeddings);
  void encode(const EncodeBatch& batch, float* out);
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
    b.trainable = p.trainable();
    b.value.resize(size_t(p.numel()));
    p.copyTo(b.value.data());
    b.grad.assign(size_t(p.numel()), 0.f);
    m.params.push_back(std::move(b));
  }
  m.weights.resize(plan.layers.size());
  m.densePacked.resize(plan.dense.size());
  // The forward's view: values stay where the ParamBuffers hold them; the packed weights are
  // refilled in place by packWeights.
  CpuWeights& v = m.view;
  v.shape = m.shape;
  v.wordEmb = m.value(m.emb.word);
  v.posEmb = m.value(m.emb.position);
  v.typeEmb = m.emb.tokenType >= 0 ? m.value(m.emb.tokenType) : nullptr;
  v.relativeBias = m.emb.relativeBias >= 0 ? m.value(m.emb.relativeBias) : nullptr;
  v.embLnGamma = m.value(m.emb.lnGamma);
  v.embLnBeta = m.value(m.emb.lnBeta);
  for (size_t l = 0; l < m.layerPlans.size(); ++l) {
    const LayerPlan& lp = m.layerPlans[l];
    LayerWeights& w = m.weights[l];
    v.layers.push_back({&w.qkv, nullptr, &w.attnOut, m.value(lp.attnOutBias), m.value(lp.attnLnGamma),
                        m.value(lp.attnLnBeta), &w.ffnIn, m.value(lp.ffnInBias), &w.ffnOut,
                        m.value(lp.ffnOutBias), m.value(lp.ffnLnGamma), m.value(lp.ffnLnBeta)});
  }
  v.pooling = m.pooling;
  for (size_t j = 0; j < m.dense.size(); ++j) {
    SBERT_CHECK(m.dense[j].dropoutBefore >= 0.f && m.dense[j].dropoutBefore < 1.f, "ERR_BAD_MODEL",
                "a Dense module's dropout probability must be in [0, 1)");
    v.dense.push_back({&m.densePacked[j], m.dense[j].bias >= 0 ? m.value(m.dense[j].bias) : nullptr,
                       m.dense[j].activation, m.dense[j].dropoutBefore});
  }
  v.normalize = m.normalize;
  v.sentenceDim = m.sentenceDim;
}

ModelGraph::~ModelGraph() = default;

std::vector<ParamBuffer>& ModelGraph::parameters() { return impl_->params; }
int ModelGraph::sentenceDim() const { return impl_->sentenceDim; }

const float* ModelGraph::forward(const EncodeBatch& batch, bool dropout) {
  impl_->forward(batch, dropout);
  return impl_->trace.sentence.data();
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

void ModelGraph::encode(const EncodeBatch& batch, float* out) { impl_->encode(batch, out); }

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
    w.qkv.repackFp32(w.wqkv.data(), 3 * H, H);
    w.attnOut.repackFp32(value(lp.attnOut), H, H);
    w.ffnIn.repackFp32(value(lp.ffnIn), I, H);
    w.ffnOut.repackFp32(value(lp.ffnOut), H, I);
    view.layers[l].qkvBias = w.bqkv.data();  // bqkv is resized (once) above
  }
  for (size_t j = 0; j < dense.size(); ++j) {
    packWeightInto(densePacked[j], value(dense[j].weight), dense[j].outFeatures,
                   dense[j].inFeatures);
  }
}

void ModelGraph::Impl::forward(const EncodeBatch& input, bool drop) {
  SBERT_CHECK(input.numSequences >= 1, "ERR_BAD_INPUT", "a training batch needs at least one sequence");
  validateBatch(shape, input);
  // Backward reads the batch after the caller's buffers are gone: keep a copy.
  n = input.numSequences;
  T = input.numTokens();
  ids.assign(input.ids, input.ids + T);
  cu.assign(input.cuSeqlens, input.cuSeqlens + n + 1);
  if (input.typeIds) typeIds.assign(input.typeIds, input.typeIds + T);
  else typeIds.clear();
  haveForward = false;
  ++step;
  timed("pack weights", [&] { packWeights(); });
  trace.hiddenDropout = drop ? shape.hiddenDropout : 0.f;
  trace.attentionDropout = drop ? shape.attentionDropout : 0.f;
  trace.headDropout = drop;
  trace.dropoutSeed = seed;
  trace.step = step;
  EncodeBatch batch;
  batch.ids = ids.data();
  batch.cuSeqlens = cu.data();
  batch.typeIds = typeIds.empty() ? nullptr : typeIds.data();
  batch.numSequences = n;
  cpuForward.train(view, batch, trace);
  haveForward = true;
}

void ModelGraph::Impl::backward(const float* dEmbeddings) {
  SBERT_CHECK(haveForward, "ERR_INTERNAL", "ModelGraph::backward without a forward");
  const int H = shape.hiddenSize, I = shape.intermediateSize, L = shape.numLayers;
  const float pH = trace.hiddenDropout, pA = trace.attentionDropout;

  growDiscarding(gA, T * H);
  growDiscarding(gB, T * H);
  growDiscarding(gC, T * H);
  growDiscarding(gBig, T * std::max(3 * H, I));
  if (trace.bias.byDelta) {
    biasOffsets.resize(size_t(n) + 1);
    attentionBiasGradOffsets(cu.data(), n, shape.numHeads, biasOffsets.data());
    dBiasPairs.assign(size_t(biasOffsets[size_t(n)]), 0.f);
  }
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
    const LayerTrace& a = trace.layers[size_t(l)];
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
      attentionBackward(a.qkv.data(), cu.data(), n, shape.numHeads, shape.headDim(), trace.bias,
                        trace.probOffsets.data(), pA, a.probs.data(),
                        pA > 0.f ? a.probMask.data() : nullptr, dX, dBig, biasOffsets.data(), dBiasPairs.data());
    });
    // qkv = x·Wqkvᵀ + b: Q, K and V share x's packed transpose.
    timed("pack transposed", [&] {
      packWeightTransposedInto(packedT, trace.hidden[size_t(l)].data(), int(T), H);
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

  if (pH > 0.f) timed("dropout", [&] { dropoutBackward(dX, T * H, pH, trace.embMask.data()); });
  std::vector<int32_t> rows(ids.begin(), ids.end());
  rows.insert(rows.end(), dirtyWordRows.begin(), dirtyWordRows.end());
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  dirtyWordRows.swap(rows);
  timed("embeddings bwd", [&] {
    const int32_t* positions = trace.positions.empty() ? nullptr : trace.positions.data();
    embeddingsBackward(dX, trace.embZ.data(), trace.embRstd.data(), ids.data(),
                       typeIds.empty() ? nullptr : typeIds.data(), positions, cu.data(), n,
                       value(emb.lnGamma), H, grad(emb.word), trainableGrad(emb.position),
                       trainableGrad(emb.tokenType), grad(emb.lnGamma), grad(emb.lnBeta));
  });
  if (trace.bias.byDelta) {
    // The relative bias is shared by every layer: its gradient sums all of theirs.
    timed("attention bwd", [&] {
      relativeBiasBackward(dBiasPairs.data(), biasOffsets.data(), cu.data(), n, shape.numHeads,
                           shape.relativeBuckets, shape.relativeMaxDistance, grad(emb.relativeBias));
    });
  }
}

void ModelGraph::Impl::headBackward(const float* dEmbeddings, float* dTokens) {
  const int H = shape.hiddenSize, L = shape.numLayers;
  // Normalize → Dense chain (reverse) → Pooling.
  std::vector<float> d(dEmbeddings, dEmbeddings + size_t(n) * sentenceDim);
  if (normalize) l2NormalizeBackward(trace.normIn.data(), d.data(), n, sentenceDim, d.data());
  for (size_t j = dense.size(); j-- > 0;) {
    const DensePlan& dp = dense[j];
    const bool dropped = !trace.denseMask[j].empty();
    const float* in = dropped ? trace.denseIn[j].data() : j == 0 ? trace.pooled.data() : trace.denseOut[j - 1].data();
    std::vector<float> dIn(size_t(n) * dp.inFeatures);
    denseBackward(in, n, value(dp.weight), dp.outFeatures, dp.inFeatures, dp.activation,
                  trace.densePre[j].data(), trace.denseOut[j].data(), d.data(), dIn.data(), grad(dp.weight),
                  grad(dp.bias));
    if (dropped) dropoutBackward(dIn.data(), int64_t(n) * dp.inFeatures, dp.dropoutBefore, trace.denseMask[j].data());
    d.swap(dIn);
  }
  poolBackward(trace.hidden[size_t(L)].data(), H, cu.data(), n, pooling, d.data(), dTokens);
}

void ModelGraph::Impl::encode(const EncodeBatch& batch, float* out) {
  SBERT_CHECK(batch.numSequences >= 1, "ERR_BAD_INPUT", "an encode batch needs at least one sequence");
  packWeights();
  EncodeOutputs outputs;
  outputs.sentence = out;
  cpuForward.encode(view, batch, outputs);
}

}  // namespace sbert
