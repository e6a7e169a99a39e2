// CUDA kernels (native/cuda) against the CPU kernels (native/cpp/kernels) on seeded random
// inputs at odd shapes, llama.cpp test-backend-ops style: every op, every dtype (fp16, bf16 and
// the fp32 SIMT path), one normalized-error threshold per op and dtype,
//   err = ‖gpu − cpu‖₂ / ‖cpu‖₂
// where the CPU reference is fed exactly the values the GPU sees (inputs rounded to the storage
// dtype first), so the error measures the kernel, not the input rounding. Outputs are poisoned
// with NaN before every launch (an unwritten element fails the check). Then the whole engine
// (makeCudaBackend vs makeCpuBackend on a random model): per-sentence cosine, token states,
// batch-composition independence, and OOM recovery.
//
// Besides the whole-tensor error, every kernel check bounds the worst ROW (a token's hidden
// vector, one head of one token in attention, one pooled sentence), so one wrong row in a big
// batch cannot hide under a small average:
//   rowErr = max_r ‖gpu_r − cpu_r‖₂ / max(‖cpu_r‖₂, ¼·rms_r ‖cpu_r‖₂)   ≤ kRowFactor × tol
// (the floor keeps rows whose reference is near zero from dividing by nothing).
//
// Prints one line per check and a final "N passed, M failed"; exits non-zero on failure.
// Without CUDA compiled in, or without a device, it prints "skipped: no CUDA device" and exits 0.
//   cuda_kernels_test           all checks
//   cuda_kernels_test --only attention,engine   only these sections (rerun a failing one alone,
//                               or under compute-sanitizer); --list prints the section names
//   cuda_kernels_test --bench   also times the kernels at BERT-base shapes (never asserted)
//   cuda_kernels_test --bench-only   only the timings
//   cuda_kernels_test --quick   skips the 2,000-sequence batches (for a fast smoke run)
#include <cstdio>
#include <cstring>

#ifndef SBERT_WITH_CUDA

int main() {
  std::printf("cuda_kernels_test: skipped: no CUDA device (this build has no CUDA engine)\n");
  return 0;
}

#else

#include <cuda_runtime.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "cuda_check.h"
#include "cuda_ops.h"
#include "engine/backend.h"
#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/relative_position.h"
#include "kernels/dense.h"
#include "kernels/embeddings.h"
#include "kernels/gemm.h"
#include "kernels/layernorm.h"
#include "kernels/normalize.h"
#include "kernels/pooling.h"
#include "test_plan.h"
#include "test_util.h"

using namespace sbert;
using sbert::cuda::DType;
using sbert::test::Tally;

namespace {

bool gQuick = false;

// ---- device buffers -------------------------------------------------------------------------
struct DevBuf {
  void* p = nullptr;
  size_t bytes = 0;
  explicit DevBuf(size_t b) : bytes(b) { SBERT_CUDA_CHECK(cudaMalloc(&p, b ? b : 16)); }
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  ~DevBuf() { cudaFree(p); }
  template <typename T>
  T* as() const { return static_cast<T*>(p); }
  void poison() { SBERT_CUDA_CHECK(cudaMemset(p, 0xff, bytes)); }  // NaN in fp32, fp16 and bf16
};

// Uploads v in dtype dt; `seen` receives the values the device holds (v rounded to dt).
std::unique_ptr<DevBuf> upload(const std::vector<float>& v, DType dt, std::vector<float>* seen = nullptr) {
  const size_t es = cuda::dtypeSize(dt);
  std::vector<char> host(v.size() * es);
  cuda::floatToDtypeHost(v.data(), host.data(), v.size(), dt);
  auto buf = std::make_unique<DevBuf>(host.size());
  SBERT_CUDA_CHECK(cudaMemcpy(buf->p, host.data(), host.size(), cudaMemcpyHostToDevice));
  if (seen) {
    seen->resize(v.size());
    cuda::dtypeToFloatHost(host.data(), seen->data(), v.size(), dt);
  }
  return buf;
}
std::unique_ptr<DevBuf> uploadInts(const std::vector<int32_t>& v) {
  auto buf = std::make_unique<DevBuf>(v.size() * 4);
  SBERT_CUDA_CHECK(cudaMemcpy(buf->p, v.data(), v.size() * 4, cudaMemcpyHostToDevice));
  return buf;
}
std::vector<float> download(const DevBuf& b, size_t count, DType dt) {
  SBERT_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<char> host(count * cuda::dtypeSize(dt));
  SBERT_CUDA_CHECK(cudaMemcpy(host.data(), b.p, host.size(), cudaMemcpyDeviceToHost));
  std::vector<float> out(count);
  cuda::dtypeToFloatHost(host.data(), out.data(), count, dt);
  return out;
}

// ‖a − b‖ / ‖b‖ (inf on NaN/Inf anywhere).
double relErr(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i])) return INFINITY;
    const double d = double(a[i]) - double(b[i]);
    num += d * d;
    den += double(b[i]) * b[i];
  }
  return std::sqrt(num) / std::max(std::sqrt(den), 1e-30);
}

