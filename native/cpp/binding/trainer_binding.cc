// The trainer object (lib/train/fit.ts is its one user; lib/native.ts types it):
//
//   createTrainer(spec, options) -> Promise<Trainer>
//     spec: the NativeModelSpec createEngine takes (read with ReadPlanInput, resolved with
//           resolveModelPlan on the worker: the weights are scanned and upcast to fp32 there).
//     options: { loss: 'softmax'|'cosine'|'triplet'|'mnrl'|'mse', textsPerExample, numLabels?,
//                margin?, scale?, beta1, beta2, eps, weightDecay, maxGradNorm, dropout, seed,
//                classifier?: { weight: Float32Array, bias: Float32Array } }
//   trainer.step({ ids, cuSeqlens, labels?, targets?, learningRate }) -> Promise<{ loss, gradNorm }>
//     one optimizer step: zero grads, training forward, loss, backward, clip, AdamW.
//   trainer.encode({ ids, cuSeqlens }) -> Promise<Float32Array>  eval-mode embeddings [n, dim]
//   trainer.parameters() -> Promise<{ name, shape, data: Float32Array }[]>  model parameters
//   trainer.dispose(), trainer.disposed, trainer.sentenceDim
//
// Every call that computes is a PromiseWorker (Execute touches no N-API); inputs are copied
// before the work is queued. Calls on one trainer are serialised by a mutex (one step at a
// time: ModelGraph is not thread-safe); dispose() lets a running call finish and rejects later
// ones with ERR_DISPOSED.
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/error.h"
#include "engine/model_plan.h"
#include "js_error.h"
#include "options.h"
#include "plan_input.h"
#include "promise_worker.h"
#include "registry.h"
#include "train/adamw.h"
#include "train/losses.h"
#include "train/model_graph.h"

