// The CUDA engine (makeCudaBackend, native/cuda) against the CPU engine (makeCpuBackend) on
// random BERT models, in fp16, bf16 and fp32: per-sentence cosine (≥ 0.999 for 16-bit storage,
// 0.99999 for fp32) and token states (normalized error, whole tensor and worst row — see
// cuda_test_util.h), batch-composition independence, out-of-memory recovery (a workspace beyond
// the card, and one cudaMalloc cannot fit), bad input rejected before any work, the model without
// its Normalize module, and a non-finite weight refused at load.
//
// Prints one line per check and a final "N passed, M failed"; exits non-zero on failure.
// Without CUDA compiled in, or without a device, it prints "skipped: no CUDA device" and exits 0.
//   cuda_engine_test                  all sections
//   cuda_engine_test --only engine    only these sections (--list names them)
//   cuda_engine_test --quick          skips the 2,000-sequence batches (a fast smoke run)
// Each kernel alone: cuda_ops_test.cc.
#include <cstdio>

#ifndef SBERT_WITH_CUDA

int main() {
  std::printf("cuda_engine_test: skipped: no CUDA device (this build has no CUDA engine)\n");
  return 0;
}

#else

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cuda_test_util.h"
#include "engine/backend.h"
#include "engine_harness.h"
#include "test_plan.h"

using namespace sbert;
using sbert::test::Batch;
using sbert::test::Errors;
using sbert::test::errorsOf;
using sbert::test::gQuick;
using sbert::test::minCosine;
using sbert::test::Outs;
using sbert::test::sliceBatch;
using sbert::test::Tally;

