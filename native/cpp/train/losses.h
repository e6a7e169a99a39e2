// Training losses with the semantics of sentence-transformers' losses, each computing its mean
// loss over a batch and the gradient with respect to the sentence embeddings in one pass (the
// trainer then back-propagates that gradient through the ModelGraph).
//
// Embeddings arrive example-major: with k = textsPerExample, text j of example e is row e*k + j
// of a row-major [examples*k, dim] matrix.
//   Softmax  (k = 2): SoftmaxLoss — Linear(3*dim → numLabels) on concat(u, v, |u−v|), then
//                     cross-entropy against the integer label (stored as float).
//   Cosine   (k = 2): CosineSimilarityLoss — MSE between cos(u, v) and the float label.
//   Triplet  (k = 3): TripletLoss (Euclidean) — relu(‖a−p‖ − ‖a−n‖ + margin), distances as
//                     torch's F.pairwise_distance (eps 1e-6 added to the difference). The
//                     default margin here is 1 (the SBERT paper); sentence-transformers' is 5.
//   Mnrl     (k ≥ 2): MultipleNegativesRankingLoss — cross-entropy over scale·cos(anchor_i,
//                     candidate_j) with target i; candidates are all texts at position 1 of
//                     every example, then all at position 2, and so on (hard negatives).
//   Mse      (k = 1): MSELoss — torch.nn.MSELoss (mean over every element) against targets.
// Cross-encoder losses, on the logits a classification head gives each (pair) sequence:
//   Bce      (k = 1, dim 1): BCEWithLogitsLoss — mean of softplus(z) − y·z (stable form) against
//                     a float label in [0, 1] (binary or soft, e.g. STSb scores / 5).
//   CrossEntropy (k = 1, dim = classes ≥ 2): CrossEntropyLoss — mean of logsumexp(z) − z_y
//                     against an integer class label (stored as float).
// Gradients are computed in double and written as fp32.
#pragma once

#include <cstdint>
#include <vector>

#include "train/param_buffer.h"

namespace sbert {

enum class LossKind { Softmax, Cosine, Triplet, Mnrl, Mse, Bce, CrossEntropy };

struct LossConfig {
  LossKind kind;
  int dim;               // sentence embedding dimension
  int textsPerExample;   // embeddings arrive example-major: text j of example e is row e*k + j
  int numLabels = 3;     // Softmax only
  float margin = 1.f;    // Triplet only
  float scale = 20.f;    // Mnrl only
};

class Loss {
 public:
  // Checks the configuration: sbert::Error ERR_OUT_OF_RANGE on a bad dim, k, label count,
  // margin or scale (a last line of defence: the binding validates options as RangeErrors).
  // Softmax: the classifier Linear(3*dim, numLabels) is initialised as torch's nn.Linear
  // (uniform ±1/sqrt(3*dim) for weight and bias) from `seed`.
  Loss(const LossConfig& cfg, uint64_t seed);

  // The loss's own trainable parameters: empty except Softmax (classifier.weight [numLabels,
  // 3*dim], with weight decay, and classifier.bias [numLabels], without: sentence-transformers'
  // fit excludes every name containing "bias" from decay).
  std::vector<ParamBuffer>& parameters();

  const LossConfig& config() const { return cfg_; }

  // Mean loss over the batch of `examples`; writes dL/demb (=, [examples*k, dim]) and
  // accumulates (+=) its own parameters' grads. labels: float per example (cosine), class
  // index stored as float (softmax); targets: [examples, dim] (mse); null when unused.
  double forwardBackward(const float* emb, int examples, const float* labels,
                         const float* targets, float* dEmb);

 private:
  LossConfig cfg_;
  std::vector<ParamBuffer> params_;
};

}  // namespace sbert
