// The CPU backend end to end on a small random BERT (hidden 32, 4 heads, 2 layers, ffn 64,
// vocab 100): against a naive double-precision forward written here from the transformers /
// sentence-transformers definitions, batch-composition independence (a sentence alone vs
// inside a batch of 1,000), Normalize options, empty batches, and the ERR_BAD_INPUT /
// ERR_BAD_MODEL errors of validateBatch and model loading.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"
#include "engine/backend.h"
#include "engine_harness.h"
#include "reference_forward.h"
#include "test_plan.h"
#include "test_util.h"

using namespace sbert;
using sbert::test::Tally;
using sbert::test::TestDense;
using sbert::test::TestModel;
using sbert::test::TestTensor;

namespace {

constexpr int kVocab = 100, kHidden = 32, kHeads = 4, kLayers = 2, kFfn = 64, kMaxPos = 128,
              kTypes = 2;

TestTensor randomTensor(std::mt19937& rng, std::vector<int64_t> shape, float lo, float hi) {
  TestTensor t;
  t.shape = shape;
  t.data = test::randomVec(rng, size_t(t.numel()), lo, hi);
  return t;
}

struct Dims {
  int vocab = kVocab, hidden = kHidden, heads = kHeads, layers = kLayers, ffn = kFfn,
      maxPos = kMaxPos;
};

TestModel makeSpec(uint32_t seed, std::vector<PoolMode> pooling, bool withDense, bool normalize,
                   Dims dims = Dims()) {
  std::mt19937 rng(seed);
  TestModel spec;
  BertShape& s = spec.shape;
  s.vocabSize = dims.vocab;
  s.hiddenSize = dims.hidden;
  s.numLayers = dims.layers;
  s.numHeads = dims.heads;
  s.intermediateSize = dims.ffn;
  s.maxPositions = dims.maxPos;
  s.typeVocabSize = kTypes;
  s.layerNormEps = 1e-12f;
  const int64_t H = dims.hidden, I = dims.ffn;
  const int kVocab = dims.vocab, kMaxPos = dims.maxPos, kLayers = dims.layers;
  auto& T = spec.tensors;
  T["embeddings.word_embeddings.weight"] = randomTensor(rng, {kVocab, H}, -1, 1);
  T["embeddings.position_embeddings.weight"] = randomTensor(rng, {kMaxPos, H}, -0.5f, 0.5f);
  T["embeddings.token_type_embeddings.weight"] = randomTensor(rng, {kTypes, H}, -0.5f, 0.5f);
  T["embeddings.LayerNorm.weight"] = randomTensor(rng, {H}, 0.8f, 1.2f);
  T["embeddings.LayerNorm.bias"] = randomTensor(rng, {H}, -0.1f, 0.1f);
  for (int l = 0; l < kLayers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    for (const char* q : {"query", "key", "value"}) {
      T[p + "attention.self." + q + ".weight"] = randomTensor(rng, {H, H}, -0.35f, 0.35f);
      T[p + "attention.self." + q + ".bias"] = randomTensor(rng, {H}, -0.1f, 0.1f);
    }
    T[p + "attention.output.dense.weight"] = randomTensor(rng, {H, H}, -0.3f, 0.3f);
    T[p + "attention.output.dense.bias"] = randomTensor(rng, {H}, -0.1f, 0.1f);
    T[p + "attention.output.LayerNorm.weight"] = randomTensor(rng, {H}, 0.8f, 1.2f);
    T[p + "attention.output.LayerNorm.bias"] = randomTensor(rng, {H}, -0.1f, 0.1f);
    T[p + "intermediate.dense.weight"] = randomTensor(rng, {I, H}, -0.3f, 0.3f);
    T[p + "intermediate.dense.bias"] = randomTensor(rng, {I}, -0.1f, 0.1f);
    T[p + "output.dense.weight"] = randomTensor(rng, {H, I}, -0.2f, 0.2f);
    T[p + "output.dense.bias"] = randomTensor(rng, {H}, -0.1f, 0.1f);
    T[p + "output.LayerNorm.weight"] = randomTensor(rng, {H}, 0.8f, 1.2f);
    T[p + "output.LayerNorm.bias"] = randomTensor(rng, {H}, -0.1f, 0.1f);
  }
  spec.pooling = pooling;
  if (withDense) {
    const int d0 = dims.hidden * int(pooling.size());
    TestDense a;
    a.inFeatures = d0;
    a.outFeatures = 48;
    a.activation = Activation::Tanh;
    a.weight = randomTensor(rng, {48, d0}, -0.2f, 0.2f);
    a.bias = randomTensor(rng, {48}, -0.1f, 0.1f);
    TestDense b;
    b.inFeatures = 48;
    b.outFeatures = 16;
    b.activation = Activation::Identity;
    b.weight = randomTensor(rng, {16, 48}, -0.3f, 0.3f);  // no bias
    spec.dense = {a, b};
  }
  spec.normalize = normalize;
  return spec;
}

// ---- the naive double-precision reference (reference_forward.h) ------------------------

using test::forwardRef;
using test::RefOut;

// ---- batches (engine_harness.h) ---------------------------------------------------------

using test::Batch;
using test::Outs;
using test::Want;

Batch randomBatch(std::mt19937& rng, const std::vector<int>& lens) { return test::randomBatch(rng, lens, kVocab); }

double cosine(const float* a, const double* b, int n) {
  double ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < n; ++i) ab += a[i] * b[i], aa += double(a[i]) * a[i], bb += b[i] * b[i];
  return ab / std::sqrt(aa * bb);
}

