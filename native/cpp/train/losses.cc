// Sentence-transformers' training losses on a batch of sentence embeddings: forward and the
// gradient with respect to the embeddings in one pass, in double. See losses.h for the
// semantics each one reproduces.
#include "train/losses.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "common/error.h"

namespace sbert {
namespace {

// torch.nn.functional.pairwise_distance adds this to the difference before the norm.
constexpr double kPairwiseDistanceEps = 1e-6;
// torch.cosine_similarity clamps the product of the squared norms at eps² (eps = 1e-8).
constexpr double kCosineEps = 1e-8;
// torch.nn.functional.normalize (used by util.cos_sim) divides by max(‖x‖, 1e-12).
constexpr double kNormalizeEps = 1e-12;

int requiredTexts(LossKind kind) {
  switch (kind) {
    case LossKind::Softmax:
    case LossKind::Cosine: return 2;
    case LossKind::Triplet: return 3;
    case LossKind::Mnrl:
    case LossKind::Mse: return 0;  // a range, checked separately
    case LossKind::Bce:
    case LossKind::CrossEntropy: return 1;
  }
  return 0;
}

double dot(const float* a, const float* b, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += double(a[i]) * double(b[i]);
  return s;
}

// Numerically stable log(Σ exp(z)) and softmax of z (in place into p).
double logSumExpSoftmax(const std::vector<double>& z, std::vector<double>& p) {
  double mx = *std::max_element(z.begin(), z.end());
  double sum = 0;
  p.resize(z.size());
  for (size_t i = 0; i < z.size(); ++i) sum += (p[i] = std::exp(z[i] - mx));
  for (double& x : p) x /= sum;
  return mx + std::log(sum);
}

// SoftmaxLoss: cross-entropy of classifier(concat(u, v, |u−v|)).
double softmaxLoss(const LossConfig& cfg, ParamBuffer& weight, ParamBuffer& bias,
                   const float* emb, int examples, const float* labels, float* dEmb) {
  SBERT_CHECK(labels != nullptr, "ERR_BAD_DATA", "softmax loss needs a label per example");
  const int d = cfg.dim, L = cfg.numLabels, f = 3 * d;
  std::vector<double> feat(f), logits(L), prob(L), dFeat(f);
  double total = 0;
  for (int e = 0; e < examples; ++e) {
    const float label = labels[e];
    SBERT_CHECK(std::isfinite(label) && label >= 0 && label < L && label == std::floor(label),
                "ERR_BAD_DATA",
                "softmax label " + std::to_string(label) + " of example " + std::to_string(e) +
                    " is not a class index in [0, " + std::to_string(L) + ")");
    const int y = static_cast<int>(label);
    const float* u = emb + size_t(2 * e) * d;
    const float* v = u + d;
    for (int i = 0; i < d; ++i) {
      feat[i] = u[i];
      feat[d + i] = v[i];
      feat[2 * d + i] = std::fabs(double(u[i]) - double(v[i]));
    }
    for (int c = 0; c < L; ++c) {
      const float* w = weight.value.data() + size_t(c) * f;
      double z = bias.value[c];
      for (int i = 0; i < f; ++i) z += double(w[i]) * feat[i];
      logits[c] = z;
    }
    total += logSumExpSoftmax(logits, prob) - logits[y];
    // dL/dlogits of the batch mean, then the classifier's grads and dL/dfeatures.
    std::fill(dFeat.begin(), dFeat.end(), 0.0);
    for (int c = 0; c < L; ++c) {
      const double g = (prob[c] - (c == y ? 1.0 : 0.0)) / examples;
      const float* w = weight.value.data() + size_t(c) * f;
      float* gw = weight.grad.data() + size_t(c) * f;
      bias.grad[c] += static_cast<float>(g);
      for (int i = 0; i < f; ++i) {
        gw[i] += static_cast<float>(g * feat[i]);
        dFeat[i] += g * double(w[i]);
      }
    }
    float* du = dEmb + size_t(2 * e) * d;
    float* dv = du + d;
    for (int i = 0; i < d; ++i) {
      const double diff = double(u[i]) - double(v[i]);
      const double sign = diff > 0 ? 1.0 : (diff < 0 ? -1.0 : 0.0);  // torch: d|x|/dx at 0 is 0
      du[i] = static_cast<float>(dFeat[i] + sign * dFeat[2 * d + i]);
      dv[i] = static_cast<float>(dFeat[d + i] - sign * dFeat[2 * d + i]);
    }
  }
  return total / examples;
}

// CosineSimilarityLoss: mean of (cos(u, v) − label)².
double cosineLoss(const LossConfig& cfg, const float* emb, int examples, const float* labels,
                  float* dEmb) {
  SBERT_CHECK(labels != nullptr, "ERR_BAD_DATA", "cosine loss needs a label per example");
  const int d = cfg.dim;
  double total = 0;
  for (int e = 0; e < examples; ++e) {
    SBERT_CHECK(std::isfinite(labels[e]), "ERR_BAD_DATA",
                "cosine label of example " + std::to_string(e) + " is not finite");
    const float* u = emb + size_t(2 * e) * d;
    const float* v = u + d;
    const double uv = dot(u, v, d), uu = dot(u, u, d), vv = dot(v, v, d);
    const bool clamped = uu * vv < kCosineEps * kCosineEps;
    const double norms = std::sqrt(std::max(uu * vv, kCosineEps * kCosineEps));
    const double cos = uv / norms;
    const double err = cos - double(labels[e]);
    total += err * err;
    const double g = 2.0 * err / examples;  // dL/dcos
    float* du = dEmb + size_t(2 * e) * d;
    float* dv = du + d;
    for (int i = 0; i < d; ++i) {
      // Clamped: the denominator is a constant, so only the numerator has a gradient.
      const double gu = v[i] / norms - (clamped ? 0.0 : cos * u[i] / uu);
      const double gv = u[i] / norms - (clamped ? 0.0 : cos * v[i] / vv);
      du[i] = static_cast<float>(g * gu);
      dv[i] = static_cast<float>(g * gv);
    }
  }
  return total / examples;
}

// TripletLoss (Euclidean): mean of relu(‖a−p+ε‖ − ‖a−n+ε‖ + margin).
double tripletLoss(const LossConfig& cfg, const float* emb, int examples, float* dEmb) {
  const int d = cfg.dim;
  std::vector<double> toPos(d), toNeg(d);
  double total = 0;
  for (int e = 0; e < examples; ++e) {
    const float* a = emb + size_t(3 * e) * d;
    const float* p = a + d;
    const float* n = p + d;
    double pp = 0, nn = 0;
    for (int i = 0; i < d; ++i) {
      toPos[i] = double(a[i]) - double(p[i]) + kPairwiseDistanceEps;
      toNeg[i] = double(a[i]) - double(n[i]) + kPairwiseDistanceEps;
      pp += toPos[i] * toPos[i];
      nn += toNeg[i] * toNeg[i];
    }
    const double distPos = std::sqrt(pp), distNeg = std::sqrt(nn);
    const double hinge = distPos - distNeg + cfg.margin;
    float* da = dEmb + size_t(3 * e) * d;
    float* dp = da + d;
    float* dn = dp + d;
    if (!(hinge > 0)) {  // relu passes no gradient at or below 0
      std::fill(da, da + 3 * d, 0.f);
      continue;
    }
    total += hinge;
    // torch's norm backward is 0 at a zero norm.
    const double sp = distPos > 0 ? 1.0 / (distPos * examples) : 0.0;
    const double sn = distNeg > 0 ? 1.0 / (distNeg * examples) : 0.0;
    for (int i = 0; i < d; ++i) {
      const double gp = toPos[i] * sp, gn = toNeg[i] * sn;
      da[i] = static_cast<float>(gp - gn);
      dp[i] = static_cast<float>(-gp);
      dn[i] = static_cast<float>(gn);
    }
  }
  return total / examples;
}

// MultipleNegativesRankingLoss: cross-entropy over scale·cos(anchor_i, candidate_j), target i.
double mnrlLoss(const LossConfig& cfg, const float* emb, int examples, float* dEmb) {
  const int d = cfg.dim, k = cfg.textsPerExample;
  const int candidates = examples * (k - 1);
  // Row of candidate j: candidates are all texts at position 1, then all at position 2, ...
  auto candidateRow = [&](int j) { return size_t(j % examples) * k + 1 + j / examples; };
  auto anchorRow = [&](int i) { return size_t(i) * k; };
  // Unit vectors (F.normalize) of every row, in double.
  const int rows = examples * k;
  std::vector<double> unit(size_t(rows) * d), norm(rows);
  for (int r = 0; r < rows; ++r) {
    const float* x = emb + size_t(r) * d;
    norm[r] = std::max(std::sqrt(dot(x, x, d)), kNormalizeEps);
    for (int i = 0; i < d; ++i) unit[size_t(r) * d + i] = x[i] / norm[r];
  }
  auto unitRow = [&](size_t r) { return unit.data() + r * d; };
  std::vector<double> dUnit(size_t(rows) * d, 0.0), scores(candidates), prob;
  double total = 0;
  for (int i = 0; i < examples; ++i) {
    const double* a = unitRow(anchorRow(i));
    for (int j = 0; j < candidates; ++j) {
      const double* c = unitRow(candidateRow(j));
      double s = 0;
      for (int t = 0; t < d; ++t) s += a[t] * c[t];
      scores[j] = cfg.scale * s;
    }
    total += logSumExpSoftmax(scores, prob) - scores[i];
    double* da = dUnit.data() + anchorRow(i) * d;
    for (int j = 0; j < candidates; ++j) {
      const double g = cfg.scale * (prob[j] - (j == i ? 1.0 : 0.0)) / examples;  // dL/dcos_ij
      const size_t cr = candidateRow(j);
      const double* c = unitRow(cr);
      double* dc = dUnit.data() + cr * d;
      for (int t = 0; t < d; ++t) {
        da[t] += g * c[t];
        dc[t] += g * a[t];
      }
    }
  }
  // Back through x / max(‖x‖, eps): the projection removes the radial part unless clamped.
  for (int r = 0; r < rows; ++r) {
    const double* x = unitRow(r);
    const double* g = dUnit.data() + size_t(r) * d;
    const bool clamped = norm[r] <= kNormalizeEps;
    double radial = 0;
    if (!clamped)
      for (int t = 0; t < d; ++t) radial += x[t] * g[t];
    float* out = dEmb + size_t(r) * d;
    for (int t = 0; t < d; ++t) out[t] = static_cast<float>((g[t] - radial * x[t]) / norm[r]);
  }
  return total / examples;
}

// MSELoss: mean over every element of (embedding − target)²; each text of an example is
// compared with that example's target (sentence-transformers repeats the labels per text).
double mseLoss(const LossConfig& cfg, const float* emb, int examples, const float* targets,
               float* dEmb) {
  SBERT_CHECK(targets != nullptr, "ERR_BAD_DATA", "mse loss needs a target vector per example");
  const int d = cfg.dim, k = cfg.textsPerExample;
  const double count = double(examples) * k * d;
  double total = 0;
  for (int e = 0; e < examples; ++e) {
    const float* t = targets + size_t(e) * d;
    for (int j = 0; j < k; ++j) {
      const size_t row = size_t(e) * k + j;
      for (int i = 0; i < d; ++i) {
        const double diff = double(emb[row * d + i]) - double(t[i]);
        total += diff * diff;
        dEmb[row * d + i] = static_cast<float>(2.0 * diff / count);
      }
    }
  }
  return total / count;
}

// BCEWithLogitsLoss: mean over examples of max(z, 0) − z·y + log(1 + exp(−|z|)) (torch's
// stable form); dL/dz = (σ(z) − y) / examples.
double bceLoss(const float* logits, int examples, const float* labels, float* dLogits) {
  SBERT_CHECK(labels != nullptr, "ERR_BAD_DATA", "the binary cross-entropy loss needs a label per pair");
  double total = 0;
  for (int e = 0; e < examples; ++e) {
    const double y = labels[e];
    SBERT_CHECK(std::isfinite(y) && y >= 0 && y <= 1, "ERR_BAD_DATA",
                "the label of pair " + std::to_string(e) + " must be in [0, 1] for the binary cross-entropy loss (got " +
                    std::to_string(labels[e]) + ")");
    const double z = logits[e];
    total += std::max(z, 0.0) - z * y + std::log1p(std::exp(-std::fabs(z)));
    const double sigmoid = z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z));
    dLogits[e] = static_cast<float>((sigmoid - y) / examples);
  }
  return total / examples;
}