// The worst row's normalized error (see the header): rows of `cols` values; inf on NaN/Inf.
struct RowErr {
  double err = 0;
  long long row = -1;
};
RowErr rowErr(const std::vector<float>& a, const std::vector<float>& b, size_t cols) {
  RowErr worst;
  if (a.size() != b.size() || cols == 0 || b.size() % cols != 0) return {INFINITY, -1};
  const size_t rows = b.size() / cols;
  std::vector<double> num(rows), den(rows);
  double sumDen = 0;
  for (size_t r = 0; r < rows; ++r) {
    double n2 = 0, d2 = 0;
    for (size_t c = r * cols; c < (r + 1) * cols; ++c) {
      if (!std::isfinite(a[c]) || !std::isfinite(b[c])) return {INFINITY, static_cast<long long>(r)};
      const double d = double(a[c]) - double(b[c]);
      n2 += d * d;
      d2 += double(b[c]) * b[c];
    }
    num[r] = std::sqrt(n2);
    den[r] = std::sqrt(d2);
    sumDen += d2;
  }
  const double floor = std::max(0.25 * std::sqrt(sumDen / std::max<size_t>(rows, 1)), 1e-30);
  for (size_t r = 0; r < rows; ++r) {
    const double e = num[r] / std::max(den[r], floor);
    if (e > worst.err || worst.row < 0) worst = {e, static_cast<long long>(r)};
  }
  return worst;
}

// Both error measures of one check: whole tensor and worst row.
struct Errors {
  double all;
  RowErr row;
  // The row bound is looser than the tensor's: a row averages over fewer values. Measured by
  // emulating the 16-bit roundings in numpy (attention, head dim 8, 20k tokens): the worst row
  // is ≤ 4.2× the tensor error, whose tolerances sit ~10× above it, so 3× tol leaves ≥ 3× room;
  // a wrong row scores ~1.
  static constexpr double kRowFactor = 3.0;
  bool within(double tol) const { return all <= tol && row.err <= kRowFactor * tol; }
};
Errors errorsOf(const std::vector<float>& got, const std::vector<float>& ref, size_t cols) {
  return {relErr(got, ref), rowErr(got, ref, cols)};
}

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
const char* epName(Epilogue e) {
  switch (e) {
    case Epilogue::None: return "none";
    case Epilogue::Bias: return "bias";
    case Epilogue::BiasGelu: return "bias+gelu";
    case Epilogue::BiasResidual: return "bias+residual";
  }
  return "?";
}

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
          cuda::dtypeName(dt), cuda::dtypeName(outType), tc ? "tc" : "simt", M, N, K, epName(ep), e2.all, e2.row.err,
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

struct Batch {
  std::vector<int32_t> ids, types, cu;
  // withTypes: the token type ids go to the engine too (a cross-encoder's pairs).
  EncodeBatch view(bool withTypes = false) const {
    EncodeBatch b;
    b.ids = ids.data();
    b.cuSeqlens = cu.data();
    b.typeIds = withTypes ? types.data() : nullptr;
    b.numSequences = static_cast<int>(cu.size()) - 1;
    return b;
  }
};
// Outputs in test-owned buffers (the binding passes the user's Float32Arrays instead).
struct Outs {
  std::vector<float> sentence, tokens;
};
Outs run(Backend& be, const EncodeBatch& v, int dim, int hidden, bool tokens = false) {
  Outs o;
  o.sentence.resize(size_t(std::max(v.numSequences, 0)) * dim);
  if (tokens) o.tokens.resize(size_t(v.numTokens()) * hidden);
  EncodeOutputs e;
  e.sentence = o.sentence.data();
  e.tokens = tokens ? o.tokens.data() : nullptr;
  be.encode(v, e);
  return o;
}