void checkAgainstReference(Tally& t) {
  const std::vector<PoolMode> all = {PoolMode::Cls, PoolMode::Max, PoolMode::Mean,
                                     PoolMode::MeanSqrtLen, PoolMode::WeightedMean, PoolMode::LastToken};
  for (bool dense : {false, true}) {
    TestModel spec = makeSpec(7, all, dense, true);
    auto be = makeCpuBackend(spec.plan());
    std::mt19937 rng(17);
    std::vector<int> lens = {1, 2, 7, 33, kMaxPos, 5, 64, 19};
    Batch b = randomBatch(rng, lens);
    const int dim = spec.sentenceDim();
    Outs out = test::run(*be, b.view(), dim, kHidden, {true, true});
    bool sizes = out.sentence.size() == lens.size() * size_t(dim) &&
                 out.tokens.size() == size_t(b.cu.back()) * kHidden;
    t.check(sizes, "encode output sizes (dense=%d): sentence %zu, tokens %zu", int(dense),
            out.sentence.size(), out.tokens.size());
    if (!sizes) continue;
    double tokErr = 0, tokMax = 0, minCos = 1, sentErr = 0;
    for (size_t s = 0; s < lens.size(); ++s) {
      RefOut r = forwardRef(spec, b.ids.data() + b.cu[s], nullptr, lens[s]);
      for (size_t i = 0; i < r.tokens.size(); ++i) {
        tokErr = std::max(tokErr, std::fabs(out.tokens[size_t(b.cu[s]) * kHidden + i] - r.tokens[i]));
        tokMax = std::max(tokMax, std::fabs(r.tokens[i]));
      }
      minCos = std::min(minCos, cosine(out.sentence.data() + s * dim, r.sentence.data(), dim));
      for (int j = 0; j < dim; ++j)
        sentErr = std::max(sentErr, std::fabs(out.sentence[s * dim + j] - r.sentence[j]));
    }
    t.check(tokErr <= 1e-5 * tokMax, "last_hidden_state vs double reference (dense=%d): max abs err %.3g (max |ref| %.3g)",
            int(dense), tokErr, tokMax);
    t.check(minCos >= 0.999999 && sentErr <= 1e-5,
            "sentence embeddings vs double reference (6 pooling modes, dense=%d, normalize): min cosine %.9f, max abs err %.3g",
            int(dense), minCos, sentErr);
  }
}

void checkBatchIndependence(Tally& t) {
  TestModel spec = makeSpec(9, {PoolMode::Mean}, false, true);
  auto be = makeCpuBackend(spec.plan());
  std::mt19937 rng(23);
  std::vector<int> lens(1000);
  for (int& l : lens) l = 1 + int(rng() % 64);
  lens[537] = 21;
  lens[999] = kMaxPos;
  Batch big = randomBatch(rng, lens);
  Outs all = test::run(*be, big.view(), kHidden, kHidden, {true, true});
  const int64_t bigBytes = be->memoryBytes();
  double worstSent = 0, worstTok = 0;
  for (int s : {0, 537, 998, 999}) {
    Batch one;
    one.ids.assign(big.ids.begin() + big.cu[s], big.ids.begin() + big.cu[s + 1]);
    one.cu = {0, lens[s]};
    Outs o = test::run(*be, one.view(), kHidden, kHidden, {true, true});
    worstSent = std::max(worstSent, test::maxAbsDiff(o.sentence.data(), all.sentence.data() + size_t(s) * kHidden, kHidden));
    worstTok = std::max(worstTok, test::maxAbsDiff(o.tokens.data(), all.tokens.data() + size_t(big.cu[s]) * kHidden,
                                                   size_t(lens[s]) * kHidden));
  }
  t.check(worstSent <= 1e-6 && worstTok <= 1e-6,
          "sentence alone vs inside a batch of 1000 (%d tokens): max diff sentence %.3g, tokens %.3g",
          big.cu.back(), worstSent, worstTok);
  // A batch over retainTokens (default 8192) releases its workspace afterwards.
  t.check(big.cu.back() > 8192 && bigBytes < int64_t(big.cu.back()) * kHidden * 4,
          "workspace released after an oversized batch (%d tokens): memoryBytes %lld",
          big.cu.back(), (long long)bigBytes);
  be->setRetainTokens(1 << 20);
  test::run(*be, big.view(), kHidden, kHidden);
  t.check(be->memoryBytes() > int64_t(big.cu.back()) * kHidden * 4,
          "workspace kept for a batch within retainTokens: memoryBytes %lld", (long long)be->memoryBytes());
}

