// ModelGraph (train/model_graph.h) end to end on small random plans (hidden 16, 2 heads,
// 2 layers, ffn 36; every pooling mode; Dense tanh / gelu; with and without Normalize):
//   - d(Σ w·embeddings)/d(param) from forward + backward, for samples of every parameter,
//     against central finite differences of a double-precision copy of the whole forward
//     (written here, independently of the kernels);
//   - encode (the inference kernels) against the CPU engine on the same weights, against the
//     double forward and against the training forward without dropout;
//   - backward accumulates, zeroGrad clears, rows of unused token ids get no gradient,
//     dropout changes the embeddings from step to step and is off when asked;
//   - a classification head's input dropout (DensePlan::dropoutBefore): the training forward
//     and its gradients against the double forward given the same keep masks (dropoutKeep of
//     the step's stream), while encode and the eval forward ignore it;
//   - the same for an MPNet-like plan: no token type embeddings, RoBERTa's position ids after
//     the padding index (padding ids inside sequences), the relative attention bias shared by
//     the layers, and a frozen position table (no gradient).
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "grad_check.h"
#include "engine/backend.h"
#include "engine/cpu_forward.h"
#include "kernels/dropout.h"
#include "kernels/relative_position.h"
#include "random_model.h"
#include "train/model_graph.h"

using namespace sbert;
using sbert::test::Tally;

