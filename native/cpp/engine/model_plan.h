// The model plan: the one description of a sentence-transformers encoder model (BERT and its
// family: RoBERTa / XLM-R / CamemBERT, MPNet, DistilBERT — one post-LayerNorm Transformer with
// per-family embeddings and position rules) that every native user (CPU backend, CUDA backend,
// trainer) consumes and trusts.
//
// The JS loader (lib/weights) is the one place that validates a model folder; lib/weights/plan.ts
// turns it into a spec with the same structure as this struct (parameters by index, tensors as
// views of the JS weight buffers). The binding reads it (binding/plan_input.cc) and
// `resolveModelPlan` checks the contract once, so backends and the trainer trust the plan.
//
// Parameters are listed once, with their canonical names (the names of a sentence-transformers
// folder: `embeddings.word_embeddings.weight`, `encoder.layer.{i}.attention.self.query.weight`,
// `dense.{j}.linear.weight` for the j-th Dense module), PyTorch layouts (Linear weights are
// [out, in]), a role (what the optimizer needs: weight decay or not) and a source: a view of the
// bytes as they are in the file. `PlanParam::copyTo` converts a source (or copies it) straight
// into a backend's storage, so weights cross from the file to the backend once. Sources stay
// valid while the binding keeps the JS buffers alive (until the backend or trainer that
// consumes the plan has been built); consumers keep no pointer into them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/modes.h"

namespace sbert {

// How a token's position-embedding row is chosen.
enum class PositionIds {
  // BERT, DistilBERT: 0, 1, 2, … within each sequence.
  FromZero,
  // RoBERTa, XLM-R, CamemBERT, MPNet (transformers' create_position_ids_from_input_ids): a token
  // whose id is not paddingIdx gets paddingIdx + the number of non-padding tokens of its
  // sequence up to and including it; a paddingIdx token gets paddingIdx.
  AfterPadding,
};

struct BertShape {
  int vocabSize = 0;
  int hiddenSize = 0;
  int numLayers = 0;
  int numHeads = 0;
  int intermediateSize = 0;
  int maxPositions = 0;
  int typeVocabSize = 0;  // 0: the model has no token type embeddings (DistilBERT, MPNet)
  float layerNormEps = 1e-12f;
  // Dropout probabilities from config.json (hidden_dropout_prob, attention_probs_dropout_prob);
  // only training applies them.
  float hiddenDropout = 0.f;
  float attentionDropout = 0.f;
  PositionIds positionIds = PositionIds::FromZero;
  int paddingIdx = 0;  // AfterPadding only
  // MPNet's relative attention bias, shared by all layers (0 buckets: none): T5-style buckets
  // of the key − query distance, bidirectional, exact below relativeBuckets / 4.
  int relativeBuckets = 0;
  int relativeMaxDistance = 0;
  int headDim() const { return numHeads > 0 ? hiddenSize / numHeads : 0; }
  // The longest sequence the position embeddings can number.
  int maxSequenceLength() const {
    return positionIds == PositionIds::AfterPadding ? maxPositions - paddingIdx - 1 : maxPositions;
  }
};

// Where one parameter's bytes are (little-endian, as stored in the model file): in memory
// (`data`, not owned) or in a file at `offset` (`file` non-empty), which copyTo reads itself, so
// no copy of the whole file is ever held.
struct TensorSource {
  const void* data = nullptr;
  DType dtype = DType::F32;
  std::string file;
  int64_t offset = 0;
};

// What the optimizer needs to know about a parameter: sentence-transformers' fit excludes
// biases and LayerNorm weights/biases from weight decay; a Frozen parameter is never updated
// (DistilBERT's sinusoidal position table, which transformers keeps out of the optimizer).
enum class ParamRole { Embedding, Weight, Bias, LayerNormWeight, LayerNormBias, Frozen };

struct PlanParam {
  std::string name;            // canonical name, as written to a saved model
  std::vector<int64_t> shape;  // PyTorch layout
  ParamRole role = ParamRole::Weight;
  TensorSource source;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  bool weightDecay() const { return role == ParamRole::Weight || role == ParamRole::Embedding; }
  bool trainable() const { return role != ParamRole::Frozen; }
  // Converts the source to fp32 into dst[0, numel()). Throws ERR_BAD_MODEL naming the tensor
  // when a value is NaN or infinite (the one scan for non-finite weights, fused with the one
  // conversion every consumer does).
  void copyTo(float* dst) const;
  // Converts (or copies, when the dtypes match: no fp32 round trip) into dst in `dtype`, with
  // the same non-finite check; fp32 → fp16/bf16 rounds to nearest even.
  void copyTo(void* dst, DType dtype) const;
};

// Indices into ModelPlan::params of one BERT layer's tensors.
struct LayerPlan {
  int query = -1, queryBias = -1, key = -1, keyBias = -1, value = -1, valueBias = -1;
  int attnOut = -1, attnOutBias = -1, attnLnGamma = -1, attnLnBeta = -1;
  int ffnIn = -1, ffnInBias = -1, ffnOut = -1, ffnOutBias = -1, ffnLnGamma = -1, ffnLnBeta = -1;
};

struct EmbeddingsPlan {
  int word = -1, position = -1, lnGamma = -1, lnBeta = -1;
  int tokenType = -1;     // [typeVocabSize, H]; -1 when typeVocabSize is 0
  int relativeBias = -1;  // [relativeBuckets, numHeads] (MPNet); -1 when there is none
};

// One sentence-transformers Dense module: out = activation(in · weightᵀ + bias).
struct DensePlan {
  int inFeatures = 0;
  int outFeatures = 0;
  Activation activation = Activation::Identity;
  int weight = -1;  // index into params, [out, in]
  int bias = -1;    // index into params, [out]; -1 when the module has no bias
  // Training only: dropout on this module's input with this probability, in [0, 1) — a
  // classification head's own dropout (transformers' classifier_dropout / hidden_dropout_prob
  // before the head's Linears, DistilBERT's seq_classif_dropout). Inference ignores it.
  float dropoutBefore = 0.f;
};

struct ModelPlan {
  BertShape shape;
  std::vector<PlanParam> params;  // every parameter once: embeddings, layers, Dense modules
  EmbeddingsPlan embeddings;
  std::vector<LayerPlan> layers;  // shape.numLayers entries
  // The module chain after the transformer, in the order it runs:
  std::vector<PoolMode> pooling;  // empty → no Pooling module (token embeddings only)
  std::vector<DensePlan> dense;   // applied in order after pooling
  bool normalize = false;         // the chain ends in a Normalize module
  int sentenceDim = 0;            // output dimension after pooling and Dense (0 without pooling)

  const PlanParam& param(int index) const { return params[static_cast<size_t>(index)]; }
  int64_t parameterCount() const;
};

// What the binding reads from JS: the plan as the JS loader built it (indices, module chain,
// parameters with their sources) plus each source's byte length, not yet checked.
struct PlanInput {
  ModelPlan plan;
  std::vector<int64_t> byteLengths;  // one per plan.params entry
};

// Checks that the plan the JS loader built is consistent (indices in range, every tensor's
// shape and byte length what the config implies, Dense dimensions chaining) and returns it.
// The JS loader has already validated the folder with messages naming its files, so a failure
// here is a broken contract (ERR_INTERNAL), never a crash. Cheap: no value is read.
ModelPlan resolveModelPlan(const PlanInput& input);

}  // namespace sbert
