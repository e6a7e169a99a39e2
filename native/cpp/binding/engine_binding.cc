// The engine object: createEngine({ spec, device, ... }) → Promise<Engine>,
// engine.encode({ ids, cuSeqlens, ... }) → Promise, and engine.dispose(). Every call that does
// real work is an AsyncWorker whose Execute() touches no N-API. Weights cross once: the worker
// converts the JS weight buffers (kept alive by the plan holder) straight into the backend's
// storage. Token ids are copied before the work is queued (JS may reuse its arrays at once);
// results are written by the worker straight into the Float32Arrays the caller receives.
// Calls on one engine are serialised by a per-engine mutex (backends reuse workspaces), and
// dispose() while calls are in flight lets running calls finish and rejects queued ones with
// ERR_DISPOSED: the backend lives until the last call holding it has finished.
#include <napi.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/error.h"
#include "engine/backend.h"
#include "js_error.h"
#include "options.h"
#include "plan_input.h"
#include "promise_worker.h"
#include "registry.h"

namespace sbert::binding {
namespace {

// ---- the engine ------------------------------------------------------------------------------

// Shared between the JS object and the workers that use it.
struct EngineState {
  std::shared_ptr<Backend> backend;  // null once disposed
  std::mutex callMutex;              // serialises encode calls on the backend
  std::mutex stateMutex;             // guards `backend`
  std::atomic<bool> disposed{false};
  std::string deviceName;
  Precision precision = Precision::Fp32;
  std::atomic<int64_t> memoryBytes{0};  // updated after each call (workspaces grow and shrink)
  int64_t reportedBytes = 0;            // main thread only: what V8 was told
  int sentenceDim = 0;
  int hiddenSize = 0;

  // Main thread: tells V8 how the native memory changed since the last report.
  void reportMemory(Napi::Env env) {
    const int64_t now = disposed.load() ? 0 : memoryBytes.load();
    if (now != reportedBytes) {
      Napi::MemoryManagement::AdjustExternalMemory(env, now - reportedBytes);
      reportedBytes = now;
    }
  }

  std::shared_ptr<Backend> acquire() {
    std::lock_guard<std::mutex> lock(stateMutex);
    return backend;
  }
};

class Engine : public Napi::ObjectWrap<Engine> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Engine",
                       {InstanceMethod<&Engine::Encode>("encode"),
                        InstanceMethod<&Engine::Dispose>("dispose"),
                        InstanceAccessor<&Engine::Disposed>("disposed"),
                        InstanceAccessor<&Engine::DeviceName>("deviceName"),
                        InstanceAccessor<&Engine::PrecisionName>("precision"),
                        InstanceAccessor<&Engine::MemoryBytes>("memoryBytes"),
                        InstanceAccessor<&Engine::SentenceDim>("sentenceDim")});
  }

  explicit Engine(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Engine>(info) {
    // Only createEngine() constructs engines; it passes the state through an External.
    if (info.Length() != 1 || !info[0].IsExternal()) {
      ThrowTypeError(info.Env(), "Engine cannot be constructed directly; use createEngine(spec)");
    }
    state_ = *info[0].As<Napi::External<std::shared_ptr<EngineState>>>().Data();
    state_->reportMemory(info.Env());
  }

  // The finalizer frees what was never disposed.
  ~Engine() override { release(); }

  std::shared_ptr<EngineState> state() const { return state_; }

 private:
  Napi::Value Encode(const Napi::CallbackInfo& info);

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    release();
    state_->reportMemory(info.Env());
    return info.Env().Undefined();
  }

  void release() {
    if (!state_ || state_->disposed.exchange(true)) return;
    std::shared_ptr<Backend> drop;
    {
      std::lock_guard<std::mutex> lock(state_->stateMutex);
      drop.swap(state_->backend);
    }
    // `drop` frees the backend here unless a running call still holds it.
  }

  Napi::Value Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), state_->disposed.load()); }
  Napi::Value DeviceName(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), state_->deviceName); }
  Napi::Value PrecisionName(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), precisionName(state_->precision));
  }
  Napi::Value MemoryBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(state_->memoryBytes.load()));
  }
  Napi::Value SentenceDim(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), state_->sentenceDim); }

  std::shared_ptr<EngineState> state_;
};

struct EngineOptions {
  bool cuda = false;
  int deviceIndex = 0;
  Precision precision = Precision::Fp32;
  int64_t retainTokens = 8192;
};

