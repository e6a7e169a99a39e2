// The trainable BERT sentence encoder: a ModelPlan's parameters as fp32 master weights with
// gradients, a training forward that keeps what backward needs, and the backward pass through
// Normalize, the Dense chain, Pooling, the layers and the embeddings (the kernels' `...Backward`
// functions, native/cpp/kernels/).
//
// Activations kept between forward and backward are bounded by the batch's tokens T (per layer:
// the LayerNorm normalized values and rstd, Q|K|V, attention probabilities per (sequence, head)
// [len × len], the attention context, the FFN GELU input; plus dropout masks when dropout is on).
// Not thread-safe: one step at a time (the trainer runs them on one worker).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/backend.h"
#include "engine/model_plan.h"
#include "train/param_buffer.h"

namespace sbert {

class ModelGraph {
 public:
  // Copies every plan parameter to fp32 master values (ParamBuffer, same order as
  // plan.params), zero grads. seed drives dropout. The plan's sources are not used afterwards.
  ModelGraph(const ModelPlan& plan, uint64_t seed);
  ~ModelGraph();
  ModelGraph(const ModelGraph&) = delete;
  ModelGraph& operator=(const ModelGraph&) = delete;

  std::vector<ParamBuffer>& parameters();
  int sentenceDim() const;
  // Training forward over a packed batch (ids [T], cuSeqlens [n+1], typeIds [T] or null);
  // keeps the activations backward needs (bounded by the batch's tokens; the batch is copied);
  // applies BERT dropout (hidden and attention probs, probabilities from plan.shape) when
  // `dropout`; returns the sentence embeddings [n, sentenceDim] after Pooling, Dense and (when
  // the plan has it) Normalize — a cross-encoder's logits — valid until the next call.
  const float* forward(const EncodeBatch& batch, bool dropout);
  // dL/d(sentence embeddings) [n, sentenceDim] of the last forward → accumulates (+=) into
  // every parameter's grad.
  void backward(const float* dEmbeddings);
  void zeroGrad();
  // Eval-mode sentence embeddings with the current master weights (no saved activations).
  void encode(const EncodeBatch& batch, float* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sbert
