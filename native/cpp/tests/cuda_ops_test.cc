// CUDA kernels (native/cuda) against the CPU kernels (native/cpp/kernels) on seeded random
// inputs at odd shapes, llama.cpp test-backend-ops style: every op, every dtype (fp16, bf16 and
// the fp32 SIMT path), one normalized-error threshold per op and dtype,
//   err = ‖gpu − cpu‖₂ / ‖cpu‖₂
// where the CPU reference is fed exactly the values the GPU sees (inputs rounded to the storage
// dtype first), so the error measures the kernel, not the input rounding. Outputs are poisoned
// with NaN before every launch (an unwritten element fails the check).
//
// Besides the whole-tensor error, every check bounds the worst ROW (a token's hidden vector, one
// head of one token in attention, one pooled sentence), so one wrong row in a big batch cannot
// hide under a small average (cuda_test_util.h).
//
// Prints one line per check and a final "N passed, M failed"; exits non-zero on failure.
// Without CUDA compiled in, or without a device, it prints "skipped: no CUDA device" and exits 0.
//   cuda_ops_test                     all sections
//   cuda_ops_test --only attention    only these sections (comma-separated; --list names them)
//   cuda_ops_test --quick             skips the 2,000-sequence batches (a fast smoke run)
// The whole engine on the GPU: cuda_engine_test.cc; kernel timings: bench/native/cuda_kernels_bench.cc.
#include <cstdio>

#ifndef SBERT_WITH_CUDA

