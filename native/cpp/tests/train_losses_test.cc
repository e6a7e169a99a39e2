// Training losses (train/losses.h): each loss's gradient with respect to the embeddings (and the
// softmax classifier's parameters) against central finite differences of its own double-
// precision loss value, at odd sizes; and each loss's value and dL/demb on the PyTorch
// reference's step-0 embeddings (test/fixtures/train/<loss>-step0.json, written by
// tools/reference/train_reference.py from sentence-transformers' loss semantics).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "test_util.h"
#include "train/losses.h"

using namespace sbert;
using sbert::test::Tally;

namespace {

const char* kindName(LossKind kind) {
  switch (kind) {
    case LossKind::Softmax: return "softmax";
    case LossKind::Cosine: return "cosine";
    case LossKind::Triplet: return "triplet";
    case LossKind::Mnrl: return "mnrl";
    case LossKind::Mse: return "mse";
  }
  return "?";
}

struct Batch {
  std::vector<float> emb, labels, targets;
};

Batch randomBatch(std::mt19937& rng, const LossConfig& cfg, int examples) {
  Batch b;
  b.emb = sbert::test::randomVec(rng, size_t(examples) * cfg.textsPerExample * cfg.dim);
  if (cfg.kind == LossKind::Cosine) b.labels = sbert::test::randomVec(rng, examples, 0.f, 1.f);
  if (cfg.kind == LossKind::Softmax) {
    std::uniform_int_distribution<int> label(0, cfg.numLabels - 1);
    for (int e = 0; e < examples; ++e) b.labels.push_back(float(label(rng)));
  }
  if (cfg.kind == LossKind::Mse) b.targets = sbert::test::randomVec(rng, size_t(examples) * cfg.dim);
  return b;
}

double lossValue(Loss& loss, const Batch& b, int examples) {
  std::vector<float> scratch(b.emb.size());
  return loss.forwardBackward(b.emb.data(), examples, b.labels.empty() ? nullptr : b.labels.data(),
                              b.targets.empty() ? nullptr : b.targets.data(), scratch.data());
}

// Central difference of the loss in *x, using the steps the fp32 value actually took.
double finiteDifference(Loss& loss, const Batch& b, int examples, float* x) {
  const float saved = *x;
  const float h = 1e-3f * std::max(1.f, std::fabs(saved));
  *x = saved + h;
  const double up = double(*x) - double(saved);
  const double lUp = lossValue(loss, b, examples);
  *x = saved - h;
  const double down = double(saved) - double(*x);
  const double lDown = lossValue(loss, b, examples);
  *x = saved;
  return (lUp - lDown) / (up + down);
}

// Max |analytic − numeric| relative to the largest numeric gradient (floor 1e-8).
double gradError(const std::vector<float>& analytic, const std::vector<double>& numeric) {
  double scale = 1e-8, err = 0;
  for (double g : numeric) scale = std::max(scale, std::fabs(g));
  for (size_t i = 0; i < numeric.size(); ++i)
    err = std::max(err, std::fabs(double(analytic[i]) - numeric[i]));
  return err / scale;
}

bool nearHingeKink(const std::vector<float>& emb, int examples, int dim, float margin) {
  for (int e = 0; e < examples; ++e) {
    const float* a = emb.data() + size_t(3 * e) * dim;
    double pp = 0, nn = 0;
    for (int i = 0; i < dim; ++i) {
      const double dp = double(a[i]) - a[dim + i] + 1e-6, dn = double(a[i]) - a[2 * dim + i] + 1e-6;
      pp += dp * dp;
      nn += dn * dn;
    }
    if (std::fabs(std::sqrt(pp) - std::sqrt(nn) + margin) < 1e-2) return true;
  }
  return false;
}

void checkGradients(Tally& t, LossKind kind, int k, int examples, int dim, uint64_t seed) {
  std::mt19937 rng(static_cast<unsigned>(seed));
  LossConfig cfg{kind, dim, k};
  cfg.margin = 0.7f;  // with embeddings in [−1, 1]: some triplets active, some not
  cfg.scale = 7.f;
  Loss loss(cfg, seed);
  Batch b = randomBatch(rng, cfg, examples);
  // Finite differences are meaningless across relu's kink: redraw triplets whose hinge is
  // within 0.01 of 0 (the step is 1e-3).
  while (kind == LossKind::Triplet && nearHingeKink(b.emb, examples, dim, cfg.margin)) b = randomBatch(rng, cfg, examples);
  // dEmb is written (=): start from garbage. Parameter grads accumulate (+=): start from 0.25.
  std::vector<float> dEmb(b.emb.size(), NAN);
  for (ParamBuffer& p : loss.parameters()) std::fill(p.grad.begin(), p.grad.end(), 0.25f);
  const double value = loss.forwardBackward(b.emb.data(), examples,
                                            b.labels.empty() ? nullptr : b.labels.data(),
                                            b.targets.empty() ? nullptr : b.targets.data(),
                                            dEmb.data());
  // Snapshot the accumulated grads first: every loss evaluation below accumulates again.
  std::vector<std::vector<float>> analyticParams;
  for (ParamBuffer& p : loss.parameters()) {
    analyticParams.emplace_back(p.grad.size());
    for (size_t i = 0; i < p.grad.size(); ++i) analyticParams.back()[i] = p.grad[i] - 0.25f;
  }
  std::vector<double> numeric(b.emb.size());
  for (size_t i = 0; i < b.emb.size(); ++i) numeric[i] = finiteDifference(loss, b, examples, &b.emb[i]);
  const double err = gradError(dEmb, numeric);
  t.check(std::isfinite(value) && err < 1e-4, "%s k=%d examples=%d dim=%d: dL/demb vs finite differences (rel err %.2e, loss %.5f)",
          kindName(kind), k, examples, dim, err, value);
  for (size_t q = 0; q < loss.parameters().size(); ++q) {
    ParamBuffer& p = loss.parameters()[q];
    const std::vector<float>& analytic = analyticParams[q];
    std::vector<double> num(p.value.size());
    for (size_t i = 0; i < p.value.size(); ++i) num[i] = finiteDifference(loss, b, examples, &p.value[i]);
    const double perr = gradError(analytic, num);
    t.check(perr < 1e-4, "%s examples=%d dim=%d: d%s accumulated vs finite differences (rel err %.2e)",
            kindName(kind), examples, dim, p.name.c_str(), perr);
  }
}

// ---- the reference's step-0 dump: a minimal reader for the flat JSON the script writes -------

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The value of top-level key `key`: a number or a flat array of numbers (nested arrays are
// flattened). Empty when absent.
std::vector<double> jsonNumbers(const std::string& text, const std::string& key) {
  std::vector<double> out;
  const size_t at = text.find("\"" + key + "\"");
  if (at == std::string::npos) return out;
  size_t i = text.find(':', at) + 1;
  int depth = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '[') { ++depth; ++i; continue; }
    if (c == ']') { if (--depth <= 0) break; ++i; continue; }
    if (c == ',' || c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      if (depth == 0 && c == ',') break;
      ++i;
      continue;
    }
    if (c == '}') break;
    char* end = nullptr;
    out.push_back(std::strtod(text.c_str() + i, &end));
    if (end == text.c_str() + i) return {};  // not a number: malformed for this reader
    i = size_t(end - text.c_str());
    if (depth == 0) break;
  }
  return out;
}