class CreateEngineWorker : public PromiseWorker {
 public:
  CreateEngineWorker(Napi::Env env, PlanInputHolder holder, EngineOptions options)
      : PromiseWorker(env, "sbert:createEngine"), holder_(std::move(holder)), options_(options) {}

 protected:
  void Run() override {
    // A precision this CPU cannot run is refused before the weights are read.
    if (!options_.cuda) checkCpuPrecision(options_.precision);
    const ModelPlan plan = resolveModelPlan(holder_.input);
    std::unique_ptr<Backend> backend = options_.cuda
                                           ? makeCudaBackend(plan, options_.deviceIndex, options_.precision)
                                           : makeCpuBackend(plan, options_.precision);
    backend->setRetainTokens(options_.retainTokens);
    state_ = std::make_shared<EngineState>();
    state_->deviceName = backend->deviceName();
    state_->precision = options_.precision;
    state_->memoryBytes = backend->memoryBytes();
    state_->sentenceDim = plan.sentenceDim;
    state_->hiddenSize = plan.shape.hiddenSize;
    state_->backend = std::move(backend);
  }
  Napi::Value Result(Napi::Env env) override {
    auto ext = Napi::External<std::shared_ptr<EngineState>>::New(env, &state_);
    return env.GetInstanceData<AddonData>()->engineConstructor.New({ext});
  }

 private:
  PlanInputHolder holder_;  // keeps the JS weight buffers alive until the backend is built
  EngineOptions options_;
  std::shared_ptr<EngineState> state_;
};

class EncodeWorker : public PromiseWorker {
 public:
  EncodeWorker(Napi::Env env, std::shared_ptr<EngineState> state, std::vector<int32_t> ids,
               std::vector<int32_t> cuSeqlens, std::vector<int32_t> typeIds, bool forceNormalize)
      : PromiseWorker(env, "sbert:encode"),
        state_(std::move(state)),
        ids_(std::move(ids)),
        cuSeqlens_(std::move(cuSeqlens)),
        typeIds_(std::move(typeIds)),
        forceNormalize_(forceNormalize),
        result_(Napi::Persistent(Napi::Object::New(env))) {}

  // Allocates an output on the main thread; the worker writes into its memory (the result
  // object holds the array, so it outlives the work).
  float* AddOutput(Napi::Env env, const char* key, size_t count) {
    Napi::Float32Array arr = Napi::Float32Array::New(env, count);
    result_.Value().Set(key, arr);
    return count == 0 ? nullptr : arr.Data();
  }

 protected:
  void Run() override {
    std::lock_guard<std::mutex> lock(state_->callMutex);
    std::shared_ptr<Backend> backend = state_->acquire();
    if (!backend) throw Error("ERR_DISPOSED", "the encoder was disposed before this call ran");
    EncodeBatch batch;
    batch.ids = ids_.data();
    batch.cuSeqlens = cuSeqlens_.data();
    batch.typeIds = typeIds_.empty() ? nullptr : typeIds_.data();
    batch.numSequences = static_cast<int>(cuSeqlens_.size()) - 1;
    out_.forceNormalize = forceNormalize_;
    try {
      backend->encode(batch, out_);
    } catch (...) {
      state_->memoryBytes = backend->memoryBytes();
      throw;
    }
    state_->memoryBytes = backend->memoryBytes();
    checkFinite(batch);
  }

  // Finite weights can still overflow fp32 arithmetic (values near 1e30): never hand out NaN or
  // infinity as an embedding. One pass over the outputs, on the worker thread.
  void checkFinite(const EncodeBatch& batch) const {
    const int64_t n = batch.numSequences, dim = state_->sentenceDim, hidden = state_->hiddenSize;
    auto fail = [](const std::string& what) {
      throw Error("ERR_BAD_MODEL", "the model produced a non-finite value for " + what +
                                       ": its weights overflow fp32 arithmetic (the model file is corrupt or was "
                                       "saved after a diverged run)");
    };
    if (out_.sentence) {
      for (int64_t i = 0; i < n * dim; ++i) {
        if (!std::isfinite(out_.sentence[i])) fail("sentence " + std::to_string(i / dim) + " of this call");
      }
    }
    if (out_.tokens) {
      const int64_t T = batch.numTokens();
      for (int64_t i = 0; i < T * hidden; ++i) {
        if (!std::isfinite(out_.tokens[i])) fail("token " + std::to_string(i / hidden) + " of this call");
      }
    }
  }
  Napi::Value Result(Napi::Env env) override {
    state_->reportMemory(env);
    return result_.Value();
  }

