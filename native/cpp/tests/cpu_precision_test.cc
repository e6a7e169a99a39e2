// The CPU engine in int8 and bf16 (makeCpuBackend(plan, precision)) end to end, on small random
// BERTs with odd shapes (hidden 36, FFN 102: K not a multiple of the vector widths):
// - against the double reference forward (reference_forward.h) whose encoder Linears compute the
//   precision's exact definition (gemm_int8.h: per-channel weights, per-row activations, exact
//   integer dot products; gemm_bf16.h: both operands rounded to bf16) — tight — and against the
//   plain fp32 reference — the precision's real cost;
// - a sequence alone gives bit-for-bit what it gives inside a batch of 300 (per-row quantization);
// - weights that strain int8 scales (all-zero rows, rows of 1e-37, huge outliers) still encode
//   finite values close to the emulated reference;
// - the packed weights are smaller than fp32's;
// - refusals: fp16 always, int8 without AVX2+FMA, bf16 without avx512_bf16 (ERR_UNSUPPORTED,
//   naming the feature).
// Which path runs follows the active CPU features (SBERT_CPU_ISA / SBERT_CPU_FEATURES); the JS
// runner runs this under each one the machine has and compares the digests:
//   cpu_precision_test --quick    the same checks (they are quick already)
//   cpu_precision_test --digest   prints "digest <hex>" of the int8 engine's outputs on a fixed
//                                 batch (and "digest-bf16 <hex>" where bf16 runs)
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "engine/backend.h"
#include "engine_harness.h"
#include "kernels/cpu_features.h"
#include "kernels/gemm_bf16.h"
#include "kernels/gemm_int8.h"
#include "random_model.h"
#include "reference_forward.h"
#include "test_plan.h"
#include "test_util.h"

using namespace sbert;
using sbert::test::Mat;
using sbert::test::Tally;
using sbert::test::TestModel;
using sbert::test::TestTensor;

namespace {

constexpr int kVocab = 100, kHidden = 36, kHeads = 4, kLayers = 2, kFfn = 102, kMaxPos = 128;

BertShape shapeOf() {
  BertShape s;
  s.vocabSize = kVocab;
  s.hiddenSize = kHidden;
  s.numLayers = kLayers;
  s.numHeads = kHeads;
  s.intermediateSize = kFfn;
  s.maxPositions = kMaxPos;
  s.typeVocabSize = 2;
  s.layerNormEps = 1e-12f;
  return s;
}

TestModel makeModel(uint32_t seed) {
  return test::randomModel(shapeOf(), {PoolMode::Mean, PoolMode::Cls}, {{20, Activation::Tanh, true}}, true, seed);
}

// ---- the precisions' exact definitions, for the reference's encoder Linears ---------------

// gemm_int8.h's quantizer on an fp32 vector.
void quantizeRow(const float* x, int K, std::vector<int>& q, float& scale) {
  float amax = 0.f;
  for (int k = 0; k < K; ++k) amax = std::max(amax, std::fabs(x[k]));
  q.assign(size_t(K), 0);
  if (amax < std::ldexp(1.f, -119)) {
    scale = 0.f;
    return;
  }
  scale = amax / 127.f;
  const float inv = 127.f / amax;
  for (int k = 0; k < K; ++k) {
    const float v = std::min(127.f, std::max(-127.f, x[k] * inv));
    q[size_t(k)] = int(std::nearbyint(v));
  }
}

Mat int8LinearRef(const Mat& x, int rows, int K, const TestTensor& W, const TestTensor* b) {
  const int N = int(W.shape[0]);
  std::vector<std::vector<int>> qw(static_cast<size_t>(N));
  std::vector<float> sw(static_cast<size_t>(N));
  for (int n = 0; n < N; ++n) quantizeRow(W.data.data() + size_t(n) * K, K, qw[size_t(n)], sw[size_t(n)]);
  Mat y(size_t(rows) * N);
  std::vector<float> row(static_cast<size_t>(K));
  std::vector<int> qa;
  for (int r = 0; r < rows; ++r) {
    for (int k = 0; k < K; ++k) row[size_t(k)] = float(x[size_t(r) * K + k]);  // the engine's activations are fp32
    float sa = 0.f;
    quantizeRow(row.data(), K, qa, sa);
    for (int n = 0; n < N; ++n) {
      int64_t acc = 0;
      for (int k = 0; k < K; ++k) acc += int64_t(qa[size_t(k)]) * qw[size_t(n)][size_t(k)];
      const float v = (float(acc) * sa) * sw[size_t(n)];
      y[size_t(r) * N + n] = double(v) + (b ? b->data[size_t(n)] : 0.0);
    }
  }
  return y;
}

float roundBf16(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  bits = (bits + 0x7fffu + ((bits >> 16) & 1u)) & 0xffff0000u;
  std::memcpy(&v, &bits, 4);
  return v;
}

Mat bf16LinearRef(const Mat& x, int rows, int K, const TestTensor& W, const TestTensor* b) {
  const int N = int(W.shape[0]);
  Mat y(size_t(rows) * N);
  for (int r = 0; r < rows; ++r)
    for (int n = 0; n < N; ++n) {
      double s = b ? b->data[size_t(n)] : 0.0;
      for (int k = 0; k < K; ++k) {
        s += double(roundBf16(float(x[size_t(r) * K + k]))) * double(roundBf16(W.data[size_t(n) * K + k]));
      }
      y[size_t(r) * N + n] = s;
    }
  return y;
}

// ---- helpers -----------------------------------------------------------------------------

bool available(Precision p) {
  try {
    checkCpuPrecision(p);
    return true;
  } catch (const Error&) {
    return false;
  }
}

std::string errorOf(Precision p, const ModelPlan& plan, std::string* code) {
  try {
    makeCpuBackend(plan, p);
  } catch (const Error& e) {
    *code = e.code();
    return e.what();
  }
  *code = "";
  return "";
}

double cosine(const float* a, const double* b, int n) {
  double ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < n; ++i) ab += a[i] * b[i], aa += double(a[i]) * a[i], bb += b[i] * b[i];
  return ab / std::sqrt(aa * bb);
}