namespace {

// ---- the whole engine -------------------------------------------------------------------------
// mpnet: MPNet's layout (no token types, position ids after padding index 1, 514 positions, the
// relative attention bias of 32 buckets up to distance 128).
test::TestModel randomModel(int H, int heads, int F, int layers, bool withDense, uint32_t seed, bool mpnet = false) {
  std::mt19937 rng(seed);
  test::TestModel spec;
  BertShape& s = spec.shape;
  s.vocabSize = 1000;
  s.hiddenSize = H;
  s.numLayers = layers;
  s.numHeads = heads;
  s.intermediateSize = F;
  s.maxPositions = mpnet ? 514 : 512;
  s.typeVocabSize = mpnet ? 0 : 2;
  s.layerNormEps = 1e-12f;
  if (mpnet) {
    s.positionIds = PositionIds::AfterPadding;
    s.paddingIdx = 1;
    s.relativeBuckets = 32;
    s.relativeMaxDistance = 128;
  }
  auto put = [&](const std::string& name, std::vector<int64_t> shape, float lo, float hi) {
    test::TestTensor t;
    t.shape = shape;
    t.data = test::randomVec(rng, static_cast<size_t>(t.numel()), lo, hi);
    spec.tensors[name] = std::move(t);
  };
  const float wh = std::sqrt(3.f / H), wf = std::sqrt(3.f / F);
  put("embeddings.word_embeddings.weight", {s.vocabSize, H}, -1.f, 1.f);
  put("embeddings.position_embeddings.weight", {s.maxPositions, H}, -0.5f, 0.5f);
  if (!mpnet) put("embeddings.token_type_embeddings.weight", {s.typeVocabSize, H}, -0.5f, 0.5f);
  put("embeddings.LayerNorm.weight", {H}, 0.8f, 1.2f);
  put("embeddings.LayerNorm.bias", {H}, -0.1f, 0.1f);
  for (int i = 0; i < layers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    for (const char* q : {"query", "key", "value"}) {
      put(p + "attention.self." + q + ".weight", {H, H}, -wh, wh);
      put(p + "attention.self." + q + ".bias", {H}, -0.1f, 0.1f);
    }
    put(p + "attention.output.dense.weight", {H, H}, -wh, wh);
    put(p + "attention.output.dense.bias", {H}, -0.1f, 0.1f);
    put(p + "attention.output.LayerNorm.weight", {H}, 0.8f, 1.2f);
    put(p + "attention.output.LayerNorm.bias", {H}, -0.1f, 0.1f);
    put(p + "intermediate.dense.weight", {F, H}, -wh, wh);
    put(p + "intermediate.dense.bias", {F}, -0.1f, 0.1f);
    put(p + "output.dense.weight", {H, F}, -wf, wf);
    put(p + "output.dense.bias", {H}, -0.1f, 0.1f);
    put(p + "output.LayerNorm.weight", {H}, 0.8f, 1.2f);
    put(p + "output.LayerNorm.bias", {H}, -0.1f, 0.1f);
  }
  spec.pooling = {PoolMode::Mean};
  if (withDense) {
    spec.pooling = {PoolMode::Cls, PoolMode::Mean, PoolMode::Max};
    test::TestDense d;
    d.inFeatures = 3 * H;
    d.outFeatures = 128;
    d.activation = Activation::Tanh;
    const float wd = std::sqrt(3.f / d.inFeatures);
    d.weight.shape = {d.outFeatures, d.inFeatures};
    d.weight.data = test::randomVec(rng, static_cast<size_t>(d.weight.numel()), -wd, wd);
    d.bias.shape = {d.outFeatures};
    d.bias.data = test::randomVec(rng, d.outFeatures, -0.1f, 0.1f);
    spec.dense.push_back(std::move(d));
  }
  spec.normalize = true;
  if (mpnet) put("encoder.relative_attention_bias.weight", {s.relativeBuckets, heads}, -2.f, 2.f);
  return spec;
}

// A random batch whose ids come from the seeded generator `seed`.
Batch randomBatch(const std::vector<int>& lens, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  return test::randomBatch(rng, lens, vocab);
}

// Sentence embeddings (and token embeddings when `tokens`) of one encode.
Outs run(Backend& be, const EncodeBatch& v, int dim, int hidden, bool tokens = false) {
  return test::run(be, v, dim, hidden, {true, tokens});
}

const char* precName(Precision p) {
  return p == Precision::Fp16 ? "fp16" : p == Precision::Bf16 ? "bf16" : "fp32";
}

void engineChecks(Tally& t) {
  struct M { int H, heads, F, layers; bool dense; const char* what; bool mpnet = false; };
  const M models[] = {
      {128, 2, 512, 2, false, "H=128 heads=2 (D=64)"},
      {96, 3, 384, 2, true, "H=96 heads=3 (D=32) +Dense(tanh)"},
      {72, 3, 160, 1, false, "H=72 heads=3 (D=24, generic attention)"},
      {128, 2, 512, 2, false, "MPNet-like H=128 heads=2 (D=64)", true},
      {72, 3, 160, 1, false, "MPNet-like H=72 heads=3 (D=24, generic)", true},
  };
  uint32_t seed = 4000;
  for (const M& m : models) {
    test::TestModel spec = randomModel(m.H, m.heads, m.F, m.layers, m.dense, seed++, m.mpnet);
    std::unique_ptr<Backend> cpu = makeCpuBackend(spec.plan());
    std::vector<int> lens = {1, 7, 33, 255, 512, 2, 3};
    if (!gQuick) {
      std::mt19937 rng(seed++);
      for (int i = 0; i < 1993; ++i) lens.push_back(1 + static_cast<int>(rng() % 60));
    }
    Batch batch = randomBatch(lens, spec.shape.vocabSize, seed++);
    if (m.mpnet) {
      // Padding ids inside sequences (the position rule skips them).
      for (size_t i = 5; i < batch.ids.size(); i += 101) batch.ids[i] = spec.shape.paddingIdx;
    } else {
      // Token type ids as a cross-encoder's pairs give them (about a quarter of the tokens type 1).
      std::mt19937 trng(seed++);
      batch.types.resize(batch.ids.size());
      for (auto& x : batch.types) x = static_cast<int32_t>(trng() % 4 == 0);
    }
    const int n = static_cast<int>(lens.size());
    const int dim = spec.sentenceDim();
    const Outs ref = run(*cpu, batch.view(), dim, m.H, true);
    const Outs refTypes = m.mpnet ? Outs() : run(*cpu, batch.view(true), dim, m.H);

    for (Precision p : {Precision::Fp16, Precision::Bf16, Precision::Fp32}) {
      std::unique_ptr<Backend> gpu;
      try {
        gpu = makeCudaBackend(spec.plan(), 0, p);
      } catch (const Error& e) {
        t.check(false, "engine %s %s: load threw %s: %s", m.what, precName(p), e.code().c_str(), e.what());
        continue;
      }
      const Outs out = run(*gpu, batch.view(), dim, m.H, true);
      const double cosTol = p == Precision::Fp32 ? 0.99999 : 0.999;
      const double cosv = minCosine(out.sentence, ref.sentence, n, dim);
      t.check(cosv >= cosTol, "engine %-40s %s n=%d: min cosine(gpu, cpu) %.7f (>= %g)", m.what, precName(p), n,
              cosv, cosTol);
      const Errors terr = errorsOf(out.tokens, ref.tokens, m.H);
      const double ttol = p == Precision::Fp32 ? 1e-4 : p == Precision::Fp16 ? 1e-2 : 4e-2;
      t.check(terr.within(ttol), "engine %-40s %s tokens: err %.2e row %.2e@%lld (tol %.0e)", m.what, precName(p),
              terr.all, terr.row.err, terr.row.row, ttol);
      if (!m.mpnet) {
        // Token type ids (cross-encoder pairs) reach the embeddings on both engines.
        const Outs typed = run(*gpu, batch.view(true), dim, m.H);
        const double ct = minCosine(typed.sentence, refTypes.sentence, n, dim);
        t.check(ct >= cosTol, "engine %-40s %s with token type ids: min cosine(gpu, cpu) %.7f (>= %g)", m.what,
                precName(p), ct, cosTol);
      }
      t.check(gpu->deviceName().rfind("cuda:0 (", 0) == 0 && gpu->memoryBytes() > 0,
              "engine %s: deviceName '%s', memoryBytes %lld", precName(p), gpu->deviceName().c_str(),
              static_cast<long long>(gpu->memoryBytes()));

      // Batch-composition independence: sentences alone or in another batch give the same vectors.
      {
        double worst = 1;
        for (int first : {0, 3, n - 5}) {
          const int count = first == 0 ? 1 : 5;
          Batch part = sliceBatch(batch, first, count);
          const Outs o = run(*gpu, part.view(), dim, m.H);
          std::vector<float> want(out.sentence.begin() + size_t(first) * dim,
                                  out.sentence.begin() + size_t(first + count) * dim);
          worst = std::min(worst, minCosine(o.sentence, want, count, dim));
        }
        t.check(worst >= 0.99999, "engine %s %s: same sentences in other batches, min cosine %.8f", m.what,
                precName(p), worst);
      }

      // OOM: a token budget far beyond the card fails cleanly; the engine keeps working.
      {
        std::string code = "(none)";
        try {
          gpu->reserveWorkspace(int64_t{1} << 30);  // terabytes of workspace
        } catch (const Error& e) {
          code = e.code();
        }
        const Outs again = run(*gpu, batch.view(), dim, m.H);
        const double c2 = minCosine(again.sentence, out.sentence, n, dim);
        t.check(code == "ERR_CUDA_OOM" && c2 >= 0.999999,
                "engine %s: reserveWorkspace(2^30) → %s; next encode min cosine vs before %.8f", precName(p), code.c_str(),
                c2);
      }

      // OOM from cudaMalloc itself: a workspace of the card's total memory less 16 MiB. The
      // engine's up-front check (workspace > total) lets it through to the allocator, and it
      // cannot fit: the CUDA context alone holds more than 16 MiB. (Half-way between free and
      // total could fit: the engine frees its current workspace before allocating the new one.)
      // The engine rounds the token count up to a multiple of 1024 and aligns each of its 7
      // buffers to 256 bytes; rounding down here keeps the total under the target.
      {
        size_t freeB = 0, totalB = 0;
        SBERT_CUDA_CHECK(cudaMemGetInfo(&freeB, &totalB));
        const size_t es = p == Precision::Fp32 ? 4 : 2;
        const size_t perToken = (6 * size_t(m.H) + size_t(m.F)) * es + 4;  // X, QKV, CTX, TMP, FFN, ids
        const size_t target = totalB - (size_t{16} << 20) - 7 * 256;
        std::string code = "(none)";
        try {
          gpu->reserveWorkspace(static_cast<int64_t>(target / perToken / 1024 * 1024));
        } catch (const Error& e) {
          code = e.code();
        }
        const Outs again = run(*gpu, batch.view(), dim, m.H);
        const double c2 = minCosine(again.sentence, out.sentence, n, dim);
        t.check(code == "ERR_CUDA_OOM" && c2 >= 0.999999,
                "engine %s: workspace of %.1f GiB with %.1f GiB free → %s; next encode min cosine %.8f", precName(p),
                target / 1073741824.0, freeB / 1073741824.0, code.c_str(), c2);
      }

      // Bad input is rejected before any work (validateBatch), and the engine keeps working.
      {
        Batch bad = sliceBatch(batch, 0, 2);
        bad.ids[0] = spec.shape.vocabSize + 5;
        std::string code = "(none)";
        try {
          run(*gpu, bad.view(), dim, m.H);
        } catch (const Error& e) {
          code = e.code();
        }
        t.check(code == "ERR_BAD_INPUT", "engine %s: out-of-vocab id → %s", precName(p), code.c_str());
      }
      // The same model without its Normalize module.
      {
        Batch part = sliceBatch(batch, 0, 7);
        test::TestModel raw = spec;
        raw.normalize = false;
        const Outs o = run(*makeCudaBackend(raw.plan(), 0, p), part.view(), dim, m.H);
        const Outs r = run(*makeCpuBackend(raw.plan()), part.view(), dim, m.H);
        const double c = minCosine(o.sentence, r.sentence, 7, dim);
        double normGpu = 0, normCpu = 0;
        for (int i = 0; i < dim; ++i) {
          normGpu += double(o.sentence[i]) * o.sentence[i];
          normCpu += double(r.sentence[i]) * r.sentence[i];
        }
        t.check(c >= cosTol && std::fabs(std::sqrt(normGpu) / std::sqrt(normCpu) - 1) < 1e-2,
                "engine %s: without Normalize min cosine %.7f, |gpu|/|cpu| = %.5f", precName(p), c,
                std::sqrt(normGpu / normCpu));
      }
    }
  }
  // A model whose weights hold a NaN is ERR_BAD_MODEL naming the tensor, not a crash.
  {
    test::TestModel spec = randomModel(64, 2, 128, 1, false, 77);
    spec.tensors["encoder.layer.0.output.dense.bias"].data[5] = NAN;
    std::string code = "(none)";
    try {
      makeCudaBackend(spec.plan(), 0, Precision::Fp16);
    } catch (const Error& e) {
      code = e.code();
    }
    t.check(code == "ERR_BAD_MODEL", "engine: non-finite weight → %s", code.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) { return sbert::test::runSections("cuda_engine_test", {{"engine", engineChecks}}, argc, argv); }

#endif  // SBERT_WITH_CUDA