namespace {

// ---- the double-precision forward -------------------------------------------------------

// hidden 16, 2 heads, 2 layers, ffn 36, 23 tokens (the last 3 unused), 40 positions.
BertShape smallShape() {
  BertShape s;
  s.vocabSize = 23;
  s.hiddenSize = 16;
  s.numLayers = 2;
  s.numHeads = 2;
  s.intermediateSize = 36;
  s.maxPositions = 40;
  s.typeVocabSize = 2;
  s.layerNormEps = 1e-12f;
  s.hiddenDropout = 0.1f;
  s.attentionDropout = 0.1f;
  return s;
}

using Vd = std::vector<double>;

void layerNormD(Vd& x, int64_t rows, int cols, const Vd& g, const Vd& b, double eps) {
  for (int64_t r = 0; r < rows; ++r) {
    double* y = x.data() + r * cols;
    double mean = 0, var = 0;
    for (int j = 0; j < cols; ++j) mean += y[j];
    mean /= cols;
    for (int j = 0; j < cols; ++j) var += (y[j] - mean) * (y[j] - mean);
    var /= cols;
    const double rs = 1 / std::sqrt(var + eps);
    for (int j = 0; j < cols; ++j) y[j] = (y[j] - mean) * rs * g[j] + b[j];
  }
}

// y [rows, N] = x [rows, K]·Wᵀ + b
Vd linearD(const Vd& x, int64_t rows, int K, const Vd& W, const Vd* b, int N) {
  Vd y(size_t(rows) * N);
  for (int64_t r = 0; r < rows; ++r)
    for (int o = 0; o < N; ++o) {
      double s = b ? (*b)[o] : 0;
      for (int k = 0; k < K; ++k) s += x[r * K + k] * W[size_t(o) * K + k];
      y[r * N + o] = s;
    }
  return y;
}

double actD(Activation a, double x) {
  switch (a) {
    case Activation::Identity: return x;
    case Activation::Tanh: return std::tanh(x);
    case Activation::Relu: return x > 0 ? x : 0;
    case Activation::Gelu: return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
    case Activation::Sigmoid: return 1 / (1 + std::exp(-x));
  }
  return 0;
}

// The training step whose Dense input-dropout masks the double forward applies (none: eval).
struct HeadDropoutStep {
  uint64_t seed = 0, step = 0;
};

Vd forwardD(const ModelPlan& plan, const std::vector<Vd>& P, const std::vector<int32_t>& ids,
            const std::vector<int32_t>& cu, const HeadDropoutStep* headDropout = nullptr) {
  const BertShape& s = plan.shape;
  const int H = s.hiddenSize, I = s.intermediateSize, heads = s.numHeads, d = s.headDim();
  const int n = int(cu.size()) - 1;
  const int64_t T = cu[n];
  const EmbeddingsPlan& e = plan.embeddings;
  Vd x(size_t(T) * H);
  for (int q = 0; q < n; ++q) {
    int count = 0;  // non-padding tokens so far (RoBERTa's rule, from transformers)
    for (int t = cu[q]; t < cu[q + 1]; ++t) {
      int pos = t - cu[q];
      if (s.positionIds == PositionIds::AfterPadding) {
        pos = ids[t] == s.paddingIdx ? s.paddingIdx : s.paddingIdx + ++count;
      }
      for (int j = 0; j < H; ++j)
        x[size_t(t) * H + j] = P[e.word][size_t(ids[t]) * H + j] + (e.tokenType >= 0 ? P[e.tokenType][j] : 0.0) +
                               P[e.position][size_t(pos) * H + j];
    }
  }
  layerNormD(x, T, H, P[e.lnGamma], P[e.lnBeta], s.layerNormEps);
  const double scale = 1 / std::sqrt(double(d));
  for (const LayerPlan& lp : plan.layers) {
    const Vd q = linearD(x, T, H, P[lp.query], &P[lp.queryBias], H);
    const Vd k = linearD(x, T, H, P[lp.key], &P[lp.keyBias], H);
    const Vd v = linearD(x, T, H, P[lp.value], &P[lp.valueBias], H);
    Vd ctx(size_t(T) * H, 0.0);
    for (int sq = 0; sq < n; ++sq) {
      const int L = cu[sq + 1] - cu[sq];
      for (int h = 0; h < heads; ++h)
        for (int i = 0; i < L; ++i) {
          Vd p(L);
          double mx = -INFINITY, sum = 0;
          for (int j = 0; j < L; ++j) {
            double dot = 0;
            for (int c = 0; c < d; ++c)
              dot += q[size_t(cu[sq] + i) * H + h * d + c] * k[size_t(cu[sq] + j) * H + h * d + c];
            p[j] = dot * scale;
            if (e.relativeBias >= 0) {
              const int b = relativePositionBucket(j - i, s.relativeBuckets, s.relativeMaxDistance);
              p[j] += P[e.relativeBias][size_t(b) * heads + h];
            }
            mx = std::max(mx, p[j]);
          }
          for (int j = 0; j < L; ++j) sum += (p[j] = std::exp(p[j] - mx));
          for (int j = 0; j < L; ++j)
            for (int c = 0; c < d; ++c)
              ctx[size_t(cu[sq] + i) * H + h * d + c] +=
                  p[j] / sum * v[size_t(cu[sq] + j) * H + h * d + c];
        }
    }
    Vd h1 = linearD(ctx, T, H, P[lp.attnOut], &P[lp.attnOutBias], H);
    for (size_t i = 0; i < h1.size(); ++i) h1[i] += x[i];
    layerNormD(h1, T, H, P[lp.attnLnGamma], P[lp.attnLnBeta], s.layerNormEps);
    Vd f = linearD(h1, T, H, P[lp.ffnIn], &P[lp.ffnInBias], I);
    for (double& u : f) u = actD(Activation::Gelu, u);
    x = linearD(f, T, I, P[lp.ffnOut], &P[lp.ffnOutBias], H);
    for (size_t i = 0; i < x.size(); ++i) x[i] += h1[i];
    layerNormD(x, T, H, P[lp.ffnLnGamma], P[lp.ffnLnBeta], s.layerNormEps);
  }
  const int pd = H * int(plan.pooling.size());
  Vd cur(size_t(n) * pd, 0.0);
  for (int sq = 0; sq < n; ++sq) {
    const int L = cu[sq + 1] - cu[sq];
    const double* tok = x.data() + size_t(cu[sq]) * H;
    for (size_t m = 0; m < plan.pooling.size(); ++m)
      for (int j = 0; j < H; ++j) {
        double val = 0;
        switch (plan.pooling[m]) {
          case PoolMode::Cls: val = tok[j]; break;
          case PoolMode::LastToken: val = tok[(L - 1) * H + j]; break;
          case PoolMode::Max:
            val = tok[j];
            for (int i = 1; i < L; ++i) val = std::max(val, tok[i * H + j]);
            break;
          case PoolMode::Mean:
          case PoolMode::MeanSqrtLen:
            for (int i = 0; i < L; ++i) val += tok[i * H + j];
            val /= plan.pooling[m] == PoolMode::Mean ? L : std::sqrt(double(L));
            break;
          case PoolMode::WeightedMean:
            for (int i = 0; i < L; ++i) val += (i + 1) * tok[i * H + j];
            val /= L * (L + 1) / 2.0;
            break;
        }
        cur[size_t(sq) * pd + m * H + j] = val;
      }
  }
  int dim = pd;
  for (size_t j = 0; j < plan.dense.size(); ++j) {
    const DensePlan& dp = plan.dense[j];
    if (headDropout && dp.dropoutBefore > 0.f) {
      const uint64_t stream = dropoutStream(headDropout->seed, headDropout->step, kHeadDropoutSite + j);
      const double keepScale = 1 / (1 - double(dp.dropoutBefore));
      for (size_t i = 0; i < cur.size(); ++i) cur[i] = dropoutKeep(stream, i, dp.dropoutBefore) ? cur[i] * keepScale : 0;
    }
    cur = linearD(cur, n, dim, P[dp.weight], dp.bias >= 0 ? &P[dp.bias] : nullptr, dp.outFeatures);
    for (double& u : cur) u = actD(dp.activation, u);
    dim = dp.outFeatures;
  }
  if (plan.normalize) {
    for (int r = 0; r < n; ++r) {
      double sq = 0;
      for (int j = 0; j < dim; ++j) sq += cur[size_t(r) * dim + j] * cur[size_t(r) * dim + j];
      const double norm = std::max(std::sqrt(sq), 1e-12);
      for (int j = 0; j < dim; ++j) cur[size_t(r) * dim + j] /= norm;
    }
  }
  return cur;
}

std::string describe(const std::vector<PoolMode>& pooling, const std::vector<test::DenseSpec>& dense,
                     bool normalize) {
  static const char* names[] = {"cls", "max", "mean", "mean_sqrt_len", "weightedmean",
                                "lasttoken"};
  static const char* acts[] = {"identity", "tanh", "relu", "gelu", "sigmoid"};
  std::string s;
  for (PoolMode m : pooling) s += std::string(s.empty() ? "" : "+") + names[int(m)];
  for (const test::DenseSpec& d : dense) s += std::string(" dense(") + acts[int(d.act)] + ")";
  if (normalize) s += " normalize";
  return s;
}

// Finite differences per parameter: `samples` of every trainable tensor (embedding rows the
// batch uses) against the graph's gradients of `loss`; a frozen tensor must get none. Errors
// are relative to the tensor's largest gradient, floored at 1e-3 of the largest of all: the key
// bias's true gradient is 0 (softmax ignores a per-row constant), so its fp32 value is rounding
// noise and must be judged on the scale of the other gradients.
struct SampledGradients {
  double worst = 0;
  std::string worstName;
  int checked = 0;
};

SampledGradients sampleGradients(Tally& t, const std::string& what, const ModelPlan& plan, ModelGraph& g,
                                 std::vector<Vd>& P, const std::vector<int32_t>& ids,
                                 const std::function<double()>& loss, std::mt19937& rng, int samples) {
  double globalMax = 0;
  for (const ParamBuffer& pb : g.parameters())
    for (float v : pb.grad) globalMax = std::max(globalMax, double(std::fabs(v)));
  SampledGradients out;
  const size_t H = size_t(plan.shape.hiddenSize);
  for (size_t p = 0; p < plan.params.size(); ++p) {
    const auto& grad = g.parameters()[p].grad;
    if (!g.parameters()[p].trainable) {
      bool none = true;
      for (float v : grad) none = none && v == 0.f;
      t.check(none, "%s: the frozen %s gets no gradient", what.c_str(), plan.params[p].name.c_str());
      continue;
    }
    double gmax = 1e-3 * globalMax;
    for (float v : grad) gmax = std::max(gmax, double(std::fabs(v)));
    for (int k = 0; k < samples; ++k) {
      size_t i = size_t(rng() % P[p].size());
      if (int(p) == plan.embeddings.word) i = size_t(ids[rng() % ids.size()]) * H + rng() % H;
      if (int(p) == plan.embeddings.position) i = size_t(rng() % 33) * H + rng() % H;
      const double num = test::centralDiff(loss, P[p], i);
      const double err = std::fabs(double(grad[i]) - num) / std::max(gmax, std::fabs(num));
      if (!(err <= out.worst)) {
        out.worst = err;
        out.worstName = plan.params[p].name;
      }
      ++out.checked;
    }
  }
  return out;
}

// MPNet's layout on the small shape: no token types, positions after padding index 1, a
// relative bias of 8 buckets up to distance 10 (so the 33-token sequence reaches every kind of
// bucket), the position table frozen.
BertShape mpnetLikeShape() {
  BertShape s = smallShape();
  s.typeVocabSize = 0;
  s.positionIds = PositionIds::AfterPadding;
  s.paddingIdx = 1;
  s.relativeBuckets = 8;
  s.relativeMaxDistance = 10;
  return s;
}

void checkGraph(Tally& t, const std::vector<PoolMode>& pooling,
                const std::vector<test::DenseSpec>& dense, bool normalize, uint32_t seed,
                bool mpnetLike = false) {
  test::TestModel model =
      test::randomModel(mpnetLike ? mpnetLikeShape() : smallShape(), pooling, dense, normalize, seed);
  if (mpnetLike) model.frozen.insert("embeddings.position_embeddings.weight");
  const ModelPlan plan = model.plan();
  const std::string what = std::string(mpnetLike ? "[mpnet-like] " : "") + describe(pooling, dense, normalize);
  std::mt19937 rng(seed * 7 + 1);
  const auto lens = test::oddLengths();
  const std::vector<int32_t> cu = test::cuSeqlensOf(lens);
  const int n = int(lens.size()), T = cu.back(), dim = plan.sentenceDim;
  std::vector<int32_t> ids(T);
  for (int i = 0; i < T; ++i) ids[i] = int32_t(rng() % (plan.shape.vocabSize - 3));  // 3 unused
  // Padding ids inside sequences (not the first token), where the position rule skips them.
  if (mpnetLike) ids[5] = ids[20] = plan.shape.paddingIdx;

  ModelGraph g(plan, 99);
  t.check(g.sentenceDim() == dim && g.parameters().size() == plan.params.size() &&
              g.parameters()[0].name == plan.params[0].name &&
              g.parameters()[size_t(plan.embeddings.lnGamma)].weightDecay == false,
          "%s: parameters mirror the plan (names, order, decay flags)", what.c_str());

  std::vector<Vd> P;
  for (const PlanParam& pp : plan.params) {
    std::vector<float> v(size_t(pp.numel()));
    pp.copyTo(v.data());
    P.push_back(Vd(v.begin(), v.end()));
  }
  const Vd ref = forwardD(plan, P, ids, cu);

  EncodeBatch batch;
  batch.ids = ids.data();
  batch.cuSeqlens = cu.data();
  batch.numSequences = n;
  std::vector<float> enc(size_t(n) * dim);
  g.encode(batch, enc.data());
  std::vector<float> engine(enc.size());
  EncodeOutputs outs;
  outs.sentence = engine.data();
  makeCpuBackend(plan)->encode(batch, outs);
  double engScale = 0, engDiff = 0;
  for (size_t i = 0; i < enc.size(); ++i) {
    engScale = std::max(engScale, std::fabs(double(engine[i])));
    engDiff = std::max(engDiff, std::fabs(double(engine[i]) - enc[i]));
  }
  t.check(engDiff <= 1e-6 * engScale, "%s: encode = CPU engine on the same weights: max diff %.3g",
          what.c_str(), engDiff);
  const double encErr = test::maxRelErr(enc.data(), ref.data(), enc.size(), 1e-2);
  t.check(encErr <= 2e-5, "%s: encode vs double forward: err %.3g", what.c_str(), encErr);

  const float* out = g.forward(batch, false);
  double scale = 0, diff = 0;
  for (size_t i = 0; i < enc.size(); ++i) {
    scale = std::max(scale, std::fabs(double(enc[i])));
    diff = std::max(diff, std::fabs(double(out[i]) - enc[i]));
  }
  t.check(diff <= 1e-6 * scale, "%s: training forward (no dropout) = encode: max diff %.3g "
          "(max |x| %.3g)", what.c_str(), diff, scale);

  auto w = test::randomVec(rng, size_t(n) * dim);
  const Vd wd = test::toDouble(w);
  g.zeroGrad();
  g.backward(w.data());

  const SampledGradients sampled =
      sampleGradients(t, what, plan, g, P, ids, [&]() { return test::dotD(wd, forwardD(plan, P, ids, cu)); }, rng, 5);
  t.check(sampled.worst <= 1e-4, "%s: d(Σ w·emb)/d(param), %d samples over %zu tensors vs finite "
          "differences: worst err %.3g (%s)", what.c_str(), sampled.checked, plan.params.size(), sampled.worst,
          sampled.worstName.c_str());

  const auto& wordGrad = g.parameters()[size_t(plan.embeddings.word)].grad;
  bool unused = true;
  for (int r = plan.shape.vocabSize - 3; r < plan.shape.vocabSize; ++r)
    for (int j = 0; j < plan.shape.hiddenSize; ++j)
      unused = unused && wordGrad[size_t(r) * plan.shape.hiddenSize + j] == 0.f;
  t.check(unused, "%s: word rows not in the batch get no gradient", what.c_str());

  // Accumulation and zeroGrad.
  const auto once = g.parameters()[size_t(plan.layers[0].query)].grad;
  g.backward(w.data());
  const auto& twice = g.parameters()[size_t(plan.layers[0].query)].grad;
  double acc = 0, gq = 1e-30;
  for (size_t i = 0; i < once.size(); ++i) {
    acc = std::max(acc, std::fabs(double(twice[i]) - 2.0 * once[i]));
    gq = std::max(gq, double(std::fabs(once[i])));
  }
  t.check(acc <= 1e-6 * gq, "%s: backward accumulates (+=)", what.c_str());
  g.zeroGrad();
  bool zero = true;
  for (const ParamBuffer& pb : g.parameters())
    for (float v : pb.grad) zero = zero && v == 0.f;
  t.check(zero, "%s: zeroGrad clears every gradient", what.c_str());

  // Dropout: two training steps differ from each other and from the eval forward; backward
  // after a dropout forward gives finite gradients; dropout off gives encode's values again.
  const size_t cnt = size_t(n) * dim;
  const float* a = g.forward(batch, true);
  const std::vector<float> d1(a, a + cnt);
  g.backward(w.data());
  bool finite = true;
  for (const ParamBuffer& pb : g.parameters())
    for (float v : pb.grad) finite = finite && std::isfinite(v);
  const float* b = g.forward(batch, true);
  const std::vector<float> d2(b, b + cnt);
  const double step = test::maxAbsDiff(d1.data(), d2.data(), cnt);
  const double fromEval = test::maxAbsDiff(d1.data(), enc.data(), cnt);
  t.check(step > 1e-3 && fromEval > 1e-3 && finite,
          "%s: dropout on: steps differ (%.3g), differ from eval (%.3g), finite gradients",
          what.c_str(), step, fromEval);
  const float* c = g.forward(batch, false);
  const double off = test::maxAbsDiff(c, enc.data(), cnt);
  t.check(off <= 1e-6 * scale, "%s: dropout off again = encode: max diff %.3g", what.c_str(), off);
}

// A classification head (CLS → Dense tanh → Dense identity, as BERT's pooler + classifier
// and RoBERTa's head) with input dropout before each Dense, the encoder's own dropout off, so
// the head's masks are the only randomness: the training forward at step 1 and its gradients
// must match the double forward with those masks; encode and the eval forward ignore them.
void checkHeadDropout(Tally& t, uint32_t seed) {
  BertShape shape = smallShape();
  shape.hiddenDropout = 0.f;
  shape.attentionDropout = 0.f;
  test::TestModel model = test::randomModel(shape, {PoolMode::Cls},
                                            {{16, Activation::Tanh, true}, {3, Activation::Identity, true}}, false, seed);
  ModelPlan plan = model.plan();
  plan.dense[0].dropoutBefore = 0.5f;
  plan.dense[1].dropoutBefore = 0.25f;
  const char* what = "[head dropout] cls dense(tanh, p 0.5) dense(identity, p 0.25)";
  std::mt19937 rng(seed * 7 + 1);
  const auto lens = test::oddLengths();
  const std::vector<int32_t> cu = test::cuSeqlensOf(lens);
  const int n = int(lens.size()), T = cu.back(), dim = plan.sentenceDim;
  std::vector<int32_t> ids(T);
  for (int i = 0; i < T; ++i) ids[i] = int32_t(rng() % plan.shape.vocabSize);
  std::vector<Vd> P;
  for (const PlanParam& pp : plan.params) {
    std::vector<float> v(size_t(pp.numel()));
    pp.copyTo(v.data());
    P.push_back(Vd(v.begin(), v.end()));
  }
  EncodeBatch batch;
  batch.ids = ids.data();
  batch.cuSeqlens = cu.data();
  batch.numSequences = n;
  const size_t cnt = size_t(n) * dim;

  const uint64_t graphSeed = 99;
  ModelGraph g(plan, graphSeed);
  std::vector<float> enc(cnt);
  g.encode(batch, enc.data());
  const Vd evalRef = forwardD(plan, P, ids, cu);
  t.check(test::maxRelErr(enc.data(), evalRef.data(), cnt, 1e-2) <= 2e-5, "%s: encode ignores the head dropout", what);

  const HeadDropoutStep step1{graphSeed, 1};  // the graph's first training forward is step 1
  const Vd ref = forwardD(plan, P, ids, cu, &step1);
  const float* out = g.forward(batch, true);
  const std::vector<float> trained(out, out + cnt);
  const double fwdErr = test::maxRelErr(trained.data(), ref.data(), cnt, 1e-2);
  const double fromEval = test::maxAbsDiff(trained.data(), enc.data(), cnt);
  t.check(fwdErr <= 2e-5 && fromEval > 1e-3, "%s: training forward = double forward with the step's masks "
          "(err %.3g), differs from eval (%.3g)", what, fwdErr, fromEval);

  auto w = test::randomVec(rng, cnt);
  const Vd wd = test::toDouble(w);
  g.zeroGrad();
  g.backward(w.data());
  const SampledGradients sampled = sampleGradients(
      t, what, plan, g, P, ids, [&]() { return test::dotD(wd, forwardD(plan, P, ids, cu, &step1)); }, rng, 4);
  t.check(sampled.worst <= 1e-4, "%s: gradients with the step's masks vs finite differences, %d samples: worst err %.3g (%s)",
          what, sampled.checked, sampled.worst, sampled.worstName.c_str());

  const float* off = g.forward(batch, false);
  t.check(test::maxAbsDiff(off, enc.data(), cnt) <= 1e-6, "%s: the eval forward ignores the head dropout", what);
}

}  // namespace

int main() {
  Tally t;
  const test::DenseSpec tanh24{24, Activation::Tanh, true};
  checkGraph(t, {PoolMode::Mean}, {tanh24}, true, 1);
  checkGraph(t, {PoolMode::Max}, {tanh24}, true, 2);
  checkGraph(t, {PoolMode::Cls}, {tanh24}, true, 3);
  checkGraph(t, {PoolMode::MeanSqrtLen}, {tanh24}, true, 4);
  checkGraph(t, {PoolMode::WeightedMean, PoolMode::LastToken},
             {{20, Activation::Gelu, true}, {11, Activation::Identity, false}}, false, 5);
  checkGraph(t, {PoolMode::Mean}, {}, false, 6);
  checkGraph(t, {PoolMode::Mean}, {tanh24}, true, 7, true);
  checkGraph(t, {PoolMode::Cls}, {}, false, 8, true);
  checkHeadDropout(t, 9);
  return t.finish();
}