namespace sbert::binding {
namespace {

// ---- options (main thread) -------------------------------------------------------------------

struct TrainerOptions {
  LossKind loss = LossKind::Cosine;
  int textsPerExample = 2;
  int numLabels = 3;
  float margin = 1.f;
  float scale = 20.f;
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-6f, weightDecay = 0.01f;
  double maxGradNorm = 1.0;
  bool dropout = true;
  uint64_t seed = 0;
  bool hasClassifier = false;
  std::vector<float> classifierWeight, classifierBias;
};

TrainerOptions ReadOptions(const Options& o) {
  TrainerOptions t;
  t.loss = o.oneOf<LossKind>("loss", {{"softmax", LossKind::Softmax},
                                      {"cosine", LossKind::Cosine},
                                      {"triplet", LossKind::Triplet},
                                      {"mnrl", LossKind::Mnrl},
                                      {"mse", LossKind::Mse}});
  t.textsPerExample = static_cast<int>(o.integer("textsPerExample", 1, kMaxInt32));
  t.numLabels = static_cast<int>(o.integer("numLabels", 2, kMaxInt32, 3));
  t.margin = static_cast<float>(o.number("margin", 1.0));
  t.scale = static_cast<float>(o.number("scale", 20.0));
  t.beta1 = static_cast<float>(o.number("beta1", 0.9));
  t.beta2 = static_cast<float>(o.number("beta2", 0.999));
  t.eps = static_cast<float>(o.number("eps", 1e-6));
  t.weightDecay = static_cast<float>(o.number("weightDecay", 0.01));
  t.maxGradNorm = o.number("maxGradNorm", 1.0);
  if (!(t.maxGradNorm > 0)) ThrowRangeError(o.Env(), o.pathOf("maxGradNorm") + " must be > 0 (Infinity disables clipping)");
  t.dropout = o.boolean("dropout", false);
  t.seed = static_cast<uint64_t>(o.integer("seed", 0, kMaxSafeInteger, 0));
  if (o.has("classifier") && !o.value("classifier").IsNull()) {
    const Options c = o.object("classifier");
    t.classifierWeight = c.float32s("weight");
    t.classifierBias = c.float32s("bias");
    t.hasClassifier = true;
  }
  return t;
}

// ---- the trainer state (shared by the JS object and its workers) -----------------------------

struct TrainerState {
  std::unique_ptr<ModelGraph> graph;
  std::unique_ptr<Loss> loss;
  std::unique_ptr<AdamW> optimizer;
  TrainerOptions options;
  int vocabSize = 0;
  int maxPositions = 0;
  int sentenceDim = 0;
  std::mutex callMutex;  // one call at a time on the graph
  std::atomic<bool> disposed{false};
};

// Throws ERR_DISPOSED when dispose() ran before this call got the lock; frees the state's
// buffers when the last call holding it finishes after a dispose.
void CheckLive(const TrainerState& s) {
  if (s.disposed.load()) throw Error("ERR_DISPOSED", "the trainer was disposed before this call ran");
}

// A packed batch as the graph reads it, validated (the JS layer builds these; a bad one is a
// caller bug, reported as a RangeError instead of reading out of bounds).
struct PackedBatch {
  std::vector<int32_t> ids, cuSeqlens;
  int count() const { return static_cast<int>(cuSeqlens.size()) - 1; }
};

void CheckBatch(const PackedBatch& b, int vocabSize, int maxPositions) {
  SBERT_CHECK(b.cuSeqlens.size() >= 2 && b.cuSeqlens[0] == 0, "ERR_OUT_OF_RANGE",
              "cuSeqlens must start with 0 and hold n + 1 >= 2 entries");
  for (size_t i = 1; i < b.cuSeqlens.size(); ++i) {
    const int32_t len = b.cuSeqlens[i] - b.cuSeqlens[i - 1];
    SBERT_CHECK(len >= 1 && len <= maxPositions, "ERR_OUT_OF_RANGE",
                "sequence " + std::to_string(i - 1) + " has length " + std::to_string(len) + " (must be 1.." +
                    std::to_string(maxPositions) + ")");
  }
  SBERT_CHECK(static_cast<size_t>(b.cuSeqlens.back()) == b.ids.size(), "ERR_OUT_OF_RANGE",
              "cuSeqlens ends at " + std::to_string(b.cuSeqlens.back()) + " but ids has " +
                  std::to_string(b.ids.size()) + " tokens");
  for (size_t i = 0; i < b.ids.size(); ++i) {
    SBERT_CHECK(b.ids[i] >= 0 && b.ids[i] < vocabSize, "ERR_OUT_OF_RANGE",
                "token id " + std::to_string(b.ids[i]) + " at " + std::to_string(i) + " is outside the vocabulary");
  }
}

// Serialises a call on the trainer (held until the returned lock goes), then checks that the
// trainer is live and that the batch fits the model.
std::unique_lock<std::mutex> StartBatchCall(TrainerState& s, const PackedBatch& b) {
  std::unique_lock<std::mutex> lock(s.callMutex);
  CheckLive(s);
  CheckBatch(b, s.vocabSize, s.maxPositions);
  return lock;
}

LossConfig MakeLossConfig(const TrainerOptions& o, int dim) {
  LossConfig cfg{o.loss, dim, o.textsPerExample};
  cfg.numLabels = o.numLabels;
  cfg.margin = o.margin;
  cfg.scale = o.scale;
  return cfg;
}

// Overwrites the softmax classifier's seeded initialisation with the caller's (parity tests
// start from the reference's nn.Linear values).
void SetClassifier(Loss& loss, const TrainerOptions& o) {
  std::vector<ParamBuffer>& params = loss.parameters();
  SBERT_CHECK(params.size() == 2, "ERR_OUT_OF_RANGE", "options.classifier is only for the softmax loss");
  SBERT_CHECK(o.classifierWeight.size() == params[0].value.size(), "ERR_OUT_OF_RANGE",
              "options.classifier.weight must hold " + std::to_string(params[0].value.size()) + " values");
  SBERT_CHECK(o.classifierBias.size() == params[1].value.size(), "ERR_OUT_OF_RANGE",
              "options.classifier.bias must hold " + std::to_string(params[1].value.size()) + " values");
  params[0].value = o.classifierWeight;
  params[1].value = o.classifierBias;
}

class Trainer : public Napi::ObjectWrap<Trainer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Trainer",
                       {InstanceMethod<&Trainer::Step>("step"), InstanceMethod<&Trainer::Encode>("encode"),
                        InstanceMethod<&Trainer::Parameters>("parameters"),
                        InstanceMethod<&Trainer::Dispose>("dispose"),
                        InstanceAccessor<&Trainer::Disposed>("disposed"),
                        InstanceAccessor<&Trainer::SentenceDim>("sentenceDim")});
  }

  explicit Trainer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Trainer>(info) {
    // Only createTrainer() constructs trainers; it passes the state through an External.
    if (info.Length() != 1 || !info[0].IsExternal()) {
      ThrowTypeError(info.Env(), "Trainer cannot be constructed directly; use createTrainer(spec, options)");
    }
    state_ = *info[0].As<Napi::External<std::shared_ptr<TrainerState>>>().Data();
  }

  ~Trainer() override { release(); }

 private:
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value Encode(const Napi::CallbackInfo& info);
  Napi::Value Parameters(const Napi::CallbackInfo& info);

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    release();
    return info.Env().Undefined();
  }
  Napi::Value Disposed(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), !state_ || state_->disposed.load());
  }
  Napi::Value SentenceDim(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), state_ ? state_->sentenceDim : 0);
  }

  // Workers keep their own shared_ptr, so a running step finishes on live buffers; the state
  // (graph, moments) is freed when the last holder lets go.
  void release() {
    if (!state_) return;
    state_->disposed.store(true);
    state_.reset();
  }

  // A rejected promise for calls after dispose().
  static Napi::Value RejectDisposed(Napi::Env env) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(MakeError(env, "ERR_DISPOSED", "the trainer has been disposed").Value());
    return d.Promise();
  }

  std::shared_ptr<TrainerState> state_;
};