Batch randomBatch(const std::vector<int>& lens, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  Batch b;
  b.cu = test::cuSeqlensOf(lens);
  b.ids.resize(b.cu.back());
  b.types.resize(b.cu.back());
  for (auto& x : b.ids) x = static_cast<int32_t>(rng() % vocab);
  for (size_t i = 0; i < b.types.size(); ++i) b.types[i] = static_cast<int32_t>((rng() % 4) == 0);
  return b;
}
Batch slice(const Batch& b, int first, int count) {
  Batch s;
  const int a = b.cu[first], e = b.cu[first + count];
  s.ids.assign(b.ids.begin() + a, b.ids.begin() + e);
  s.types.assign(b.types.begin() + a, b.types.begin() + e);
  for (int i = 0; i <= count; ++i) s.cu.push_back(b.cu[first + i] - a);
  return s;
}

double minCosine(const std::vector<float>& a, const std::vector<float>& b, int rows, int dim) {
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
    // MPNet-like: padding ids inside sequences (the position rule skips them).
    if (m.mpnet) for (size_t i = 5; i < batch.ids.size(); i += 101) batch.ids[i] = spec.shape.paddingIdx;
    const int n = static_cast<int>(lens.size());
    const int dim = spec.sentenceDim();
    const Outs ref = run(*cpu, batch.view(), dim, m.H, true);
    const Outs refTypes = m.mpnet ? Outs() : run(*cpu, batch.view(true), dim, m.H, true);

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
          Batch part = slice(batch, first, count);
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
        Batch bad = slice(batch, 0, 2);
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
        Batch part = slice(batch, 0, 7);
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

// ---- timing (--bench) -------------------------------------------------------------------------
template <typename F>
float medianMs(F&& fn, int reps = 20) {
  cudaEvent_t a, b;
  SBERT_CUDA_CHECK(cudaEventCreate(&a));
  SBERT_CUDA_CHECK(cudaEventCreate(&b));
  for (int i = 0; i < 3; ++i) fn();
  std::vector<float> ms;
  for (int i = 0; i < reps; ++i) {
    SBERT_CUDA_CHECK(cudaEventRecord(a));
    fn();
    SBERT_CUDA_CHECK(cudaEventRecord(b));
    SBERT_CUDA_CHECK(cudaEventSynchronize(b));
    float x = 0;
    SBERT_CUDA_CHECK(cudaEventElapsedTime(&x, a, b));
    ms.push_back(x);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

void bench() {
  std::printf("# bench (median of 20, CUDA events; BERT-base shapes)\n");
  const int H = 768, F = 3072, heads = 12;
  for (int len : {128, 16}) {
    const int n = 16384 / len;
    const int T = n * len;
    std::vector<int> lens(n, len);
    auto cu = test::cuSeqlensOf(lens);
    auto dCu = uploadInts(cu);
    std::mt19937 rng(1);
    for (DType dt : {DType::F16, DType::BF16, DType::F32}) {
      auto x = upload(test::randomVec(rng, size_t(T) * F), dt);
      auto w = upload(test::randomVec(rng, size_t(F) * H, -0.05f, 0.05f), dt);
      auto qkv = upload(test::randomVec(rng, size_t(T) * 3 * H), dt);
      auto bias = upload(test::randomVec(rng, F), DType::F32);
      auto g = upload(test::randomVec(rng, H), DType::F32);
      DevBuf out(size_t(T) * F * cuda::dtypeSize(dt));
      struct G { const char* name; int N, K; Activation act; };
      for (const G& gm : {G{"qkv", 3 * H, H, Activation::Identity}, G{"attn-out", H, H, Activation::Identity},
                          G{"ffn-up+gelu", F, H, Activation::Gelu}, G{"ffn-down", H, F, Activation::Identity}}) {
        cuda::GemmEpilogue ep;
        ep.bias = bias->as<float>();
        ep.act = gm.act;
        const float ms = medianMs([&] { cuda::launchGemm(x->p, w->p, out.p, T, gm.N, gm.K, dt, dt, ep, nullptr); });
        std::printf("bench gemm %-4s %-12s M=%-6d N=%-5d K=%-5d %8.3f ms %8.1f TFLOP/s\n", cuda::dtypeName(dt),
                    gm.name, T, gm.N, gm.K, ms, 2.0 * T * gm.N * gm.K / (ms * 1e-3) / 1e12);
      }
      const float ams = medianMs([&] {
        cuda::launchAttention(qkv->p, dCu->as<int32_t>(), n, T, heads, H / heads, cuda::AttentionBias{}, out.p, dt,
                              nullptr);
      });
      const double aflops = 4.0 * n * double(len) * len * H;
      std::printf("bench attention %-4s %d seqs × %d, 12 heads, D=64 %8.3f ms %8.1f TFLOP/s\n", cuda::dtypeName(dt), n,
                  len, ams, aflops / (ams * 1e-3) / 1e12);
      const float lms = medianMs([&] {
        cuda::launchLayerNorm(qkv->p, x->p, g->as<float>(), g->as<float>(), T, H, 1e-12f, out.p, dt, nullptr);
      });
      std::printf("bench layerNorm+residual %-4s rows=%d cols=%d %8.3f ms %8.1f GB/s\n", cuda::dtypeName(dt), T, H, lms,
                  3.0 * T * H * cuda::dtypeSize(dt) / (lms * 1e-3) / 1e9);
    }
  }
}

struct Section {
  const char* name;
  void (*fn)(Tally&);
};
const Section kSections[] = {
    {"gemm", gemmChecks},           {"dense", denseChecks},     {"layerNorm", layerNormChecks},
    {"embeddings", embeddingsChecks}, {"attention", attentionChecks}, {"pooling", poolingChecks},
    {"engine", engineChecks},
};

bool sameName(const std::string& a, const char* b) {
  if (a.size() != std::strlen(b)) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// Parses --only's comma-separated section names (case-insensitive) into `chosen`; false (after
// printing the valid names) when one is unknown.
bool parseOnly(const char* list, std::vector<const Section*>& chosen) {
  std::string rest = list;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string name = rest.substr(0, comma);
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
    if (name.empty()) continue;
    const Section* found = nullptr;
    for (const Section& s : kSections) {
      if (sameName(name, s.name)) found = &s;
    }
    if (!found) {
      std::printf("cuda_kernels_test: unknown section '%s'; sections:", name.c_str());
      for (const Section& s : kSections) std::printf(" %s", s.name);
      std::printf("\n");
      return false;
    }
    chosen.push_back(found);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bool doBench = false, benchOnly = false;
  std::vector<const Section*> chosen;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--bench") == 0) {
      doBench = true;
    } else if (std::strcmp(argv[i], "--bench-only") == 0) {
      doBench = benchOnly = true;
    } else if (std::strcmp(argv[i], "--quick") == 0) {
      gQuick = true;
    } else if (std::strcmp(argv[i], "--list") == 0) {
      for (const Section& s : kSections) std::printf("%s\n", s.name);
      return 0;
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      if (!parseOnly(argv[++i], chosen)) return 2;
    } else {
      std::printf("cuda_kernels_test: unknown argument '%s' (--only SECTIONS, --list, --quick, --bench, --bench-only)\n",
                  argv[i]);
      return 2;
    }
  }
  if (chosen.empty()) {
    for (const Section& s : kSections) chosen.push_back(&s);
  }
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    std::printf("cuda_kernels_test: skipped: no CUDA device (%s)\n",
                err != cudaSuccess ? cudaGetErrorString(err) : "the driver reports none");
    return 0;
  }
  cudaDeviceProp prop;
  SBERT_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("# device 0: %s, compute capability %d.%d, %d SMs\n", prop.name, prop.major, prop.minor,
              prop.multiProcessorCount);
  Tally t;
  if (!benchOnly) {
    for (const Section* s : chosen) {
      std::printf("# %s\n", s->name);
      std::fflush(stdout);
      const auto t0 = std::chrono::steady_clock::now();
      try {
        s->fn(t);
      } catch (const Error& e) {
        t.check(false, "%s threw %s: %s", s->name, e.code().c_str(), e.what());
      } catch (const std::exception& e) {
        t.check(false, "%s threw: %s", s->name, e.what());
      }
      // A sticky CUDA error (illegal address, ...) poisons every later section: say so here.
      const cudaError_t sticky = cudaDeviceSynchronize();
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("# %s: %.1f s%s%s\n", s->name, secs, sticky == cudaSuccess ? "" : ", CUDA error after it: ",
                  sticky == cudaSuccess ? "" : cudaGetErrorString(sticky));
      std::fflush(stdout);
    }
  }
  if (doBench) {
    try {
      bench();
    } catch (const std::exception& e) {
      std::printf("bench threw: %s\n", e.what());
    }
  }
  return t.finish();
}

#endif  // SBERT_WITH_CUDA