// CrossEntropyLoss on [examples, classes] logits against class indices.
double crossEntropyLoss(const LossConfig& cfg, const float* logits, int examples, const float* labels, float* dLogits) {
  SBERT_CHECK(labels != nullptr, "ERR_BAD_DATA", "the cross-entropy loss needs a class label per pair");
  const int C = cfg.dim;
  std::vector<double> z(static_cast<size_t>(C), 0.0), p;
  double total = 0;
  for (int e = 0; e < examples; ++e) {
    const float label = labels[e];
    SBERT_CHECK(std::isfinite(label) && label >= 0 && label < C && label == std::floor(label), "ERR_BAD_DATA",
                "the label of pair " + std::to_string(e) + " is not a class index in [0, " + std::to_string(C) + ")");
    const int y = static_cast<int>(label);
    for (int c = 0; c < C; ++c) z[size_t(c)] = logits[size_t(e) * C + c];
    total += logSumExpSoftmax(z, p) - z[size_t(y)];
    for (int c = 0; c < C; ++c) dLogits[size_t(e) * C + c] = static_cast<float>((p[size_t(c)] - (c == y ? 1.0 : 0.0)) / examples);
  }
  return total / examples;
}

}  // namespace

Loss::Loss(const LossConfig& cfg, uint64_t seed) : cfg_(cfg) {
  SBERT_CHECK(cfg.dim > 0, "ERR_OUT_OF_RANGE", "loss dim must be positive");
  const int need = requiredTexts(cfg.kind);
  if (need > 0) {
    SBERT_CHECK(cfg.textsPerExample == need, "ERR_OUT_OF_RANGE",
                "this loss takes " + std::to_string(need) + " texts per example, not " +
                    std::to_string(cfg.textsPerExample));
  } else if (cfg.kind == LossKind::Mnrl) {
    SBERT_CHECK(cfg.textsPerExample >= 2, "ERR_OUT_OF_RANGE",
                "mnrl takes an anchor and at least one positive per example");
  } else {
    SBERT_CHECK(cfg.textsPerExample >= 1, "ERR_OUT_OF_RANGE", "mse takes at least one text");
  }
  if (cfg.kind == LossKind::Softmax) {
    SBERT_CHECK(cfg.numLabels >= 2, "ERR_OUT_OF_RANGE", "softmax needs at least 2 labels");
    const int64_t in = 3 * int64_t(cfg.dim);
    // torch.nn.Linear's default init: kaiming_uniform(a=√5) for the weight and the bias's
    // uniform(±1/√fan_in) both come to uniform(±1/√in).
    const double bound = 1.0 / std::sqrt(double(in));
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> uniform(-bound, bound);
    ParamBuffer weight, bias;
    weight.name = "classifier.weight";
    weight.shape = {cfg.numLabels, in};
    weight.weightDecay = true;
    weight.value.resize(size_t(cfg.numLabels * in));
    for (float& x : weight.value) x = static_cast<float>(uniform(rng));
    bias.name = "classifier.bias";
    bias.shape = {cfg.numLabels};
    bias.weightDecay = false;  // fit's no_decay list matches any name containing "bias"
    bias.value.resize(size_t(cfg.numLabels));
    for (float& x : bias.value) x = static_cast<float>(uniform(rng));
    weight.grad.assign(weight.value.size(), 0.f);
    bias.grad.assign(bias.value.size(), 0.f);
    params_.push_back(std::move(weight));
    params_.push_back(std::move(bias));
  } else {
    SBERT_CHECK(cfg.kind != LossKind::Bce || cfg.dim == 1, "ERR_OUT_OF_RANGE",
                "the binary cross-entropy loss takes one logit per pair (a model with num_labels 1), not " +
                    std::to_string(cfg.dim));
    SBERT_CHECK(cfg.kind != LossKind::CrossEntropy || cfg.dim >= 2, "ERR_OUT_OF_RANGE",
                "the cross-entropy loss takes at least two logits per pair (num_labels >= 2)");
    SBERT_CHECK(cfg.kind != LossKind::Triplet || std::isfinite(cfg.margin), "ERR_OUT_OF_RANGE",
                "triplet margin must be finite");
    SBERT_CHECK(cfg.kind != LossKind::Mnrl || (std::isfinite(cfg.scale) && cfg.scale > 0),
                "ERR_OUT_OF_RANGE", "mnrl scale must be positive");
  }
}

std::vector<ParamBuffer>& Loss::parameters() { return params_; }

double Loss::forwardBackward(const float* emb, int examples, const float* labels,
                             const float* targets, float* dEmb) {
  SBERT_CHECK(examples > 0, "ERR_OUT_OF_RANGE", "a loss needs at least one example");
  switch (cfg_.kind) {
    case LossKind::Softmax:
      return softmaxLoss(cfg_, params_[0], params_[1], emb, examples, labels, dEmb);
    case LossKind::Cosine: return cosineLoss(cfg_, emb, examples, labels, dEmb);
    case LossKind::Triplet: return tripletLoss(cfg_, emb, examples, dEmb);
    case LossKind::Mnrl: return mnrlLoss(cfg_, emb, examples, dEmb);
    case LossKind::Mse: return mseLoss(cfg_, emb, examples, targets, dEmb);
    case LossKind::Bce: return bceLoss(emb, examples, labels, dEmb);
    case LossKind::CrossEntropy: return crossEntropyLoss(cfg_, emb, examples, labels, dEmb);
  }
  throw Error("ERR_INTERNAL", "unknown loss kind");
}

}  // namespace sbert