std::vector<float> toFloat(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

double maxRel(const std::vector<float>& got, const std::vector<double>& ref) {
  double scale = 1e-12, err = 0;
  for (double r : ref) scale = std::max(scale, std::fabs(r));
  for (size_t i = 0; i < ref.size(); ++i) err = std::max(err, std::fabs(double(got[i]) - ref[i]));
  return err / scale;
}

void checkReferenceStep0(Tally& t, LossKind kind) {
  const std::string path = std::string("test/fixtures/train/") + kindName(kind) + "-step0.json";
  const std::string text = readFile(path);
  if (!t.check(!text.empty(), "%s: reference fixture %s readable (run from the repo root)", kindName(kind), path.c_str()))
    return;
  const auto dim = jsonNumbers(text, "dim"), k = jsonNumbers(text, "textsPerExample"),
             examples = jsonNumbers(text, "examples"), value = jsonNumbers(text, "loss_value");
  const auto emb = jsonNumbers(text, "embeddings"), dRef = jsonNumbers(text, "dEmbeddings");
  if (!t.check(dim.size() == 1 && k.size() == 1 && examples.size() == 1 && value.size() == 1 &&
                   emb.size() == size_t(dim[0] * k[0] * examples[0]) && dRef.size() == emb.size(),
               "%s: reference fixture has dim, textsPerExample, examples, loss_value, embeddings, dEmbeddings",
               kindName(kind)))
    return;
  LossConfig cfg{kind, int(dim[0]), int(k[0])};
  if (auto v = jsonNumbers(text, "margin"); v.size() == 1) cfg.margin = float(v[0]);
  if (auto v = jsonNumbers(text, "scale"); v.size() == 1) cfg.scale = float(v[0]);
  if (auto v = jsonNumbers(text, "numLabels"); v.size() == 1) cfg.numLabels = int(v[0]);
  Loss loss(cfg, 1);
  const int n = int(examples[0]);
  if (kind == LossKind::Softmax) {
    const auto w = jsonNumbers(text, "classifierWeight"), b = jsonNumbers(text, "classifierBias");
    auto& params = loss.parameters();
    if (!t.check(w.size() == params[0].value.size() && b.size() == params[1].value.size(),
                 "softmax: reference classifier shapes match"))
      return;
    params[0].value = toFloat(w);
    params[1].value = toFloat(b);
  }
  const auto labels = toFloat(jsonNumbers(text, "labels"));
  const auto targets = toFloat(jsonNumbers(text, "targets"));
  const auto e = toFloat(emb);
  std::vector<float> dEmb(e.size(), NAN);
  const double got = loss.forwardBackward(e.data(), n, labels.empty() ? nullptr : labels.data(),
                                          targets.empty() ? nullptr : targets.data(), dEmb.data());
  const double relLoss = std::fabs(got - value[0]) / std::max(1e-12, std::fabs(value[0]));
  t.check(relLoss <= 1e-5, "%s: step-0 loss %.8f vs PyTorch %.8f (rel %.2e)", kindName(kind), got, value[0], relLoss);
  const double relGrad = maxRel(dEmb, dRef);
  t.check(relGrad <= 1e-5, "%s: step-0 dL/demb vs PyTorch autograd (max err / max |ref| %.2e)", kindName(kind), relGrad);
  if (kind == LossKind::Softmax) {
    const auto dW = jsonNumbers(text, "dClassifierWeight"), dB = jsonNumbers(text, "dClassifierBias");
    auto& params = loss.parameters();
    t.check(dW.size() == params[0].grad.size() && maxRel(params[0].grad, dW) <= 1e-5,
            "softmax: step-0 dclassifier.weight vs PyTorch autograd");
    t.check(dB.size() == params[1].grad.size() && maxRel(params[1].grad, dB) <= 1e-5,
            "softmax: step-0 dclassifier.bias vs PyTorch autograd");
  }
}

template <typename F>
bool throwsCode(F&& f, const char* code) {
  try {
    f();
  } catch (const sbert::Error& e) {
    return e.code() == code;
  }
  return false;
}

}  // namespace