bool allFinite(const std::vector<float>& v) {
  for (float x : v) {
    if (!std::isfinite(x)) return false;
  }
  return true;
}

struct Agreement {
  double tokErr = 0, tokMax = 0, minCos = 1, meanCos = 0;
};

// The engine's outputs for batch b against forwardRef with `linear` for every sequence.
Agreement agreement(const TestModel& m, const test::Batch& b, const test::Outs& out, const test::LinearRef& linear) {
  Agreement a;
  const int n = int(b.cu.size()) - 1, dim = m.sentenceDim();
  for (int s = 0; s < n; ++s) {
    const test::RefOut r = test::forwardRef(m, b.ids.data() + b.cu[s], nullptr, b.cu[s + 1] - b.cu[s], linear);
    for (size_t i = 0; i < r.tokens.size(); ++i) {
      a.tokErr = std::max(a.tokErr, std::fabs(out.tokens[size_t(b.cu[s]) * kHidden + i] - r.tokens[i]));
      a.tokMax = std::max(a.tokMax, std::fabs(r.tokens[i]));
    }
    const double c = cosine(out.sentence.data() + size_t(s) * dim, r.sentence.data(), dim);
    a.minCos = std::min(a.minCos, c);
    a.meanCos += c / n;
  }
  return a;
}

const char* nameOf(Precision p) { return precisionName(p); }

// ---- checks --------------------------------------------------------------------------------

void checkRefusals(Tally& t) {
  const TestModel m = makeModel(3);
  const ModelPlan plan = m.plan();
  std::string code;
  std::string msg = errorOf(Precision::Fp16, plan, &code);
  t.check(code == "ERR_UNSUPPORTED" && msg.find("fp16") != std::string::npos && msg.find("'int8'") != std::string::npos,
          "fp16 on the CPU → ERR_UNSUPPORTED naming the CPU precisions: %s", msg.c_str());

  const bool int8 = bestInt8Path() != Int8Path::Portable;
  msg = errorOf(Precision::Int8, plan, &code);
  if (int8) {
    t.check(code.empty(), "int8 loads here (path %s): %s", int8PathName(bestInt8Path()), msg.c_str());
  } else {
    t.check(code == "ERR_UNSUPPORTED" && msg.find("avx2") != std::string::npos,
            "int8 without AVX2+FMA → ERR_UNSUPPORTED naming avx2: %s", msg.c_str());
  }
  const Bf16Support bf = bf16Support();
  msg = errorOf(Precision::Bf16, plan, &code);
  if (bf.supported) {
    t.check(code.empty(), "bf16 loads here (path %s): %s", bf16PathName(bf.path), msg.c_str());
  } else {
    t.check(code == "ERR_UNSUPPORTED" && msg.find("avx512_bf16") != std::string::npos,
            "bf16 without avx512_bf16 → ERR_UNSUPPORTED naming avx512_bf16: %s", msg.c_str());
  }
  t.check(available(Precision::Fp32), "fp32 always loads");
}