// ---- workers ---------------------------------------------------------------------------------

class CreateTrainerWorker : public PromiseWorker {
 public:
  CreateTrainerWorker(Napi::Env env, PlanInputHolder holder, TrainerOptions options)
      : PromiseWorker(env, "sbert:createTrainer"), holder_(std::move(holder)), options_(std::move(options)) {}

 protected:
  void Run() override {
    const ModelPlan plan = resolveModelPlan(holder_.input);
    SBERT_CHECK(plan.sentenceDim > 0, "ERR_BAD_MODEL", "the model has no Pooling module, so it cannot be trained for sentence embeddings");
    auto state = std::make_shared<TrainerState>();
    state->options = options_;
    state->vocabSize = plan.shape.vocabSize;
    state->maxPositions = plan.shape.maxPositions;
    state->graph = std::make_unique<ModelGraph>(plan, options_.seed);
    state->sentenceDim = state->graph->sentenceDim();
    state->loss = std::make_unique<Loss>(MakeLossConfig(options_, state->sentenceDim), options_.seed);
    if (options_.hasClassifier) SetClassifier(*state->loss, options_);
    std::vector<ParamBuffer*> params;
    // Frozen parameters stay out of the optimizer and of gradient clipping, as torch's
    // requires_grad=False ones.
    for (ParamBuffer& p : state->graph->parameters()) {
      if (p.trainable) params.push_back(&p);
    }
    for (ParamBuffer& p : state->loss->parameters()) params.push_back(&p);
    state->optimizer = std::make_unique<AdamW>(std::move(params), options_.beta1, options_.beta2, options_.eps,
                                               options_.weightDecay);
    state_ = std::move(state);
  }
  Napi::Value Result(Napi::Env env) override {
    auto ext = Napi::External<std::shared_ptr<TrainerState>>::New(env, &state_);
    return env.GetInstanceData<AddonData>()->trainerConstructor.New({ext});
  }