 public:
  EncodeOutputs out_;

 private:
  std::shared_ptr<EngineState> state_;
  std::vector<int32_t> ids_, cuSeqlens_, typeIds_;  // typeIds_ empty: all type 0
  bool forceNormalize_;
  Napi::ObjectReference result_;
};

// encode({ ids, cuSeqlens, typeIds?, sentence, tokens, normalize, poolSkipTokens? })
//   typeIds: token type (segment) ids, one per token (a cross-encoder's pairs); default all 0.
//   poolSkipTokens: pooling leaves out the first N tokens of every sequence (include_prompt:
//   false); an integer in [0, 2^31 - 1], default 0.
Napi::Value Engine::Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (state_->disposed.load()) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(MakeError(env, "ERR_DISPOSED", "the encoder has been disposed").Value());
    return d.Promise();
  }
  const Options o = Options::Arg(info, 0);
  std::vector<int32_t> ids = o.int32s("ids");
  std::vector<int32_t> cu = o.int32s("cuSeqlens");
  if (cu.empty() || cu[0] != 0) ThrowRangeError(env, "options.cuSeqlens must start with 0 and have n + 1 entries");
  if (cu.back() < 0 || static_cast<size_t>(cu.back()) != ids.size()) {
    ThrowRangeError(env, "options.cuSeqlens ends at " + std::to_string(cu.back()) + " but options.ids has " +
                             std::to_string(ids.size()) + " tokens");
  }
  std::vector<int32_t> typeIds;
  if (o.has("typeIds")) {
    typeIds = o.int32s("typeIds");
    if (typeIds.size() != ids.size()) {
      ThrowRangeError(env, "options.typeIds has " + std::to_string(typeIds.size()) + " entries but options.ids has " +
                               std::to_string(ids.size()));
    }
  }
  const bool wantSentence = o.boolean("sentence", false);
  const bool wantTokens = o.boolean("tokens", false);
  const bool normalize = o.boolean("normalize", false);
  const int poolSkipTokens = static_cast<int>(o.integer("poolSkipTokens", 0, kMaxInt32, 0));
  const size_t n = cu.size() - 1, tokens = ids.size();
  auto* worker = new EncodeWorker(env, state_, std::move(ids), std::move(cu), std::move(typeIds), normalize);
  worker->out_.poolSkipTokens = poolSkipTokens;
  if (wantSentence) worker->out_.sentence = worker->AddOutput(env, "sentence", n * size_t(state_->sentenceDim));
  if (wantTokens) worker->out_.tokens = worker->AddOutput(env, "tokens", tokens * size_t(state_->hiddenSize));
  return QueueWorker(worker);
}

// createEngine({ spec, device: 'cpu' | 'cuda', deviceIndex?, precision?, retainTokens? })
//   precision: 'fp32' | 'int8' | 'bf16' on the CPU (default 'fp32'), 'fp16' | 'bf16' | 'fp32' on
//   CUDA (default 'fp16'). One this device cannot run rejects with ERR_UNSUPPORTED naming why
//   (checkCpuPrecision, backend.h); engine.precision says what the engine computes in.
Napi::Value CreateEngine(const Napi::CallbackInfo& info) {
  const Options o = Options::Arg(info, 0);
  EngineOptions options;
  options.cuda = o.oneOf<bool>("device", {{"cpu", false}, {"cuda", true}});
  options.deviceIndex = static_cast<int>(o.integer("deviceIndex", 0, 1023, 0));
  options.precision = o.oneOf<Precision>("precision",
                                         {{"fp32", Precision::Fp32},
                                          {"int8", Precision::Int8},
                                          {"bf16", Precision::Bf16},
                                          {"fp16", Precision::Fp16}},
                                         options.cuda ? Precision::Fp16 : Precision::Fp32);
  options.retainTokens = o.integer("retainTokens", 1, kMaxSafeInteger, 8192);
  PlanInputHolder holder = ReadPlanInput(info.Env(), o.value("spec"));
  return QueueWorker(new CreateEngineWorker(info.Env(), std::move(holder), options));
}

}  // namespace

void RegisterEngine(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = Engine::Define(env);
  env.GetInstanceData<AddonData>()->engineConstructor = Napi::Persistent(ctor);
  exports.Set("Engine", ctor);
  exports.Set("createEngine", Napi::Function::New(env, CreateEngine, "createEngine"));
}

}  // namespace sbert::binding
