// Host-side API of the CUDA kernels (native/cuda/*.cu): one launcher per op family. Every
// launcher is a plain host function (callable from .cc files compiled by the host compiler),
// enqueues its work on the given stream, checks its preconditions (throws sbert::Error with
// ERR_INTERNAL — a caller bug inside the engine — never asserts) and checks the launch
// (SBERT_CUDA_CHECK_LAUNCH → ERR_CUDA with call, file and line).
//
// Conventions
// - Activations are packed and unpadded: token t of sequence i is row cuSeqlens[i] + j of a
//   row-major [numTokens, width] matrix. `cuSeqlens` pointers passed to launchers are DEVICE
//   pointers (n + 1 entries, cuSeqlens[0] == 0, non-decreasing, cuSeqlens[n] == numTokens).
// - Storage dtypes: F16 / BF16 (the tensor-core paths) or F32 (the SIMT debugging/precision
//   path). All arithmetic (accumulation, LayerNorm, softmax, GELU, pooling) is fp32.
// - Biases, LayerNorm gamma/beta and embedding tables are always fp32 (they are small; keeping
//   them fp32 costs nothing and removes one rounding).
// - Linear weights keep the PyTorch layout W[N, K] (out × in): C = A · Wᵀ.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/modes.h"  // Activation, PoolMode, DType