 private:
  PlanInputHolder holder_;  // keeps the weight buffers alive; destroyed with the worker (main thread)
  TrainerOptions options_;
  std::shared_ptr<TrainerState> state_;
};

class StepWorker : public PromiseWorker {
 public:
  StepWorker(Napi::Env env, std::shared_ptr<TrainerState> state, PackedBatch batch, std::vector<float> labels,
             std::vector<float> targets, double lr)
      : PromiseWorker(env, "sbert:trainStep"),
        state_(std::move(state)),
        batch_(std::move(batch)),
        labels_(std::move(labels)),
        targets_(std::move(targets)),
        lr_(lr) {}

 protected:
  void Run() override {
    TrainerState& s = *state_;
    const std::unique_lock<std::mutex> lock = StartBatchCall(s, batch_);
    const int n = batch_.count();
    const int k = s.options.textsPerExample;
    SBERT_CHECK(n % k == 0, "ERR_OUT_OF_RANGE",
                "the batch has " + std::to_string(n) + " texts, not a multiple of textsPerExample " + std::to_string(k));
    const int examples = n / k;
    const LossKind kind = s.options.loss;
    const bool wantLabels = kind == LossKind::Cosine || kind == LossKind::Softmax;
    SBERT_CHECK(!wantLabels || labels_.size() == static_cast<size_t>(examples), "ERR_OUT_OF_RANGE",
                "labels must hold one value per example (" + std::to_string(examples) + ")");
    SBERT_CHECK(kind != LossKind::Mse || targets_.size() == static_cast<size_t>(examples) * s.sentenceDim,
                "ERR_OUT_OF_RANGE", "targets must hold examples x sentenceDim values");
    if (kind == LossKind::Softmax) {
      for (float l : labels_) {
        SBERT_CHECK(l == std::floor(l) && l >= 0 && l < s.options.numLabels, "ERR_OUT_OF_RANGE",
                    "softmax labels must be class indices 0.." + std::to_string(s.options.numLabels - 1));
      }
    }

    s.graph->zeroGrad();
    for (ParamBuffer& p : s.loss->parameters()) std::fill(p.grad.begin(), p.grad.end(), 0.f);
    const float* emb = s.graph->forward(batch_.ids.data(), batch_.cuSeqlens.data(), n, s.options.dropout);
    std::vector<float> dEmb(static_cast<size_t>(n) * s.sentenceDim);
    loss_ = s.loss->forwardBackward(emb, examples, wantLabels ? labels_.data() : nullptr,
                                    kind == LossKind::Mse ? targets_.data() : nullptr, dEmb.data());
    SBERT_CHECK(std::isfinite(loss_), "ERR_NATIVE", "the loss is not finite (learning rate too large?)");
    s.graph->backward(dEmb.data());
    gradNorm_ = s.optimizer->clipGradNorm(s.options.maxGradNorm);
    s.optimizer->step(lr_);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object r = Napi::Object::New(env);
    r.Set("loss", Napi::Number::New(env, loss_));
    r.Set("gradNorm", Napi::Number::New(env, gradNorm_));
    return r;
  }

 private:
  std::shared_ptr<TrainerState> state_;
  PackedBatch batch_;
  std::vector<float> labels_, targets_;
  double lr_;
  double loss_ = 0, gradNorm_ = 0;
};

class TrainerEncodeWorker : public PromiseWorker {
 public:
  TrainerEncodeWorker(Napi::Env env, std::shared_ptr<TrainerState> state, PackedBatch batch)
      : PromiseWorker(env, "sbert:trainerEncode"), state_(std::move(state)), batch_(std::move(batch)) {}

 protected:
  void Run() override {
    TrainerState& s = *state_;
    const std::unique_lock<std::mutex> lock = StartBatchCall(s, batch_);
    out_.resize(static_cast<size_t>(batch_.count()) * s.sentenceDim);
    s.graph->encode(batch_.ids.data(), batch_.cuSeqlens.data(), batch_.count(), out_.data());
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Float32Array a = Napi::Float32Array::New(env, out_.size());
    if (!out_.empty()) std::memcpy(a.Data(), out_.data(), out_.size() * sizeof(float));
    return a;
  }