void checkOptions(Tally& t) {
  std::mt19937 rng(29);
  Batch b = randomBatch(rng, {5, 9, 1});
  auto norm = [](const float* v, int n) {
    double s = 0;
    for (int i = 0; i < n; ++i) s += double(v[i]) * v[i];
    return std::sqrt(s);
  };
  {
    TestModel spec = makeSpec(3, {PoolMode::Cls}, false, true);
    auto be = makeCpuBackend(spec.plan());
    t.check(be->deviceName() == "cpu", "deviceName() == \"cpu\"");
    Outs a = test::run(*be, b.view(), kHidden, kHidden);
    t.check(std::fabs(norm(a.sentence.data(), kHidden) - 1) < 1e-6, "Normalize module applied");
  }
  {
    TestModel spec = makeSpec(3, {PoolMode::Mean, PoolMode::Max}, false, false);
    auto be = makeCpuBackend(spec.plan());
    Outs a = test::run(*be, b.view(), 64, kHidden);
    Outs c = test::run(*be, b.view(), 64, kHidden, {true, false, true});
    bool ok = a.sentence.size() == 3 * 64 && std::fabs(norm(c.sentence.data() + 64, 64) - 1) < 1e-6 &&
              std::fabs(norm(a.sentence.data() + 64, 64) - 1) > 1e-3;
    t.check(ok, "forceNormalize normalizes a model without a Normalize module");
    Outs tokOnly = test::run(*be, b.view(), 64, kHidden, {false, true});
    Outs both = test::run(*be, b.view(), 64, kHidden, {true, true});
    t.check(tokOnly.tokens.size() == 15 * kHidden && tokOnly.tokens == both.tokens,
            "tokens only == tokens of a call that also pools");
    EncodeBatch empty;
    Outs e = test::run(*be, empty, 64, kHidden, {true, true});
    int32_t cu0 = 0;
    EncodeBatch empty2;
    empty2.cuSeqlens = &cu0;
    Outs e2 = test::run(*be, empty2, 64, kHidden, {true, true});
    t.check(e.sentence.empty() && e.tokens.empty() && e2.sentence.empty() && e2.tokens.empty(),
            "a batch of 0 sequences gives empty outputs");
  }
}

void expectError(Tally& t, const char* what, const char* code, const std::string& needle,
                 const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    const bool ok = e.code() == code && std::string(e.what()).find(needle) != std::string::npos;
    t.check(ok, "%s → %s: %s", what, e.code().c_str(), e.what());
    return;
  } catch (const std::exception& e) {
    t.check(false, "%s → unexpected exception %s", what, e.what());
    return;
  }
  t.check(false, "%s → no error (expected %s containing \"%s\")", what, code, needle.c_str());
}

