// Multi-head self-attention over a packed (unpadded) batch, no mask needed: sequence s attends
// only to its own tokens [cuSeqlens[s], cuSeqlens[s+1]).
//   qkv [T, 3·hidden] fp32 row-major: per token q | k | v, head h at columns h·headDim of each
//       third (the output of the fused QKV linear); hidden = numHeads·headDim.
//   out [T, hidden]: out[t, h·headDim + :] = softmax(q_t·Kᵀ · 1/√headDim) · V  (per head)
// Softmax in fp32 with max subtraction, probabilities normalised (× 1/sum) before P·V, like
// torch. Work is parallel over (sequence, head) pairs; per pair a thread gathers Kᵀ [headDim,
// len] into its own scratch and computes one score row at a time (scratch O(len·headDim), no
// [len, len] matrix). Score and P·V loops are vectorised (AVX-512 / AVX2+FMA / portable, runtime
// dispatch), exp is the SIMD exp of simd_math.h. A pair's result depends only on its own tokens.
#pragma once

#include <cstdint>

namespace sbert {

// A bias added to every score before the softmax, by key − query distance (MPNet's relative
// position bias, expanded per batch by relative_position.h): score(i, j) +=
// byDelta[h·stride + (j − i) + maxLen − 1]. maxLen bounds every sequence of the batch; stride
// is scoreBiasStride(maxLen) (zero tail for vector loads). byDelta null: no bias.
struct ScoreBias {
  const float* byDelta = nullptr;
  int maxLen = 0;
  int stride = 0;
};

void attention(const float* qkv, const int32_t* cuSeqlens, int n, int numHeads, int headDim,
               const ScoreBias& bias, float* out);

// ---- training ----
// The probabilities P = softmax(q·Kᵀ/√headDim) of every (sequence, head) pair are kept for
// backward: pair (s, h) of length L owns the [L, L] block at probOffsets[s] + h·L² (row i:
// query i). attentionProbOffsets fills probOffsets [n + 1] (the total, Σ heads·L², is bounded
// by the token budget times the longest sequence).
void attentionProbOffsets(const int32_t* cuSeqlens, int n, int numHeads, int64_t* offsets);
// Training forward: out as `attention`, with attention-probability dropout (torch's
// nn.Dropout on P: P' = P·keep/(1 − p)) when dropP > 0; keep bits come from dropoutKeep(seed,
// index of the element in probs) and are stored in mask (same layout as probs; may be null
// when dropP = 0). probs holds P before dropout.
void attentionForwardTrain(const float* qkv, const int32_t* cuSeqlens, int n, int numHeads,
                           int headDim, const ScoreBias& bias, const int64_t* probOffsets, float dropP,
                           uint64_t seed, float* probs, uint8_t* mask, float* out);
// Backward from dOut [T, hidden]: writes dQkv [T, 3·hidden] (dQ | dK | dV, the layout of qkv):
//   dV_j = Σ_i P'_ij dO_i,  dP'_ij = dO_i·v_j,  dP = dP'·keep/(1 − p),
//   dS_ij = P_ij (dP_ij − Σ_k P_ik dP_ik),  dQ_i = Σ_j dS_ij k_j/√d,  dK_j = Σ_i dS_ij q_i/√d.
// Parallel over (sequence, head) pairs, each writing its own columns of its own rows.
// With a score bias, dBiasPairs (not null) gets += dScore_ij summed per (sequence, head) by
// distance: sequence s of length L, head h at biasOffsets[s] + h·(2L − 1), index
// (j − i) + L − 1 (attentionBiasGradOffsets); relativeBiasBackward reduces it into the table.
void attentionBackward(const float* qkv, const int32_t* cuSeqlens, int n, int numHeads,
                       int headDim, const ScoreBias& bias, const int64_t* probOffsets, float dropP,
                       const float* probs, const uint8_t* mask, const float* dOut, float* dQkv,
                       const int64_t* biasOffsets = nullptr, float* dBiasPairs = nullptr);
// offsets [n + 1]: offsets[s] = Σ_{s' < s} numHeads·(2·L_s' − 1).
void attentionBiasGradOffsets(const int32_t* cuSeqlens, int n, int numHeads, int64_t* offsets);

}  // namespace sbert