int main() {
  Tally t;
  uint64_t seed = 11;
  for (int examples : {1, 3, 16}) {
    for (int dim : {1, 7, 24}) {
      checkGradients(t, LossKind::Softmax, 2, examples, dim, ++seed);
      checkGradients(t, LossKind::Cosine, 2, examples, dim, ++seed);
      checkGradients(t, LossKind::Triplet, 3, examples, dim, ++seed);
      checkGradients(t, LossKind::Mnrl, 2, examples, dim, ++seed);
      checkGradients(t, LossKind::Mnrl, 3, examples, dim, ++seed);
      checkGradients(t, LossKind::Mse, 1, examples, dim, ++seed);
      checkGradients(t, LossKind::Mse, 2, examples, dim, ++seed);
    }
  }

  // Hand-checked values: a perfect pair has cosine loss (1 − label)², MNRL over orthogonal
  // candidates with scale s has loss log(1 + (n−1)e^{−s}) per anchor.
  {
    LossConfig cfg{LossKind::Cosine, 3, 2};
    Loss loss(cfg, 0);
    const float emb[] = {1, 2, 3, 2, 4, 6};
    const float label[] = {0.25f};
    float d[6];
    const double v = loss.forwardBackward(emb, 1, label, nullptr, d);
    t.check(std::fabs(v - 0.5625) < 1e-12, "cosine: parallel pair, label 0.25 → loss 0.5625 (got %.12f)", v);
  }
  {
    LossConfig cfg{LossKind::Mnrl, 2, 2};
    Loss loss(cfg, 0);
    const float emb[] = {1, 0, 3, 0, 0, 1, 0, 2};  // anchors e0, e1; positives on the same axes
    float d[8];
    const double v = loss.forwardBackward(emb, 2, nullptr, nullptr, d);
    const double want = std::log(1 + std::exp(-20.0));
    t.check(std::fabs(v - want) < 1e-13, "mnrl: orthogonal pairs, scale 20 → log(1+e^-20) (got %.3e)", v);
  }
  {
    // Hard negatives: candidates are [p0, p1, n0, n1] (all positives, then all negatives), so
    // anchor 1's target is p1 (score +20), not n0 (score −20, example-major order's index 1).
    LossConfig cfg{LossKind::Mnrl, 2, 3};
    Loss loss(cfg, 0);
    const float emb[] = {1, 0, 1, 0, 0, -1,    // a0 = e1, p0 = e1, n0 = −e2
                         0, 1, 0, 1, -1, 0};   // a1 = e2, p1 = e2, n1 = −e1
    float d[12];
    const double v = loss.forwardBackward(emb, 2, nullptr, nullptr, d);
    t.check(v < 1e-7, "mnrl with negatives: candidates ordered positives then negatives (loss %.3e)", v);
  }
  {
    LossConfig cfg{LossKind::Triplet, 2, 3};  // default margin 1
    Loss loss(cfg, 0);
    const float emb[] = {0, 0, 3, 4, 0, 1};  // ‖a−p‖ ≈ 5, ‖a−n‖ ≈ 1
    float d[6];
    const double v = loss.forwardBackward(emb, 1, nullptr, nullptr, d);
    t.check(std::fabs(v - 5.0) < 1e-5, "triplet: distances 5 and 1, margin 1 → 5 (got %.8f)", v);
  }

  // Bad input throws with a code, never aborts.
  {
    LossConfig cfg{LossKind::Softmax, 4, 2};
    Loss loss(cfg, 0);
    std::vector<float> emb(8, 0.5f), d(8);
    const float bad[] = {3.f};
    t.check(throwsCode([&] { loss.forwardBackward(emb.data(), 1, bad, nullptr, d.data()); }, "ERR_BAD_DATA"),
            "softmax: label 3 with 3 labels → ERR_BAD_DATA");
    t.check(throwsCode([&] { Loss l(LossConfig{LossKind::Triplet, 4, 2}, 0); }, "ERR_OUT_OF_RANGE"),
            "triplet with 2 texts per example → ERR_OUT_OF_RANGE");
    t.check(throwsCode([&] { loss.forwardBackward(emb.data(), 1, nullptr, nullptr, d.data()); }, "ERR_BAD_DATA"),
            "softmax without labels → ERR_BAD_DATA");
  }
  {
    // nn.Linear's init range ±1/√(3·dim) and the decay groups of fit.
    LossConfig cfg{LossKind::Softmax, 12, 2};
    Loss loss(cfg, 5);
    auto& p = loss.parameters();
    double mx = 0;
    for (float x : p[0].value) mx = std::max(mx, double(std::fabs(x)));
    t.check(p.size() == 2 && p[0].shape == std::vector<int64_t>{3, 36} && mx <= 1 / std::sqrt(36.0) && mx > 0.8 / std::sqrt(36.0),
            "softmax classifier [3, 36] uniform within ±1/6 (max |w| %.4f)", mx);
    t.check(p[0].weightDecay && !p[1].weightDecay, "classifier.weight decays, classifier.bias does not");
  }

  for (LossKind kind : {LossKind::Softmax, LossKind::Cosine, LossKind::Triplet, LossKind::Mnrl, LossKind::Mse})
    checkReferenceStep0(t, kind);
  return t.finish();
}