namespace sbert {
namespace cuda {

using DType = ::sbert::DType;  // kernels/modes.h

size_t dtypeSize(DType dt);
const char* dtypeName(DType dt);

// ---- conversions (convert.cu) ---------------------------------------------------------------
// Host-side, round-to-nearest-even, for uploading weights and for tests.
void floatToDtypeHost(const float* src, void* dst, size_t count, DType dt);
void dtypeToFloatHost(const void* src, float* dst, size_t count, DType dt);
// Device cast, elementwise: dst (dstType) = src (srcType). count may be 0.
void launchCast(const void* src, DType srcType, void* dst, DType dstType, int64_t count,
                cudaStream_t stream);

// ---- embeddings + LayerNorm (embeddings.cu) -------------------------------------------------
struct EmbeddingTables {
  const float* word = nullptr;       // [vocabSize, hidden]
  const float* position = nullptr;   // [maxPositions, hidden]
  const float* tokenType = nullptr;  // [typeVocabSize, hidden]; null: no token types (DistilBERT, MPNet)
  const float* gamma = nullptr;      // [hidden]
  const float* beta = nullptr;       // [hidden]
  int vocabSize = 0;
  int maxPositions = 0;
  int typeVocabSize = 0;
  int hidden = 0;
  float eps = 1e-12f;
};
// out[t, :] = LayerNorm((word[ids[t]] + tokenType[typeIds[t]]) + position[pos(t)]), pos(t) =
// positionIds[t] when given (RoBERTa / MPNet: the host computes them with the CPU engine's
// positionIdsAfterPadding), else t − cuSeqlens[seq(t)] — the CPU kernel's contract
// (kernels/embeddings.h). ids, typeIds (nullable → type 0), positionIds (nullable), cuSeqlens:
// device int32. out: [numTokens, hidden] in outType. Out-of-range ids / positions are clamped
// on the device (validateBatch rejects them earlier).
void launchEmbeddingsLayerNorm(const int32_t* ids, const int32_t* typeIds, const int32_t* positionIds,
                               const int32_t* cuSeqlens, int numSequences, int64_t numTokens,
                               const EmbeddingTables& tables, void* out, DType outType, cudaStream_t stream);

// ---- GEMM (gemm.cu) -------------------------------------------------------------------------
// C[M, N] = act(A[M, K] · W[N, K]ᵀ + bias[N]) + residual[M, N]
// A and W share `inType`; C and residual have `outType`, which is inType or F32. bias is fp32.
// Everything row-major and dense (leading dimension = K for A and W, N for C and residual).
// C may alias residual (each element is read before it is written, by the same thread).
struct GemmEpilogue {
  const float* bias = nullptr;      // [N] or null
  const void* residual = nullptr;   // [M, N] in outType, or null
  Activation act = Activation::Identity;  // applied after the bias, before the residual
};
enum class GemmPath {
  Auto,        // tensor cores when eligible, else SIMT
  TensorCore,  // mma.sync m16n8k16 (F16/BF16 in; K % 8 == 0, N % 8 == 0, 16-byte aligned); throws if not eligible
  Simt,        // fp32 FMA on CUDA cores, any shape, any dtype (the fallback and the fp32 path)
};
bool gemmTensorCoreEligible(const void* A, const void* W, const void* C, const void* residual,
                            DType inType, DType outType, int M, int N, int K);
void launchGemm(const void* A, const void* W, void* C, int M, int N, int K, DType inType,
                DType outType, const GemmEpilogue& epilogue, cudaStream_t stream,
                GemmPath path = GemmPath::Auto);

// Dense module (sentence-transformers Dense): out[rows, outF] = act(in · Wᵀ + bias), fp32
// throughout (SIMT path: the inputs are a few thousand pooled vectors, never the bottleneck).
void launchDense(const float* in, int rows, int inFeatures, const float* W, const float* bias,
                 int outFeatures, Activation act, float* out, cudaStream_t stream);

// ---- residual + LayerNorm (layernorm.cu) ----------------------------------------------------
// out[r, :] = LayerNorm(x[r, :] + residual[r, :]) · gamma + beta, fp32 math, two-pass variance.
// x, residual (nullable), out: [rows, cols] in dt. out may alias x or residual.
void launchLayerNorm(const void* x, const void* residual, const float* gamma, const float* beta,
                     int64_t rows, int cols, float eps, void* out, DType dt, cudaStream_t stream);

// ---- varlen fused attention (attention.cu) --------------------------------------------------
// qkv: [numTokens, 3 * numHeads * headDim] in dt, row = [q (head-major) | k | v] (the fused QKV
// GEMM's output). out: [numTokens, numHeads * headDim] in dt. Bidirectional attention within
// each sequence, softmax(q·kᵀ / sqrt(headDim)) · v, no mask other than sequence boundaries.
enum class AttentionPath {
  Auto,        // tensor cores for F16/BF16 with headDim 32 or 64, else generic
  TensorCore,  // throws when not eligible
  Generic,     // SIMT, any headDim in 1..256, any dtype
};
// A bias added to every score before the softmax, by key − query distance (MPNet's relative
// position bias; the CPU kernel's ScoreBias, kernels/attention.h): score(i, j) +=
// byDelta[h·stride + (j − i) + maxLen − 1], a DEVICE fp32 table the host expands per batch
// (kernels/relative_position.h). byDelta null: no bias.
struct AttentionBias {
  const float* byDelta = nullptr;
  int maxLen = 0;
  int stride = 0;
};
bool attentionTensorCoreEligible(int headDim, DType dt, const void* qkv, const void* out);
void launchAttention(const void* qkv, const int32_t* cuSeqlens, int numSequences,
                     int64_t numTokens, int numHeads, int headDim, const AttentionBias& bias, void* out,
                     DType dt, cudaStream_t stream, AttentionPath path = AttentionPath::Auto);

// ---- pooling + normalize (pooling.cu) -------------------------------------------------------
// out[i, m * hidden + h] = mode_m over the tokens of sequence i (modes concatenated in the
// given order, sentence-transformers semantics: Cls = first token, Max, Mean, MeanSqrtLen =
// sum / sqrt(len), WeightedMean with weights 1..len, LastToken). tokens: [numTokens, hidden]
// in dt; out: [n, hidden * modes.size()] fp32. normalize: L2-normalize each output row
// (x / max(‖x‖, 1e-12)) in the same kernel. skipTokens > 0 leaves the first skipTokens tokens
// of every sequence out of the pooling (include_prompt: false), exactly as the CPU pool() in
// kernels/pooling.h (Cls still token 0; nothing left: Max -1e9, the others 0).
void launchPool(const void* tokens, DType dt, const int32_t* cuSeqlens, int numSequences,
                int hidden, const std::vector<PoolMode>& modes, bool normalize, float* out,
                cudaStream_t stream, int skipTokens = 0);
// x[r, :] /= max(‖x[r, :]‖, 1e-12), fp32, in place.
void launchL2Normalize(float* x, int64_t rows, int cols, cudaStream_t stream);

}  // namespace cuda
}  // namespace sbert