// The emulated reference rounds activations that differ from the engine's in the last fp32 bits,
// so now and then one lands on the other side of a rounding boundary: rarely for int8 (steps of
// amax/127), more often for bf16 (8-bit mantissas), and a flipped bf16 operand moves its dot
// products by ~2⁻⁹ relative, which the later layers carry along. Hence the looser bf16 bound.
struct Targets {
  double emulatedTok;  // token error vs the emulated reference, relative to max |ref|
  double emulatedCos;  // min sentence cosine vs the emulated reference
  double fp32MinCos;   // min sentence cosine vs the fp32 reference
};

void checkAgainstReferences(Tally& t, Precision p, const test::LinearRef& exact, Targets target) {
  const TestModel m = makeModel(7);
  auto be = makeCpuBackend(m.plan(), p);
  std::mt19937 rng(17);
  const test::Batch b = test::randomBatch(rng, {1, 2, 7, 33, kMaxPos, 5, 64, 19, 255 % kMaxPos}, kVocab);
  const int dim = m.sentenceDim();
  const test::Outs out = test::run(*be, b.view(), dim, kHidden, {true, true});
  const Agreement e = agreement(m, b, out, exact);
  const Agreement f = agreement(m, b, out, test::linearRef);
  t.check(e.tokErr <= target.emulatedTok * e.tokMax && e.minCos >= target.emulatedCos,
          "%s engine vs a reference computing %s's definition: tokens max abs err %.3g (max |ref| %.3g), "
          "sentence min cosine %.9f",
          nameOf(p), nameOf(p), e.tokErr, e.tokMax, e.minCos);
  t.check(f.minCos >= target.fp32MinCos,
          "%s engine vs the fp32 reference (its cost): sentence cosine min %.6f mean %.6f, tokens max abs err %.3g",
          nameOf(p), f.minCos, f.meanCos, f.tokErr);
  // The cost is real: the engine does not silently run fp32 (1 − cosine at least 10× farther
  // from fp32 than from the precision's own definition).
  t.check(1 - f.minCos > 10 * (1 - e.minCos), "%s is farther from fp32 than from its own definition (1 - cosine %.3g vs %.3g)",
          nameOf(p), 1 - f.minCos, 1 - e.minCos);
}

void checkBatchIndependence(Tally& t, Precision p) {
  const TestModel m = makeModel(9);
  auto be = makeCpuBackend(m.plan(), p);
  std::mt19937 rng(23);
  std::vector<int> lens(300);
  for (int& l : lens) l = 1 + int(rng() % 64);
  lens[299] = kMaxPos;
  const test::Batch big = test::randomBatch(rng, lens, kVocab);
  const int dim = m.sentenceDim();
  const test::Outs all = test::run(*be, big.view(), dim, kHidden, {true, true});
  double worst = 0;
  for (int s : {0, 137, 298, 299}) {
    const test::Batch one = test::sliceBatch(big, s, 1);
    const test::Outs o = test::run(*be, one.view(), dim, kHidden, {true, true});
    worst = std::max(worst, test::maxAbsDiff(o.sentence.data(), all.sentence.data() + size_t(s) * dim, size_t(dim)));
    worst = std::max(worst, test::maxAbsDiff(o.tokens.data(), all.tokens.data() + size_t(big.cu[s]) * kHidden,
                                             size_t(lens[size_t(s)]) * kHidden));
  }
  t.check(worst == 0, "%s: a sequence alone == inside a batch of 300 (%d tokens), bit for bit: max diff %.3g", nameOf(p),
          big.cu.back(), worst);
}

