// BERT embeddings fused with their LayerNorm, over a packed (unpadded) batch:
//   out[t, :] = LN((wordEmb[ids[t]] + typeEmb[typeIds[t]]) + posEmb[t - cuSeqlens[s]])
// for token t of sequence s (tokens [cuSeqlens[s], cuSeqlens[s+1]), positions 0-based within
// the sequence; the sum order is the one transformers' BertEmbeddings uses).
// ids, typeIds: [T] int32 (typeIds null → all type 0); cuSeqlens: [n + 1] int32, T = cuSeqlens[n];
// wordEmb [vocab, hidden], posEmb [maxPositions, hidden], typeEmb [typeVocab, hidden],
// gamma/beta [hidden]; out [T, hidden] fp32. Indices are NOT checked here (validateBatch does
// that before any kernel runs). Parallel over tokens.
#pragma once

#include <cstdint>

namespace sbert {

void embeddingsLayerNorm(const int32_t* ids, const int32_t* typeIds, const int32_t* cuSeqlens,
                         int n, const float* wordEmb, const float* posEmb, const float* typeEmb,
                         const float* gamma, const float* beta, int hidden, float eps,
                         float* out);

}  // namespace sbert
