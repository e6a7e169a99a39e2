// Encoder embeddings fused with their LayerNorm, over a packed (unpadded) batch:
//   out[t, :] = LN((wordEmb[ids[t]] + typeEmb[typeIds[t]]) + posEmb[pos(t)])
// for token t of sequence s (tokens [cuSeqlens[s], cuSeqlens[s+1])), where pos(t) is
// positionIds[t] when given, else t − cuSeqlens[s] (0-based within the sequence, BERT's rule);
// the sum order is the one transformers' BertEmbeddings uses. typeEmb null: the model has no
// token type embeddings (DistilBERT, MPNet) and nothing is added; typeIds null: all type 0.
// ids, typeIds, positionIds: [T] int32; cuSeqlens: [n + 1] int32, T = cuSeqlens[n];
// wordEmb [vocab, hidden], posEmb [maxPositions, hidden], typeEmb [typeVocab, hidden],
// gamma/beta [hidden]; out [T, hidden] fp32. Indices are NOT checked here (validateBatch does
// that before any kernel runs; positionIdsAfterPadding's values are bounded by the sequence
// length check). Parallel over tokens.
#pragma once

#include <cstdint>

namespace sbert {

void embeddingsLayerNorm(const int32_t* ids, const int32_t* typeIds, const int32_t* positionIds,
                         const int32_t* cuSeqlens, int n, const float* wordEmb, const float* posEmb,
                         const float* typeEmb, const float* gamma, const float* beta, int hidden, float eps,
                         float* out);

// Position ids of RoBERTa / XLM-R / MPNet (transformers' create_position_ids_from_input_ids)
// into out [T]: per sequence, a token whose id is not paddingIdx gets paddingIdx + the count of
// non-padding tokens up to and including it; a paddingIdx token gets paddingIdx.
void positionIdsAfterPadding(const int32_t* ids, const int32_t* cuSeqlens, int n, int paddingIdx, int32_t* out);

// ---- training ----

// Training forward: the same sum, then layerNormForwardTrain, keeping z [T, hidden] and
// rstd [T] for embeddingsBackward (no dropout here: the caller applies it to `out`).
void embeddingsForwardTrain(const int32_t* ids, const int32_t* typeIds, const int32_t* positionIds,
                            const int32_t* cuSeqlens, int n, const float* wordEmb, const float* posEmb,
                            const float* typeEmb, const float* gamma, const float* beta, int hidden, float eps,
                            float* out, float* z, float* rstd);

// Backward from dOut [T, hidden]: LayerNorm backward (dGamma, dBeta +=), then the sum's
// gradient is scatter-added (+=) into the rows of the tables the batch used: dWordEmb[ids[t]],
// dPosEmb[pos(t)], dTypeEmb[typeIds[t] or 0]. Other rows are untouched. dPosEmb / dTypeEmb may
// be null (a frozen table, or no token types): that table gets nothing.
void embeddingsBackward(const float* dOut, const float* z, const float* rstd, const int32_t* ids,
                        const int32_t* typeIds, const int32_t* positionIds, const int32_t* cuSeqlens, int n,
                        const float* gamma, int hidden, float* dWordEmb, float* dPosEmb, float* dTypeEmb,
                        float* dGamma, float* dBeta);

}  // namespace sbert