int main() {
  std::printf("cuda_ops_test: skipped: no CUDA device (this build has no CUDA engine)\n");
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
#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/relative_position.h"
#include "kernels/dense.h"
#include "kernels/embeddings.h"
#include "kernels/gemm.h"
#include "kernels/layernorm.h"
#include "kernels/normalize.h"
#include "kernels/pooling.h"

using namespace sbert;
using namespace sbert::test;
using sbert::cuda::DType;

namespace {

// Per-op thresholds on the normalized error.
struct Tol {
  double f32, f16, bf16;
  double of(DType dt) const { return dt == DType::F32 ? f32 : dt == DType::F16 ? f16 : bf16; }
};
// Output rounding alone gives ~3e-4 (fp16) and ~2.5e-3 (bf16) RMS relative error.
constexpr Tol kTolGemm{1e-5, 2e-3, 1.2e-2};
constexpr Tol kTolNorm{1e-5, 2e-3, 1.2e-2};      // LayerNorm, embeddings+LN
constexpr Tol kTolAttention{2e-5, 3e-3, 2e-2};   // P is rounded to 16 bits before P·V
constexpr Tol kTolPool{1e-5, 1e-5, 1e-5};        // fp32 math on identical inputs

const DType kDtypes[] = {DType::F16, DType::BF16, DType::F32};

// ---- sequence-length sets ---------------------------------------------------------------------
struct SeqSet {
  std::string name;
  std::vector<int> lens;
};
std::vector<SeqSet> seqSets(int maxLen) {
  std::vector<SeqSet> sets;
  auto clampLens = [&](std::vector<int> v) {
    for (int& x : v) x = std::min(x, maxLen);
    return v;
  };
  sets.push_back({"1 seq len 1", {1}});
  sets.push_back({"1 seq len 7", {7}});
  sets.push_back({"1 seq len 512", clampLens({512})});
  sets.push_back({"mixed 1,7,33,255,512", clampLens({1, 7, 33, 255, 512, 33, 7, 1, 255})});
  if (!gQuick) {
    std::mt19937 rng(2000);
    std::vector<int> lens(2000);
    for (int& l : lens) {
      const int r = static_cast<int>(rng() % 100);
      if (r < 80) l = 1 + static_cast<int>(rng() % 48);
      else if (r < 95) l = 49 + static_cast<int>(rng() % 112);
      else l = (rng() & 1) ? 255 : 512;
    }
    sets.push_back({"2000 seqs", clampLens(lens)});
  }
  return sets;
}

// ---- GEMM -------------------------------------------------------------------------------------
void checkGemm(Tally& t, int M, int N, int K, DType dt, DType outType, Epilogue ep, cuda::GemmPath path,
               uint32_t seed) {
  std::mt19937 rng(seed);
  auto A = test::randomVec(rng, size_t(M) * K);
  auto W = test::randomVec(rng, size_t(N) * K);
  auto bias = test::randomVec(rng, N);
  auto res = test::randomVec(rng, size_t(M) * N);
  std::vector<float> As, Ws, Rs;
  auto dA = upload(A, dt, &As);
  auto dW = upload(W, dt, &Ws);
  auto dR = upload(res, outType, &Rs);
  auto dB = upload(bias, DType::F32);
  DevBuf dC(size_t(M) * N * cuda::dtypeSize(outType));
  dC.poison();
  cuda::GemmEpilogue e;
  if (ep != Epilogue::None) e.bias = dB->as<float>();
  if (ep == Epilogue::BiasGelu) e.act = Activation::Gelu;
  if (ep == Epilogue::BiasResidual) e.residual = dR->p;
  const bool tc = path != cuda::GemmPath::Simt &&
                  cuda::gemmTensorCoreEligible(dA->p, dW->p, dC.p, e.residual, dt, outType, M, N, K);
  cuda::launchGemm(dA->p, dW->p, dC.p, M, N, K, dt, outType, e, nullptr, path);
  auto got = download(dC, size_t(M) * N, outType);

  PackedWeight pw = packWeight(Ws.data(), N, K);
  std::vector<float> ref(size_t(M) * N);
  linear(As.data(), M, K, pw, bias.data(), Rs.data(), ep, ref.data());
  const Errors e2 = errorsOf(got, ref, N);
  // 16-bit inputs with fp32 output: no output rounding, only the accumulation order differs.
  const double tol = outType == DType::F32 && dt != DType::F32 ? 1e-4 : kTolGemm.of(dt);
  t.check(e2.within(tol), "gemm %-4s->%-4s %-4s M=%-5d N=%-5d K=%-5d %-13s err %.2e row %.2e@%lld (tol %.1e)",
          cuda::dtypeName(dt), cuda::dtypeName(outType), tc ? "tc" : "simt", M, N, K, test::epilogueName(ep), e2.all, e2.row.err,
          e2.row.row, tol);
}

void gemmChecks(Tally& t) {
  struct S { int M, N, K; };
  const S shapes[] = {
      {1, 384, 384},     {7, 1152, 384},  {33, 1536, 384}, {255, 384, 1536}, {512, 768, 768},
      {2061, 2304, 768}, {1000, 64, 40},  {77, 24, 8},     {300, 32, 32},
  };
  uint32_t seed = 1;
  for (DType dt : kDtypes) {
    for (const S& s : shapes) {
      for (Epilogue ep : {Epilogue::None, Epilogue::Bias, Epilogue::BiasGelu, Epilogue::BiasResidual}) {
        checkGemm(t, s.M, s.N, s.K, dt, dt, ep, cuda::GemmPath::Auto, seed++);
      }
    }
  }
  // fp32 output from 16-bit inputs (the Dense-style epilogue).
  for (DType dt : {DType::F16, DType::BF16}) {
    checkGemm(t, 129, 256, 384, dt, DType::F32, Epilogue::BiasGelu, cuda::GemmPath::Auto, seed++);
    checkGemm(t, 1, 64, 64, dt, DType::F32, Epilogue::BiasResidual, cuda::GemmPath::Auto, seed++);
  }
  // The SIMT fallback for 16-bit inputs: shapes the tensor cores do not take, and forced.
  for (DType dt : {DType::F16, DType::BF16}) {
    checkGemm(t, 37, 13, 37, dt, dt, Epilogue::BiasGelu, cuda::GemmPath::Auto, seed++);
    checkGemm(t, 100, 30, 20, dt, dt, Epilogue::BiasResidual, cuda::GemmPath::Auto, seed++);
    checkGemm(t, 257, 384, 384, dt, dt, Epilogue::Bias, cuda::GemmPath::Simt, seed++);
  }
  // The tensor-core path refuses what it cannot do (an exception, not a crash).
  {
    DevBuf a(4096), w(4096), c(4096);
    bool threw = false;
    try {
      cuda::launchGemm(a.p, w.p, c.p, 4, 12, 20, DType::F16, DType::F16, {}, nullptr, cuda::GemmPath::TensorCore);
    } catch (const Error& e) {
      threw = e.code() == "ERR_INTERNAL";
    }
    t.check(threw, "gemm: forcing the tensor-core path on K=20 throws ERR_INTERNAL");
  }
}

// ---- Dense (fp32, activation) ----------------------------------------------------------------
void denseChecks(Tally& t) {
  uint32_t seed = 500;
  for (Activation act : {Activation::Identity, Activation::Tanh, Activation::Relu, Activation::Gelu,
                         Activation::Sigmoid}) {
    for (bool withBias : {true, false}) {
      std::mt19937 rng(seed++);
      const int rows = 2000, in = 384 * 2, out = 256;
      auto X = test::randomVec(rng, size_t(rows) * in);
      auto W = test::randomVec(rng, size_t(out) * in, -0.1f, 0.1f);
      auto b = test::randomVec(rng, out);
      auto dX = upload(X, DType::F32);
      auto dW = upload(W, DType::F32);
      auto dB = upload(b, DType::F32);
      DevBuf dY(size_t(rows) * out * 4);
      dY.poison();
      cuda::launchDense(dX->as<float>(), rows, in, dW->as<float>(), withBias ? dB->as<float>() : nullptr, out, act,
                        dY.as<float>(), nullptr);
      auto got = download(dY, size_t(rows) * out, DType::F32);
      PackedWeight pw = packWeight(W.data(), out, in);
      std::vector<float> ref(size_t(rows) * out);
      denseForward(X.data(), rows, pw, withBias ? b.data() : nullptr, act, ref.data());
      const Errors e2 = errorsOf(got, ref, out);
      t.check(e2.within(1e-5), "dense fp32 rows=%d %d->%d act=%d bias=%d err %.2e row %.2e@%lld (tol 1e-5)", rows, in,
              out, static_cast<int>(act), withBias ? 1 : 0, e2.all, e2.row.err, e2.row.row);
    }
  }
}

// ---- LayerNorm --------------------------------------------------------------------------------
void layerNormChecks(Tally& t) {
  uint32_t seed = 700;
  for (DType dt : kDtypes) {
    for (int cols : {384, 768, 32, 1024, 100, 1100}) {
      for (int rows : {1, 7, 33, 1000}) {
        for (bool withRes : {true, false}) {
          std::mt19937 rng(seed++);
          auto X = test::randomVec(rng, size_t(rows) * cols, -3.f, 3.f);
          auto R = test::randomVec(rng, size_t(rows) * cols, -2.f, 2.f);
          auto g = test::randomVec(rng, cols, 0.5f, 1.5f);
          auto b = test::randomVec(rng, cols, -0.5f, 0.5f);
          std::vector<float> Xs, Rs;
          auto dX = upload(X, dt, &Xs);
          auto dR = upload(R, dt, &Rs);
          auto dG = upload(g, DType::F32);
          auto dB = upload(b, DType::F32);
          DevBuf dO(size_t(rows) * cols * cuda::dtypeSize(dt));
          dO.poison();
          cuda::launchLayerNorm(dX->p, withRes ? dR->p : nullptr, dG->as<float>(), dB->as<float>(), rows, cols,
                                1e-12f, dO.p, dt, nullptr);
          auto got = download(dO, size_t(rows) * cols, dt);
          std::vector<float> ref(size_t(rows) * cols);
          layerNorm(Xs.data(), withRes ? Rs.data() : nullptr, g.data(), b.data(), rows, cols, 1e-12f, ref.data());
          const Errors e2 = errorsOf(got, ref, cols);
          t.check(e2.within(kTolNorm.of(dt)),
                  "layerNorm %-4s rows=%-4d cols=%-4d residual=%d err %.2e row %.2e@%lld (tol %.1e)",
                  cuda::dtypeName(dt), rows, cols, withRes ? 1 : 0, e2.all, e2.row.err, e2.row.row, kTolNorm.of(dt));
        }
      }
    }
    // In place: out aliases x (the engine writes the hidden state over the residual input).
    {
      std::mt19937 rng(seed++);
      const int rows = 513, cols = 384;
      auto X = test::randomVec(rng, size_t(rows) * cols, -3.f, 3.f);
      auto R = test::randomVec(rng, size_t(rows) * cols, -2.f, 2.f);
      auto g = test::randomVec(rng, cols, 0.5f, 1.5f);
      auto b = test::randomVec(rng, cols, -0.5f, 0.5f);
      std::vector<float> Xs, Rs;
      auto dX = upload(X, dt, &Xs);
      auto dR = upload(R, dt, &Rs);
      auto dG = upload(g, DType::F32);
      auto dB = upload(b, DType::F32);
      cuda::launchLayerNorm(dX->p, dR->p, dG->as<float>(), dB->as<float>(), rows, cols, 1e-12f, dR->p, dt, nullptr);
      auto got = download(*dR, size_t(rows) * cols, dt);
      std::vector<float> ref(size_t(rows) * cols);
      layerNorm(Xs.data(), Rs.data(), g.data(), b.data(), rows, cols, 1e-12f, ref.data());
      const Errors e2 = errorsOf(got, ref, cols);
      t.check(e2.within(kTolNorm.of(dt)), "layerNorm %-4s in place (out = residual) err %.2e row %.2e@%lld",
              cuda::dtypeName(dt), e2.all, e2.row.err, e2.row.row);
    }
  }
}

// ---- embeddings + LayerNorm -----------------------------------------------------------------
// Three layouts: BERT without / with token type ids, and RoBERTa / MPNet's (no token type
// table, position ids after padding index 1, padding ids inside sequences).
void embeddingsChecks(Tally& t) {
  uint32_t seed = 900;
  const int vocab = 1000, maxPos = 512, types = 2, padIdx = 1;
  for (DType dt : kDtypes) {
    for (int H : {384, 32, 100, 1100}) {
      for (int layout : {0, 1, 2}) {
        const bool withTypes = layout == 1, roberta = layout == 2;
        if (layout != 0 && H != 384) continue;
        for (const SeqSet& set : seqSets(roberta ? maxPos - padIdx - 1 : maxPos)) {
          if (set.lens.size() > 100 && H > 384) continue;  // the block-per-row path on 100k tokens adds nothing
          std::mt19937 rng(seed++);
          auto word = test::randomVec(rng, size_t(vocab) * H);
          auto pos = test::randomVec(rng, size_t(maxPos) * H);
          auto typ = test::randomVec(rng, size_t(types) * H);
          auto g = test::randomVec(rng, H, 0.5f, 1.5f);
          auto b = test::randomVec(rng, H, -0.5f, 0.5f);
          auto cu = test::cuSeqlensOf(set.lens);
          const int n = static_cast<int>(set.lens.size());
          const int64_t T = cu[n];
          std::vector<int32_t> ids(T), tids(T), positions(T);
          for (auto& x : ids) x = static_cast<int32_t>(rng() % vocab);
          for (auto& x : tids) x = static_cast<int32_t>(rng() % types);
          if (roberta) {
            for (int64_t i = 3; i < T; i += 97) ids[i] = padIdx;
            positionIdsAfterPadding(ids.data(), cu.data(), n, padIdx, positions.data());
          }
          auto dWord = upload(word, DType::F32), dPos = upload(pos, DType::F32), dTyp = upload(typ, DType::F32);
          auto dG = upload(g, DType::F32), dB = upload(b, DType::F32);
          auto dIds = uploadInts(ids), dTids = uploadInts(tids), dCu = uploadInts(cu), dPosIds = uploadInts(positions);
          DevBuf dO(size_t(T) * H * cuda::dtypeSize(dt));
          dO.poison();
          cuda::EmbeddingTables tb;
          tb.word = dWord->as<float>();
          tb.position = dPos->as<float>();
          tb.tokenType = roberta ? nullptr : dTyp->as<float>();
          tb.gamma = dG->as<float>();
          tb.beta = dB->as<float>();
          tb.vocabSize = vocab;
          tb.maxPositions = maxPos;
          tb.typeVocabSize = roberta ? 0 : types;
          tb.hidden = H;
          tb.eps = 1e-12f;
          cuda::launchEmbeddingsLayerNorm(dIds->as<int32_t>(), withTypes ? dTids->as<int32_t>() : nullptr,
                                          roberta ? dPosIds->as<int32_t>() : nullptr, dCu->as<int32_t>(), n, T, tb,
                                          dO.p, dt, nullptr);
          auto got = download(dO, size_t(T) * H, dt);
          std::vector<float> ref(size_t(T) * H);
          embeddingsLayerNorm(ids.data(), withTypes ? tids.data() : nullptr, roberta ? positions.data() : nullptr,
                              cu.data(), n, word.data(), pos.data(), roberta ? nullptr : typ.data(), g.data(), b.data(),
                              H, 1e-12f, ref.data());
          const Errors e2 = errorsOf(got, ref, H);
          t.check(e2.within(kTolNorm.of(dt)),
                  "embeddings+LN %-4s H=%-4d %-20s layout=%s err %.2e row %.2e@%lld (tol %.1e)",
                  cuda::dtypeName(dt), H, set.name.c_str(),
                  roberta ? "roberta" : withTypes ? "bert+types" : "bert", e2.all, e2.row.err, e2.row.row,
                  kTolNorm.of(dt));
        }
      }
    }
  }
}

// ---- attention ----------------------------------------------------------------------------------
// q, k, v uniform in [−range, range]. Logits q·k/√D then have a standard deviation of range²/3:
// ~0.75 at the default 1.5 (smooth attention), ~12 at 6 — the sharp attention of trained models,
// where one key takes nearly all the weight, most p = exp(s − max) underflow (to 0 in fp32, or
// below fp16's smallest subnormal once P is rounded to 16 bits before P·V), and a running max
// found in a later key tile rescales the earlier partial sums by exp2(m_old − m_new) = 0.
// `spikeKeys` scales one key per sequence (3/4 of the way in, so in a later tile for the long
// ones) by 4: its logits are ±4× the others', the extreme of both cases.
struct AttentionInputs {
  float range = 1.5f;
  bool spikeKeys = false;
  const char* label = "";
  bool relativeBias = false;  // MPNet's relative position bias (32 buckets, max distance 128)
};

void checkAttention(Tally& t, const SeqSet& set, int D, int numHeads, const AttentionInputs& in, uint32_t seed) {
  const int H = numHeads * D;
  auto cu = test::cuSeqlensOf(set.lens);
  const int n = static_cast<int>(set.lens.size());
  const int64_t T = cu[n];
  std::mt19937 rng(seed);
  auto qkv = test::randomVec(rng, size_t(T) * 3 * H, -in.range, in.range);
  if (in.spikeKeys) {
    for (int s = 0; s < n; ++s) {
      const int64_t key = cu[s] + (3 * int64_t(set.lens[s])) / 4;
      for (int c = H; c < 2 * H; ++c) qkv[size_t(key) * 3 * H + c] *= 4.f;
    }
  }
  auto dCu = uploadInts(cu);
  // The relative bias by distance, expanded as the engines do, on the host (CPU reference) and
  // on the device (CUDA kernel).
  ScoreBias bias;
  cuda::AttentionBias deviceBias;
  std::vector<float> byDelta;
  std::unique_ptr<DevBuf> dBias;
  if (in.relativeBias) {
    const int maxLen = *std::max_element(set.lens.begin(), set.lens.end());
    auto table = test::randomVec(rng, size_t(32) * numHeads, -3.f, 3.f);
    byDelta.resize(size_t(numHeads) * scoreBiasStride(maxLen));
    expandRelativeBias(table.data(), 32, 128, numHeads, maxLen, byDelta.data());
    bias = ScoreBias{byDelta.data(), maxLen, scoreBiasStride(maxLen)};
    dBias = upload(byDelta, DType::F32, nullptr);
    deviceBias = {dBias->as<float>(), maxLen, scoreBiasStride(maxLen)};
  }
  for (DType dt : kDtypes) {
    std::vector<float> seen;
    auto dQkv = upload(qkv, dt, &seen);
    std::vector<float> ref(size_t(T) * H);
    attention(seen.data(), cu.data(), n, numHeads, D, bias, ref.data());
    std::vector<cuda::AttentionPath> paths = {cuda::AttentionPath::Generic};
    if (cuda::attentionTensorCoreEligible(D, dt, dQkv->p, dQkv->p)) paths.push_back(cuda::AttentionPath::TensorCore);
    for (cuda::AttentionPath path : paths) {
      DevBuf dO(size_t(T) * H * cuda::dtypeSize(dt));
      dO.poison();
      cuda::launchAttention(dQkv->p, dCu->as<int32_t>(), n, T, numHeads, D, deviceBias, dO.p, dt, nullptr, path);
      auto got = download(dO, size_t(T) * H, dt);
      const Errors e2 = errorsOf(got, ref, D);  // a row = one head of one token
      t.check(e2.within(kTolAttention.of(dt)),
              "attention %-4s %-7s D=%-3d heads=%d %-20s T=%-6lld %s err %.2e row %.2e@%lld (tol %.1e)",
              cuda::dtypeName(dt), path == cuda::AttentionPath::TensorCore ? "tc" : "generic", D, numHeads,
              set.name.c_str(), static_cast<long long>(T), in.label, e2.all, e2.row.err, e2.row.row,
              kTolAttention.of(dt));
    }
  }
}

void attentionChecks(Tally& t) {
  uint32_t seed = 1300;
  const int numHeads = 3;
  // 160 then 256: the generic kernel above 48 KB of shared memory, the larger head dim after the
  // smaller one (the opt-in limit is set once per instantiation and must cover both).
  for (int D : {32, 64, 24, 8, 128, 160, 256}) {
    for (const SeqSet& set : seqSets(512)) {
      if (D >= 128 && set.lens.size() > 100) continue;  // generic D≥128 on the big batch: slow, adds nothing
      checkAttention(t, set, D, numHeads, {1.5f, false, "smooth"}, seed++);
    }
  }
  // Sharp attention through both kernels: head dims 32 and 64 take the tensor-core kernel in
  // fp16/bf16 (P rounded to 16 bits), 8 only the generic one.
  for (int D : {32, 64, 8}) {
    for (const SeqSet& set : seqSets(512)) {
      checkAttention(t, set, D, numHeads, {6.f, false, "sharp"}, seed++);
      checkAttention(t, set, D, numHeads, {6.f, true, "sharp+spike"}, seed++);
    }
  }
  // MPNet's relative position bias, through both kernels.
  for (int D : {32, 64, 24}) {
    for (const SeqSet& set : seqSets(512)) {
      checkAttention(t, set, D, numHeads, {1.5f, false, "rel-bias", true}, seed++);
    }
  }
}

// ---- pooling + normalize ------------------------------------------------------------------------
void poolingChecks(Tally& t) {
  uint32_t seed = 1700;
  const std::vector<std::vector<PoolMode>> modeSets = {
      {PoolMode::Cls, PoolMode::Max, PoolMode::Mean, PoolMode::MeanSqrtLen, PoolMode::WeightedMean,
       PoolMode::LastToken},
      {PoolMode::Mean},
      {PoolMode::LastToken, PoolMode::Cls},
  };
  for (DType dt : kDtypes) {
    for (int H : {384, 100}) {
      for (const SeqSet& set : seqSets(512)) {
        for (size_t ms = 0; ms < modeSets.size(); ++ms) {
          for (bool norm : {false, true}) {
            const auto& modes = modeSets[ms];
            auto cu = test::cuSeqlensOf(set.lens);
            const int n = static_cast<int>(set.lens.size());
            const int64_t T = cu[n];
            std::mt19937 rng(seed++);
            auto tok = test::randomVec(rng, size_t(T) * H, -2.f, 2.f);
            std::vector<float> seen;
            auto dTok = upload(tok, dt, &seen);
            auto dCu = uploadInts(cu);
            const int width = H * static_cast<int>(modes.size());
            DevBuf dO(size_t(n) * width * 4);
            dO.poison();
            cuda::launchPool(dTok->p, dt, dCu->as<int32_t>(), n, H, modes, norm, dO.as<float>(), nullptr);
            auto got = download(dO, size_t(n) * width, DType::F32);
            std::vector<float> ref(size_t(n) * width);
            pool(seen.data(), H, cu.data(), n, modes, ref.data());
            if (norm) l2NormalizeRows(ref.data(), n, width);
            const Errors e2 = errorsOf(got, ref, width);
            t.check(e2.within(kTolPool.of(dt)),
                    "pool %-4s H=%-3d modes=%zu normalize=%d %-20s err %.2e row %.2e@%lld (tol %.1e)",
                    cuda::dtypeName(dt), H, modes.size(), norm ? 1 : 0, set.name.c_str(), e2.all, e2.row.err,
                    e2.row.row, kTolPool.of(dt));
          }
        }
      }
    }
  }
  // include_prompt: false — the first `skip` tokens of every sequence left out of the pooling
  // (skip 40 > every length: Max gives -1e9, the others 0, Cls token 0), against the CPU pool().
  for (DType dt : kDtypes) {
    for (int skip : {1, 7, 40}) {
      for (bool norm : {false, true}) {
        const auto& modes = modeSets[0];
        const std::vector<int> lens = {1, 7, 33, 2, 300};
        auto cu = test::cuSeqlensOf(lens);
        const int n = static_cast<int>(lens.size());
        const int H = 100;
        std::mt19937 rng(seed++);
        auto tok = test::randomVec(rng, size_t(cu[n]) * H, -2.f, 2.f);
        std::vector<float> seen;
        auto dTok = upload(tok, dt, &seen);
        auto dCu = uploadInts(cu);
        const int width = H * static_cast<int>(modes.size());
        DevBuf dO(size_t(n) * width * 4);
        dO.poison();
        cuda::launchPool(dTok->p, dt, dCu->as<int32_t>(), n, H, modes, norm, dO.as<float>(), nullptr, skip);
        auto got = download(dO, size_t(n) * width, DType::F32);
        std::vector<float> ref(size_t(n) * width);
        pool(seen.data(), H, cu.data(), n, modes, ref.data(), skip);
        if (norm) l2NormalizeRows(ref.data(), n, width);
        const Errors e2 = errorsOf(got, ref, width);
        t.check(e2.within(kTolPool.of(dt)), "pool %-4s skip=%-2d normalize=%d err %.2e row %.2e@%lld (tol %.1e)",
                cuda::dtypeName(dt), skip, norm ? 1 : 0, e2.all, e2.row.err, e2.row.row, kTolPool.of(dt));
      }
    }
  }
  // Standalone L2 normalize (after Dense), including a zero row.
  {
    std::mt19937 rng(seed++);
    const int rows = 1000, cols = 768;
    auto x = test::randomVec(rng, size_t(rows) * cols);
    std::fill(x.begin() + 5 * cols, x.begin() + 6 * cols, 0.f);
    auto dX = upload(x, DType::F32);
    cuda::launchL2Normalize(dX->as<float>(), rows, cols, nullptr);
    auto got = download(*dX, size_t(rows) * cols, DType::F32);
    auto ref = x;
    l2NormalizeRows(ref.data(), rows, cols);
    const double err = relErr(got, ref);
    bool zeroOk = true;
    for (int c = 0; c < cols; ++c) zeroOk = zeroOk && got[size_t(5) * cols + c] == 0.f;
    t.check(err <= 1e-6 && zeroOk, "l2Normalize rows=%d cols=%d err %.2e, zero row stays zero: %d", rows, cols, err,
            zeroOk ? 1 : 0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  return runSections("cuda_ops_test",
                     {{"gemm", gemmChecks},
                      {"dense", denseChecks},
                      {"layerNorm", layerNormChecks},
                      {"embeddings", embeddingsChecks},
                      {"attention", attentionChecks},
                      {"pooling", poolingChecks}},
                     argc, argv);
}

#endif  // SBERT_WITH_CUDA
