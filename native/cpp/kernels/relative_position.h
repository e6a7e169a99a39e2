// MPNet's relative attention bias: one table [numBuckets, numHeads] shared by all layers,
// looked up by the bucket of the key − query distance and added to every attention score
// before the softmax (transformers' MPNetEncoder.compute_position_bias and
// relative_position_bucket, T5-style buckets, bidirectional):
//   n = query − key; half = numBuckets / 2; exact = half / 2
//   bucket = (n < 0 ? half : 0) + (|n| < exact ? |n|
//            : min(half − 1, exact + trunc(log(|n| / exact) / log(maxDistance / exact)
//                                       · (half − exact))))
// evaluated in fp32 as torch does (log of the fp32 quotient, the divisor log(...) rounded to
// fp32), so bucket edges such as |n| = 16, 32, 64 fall where they fall in PyTorch.
//
// The kernels take the table expanded per batch into `byDelta` [numHeads][stride]: row h,
// column (key − query) + maxLen − 1, for every distance a batch whose sequences are at most
// maxLen long can have; the `stride − (2·maxLen − 1)` columns after them are zeros, so vector
// loads that run past the last key stay in bounds (see attention.h, ScoreBias).
#pragma once

#include <cstdint>

namespace sbert {

int relativePositionBucket(int keyMinusQuery, int numBuckets, int maxDistance);

// Row stride of byDelta for sequences of at most maxLen tokens.
inline int scoreBiasStride(int maxLen) { return 2 * maxLen - 1 + 16; }

// byDelta [numHeads][scoreBiasStride(maxLen)] from table [numBuckets, numHeads].
void expandRelativeBias(const float* table, int numBuckets, int maxDistance, int numHeads, int maxLen,
                        float* byDelta);

// Gradient of the table (+=) from the attention backward's per-(sequence, head) sums:
// dPairs holds, for sequence s of length L and head h, 2L − 1 values at
// pairOffsets[s] + h·(2L − 1), indexed by (key − query) + L − 1 (attentionBiasGradOffsets).
// Summed in sequence, head, distance order: the result does not depend on threads.
void relativeBiasBackward(const float* dPairs, const int64_t* pairOffsets, const int32_t* cuSeqlens, int n,
                          int numHeads, int numBuckets, int maxDistance, float* dTable);

}  // namespace sbert
