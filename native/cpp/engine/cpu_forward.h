// The one CPU forward of a sentence-transformers model: the transformer over a packed
// (unpadded) batch, then Pooling → Dense chain → Normalize. The inference backend
// (cpu_backend.cc) and the trainer's graph (train/model_graph.cc) both run it; the trainer
// only adds a ForwardTrace, where the forward keeps what backward needs. An op a model family
// needs (a position bias, an activation, a position-id rule) is added here once, in backward
// (train/model_graph.cc) once, and in the CUDA twin (native/cuda/cuda_backend.cu).
//
// Op list (T tokens, H hidden, I intermediate):
//   pos = position ids by the family's rule (BertShape::positionIds)
//   bias = the relative position bias by distance (MPNet; once per batch, all layers)
//   x = LN(word + type + pos)                             [T, H]  (trace: z, rstd; dropout)
//   per layer:  qkv = x·Wqkvᵀ + b                         [T, 3H]
//               ctx = attention(qkv, bias)                [T, H]  (trace: probs; dropout on P)
//               h1  = LN(drop(ctx·Woᵀ + bo) + x)                  (trace: z1, rstd1)
//               f   = gelu(h1·W1ᵀ + b1)                   [T, I]  (trace: u = pre-GELU)
//               x   = LN(drop(f·W2ᵀ + b2) + h1)                   (trace: z2, rstd2)
//   sentence = normalize(dense_k(…dense_1(pool(x))))      [n, sentenceDim]
// Without a trace (inference) bias+GELU and bias+residual ride the GEMM epilogues and the
// hidden state is updated in place; with one, every layer's input and output stay alive.
// Every stage computes a token's / sequence's result from its own sequence only, so an
// embedding does not depend on the rest of the batch.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/backend.h"
#include "kernels/attention.h"
#include "kernels/gemm.h"
#include "kernels/linear_weight.h"
#include "kernels/modes.h"

namespace sbert {

// A read-only view of the weights the forward runs with. The owner (CpuBackend: converted and
// packed at load; ModelGraph: fp32 master values, repacked every step) keeps them alive.
// The encoder's four Linears per layer are LinearWeights: fp32, int8 or bf16 as the engine was
// loaded (the trainer's are always fp32); everything else — embeddings, attention, LayerNorm,
// GELU, pooling and the Dense modules after pooling — is fp32 in every precision.
struct CpuLayerWeights {
  const LinearWeight* qkv = nullptr;  // Q|K|V fused, [3H, H]
  const float* qkvBias = nullptr;     // [3H]
  const LinearWeight* attnOut = nullptr;
  const float* attnOutBias = nullptr;
  const float* attnLnGamma = nullptr;
  const float* attnLnBeta = nullptr;
  const LinearWeight* ffnIn = nullptr;
  const float* ffnInBias = nullptr;
  const LinearWeight* ffnOut = nullptr;
  const float* ffnOutBias = nullptr;
  const float* ffnLnGamma = nullptr;
  const float* ffnLnBeta = nullptr;
};

struct CpuDenseWeights {
  const PackedWeight* weight = nullptr;  // [out, in]
  const float* bias = nullptr;           // [out] or null
  Activation activation = Activation::Identity;
  float dropoutBefore = 0.f;             // training only (DensePlan::dropoutBefore)
};

// The dropout stream of Dense module j's input dropout is dropoutStream(seed, step,
// kHeadDropoutSite + j): far above the encoder's sites (a few per layer), so no two collide.
constexpr uint64_t kHeadDropoutSite = uint64_t(1) << 20;

struct CpuWeights {
  BertShape shape;
  const float* wordEmb = nullptr;
  const float* posEmb = nullptr;
  const float* typeEmb = nullptr;      // null: no token type embeddings
  const float* relativeBias = nullptr; // [relativeBuckets, numHeads], null: none
  const float* embLnGamma = nullptr;
  const float* embLnBeta = nullptr;
  std::vector<CpuLayerWeights> layers;
  std::vector<PoolMode> pooling;  // empty: no Pooling module
  std::vector<CpuDenseWeights> dense;
  bool normalize = false;
  int sentenceDim = 0;
};

// What one layer's backward needs from the training forward.
struct LayerTrace {
  std::vector<float> qkv, probs, ctx, z1, rstd1, h1, u, f, z2, rstd2;
  std::vector<uint8_t> probMask, attnOutMask, ffnOutMask;
};

// Everything a training forward keeps (bounded by the batch's tokens; per layer the attention
// probabilities [len × len] per (sequence, head)). Buffers grow with 25% slack and are reused
// across steps. Dropout probabilities 0 = no dropout (eval-mode forward with saved activations).
struct ForwardTrace {
  float hiddenDropout = 0.f;
  float attentionDropout = 0.f;
  bool headDropout = false;  // the Dense modules' dropoutBefore applies
  uint64_t dropoutSeed = 0;  // dropoutStream(seed, step, site) per dropout site
  uint64_t step = 0;