void checkValidation(Tally& t) {
  TestModel spec = makeSpec(5, {PoolMode::Mean}, false, false);
  auto be = makeCpuBackend(spec.plan());
  std::mt19937 rng(31);
  auto encodeWith = [&](Batch b, int n) {
    EncodeBatch v = b.view();
    v.numSequences = n;
    test::run(*be, v, kHidden, kHidden);
  };
  Batch good = randomBatch(rng, {3, 4, 2});
  expectError(t, "numSequences = -1", "ERR_BAD_INPUT", "numSequences must be >= 0 (got -1)",
              [&] { encodeWith(good, -1); });
  Batch b1 = good;
  b1.cu[0] = 1;
  expectError(t, "cuSeqlens[0] = 1", "ERR_BAD_INPUT", "cuSeqlens[0] must be 0 (got 1)", [&] { encodeWith(b1, 3); });
  Batch b2 = good;
  b2.cu = {0, 3, 2, 9};
  expectError(t, "decreasing cuSeqlens", "ERR_BAD_INPUT", "cuSeqlens must be non-decreasing: cuSeqlens[2] = 2 < cuSeqlens[1] = 3",
              [&] { encodeWith(b2, 3); });
  Batch b3 = good;
  b3.cu = {0, 3, 3, 9};
  expectError(t, "empty sequence", "ERR_BAD_INPUT", "sequence 1 has length 0; lengths must be in 1..128",
              [&] { encodeWith(b3, 3); });
  Batch b4 = randomBatch(rng, {2, kMaxPos + 1});
  expectError(t, "sequence longer than max positions", "ERR_BAD_INPUT",
              "sequence 1 has length 129; lengths must be in 1..128", [&] { encodeWith(b4, 2); });
  Batch b5 = good;
  b5.ids[3 + 2] = kVocab;
  expectError(t, "token id = vocab size", "ERR_BAD_INPUT",
              "sequence 1, token 2: token id 100 is out of range [0, 100)", [&] { encodeWith(b5, 3); });
  Batch b6 = good;
  b6.ids[0] = -5;
  expectError(t, "negative token id", "ERR_BAD_INPUT",
              "sequence 0, token 0: token id -5 is out of range [0, 100)", [&] { encodeWith(b6, 3); });
  // validateBatch directly
  BertShape shape = spec.shape;
  EncodeBatch none;
  bool ok = true;
  try { validateBatch(shape, none); } catch (...) { ok = false; }
  t.check(ok, "validateBatch accepts n == 0 with no arrays");
}

// The JS loader validates model folders; a plan that breaks the contract anyway is refused
// with ERR_INTERNAL (never a crash), and non-finite weights with ERR_BAD_MODEL naming the tensor.
void checkModelErrors(Tally& t) {
  {
    TestModel spec = makeSpec(5, {PoolMode::Mean}, false, false);
    spec.tensors.erase("encoder.layer.1.output.dense.bias");
    expectError(t, "missing tensor", "ERR_INTERNAL", "layer vector missing", [&] { spec.plan(); });
  }
  {
    TestModel spec = makeSpec(5, {PoolMode::Mean}, false, false);
    TestTensor& w = spec.tensors["encoder.layer.0.intermediate.dense.weight"];
    w.shape = {kFfn, kHidden - 1};
    w.data.resize(size_t(kFfn) * (kHidden - 1));
    expectError(t, "wrong shape", "ERR_INTERNAL",
                "encoder.layer.0.intermediate.dense.weight has shape [64, 31], expected [64, 32]",
                [&] { spec.plan(); });
  }
  {
    TestModel spec = makeSpec(5, {PoolMode::Mean}, false, false);
    PlanInput in = spec.planInput();
    in.byteLengths[in.plan.embeddings.lnBeta] -= 4;
    expectError(t, "bytes not matching shape", "ERR_INTERNAL", "embeddings.LayerNorm.bias: 124 bytes for shape [32]",
                [&] { resolveModelPlan(in); });
  }
  {
    TestModel spec = makeSpec(5, {PoolMode::Mean, PoolMode::Cls}, true, false);
    spec.dense[0].inFeatures = 32;
    expectError(t, "dense in_features mismatch", "ERR_INTERNAL", "Dense dimensions", [&] { spec.plan(); });
  }
  {
    TestModel spec = makeSpec(5, {PoolMode::Mean}, false, false);
    spec.shape.numHeads = 5;
    expectError(t, "hidden not divisible by heads", "ERR_INTERNAL", "shape", [&] { spec.plan(); });
  }
  for (float bad : {NAN, INFINITY, -INFINITY}) {
    TestModel spec = makeSpec(5, {PoolMode::Mean}, true, false);
    spec.tensors["encoder.layer.1.attention.self.key.weight"].data[77] = bad;
    expectError(t, "non-finite weight", "ERR_BAD_MODEL",
                "tensor encoder.layer.1.attention.self.key.weight holds a non-finite value",
                [&] { makeCpuBackend(spec.plan()); });
    TestModel d = makeSpec(5, {PoolMode::Mean}, true, false);
    d.dense[1].weight.data[3] = bad;
    expectError(t, "non-finite Dense weight", "ERR_BAD_MODEL", "tensor dense.1.linear.weight holds a non-finite value",
                [&] { makeCpuBackend(d.plan()); });
  }
}

}  // namespace

int main() {
  Tally t;
  checkAgainstReference(t);
  checkBatchIndependence(t);
  checkOptions(t);
  checkValidation(t);
  checkModelErrors(t);
  return t.finish();
}