// Weights that strain per-channel scales: in every encoder Linear, an all-zero output row, a row
// of 1e-37 (below the quantizer's 2⁻¹¹⁹ floor), and rows with one outlier 10⁴ times the rest.
void checkHardWeights(Tally& t, Precision p, const test::LinearRef& exact) {
  TestModel m = makeModel(11);
  for (auto& [name, tensor] : m.tensors) {
    if (tensor.shape.size() != 2 || name.find("encoder.layer.") != 0) continue;
    const int64_t N = tensor.shape[0], K = tensor.shape[1];
    float* w = tensor.data.data();
    std::fill(w, w + K, 0.f);                 // row 0: zeros
    std::fill(w + K, w + 2 * K, 1e-37f);      // row 1: below the scale floor
    for (int64_t n = 2; n < N; n += 5) w[n * K + (n % K)] = (n % 2 ? 1 : -1) * 3500.f;  // outliers
  }
  auto be = makeCpuBackend(m.plan(), p);
  std::mt19937 rng(29);
  const test::Batch b = test::randomBatch(rng, {1, 9, 40, kMaxPos}, kVocab);
  const int dim = m.sentenceDim();
  const test::Outs out = test::run(*be, b.view(), dim, kHidden, {true, true});
  const bool finite = allFinite(out.sentence) && allFinite(out.tokens);
  const Agreement e = finite ? agreement(m, b, out, exact) : Agreement{};
  t.check(finite && e.minCos >= 0.999,
          "%s: zero rows, 1e-37 rows and 1e4 outliers encode finite values (sentence min cosine to %s's definition %.6f)",
          nameOf(p), nameOf(p), e.minCos);
}

void checkMemory(Tally& t, Precision p, double maxRatio) {
  const TestModel m = test::randomModel([] {
    BertShape s = shapeOf();
    s.hiddenSize = 128, s.intermediateSize = 512, s.vocabSize = 8;
    return s;
  }(), {PoolMode::Mean}, {}, false, 5);
  const int64_t fp32 = makeCpuBackend(m.plan(), Precision::Fp32)->memoryBytes();
  const int64_t low = makeCpuBackend(m.plan(), p)->memoryBytes();
  t.check(double(low) <= maxRatio * double(fp32), "%s weights take %lld bytes, fp32 %lld (≤ %.2f×)", nameOf(p),
          (long long)low, (long long)fp32, maxRatio);
}

// FNV-1a over the outputs of a fixed batch.
uint64_t digestOf(Precision p) {
  const TestModel m = makeModel(13);
  auto be = makeCpuBackend(m.plan(), p);
  std::mt19937 rng(31);
  const test::Batch b = test::randomBatch(rng, {1, 3, 17, 64, kMaxPos, 33}, kVocab);
  const test::Outs o = test::run(*be, b.view(), m.sentenceDim(), kHidden, {true, true});
  uint64_t h = 1469598103934665603ull;
  for (const std::vector<float>* v : {&o.sentence, &o.tokens}) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(v->data());
    for (size_t i = 0; i < v->size() * sizeof(float); ++i) h = (h ^ bytes[i]) * 1099511628211ull;
  }
  return h;
}

int printDigest() {
  if (!cpuIsaOverrideError().empty()) {
    std::printf("SBERT_CPU_ISA refused: %s\n", cpuIsaOverrideError().c_str());
    return 1;
  }
  std::printf("# fp32 kernel %s, int8 path %s\n", gemmKernelName(), int8PathName(bestInt8Path()));
  if (available(Precision::Int8)) std::printf("digest %016llx\n", (unsigned long long)digestOf(Precision::Int8));
  if (available(Precision::Bf16)) {
    std::printf("# bf16 path %s\ndigest-bf16 %016llx\n", bf16PathName(bf16Support().path),
                (unsigned long long)digestOf(Precision::Bf16));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--digest") == 0) return printDigest();
  Tally t;
  if (!t.check(cpuIsaOverrideError().empty(), "SBERT_CPU_ISA honoured: %s", cpuIsaOverrideError().c_str())) {
    return t.finish();
  }
  std::printf("# active features: %s; int8 path %s; bf16 %s\n", cpuFeatureNames(activeCpuFeatures()).c_str(),
              int8PathName(bestInt8Path()), bf16Support().supported ? bf16PathName(bf16Support().path) : "refused");
  checkRefusals(t);
  if (available(Precision::Int8)) {
    checkAgainstReferences(t, Precision::Int8, int8LinearRef, {2e-3, 0.99999, 0.99});
    checkBatchIndependence(t, Precision::Int8);
    checkHardWeights(t, Precision::Int8, int8LinearRef);
    checkMemory(t, Precision::Int8, 0.45);
  }
  if (available(Precision::Bf16)) {
    checkAgainstReferences(t, Precision::Bf16, bf16LinearRef, {5e-3, 0.99999, 0.999});
    checkBatchIndependence(t, Precision::Bf16);
    checkHardWeights(t, Precision::Bf16, bf16LinearRef);
    checkMemory(t, Precision::Bf16, 0.65);
  }
  return t.finish();
}
