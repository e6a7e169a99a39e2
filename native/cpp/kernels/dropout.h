// Inverted dropout as torch's nn.Dropout in training: each element is kept with probability
// 1 − p and then scaled by 1/(1 − p), or zeroed. The keep decision of element i is a pure
// function of (seed, i) — a counter-based hash (SplitMix64 finalizer) — so masks are
// deterministic, independent of threads, and need no generator state. The mask (1 = kept) is
// stored as bytes for the backward pass, which applies the same scaling to the gradient.
// p = 0 keeps everything (mask all ones); p must be in [0, 1).
#pragma once

#include <cstdint>

namespace sbert {

// True when element `index` of the stream `seed` is kept at drop probability p.
bool dropoutKeep(uint64_t seed, uint64_t index, float p);
// x[i] ← keep ? x[i]/(1 − p) : 0, mask[i] ← keep; in place.
void dropoutForward(float* x, int64_t n, float p, uint64_t seed, uint8_t* mask);
// d[i] ← mask[i] ? d[i]/(1 − p) : 0; in place.
void dropoutBackward(float* d, int64_t n, float p, const uint8_t* mask);
// A stream seed for one dropout site of one step (hashes the three into 64 bits).
uint64_t dropoutStream(uint64_t seed, uint64_t step, uint64_t site);

}  // namespace sbert
