// CpuForward, see cpu_forward.h.
#include "engine/cpu_forward.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "common/grow.h"
#include "common/step_profile.h"
#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/dense.h"
#include "kernels/dropout.h"
#include "kernels/embeddings.h"
#include "kernels/layernorm.h"
#include "kernels/normalize.h"
#include "kernels/pooling.h"
#include "kernels/relative_position.h"

namespace sbert {
namespace {

// Sizes every trace buffer for a batch of T tokens and n sequences.
void prepareTrace(const BertShape& s, const EncodeBatch& b, ForwardTrace& t) {
  const int64_t T = b.numTokens(), H = s.hiddenSize, I = s.intermediateSize;
  const int n = b.numSequences;
  t.hidden.resize(size_t(s.numLayers) + 1);
  for (auto& h : t.hidden) growDiscarding(h, T * H);
  growDiscarding(t.embZ, T * H);
  growDiscarding(t.embRstd, T);
  if (t.hiddenDropout > 0.f) growDiscarding(t.embMask, T * H);
  t.probOffsets.resize(size_t(n) + 1);
  attentionProbOffsets(b.cuSeqlens, n, s.numHeads, t.probOffsets.data());
  const int64_t probs = t.probOffsets[size_t(n)];
  t.layers.resize(size_t(s.numLayers));
  for (LayerTrace& a : t.layers) {
    growDiscarding(a.qkv, T * 3 * H);
    growDiscarding(a.probs, probs);
    growDiscarding(a.ctx, T * H);
    growDiscarding(a.z1, T * H);
    growDiscarding(a.rstd1, T);
    growDiscarding(a.h1, T * H);
    growDiscarding(a.u, T * I);
    growDiscarding(a.f, T * I);
    growDiscarding(a.z2, T * H);
    growDiscarding(a.rstd2, T);
    if (t.attentionDropout > 0.f) growDiscarding(a.probMask, probs);
    if (t.hiddenDropout > 0.f) {
      growDiscarding(a.attnOutMask, T * H);
      growDiscarding(a.ffnOutMask, T * H);
    }
  }
}

}  // namespace

void CpuForward::reserve(const BertShape& shape, int64_t tokens) {
  if (tokens <= wsTokens_) return;
  const int64_t H = shape.hiddenSize;
  const int64_t big = std::max<int64_t>(3 * H, shape.intermediateSize);
  release();  // release first so peak memory is not old + new
  x_.resize(size_t(tokens * H));
  big_.resize(size_t(tokens * big));
  ctx_.resize(size_t(tokens * H));
  tmp_.resize(size_t(tokens * H));
  wsTokens_ = tokens;
}

void CpuForward::release() {
  for (std::vector<float>* v : {&x_, &big_, &ctx_, &tmp_, &seqA_, &seqB_, &scoreBias_}) std::vector<float>().swap(*v);
  std::vector<int32_t>().swap(positions_);
  wsTokens_ = 0;
}

const int32_t* CpuForward::positionIds(const CpuWeights& w, const EncodeBatch& batch, std::vector<int32_t>& out) {
  if (w.shape.positionIds == PositionIds::FromZero) return nullptr;
  out.resize(size_t(batch.numTokens()));
  positionIdsAfterPadding(batch.ids, batch.cuSeqlens, batch.numSequences, w.shape.paddingIdx, out.data());
  return out.data();
}

ScoreBias CpuForward::scoreBias(const CpuWeights& w, const EncodeBatch& batch, std::vector<float>& out) {
  ScoreBias bias;
  if (!w.relativeBias) return bias;
  int maxLen = 1;
  for (int s = 0; s < batch.numSequences; ++s) {
    maxLen = std::max(maxLen, batch.cuSeqlens[s + 1] - batch.cuSeqlens[s]);
  }
  const BertShape& shape = w.shape;
  out.resize(size_t(shape.numHeads) * scoreBiasStride(maxLen));
  expandRelativeBias(w.relativeBias, shape.relativeBuckets, shape.relativeMaxDistance, shape.numHeads, maxLen,
                     out.data());
  bias.byDelta = out.data();
  bias.maxLen = maxLen;
  bias.stride = scoreBiasStride(maxLen);
  return bias;
}

int64_t CpuForward::workspaceBytes() const {
  return int64_t(x_.capacity() + big_.capacity() + ctx_.capacity() + tmp_.capacity() +
                 seqA_.capacity() + seqB_.capacity()) *
         int64_t(sizeof(float));
}

void CpuForward::encode(const CpuWeights& w, const EncodeBatch& batch, const EncodeOutputs& out) {
  validateBatch(w.shape, batch);
  validateOutputs(out);
  const int64_t T = batch.numTokens();
  if (batch.numSequences == 0 || T == 0) return;
  reserve(w.shape, T);
  encoderLayers(w, batch, nullptr);
  if (out.tokens) std::memcpy(out.tokens, x_.data(), size_t(T) * w.shape.hiddenSize * sizeof(float));
  if (out.sentence) head(w, x_.data(), batch, out.poolSkipTokens, out.forceNormalize, nullptr, out.sentence);
  if (T > retainTokens_) release();  // an oversized call does not pin its memory
}

void CpuForward::train(const CpuWeights& w, const EncodeBatch& batch, ForwardTrace& trace) {
  SBERT_CHECK(batch.numSequences >= 1, "ERR_BAD_INPUT", "a training batch needs at least one sequence");
  SBERT_CHECK(!w.pooling.empty(), "ERR_BAD_MODEL", "training needs a Pooling module (sentence embeddings)");
  validateBatch(w.shape, batch);
  const int64_t T = batch.numTokens();
  prepareTrace(w.shape, batch, trace);
  // Scratch for the sub-layer outputs before their LayerNorm (the trace keeps what follows).
  if (int64_t(tmp_.size()) < T * w.shape.hiddenSize) tmp_.resize(size_t(T * w.shape.hiddenSize));
  encoderLayers(w, batch, &trace);
  trace.sentence.resize(size_t(batch.numSequences) * w.sentenceDim);
  head(w, trace.hidden.back().data(), batch, 0, false, &trace, trace.sentence.data());
}

void CpuForward::encoderLayers(const CpuWeights& w, const EncodeBatch& batch, ForwardTrace* trace) {
  const BertShape& s = w.shape;
  const int n = batch.numSequences;
  const int64_t T = batch.numTokens();
  const int H = s.hiddenSize, I = s.intermediateSize;
  const float eps = s.layerNormEps;
  const int32_t* cu = batch.cuSeqlens;
  const float pH = trace ? trace->hiddenDropout : 0.f, pA = trace ? trace->attentionDropout : 0.f;
  uint64_t site = 0;
  auto stream = [&]() { return dropoutStream(trace->dropoutSeed, trace->step, site++); };
  float* tmp = tmp_.data();

  // Sub-layer output: LN(drop(in·Wᵀ + b) + residual) into out; without dropout the residual
  // add rides the GEMM epilogue. out may be the residual (inference updates x in place).
  auto addNorm = [&](const float* in, int K, const LinearWeight& W, const float* bias,
                     const float* residual, const float* gamma, const float* beta, float* out,
                     float* z, float* rstd, std::vector<uint8_t>* mask) {
    const bool drop = pH > 0.f;
    stepProfile::timed("linear fwd", [&] {
      W.apply(in, T, K, bias, drop ? nullptr : residual, drop ? Epilogue::Bias : Epilogue::BiasResidual, tmp);
    });
    if (drop) {
      const uint64_t dropSeed = stream();
      stepProfile::timed("dropout", [&] { dropoutForward(tmp, T * H, pH, dropSeed, mask->data()); });
    }
    stepProfile::timed("layernorm fwd", [&] {
      if (z) layerNormForwardTrain(tmp, drop ? residual : nullptr, gamma, beta, T, H, eps, out, z, rstd);
      else layerNorm(tmp, nullptr, gamma, beta, T, H, eps, out);
    });
  };

  const int32_t* positions = positionIds(w, batch, trace ? trace->positions : positions_);
  const ScoreBias bias = scoreBias(w, batch, trace ? trace->scoreBias : scoreBias_);
  if (trace) trace->bias = bias;
  float* x = trace ? trace->hidden[0].data() : x_.data();
  stepProfile::timed("embeddings fwd", [&] {
    if (trace) {
      embeddingsForwardTrain(batch.ids, batch.typeIds, positions, cu, n, w.wordEmb, w.posEmb, w.typeEmb,
                             w.embLnGamma, w.embLnBeta, H, eps, x, trace->embZ.data(), trace->embRstd.data());
    } else {
      embeddingsLayerNorm(batch.ids, batch.typeIds, positions, cu, n, w.wordEmb, w.posEmb, w.typeEmb,
                          w.embLnGamma, w.embLnBeta, H, eps, x);
    }
  });
  if (pH > 0.f) {
    const uint64_t dropSeed = stream();
    stepProfile::timed("dropout", [&] { dropoutForward(x, T * H, pH, dropSeed, trace->embMask.data()); });
  }

  for (size_t l = 0; l < w.layers.size(); ++l) {
    const CpuLayerWeights& L = w.layers[l];
    LayerTrace* a = trace ? &trace->layers[l] : nullptr;
    float* qkv = a ? a->qkv.data() : big_.data();
    float* ctx = a ? a->ctx.data() : ctx_.data();
    stepProfile::timed("linear fwd", [&] { L.qkv->apply(x, T, H, L.qkvBias, nullptr, Epilogue::Bias, qkv); });
    if (a) {
      const uint64_t attnSeed = pA > 0.f ? stream() : 0;
      stepProfile::timed("attention fwd", [&] {
        attentionForwardTrain(qkv, cu, n, s.numHeads, s.headDim(), bias, trace->probOffsets.data(), pA, attnSeed,
                              a->probs.data(), pA > 0.f ? a->probMask.data() : nullptr, ctx);
      });
    } else {
      attention(qkv, cu, n, s.numHeads, s.headDim(), bias, ctx);
    }
    float* h1 = a ? a->h1.data() : x;
    addNorm(ctx, H, *L.attnOut, L.attnOutBias, x, L.attnLnGamma, L.attnLnBeta, h1, a ? a->z1.data() : nullptr,
            a ? a->rstd1.data() : nullptr, a ? &a->attnOutMask : nullptr);
    // The trace keeps the pre-activation for geluBackward; inference fuses GELU into the GEMM.
    float* f = a ? a->f.data() : big_.data();
    if (a) {
      stepProfile::timed("linear fwd", [&] { L.ffnIn->apply(h1, T, H, L.ffnInBias, nullptr, Epilogue::Bias, a->u.data()); });
      stepProfile::timed("gelu fwd", [&] { geluForward(a->u.data(), T * I, f); });
    } else {
      L.ffnIn->apply(h1, T, H, L.ffnInBias, nullptr, Epilogue::BiasGelu, f);
    }
    float* next = trace ? trace->hidden[l + 1].data() : x;
    addNorm(f, I, *L.ffnOut, L.ffnOutBias, h1, L.ffnLnGamma, L.ffnLnBeta, next, a ? a->z2.data() : nullptr,
            a ? a->rstd2.data() : nullptr, a ? &a->ffnOutMask : nullptr);
    x = next;
  }
}

void CpuForward::head(const CpuWeights& w, const float* tokens, const EncodeBatch& batch, int poolSkipTokens,
                      bool forceNormalize, ForwardTrace* trace, float* out) {
  stepProfile::timed("head fwd (pool, dense, normalize)", [&] {
    const int n = batch.numSequences;
    const int H = w.shape.hiddenSize;
    const int pooledDim = H * int(w.pooling.size());
    // Pool straight into `out` when nothing follows; else through the trace or two small
    // ping-pong buffers.
    int maxDim = pooledDim;
    for (const CpuDenseWeights& d : w.dense) maxDim = std::max(maxDim, d.weight->N);
    float* cur = out;
    float* spare = nullptr;
    if (trace) {
      trace->pooled.resize(size_t(n) * pooledDim);
      cur = trace->pooled.data();
    } else if (!w.dense.empty()) {
      seqA_.resize(size_t(n) * maxDim);
      seqB_.resize(size_t(n) * maxDim);
      cur = seqA_.data();
      spare = seqB_.data();
    }
    pool(tokens, H, batch.cuSeqlens, n, w.pooling, cur, poolSkipTokens);
    if (trace) {
      trace->densePre.resize(w.dense.size());
      trace->denseOut.resize(w.dense.size());
      trace->denseIn.resize(w.dense.size());
      trace->denseMask.resize(w.dense.size());
    }
    for (size_t j = 0; j < w.dense.size(); ++j) {
      const CpuDenseWeights& d = w.dense[j];
      const int64_t size = int64_t(n) * d.weight->N;
      if (trace) {
        trace->denseIn[j].clear();
        trace->denseMask[j].clear();
        if (trace->headDropout && d.dropoutBefore > 0.f) {
          // A copy: the undropped input (the pooled vector or the previous module's output) is
          // what the earlier modules' backward reads.
          const int64_t inSize = int64_t(n) * d.weight->K;
          trace->denseIn[j].assign(cur, cur + inSize);
          trace->denseMask[j].resize(size_t(inSize));
          dropoutForward(trace->denseIn[j].data(), inSize, d.dropoutBefore,
                         dropoutStream(trace->dropoutSeed, trace->step, kHeadDropoutSite + j),
                         trace->denseMask[j].data());
          cur = trace->denseIn[j].data();
        }
        trace->densePre[j].resize(size_t(size));
        trace->denseOut[j].resize(size_t(size));
        denseForwardTrain(cur, n, *d.weight, d.bias, d.activation, trace->densePre[j].data(),
                          trace->denseOut[j].data());
        cur = trace->denseOut[j].data();
      } else {
        float* dst = j + 1 == w.dense.size() ? out : spare;
        denseForward(cur, n, *d.weight, d.bias, d.activation, dst);
        spare = cur;
        cur = dst;
      }
    }
    const int64_t size = int64_t(n) * w.sentenceDim;
    if (cur != out) std::memcpy(out, cur, size_t(size) * sizeof(float));
    if (trace && w.normalize) trace->normIn.assign(out, out + size);
    if (w.normalize || forceNormalize) l2NormalizeRows(out, n, w.sentenceDim);
  });
}

}  // namespace sbert
