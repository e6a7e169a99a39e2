// Running a Backend (engine/backend.h) in the engine tests, CPU and CUDA alike: packed batches
// of random token ids, outputs in test-owned buffers, sub-batches, and the per-sentence cosine
// that compares two runs. Header only (each tests/*.cc is its own executable).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "engine/backend.h"
#include "test_util.h"

namespace sbert::test {

// A packed batch: token ids and cuSeqlens (n + 1 entries), as the binding passes them.
struct Batch {
  std::vector<int32_t> ids, cu;
  std::vector<int32_t> types;  // token type ids (a cross-encoder's pairs); may stay empty
  // withTypes: the token type ids go to the engine too.
  EncodeBatch view(bool withTypes = false) const {
    EncodeBatch b;
    b.ids = ids.data();
    b.cuSeqlens = cu.data();
    b.typeIds = withTypes && !types.empty() ? types.data() : nullptr;
    b.numSequences = static_cast<int>(cu.size()) - 1;
    return b;
  }
};

// Sequences of the given lengths with ids uniform in [0, vocab).
inline Batch randomBatch(std::mt19937& rng, const std::vector<int>& lens, int vocab) {
  Batch b;
  b.cu = cuSeqlensOf(lens);
  b.ids.resize(size_t(b.cu.back()));
  for (auto& x : b.ids) x = static_cast<int32_t>(rng() % uint32_t(vocab));
  return b;
}

// Sequences [first, first + count) of b as a batch of their own.
inline Batch sliceBatch(const Batch& b, int first, int count) {
  Batch s;
  const int a = b.cu[first], e = b.cu[first + count];
  s.ids.assign(b.ids.begin() + a, b.ids.begin() + e);
  if (!b.types.empty()) s.types.assign(b.types.begin() + a, b.types.begin() + e);
  for (int i = 0; i <= count; ++i) s.cu.push_back(b.cu[first + i] - a);
  return s;
}

// Outputs in test-owned buffers (the binding passes the user's Float32Arrays instead).
struct Outs {
  std::vector<float> sentence, tokens;
};

// What a run asks for: sentence embeddings, token embeddings, L2-normalized sentences.
struct Want {
  bool sentence = true;
  bool tokens = false;
  bool forceNormalize = false;
};

// One encode of v: sentence rows of `dim` values, token rows of `hidden` values.
inline Outs run(Backend& be, const EncodeBatch& v, int dim, int hidden, Want want = {}) {
  Outs o;
  const int n = std::max(v.numSequences, 0);
  if (want.sentence) o.sentence.resize(size_t(n) * dim);
  if (want.tokens) o.tokens.resize(size_t(v.numTokens()) * hidden);
  EncodeOutputs e;
  e.sentence = want.sentence ? o.sentence.data() : nullptr;
  e.tokens = want.tokens ? o.tokens.data() : nullptr;
  e.forceNormalize = want.forceNormalize;
  be.encode(v, e);
  return o;
}

// The smallest cosine between rows of a and b ([rows, dim] each); −2 when the sizes differ or
// a holds a non-finite value.
inline double minCosine(const std::vector<float>& a, const std::vector<float>& b, int rows, int dim) {
  if (a.size() != b.size() || a.size() != size_t(rows) * dim) return -2;
  double worst = 1;
  for (int r = 0; r < rows; ++r) {
    double ab = 0, aa = 0, bb = 0;
    for (int c = 0; c < dim; ++c) {
      const double x = a[size_t(r) * dim + c], y = b[size_t(r) * dim + c];
      if (!std::isfinite(x)) return -2;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    worst = std::min(worst, ab / std::max(std::sqrt(aa * bb), 1e-30));
  }
  return worst;
}

}  // namespace sbert::test