 private:
  std::shared_ptr<TrainerState> state_;
  PackedBatch batch_;
  std::vector<float> out_;
};

class ParametersWorker : public PromiseWorker {
 public:
  ParametersWorker(Napi::Env env, std::shared_ptr<TrainerState> state)
      : PromiseWorker(env, "sbert:trainerParameters"), state_(std::move(state)) {}

 protected:
  void Run() override {
    TrainerState& s = *state_;
    std::lock_guard<std::mutex> lock(s.callMutex);
    CheckLive(s);
    // A snapshot: the JS side may save it while later steps change the master weights.
    for (const ParamBuffer& p : s.graph->parameters()) copies_.push_back({p.name, p.shape, p.value});
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Array list = Napi::Array::New(env, copies_.size());
    for (size_t i = 0; i < copies_.size(); ++i) {
      const Copy& c = copies_[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", Napi::String::New(env, c.name));
      Napi::Array shape = Napi::Array::New(env, c.shape.size());
      for (size_t d = 0; d < c.shape.size(); ++d) shape.Set(static_cast<uint32_t>(d), Napi::Number::New(env, static_cast<double>(c.shape[d])));
      o.Set("shape", shape);
      Napi::Float32Array data = Napi::Float32Array::New(env, c.value.size());
      if (!c.value.empty()) std::memcpy(data.Data(), c.value.data(), c.value.size() * sizeof(float));
      o.Set("data", data);
      list.Set(static_cast<uint32_t>(i), o);
    }
    return list;
  }

 private:
  struct Copy {
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float> value;
  };
  std::shared_ptr<TrainerState> state_;
  std::vector<Copy> copies_;
};

// ---- methods ---------------------------------------------------------------------------------

PackedBatch ReadBatch(const Options& o) {
  PackedBatch b;
  b.ids = o.int32s("ids");
  b.cuSeqlens = o.int32s("cuSeqlens");
  return b;
}

Napi::Value Trainer::Step(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!state_ || state_->disposed.load()) return RejectDisposed(env);
  const Options o = Options::Arg(info, 0, "batch");
  PackedBatch batch = ReadBatch(o);
  std::vector<float> labels, targets;
  if (o.has("labels")) labels = o.float32s("labels");
  if (o.has("targets")) targets = o.float32s("targets");
  const double rate = o.number("learningRate");
  if (!(rate >= 0) || !std::isfinite(rate)) ThrowRangeError(env, o.pathOf("learningRate") + " must be a finite number >= 0");
  return QueueWorker(new StepWorker(env, state_, std::move(batch), std::move(labels), std::move(targets), rate));
}

// encode({ ids, cuSeqlens })
Napi::Value Trainer::Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!state_ || state_->disposed.load()) return RejectDisposed(env);
  return QueueWorker(new TrainerEncodeWorker(env, state_, ReadBatch(Options::Arg(info, 0, "batch"))));
}

Napi::Value Trainer::Parameters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!state_ || state_->disposed.load()) return RejectDisposed(env);
  return QueueWorker(new ParametersWorker(env, state_));
}

Napi::Value CreateTrainer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PlanInputHolder holder = ReadPlanInput(env, info[0]);
  TrainerOptions options = ReadOptions(Options::Arg(info, 1));
  return QueueWorker(new CreateTrainerWorker(env, std::move(holder), std::move(options)));
}

}  // namespace

void RegisterTrainer(Napi::Env env, Napi::Object exports) {
  // Trainers are constructed only by createTrainer (from the environment's AddonData).
  env.GetInstanceData<AddonData>()->trainerConstructor = Napi::Persistent(Trainer::Define(env));
  exports.Set("createTrainer", Napi::Function::New(env, CreateTrainer, "createTrainer"));
}

}  // namespace sbert::binding
