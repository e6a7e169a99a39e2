// Inverted dropout as torch's nn.Dropout in training: each element is kept with probability
// 1 − p and then scaled by 1/(1 − p), or zeroed. The keep decision of element i is a pure
// function of (seed, i mod 2^32) — a counter-based 32-bit hash (lowbias32) of i plus a key
// derived from the seed, compared with p in units of 2^-24 — so masks are deterministic,
// independent of threads and ISA, and need no generator state; the loops vectorize (AVX-512 /
// AVX2 bodies behind the runtime dispatch, same bits as the portable one). The mask (1 = kept)
// is stored as bytes for the backward pass, which applies the same scaling to the gradient.
// p = 0 keeps everything; p must be in [0, 1).
#pragma once

#include <cstdint>

namespace sbert {

// True when element `index` of the stream `seed` is kept at drop probability p.
bool dropoutKeep(uint64_t seed, uint64_t index, float p);
// x[i] ← keep ? x[i]/(1 − p) : 0, mask[i] ← keep, for i in [0, n) with element indices
// firstIndex + i of the stream; in place.
void dropoutForward(float* x, int64_t n, float p, uint64_t seed, uint8_t* mask,
                    uint64_t firstIndex = 0);
// d[i] ← mask[i] ? d[i]/(1 − p) : 0; in place.
void dropoutBackward(float* d, int64_t n, float p, const uint8_t* mask);
// A stream seed for one dropout site of one step (hashes the three into 64 bits).
uint64_t dropoutStream(uint64_t seed, uint64_t step, uint64_t site);

}  // namespace sbert