  std::vector<int32_t> positions;          // [T] when the family's rule is not FromZero
  std::vector<float> scoreBias;            // the relative bias by distance (see ScoreBias)
  ScoreBias bias;                          // points into scoreBias (byDelta null: none)
  std::vector<std::vector<float>> hidden;  // numLayers + 1 of [T, H]: each layer's input/output
  std::vector<float> embZ, embRstd;
  std::vector<uint8_t> embMask;
  std::vector<int64_t> probOffsets;  // [n + 1], see attentionProbOffsets
  std::vector<LayerTrace> layers;
  std::vector<float> pooled;                       // [n, H·modes]
  std::vector<std::vector<float>> densePre, denseOut;  // per Dense module [n, out]
  // Per Dense module with input dropout this step: its dropped input [n, in] and the mask;
  // empty where none applied.
  std::vector<std::vector<float>> denseIn;
  std::vector<std::vector<uint8_t>> denseMask;
  std::vector<float> normIn;                       // the Normalize module's input [n, dim]
  std::vector<float> sentence;                     // the output [n, sentenceDim]
};

// Runs the forward. Holds the inference workspaces (sized by the tokens of the batch at hand,
// kept up to `retainTokens` and released after a larger batch); a trace holds its own.
// Not thread-safe: one call at a time.
class CpuForward {
 public:
  explicit CpuForward(int64_t retainTokens = 8192) : retainTokens_(retainTokens) {}

  // Inference: validates the batch and the outputs (ERR_BAD_INPUT), then writes the outputs
  // the caller asked for (token embeddings, sentence embeddings).
  void encode(const CpuWeights& w, const EncodeBatch& batch, const EncodeOutputs& out);
  // Training forward: validates the batch, fills `trace` (dropout as the trace says) and
  // leaves the sentence embeddings in trace.sentence. The model must have a Pooling module.
  void train(const CpuWeights& w, const EncodeBatch& batch, ForwardTrace& trace);

  void reserve(const BertShape& shape, int64_t tokens);
  void release();
  void setRetainTokens(int64_t tokens) { retainTokens_ = tokens; }
  int64_t workspaceBytes() const;

 private:
  void encoderLayers(const CpuWeights& w, const EncodeBatch& batch, ForwardTrace* trace);
  // The batch's position ids (null for FromZero) and relative bias into the given buffers.
  static const int32_t* positionIds(const CpuWeights& w, const EncodeBatch& batch, std::vector<int32_t>& out);
  static ScoreBias scoreBias(const CpuWeights& w, const EncodeBatch& batch, std::vector<float>& out);
  void head(const CpuWeights& w, const float* tokens, const EncodeBatch& batch, int poolSkipTokens,
            bool forceNormalize, ForwardTrace* trace, float* out);

  int64_t retainTokens_;
  // Inference workspaces: [capacity tokens, ...] and the Dense chain's two [n, maxDim] buffers.
  int64_t wsTokens_ = 0;
  std::vector<float> x_, big_, ctx_, tmp_, seqA_, seqB_, scoreBias_;
  std::vector<int32_t> positions_;
};

}  // namespace sbert
