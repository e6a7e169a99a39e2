// The engine object: createEngine(spec) → Promise<Engine>, engine.encode(...) → Promise, and
// engine.dispose(). Every call that does real work is an AsyncWorker whose Execute() touches no
// N-API; inputs are copied before the work is queued, so JS may reuse its arrays at once.
// Calls on one engine are serialised by a per-engine mutex (backends reuse workspaces), and
// dispose() while calls are in flight lets running calls finish and rejects queued ones with
// ERR_DISPOSED: the backend lives until the last call holding it has finished.
#include <napi.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/error.h"
#include "engine/backend.h"
#include "js_error.h"
#include "promise_worker.h"
#include "registry.h"

namespace sbert::binding {
namespace {

// ---- spec conversion (main thread: reads JS values, copies raw bytes) ----------------------

struct RawTensor {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

struct RawDense {
  int inFeatures = 0, outFeatures = 0;
  Activation activation = Activation::Identity;
  RawTensor weight, bias;
  bool hasBias = false;
};

struct RawSpec {
  BertShape shape;
  std::vector<RawTensor> tensors;
  std::vector<PoolMode> pooling;
  std::vector<RawDense> dense;
  bool normalize = false;
  std::string device = "cpu";
  int deviceIndex = 0;
  Precision precision = Precision::Fp16;
};

int GetInt(Napi::Object o, const char* key, const std::string& where) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) ThrowTypeError(o.Env(), where + "." + key + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 2147483647.0) || d != static_cast<double>(static_cast<int64_t>(d))) {
    ThrowRangeError(o.Env(), where + "." + key + " must be a non-negative integer");
  }
  return static_cast<int>(d);
}

RawTensor ReadTensor(Napi::Env env, Napi::Value v, const std::string& name) {
  if (!v.IsObject()) ThrowTypeError(env, "tensor " + name + " must be an object");
  Napi::Object o = v.As<Napi::Object>();
  RawTensor t;
  t.name = name;
  Napi::Value dtype = o.Get("dtype");
  if (!dtype.IsString()) ThrowTypeError(env, "tensor " + name + ".dtype must be a string");
  t.dtype = dtype.As<Napi::String>().Utf8Value();
  Napi::Value shape = o.Get("shape");
  if (!shape.IsArray()) ThrowTypeError(env, "tensor " + name + ".shape must be an array");
  Napi::Array arr = shape.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value d = arr.Get(i);
    if (!d.IsNumber()) ThrowTypeError(env, "tensor " + name + ".shape must hold numbers");
    t.shape.push_back(d.As<Napi::Number>().Int64Value());
  }
  Napi::Value bytes = o.Get("bytes");
  if (!bytes.IsTypedArray()) ThrowTypeError(env, "tensor " + name + ".bytes must be a Uint8Array");
  Napi::TypedArray ta = bytes.As<Napi::TypedArray>();
  const uint8_t* base = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  t.bytes.assign(base, base + ta.ByteLength());
  return t;
}

PoolMode ParsePoolMode(Napi::Env env, const std::string& s) {
  if (s == "cls") return PoolMode::Cls;
  if (s == "max") return PoolMode::Max;
  if (s == "mean") return PoolMode::Mean;
  if (s == "mean_sqrt_len_tokens") return PoolMode::MeanSqrtLen;
  if (s == "weightedmean") return PoolMode::WeightedMean;
  if (s == "lasttoken") return PoolMode::LastToken;
  ThrowRangeError(env, "unknown pooling mode '" + s + "'");
}

Activation ParseActivation(Napi::Env env, const std::string& s) {
  if (s == "identity") return Activation::Identity;
  if (s == "tanh") return Activation::Tanh;
  if (s == "relu") return Activation::Relu;
  if (s == "gelu") return Activation::Gelu;
  if (s == "sigmoid") return Activation::Sigmoid;
  ThrowRangeError(env, "unsupported Dense activation '" + s + "'");
}

RawSpec ReadSpec(Napi::Env env, Napi::Value v) {
  if (!v.IsObject()) ThrowTypeError(env, "spec must be an object");
  Napi::Object o = v.As<Napi::Object>();
  RawSpec spec;
  Napi::Value sv = o.Get("shape");
  if (!sv.IsObject()) ThrowTypeError(env, "spec.shape must be an object");
  Napi::Object s = sv.As<Napi::Object>();
  spec.shape.vocabSize = GetInt(s, "vocabSize", "spec.shape");
  spec.shape.hiddenSize = GetInt(s, "hiddenSize", "spec.shape");
  spec.shape.numLayers = GetInt(s, "numLayers", "spec.shape");
  spec.shape.numHeads = GetInt(s, "numHeads", "spec.shape");
  spec.shape.intermediateSize = GetInt(s, "intermediateSize", "spec.shape");
  spec.shape.maxPositions = GetInt(s, "maxPositions", "spec.shape");
  spec.shape.typeVocabSize = GetInt(s, "typeVocabSize", "spec.shape");
  Napi::Value eps = s.Get("layerNormEps");
  if (!eps.IsNumber()) ThrowTypeError(env, "spec.shape.layerNormEps must be a number");
  spec.shape.layerNormEps = eps.As<Napi::Number>().FloatValue();

  Napi::Value tv = o.Get("tensors");
  if (!tv.IsObject()) ThrowTypeError(env, "spec.tensors must be an object");
  Napi::Object tensors = tv.As<Napi::Object>();
  Napi::Array names = tensors.GetPropertyNames();
  for (uint32_t i = 0; i < names.Length(); ++i) {
    std::string name = names.Get(i).As<Napi::String>().Utf8Value();
    spec.tensors.push_back(ReadTensor(env, tensors.Get(name), name));
  }

  Napi::Value pv = o.Get("pooling");
  if (!pv.IsArray()) ThrowTypeError(env, "spec.pooling must be an array");
  Napi::Array pooling = pv.As<Napi::Array>();
  for (uint32_t i = 0; i < pooling.Length(); ++i) {
    Napi::Value m = pooling.Get(i);
    if (!m.IsString()) ThrowTypeError(env, "spec.pooling must hold strings");
    spec.pooling.push_back(ParsePoolMode(env, m.As<Napi::String>().Utf8Value()));
  }

  Napi::Value dv = o.Get("dense");
  if (!dv.IsArray()) ThrowTypeError(env, "spec.dense must be an array");
  Napi::Array dense = dv.As<Napi::Array>();
  for (uint32_t i = 0; i < dense.Length(); ++i) {
    std::string where = "spec.dense[" + std::to_string(i) + "]";
    Napi::Value dd = dense.Get(i);
    if (!dd.IsObject()) ThrowTypeError(env, where + " must be an object");
    Napi::Object d = dd.As<Napi::Object>();
    RawDense rd;
    rd.inFeatures = GetInt(d, "inFeatures", where);
    rd.outFeatures = GetInt(d, "outFeatures", where);
    Napi::Value act = d.Get("activation");
    if (!act.IsString()) ThrowTypeError(env, where + ".activation must be a string");
    rd.activation = ParseActivation(env, act.As<Napi::String>().Utf8Value());
    rd.weight = ReadTensor(env, d.Get("weight"), where + ".weight");
    Napi::Value b = d.Get("bias");
    if (!b.IsUndefined() && !b.IsNull()) {
      rd.bias = ReadTensor(env, b, where + ".bias");
      rd.hasBias = true;
    }
    spec.dense.push_back(std::move(rd));
  }
  spec.normalize = o.Get("normalize").ToBoolean().Value();

  Napi::Value dev = o.Get("device");
  if (!dev.IsString()) ThrowTypeError(env, "spec.device must be 'cpu' or 'cuda'");
  spec.device = dev.As<Napi::String>().Utf8Value();
  if (spec.device != "cpu" && spec.device != "cuda") ThrowRangeError(env, "spec.device must be 'cpu' or 'cuda'");
  spec.deviceIndex = GetInt(o, "deviceIndex", "spec");
  Napi::Value prec = o.Get("precision");
  std::string p = prec.IsString() ? prec.As<Napi::String>().Utf8Value() : "fp16";
  if (p == "fp16") spec.precision = Precision::Fp16;
  else if (p == "bf16") spec.precision = Precision::Bf16;
  else if (p == "fp32") spec.precision = Precision::Fp32;
  else ThrowRangeError(env, "spec.precision must be 'fp16', 'bf16' or 'fp32'");
  return spec;
}

// ---- dtype conversion (worker thread) --------------------------------------------------------

float HalfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      int e = -1;
      do {
        ++e;
        man <<= 1;
      } while ((man & 0x400u) == 0);
      bits = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

HostTensor ToHost(const RawTensor& t) {
  HostTensor h;
  h.shape = t.shape;
  int64_t n = h.numel();
  size_t elem = t.dtype == "F32" ? 4 : (t.dtype == "F16" || t.dtype == "BF16") ? 2 : 0;
  if (elem == 0) throw Error("ERR_BAD_MODEL", "tensor " + t.name + " has dtype " + t.dtype + "; only F32, F16 and BF16 are supported");
  if (n < 0 || static_cast<size_t>(n) * elem != t.bytes.size()) {
    throw Error("ERR_BAD_MODEL", "tensor " + t.name + ": " + std::to_string(t.bytes.size()) +
                                     " bytes do not match its shape and dtype " + t.dtype);
  }
  h.data.resize(static_cast<size_t>(n));
  const uint8_t* p = t.bytes.data();
  for (int64_t i = 0; i < n; ++i) {
    if (t.dtype == "F32") {
      std::memcpy(&h.data[i], p + 4 * i, 4);
    } else {
      uint16_t v;
      std::memcpy(&v, p + 2 * i, 2);
      if (t.dtype == "F16") {
        h.data[i] = HalfToFloat(v);
      } else {
        uint32_t bits = static_cast<uint32_t>(v) << 16;
        std::memcpy(&h.data[i], &bits, 4);
      }
    }
  }
  return h;
}

// ---- the engine ------------------------------------------------------------------------------

// Shared between the JS object and the workers that use it.
struct EngineState {
  std::shared_ptr<Backend> backend;  // null once disposed
  std::mutex callMutex;              // serialises encode calls on the backend
  std::mutex stateMutex;             // guards `backend`
  std::atomic<bool> disposed{false};
  std::string deviceName;
  int64_t memoryBytes = 0;
  int sentenceDim = 0;

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
                        InstanceAccessor<&Engine::MemoryBytes>("memoryBytes"),
                        InstanceAccessor<&Engine::SentenceDim>("sentenceDim")});
  }

  explicit Engine(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Engine>(info) {
    // Only createEngine() constructs engines; it passes the state through an External.
    if (info.Length() != 1 || !info[0].IsExternal()) {
      ThrowTypeError(info.Env(), "Engine cannot be constructed directly; use createEngine(spec)");
    }
    state_ = *info[0].As<Napi::External<std::shared_ptr<EngineState>>>().Data();
    Napi::MemoryManagement::AdjustExternalMemory(info.Env(), state_->memoryBytes);
    reported_ = state_->memoryBytes;
  }

  // The finalizer frees what was never disposed.
  ~Engine() override { release(); }

  std::shared_ptr<EngineState> state() const { return state_; }

 private:
  Napi::Value Encode(const Napi::CallbackInfo& info);

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    release();
    if (reported_ != 0) {
      Napi::MemoryManagement::AdjustExternalMemory(info.Env(), -reported_);
      reported_ = 0;
    }
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
  Napi::Value MemoryBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(state_->memoryBytes));
  }
  Napi::Value SentenceDim(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), state_->sentenceDim); }

  std::shared_ptr<EngineState> state_;
  int64_t reported_ = 0;
};

class CreateEngineWorker : public PromiseWorker {
 public:
  CreateEngineWorker(Napi::Env env, RawSpec spec) : PromiseWorker(env, "sbert:createEngine"), raw_(std::move(spec)) {}

 protected:
  void Run() override {
    ModelSpec spec;
    spec.shape = raw_.shape;
    for (RawTensor& t : raw_.tensors) {
      spec.tensors.emplace(t.name, ToHost(t));
      std::vector<uint8_t>().swap(t.bytes);  // free each raw copy as soon as it is converted
    }
    spec.pooling = raw_.pooling;
    for (const RawDense& d : raw_.dense) {
      DenseSpec ds;
      ds.inFeatures = d.inFeatures;
      ds.outFeatures = d.outFeatures;
      ds.activation = d.activation;
      ds.weight = ToHost(d.weight);
      if (d.hasBias) ds.bias = ToHost(d.bias);
      spec.dense.push_back(std::move(ds));
    }
    spec.normalize = raw_.normalize;
    std::unique_ptr<Backend> backend = raw_.device == "cuda"
                                           ? makeCudaBackend(spec, raw_.deviceIndex, raw_.precision)
                                           : makeCpuBackend(spec);
    state_ = std::make_shared<EngineState>();
    state_->deviceName = backend->deviceName();
    state_->memoryBytes = backend->memoryBytes();
    state_->sentenceDim = spec.sentenceDim();
    state_->backend = std::move(backend);
  }
  Napi::Value Result(Napi::Env env) override {
    auto ext = Napi::External<std::shared_ptr<EngineState>>::New(env, &state_);
    return env.GetInstanceData<Napi::FunctionReference>()->New({ext});
  }

 private:
  RawSpec raw_;
  std::shared_ptr<EngineState> state_;
};

class EncodeWorker : public PromiseWorker {
 public:
  EncodeWorker(Napi::Env env, std::shared_ptr<EngineState> state, std::vector<int32_t> ids,
               std::vector<int32_t> typeIds, std::vector<int32_t> cuSeqlens, EncodeOutputs out,
               int64_t reserveTokens)
      : PromiseWorker(env, "sbert:encode"),
        reserveTokens_(reserveTokens),
        state_(std::move(state)),
        ids_(std::move(ids)),
        typeIds_(std::move(typeIds)),
        cuSeqlens_(std::move(cuSeqlens)),
        out_(std::move(out)) {}

 protected:
  void Run() override {
    std::lock_guard<std::mutex> lock(state_->callMutex);
    std::shared_ptr<Backend> backend = state_->acquire();
    if (!backend) throw Error("ERR_DISPOSED", "the encoder was disposed before this call ran");
    EncodeBatch batch;
    batch.ids = ids_.data();
    batch.typeIds = typeIds_.empty() ? nullptr : typeIds_.data();
    batch.cuSeqlens = cuSeqlens_.data();
    batch.numSequences = static_cast<int>(cuSeqlens_.size()) - 1;
    batch.reserveTokens = reserveTokens_;
    backend->encode(batch, out_);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    if (out_.wantSentence) result.Set("sentence", ToFloat32Array(env, out_.sentence));
    if (out_.wantTokens) result.Set("tokens", ToFloat32Array(env, out_.tokens));
    return result;
  }

 private:
  static Napi::Float32Array ToFloat32Array(Napi::Env env, std::vector<float>& v) {
    Napi::Float32Array arr = Napi::Float32Array::New(env, v.size());
    if (!v.empty()) std::memcpy(arr.Data(), v.data(), v.size() * sizeof(float));
    return arr;
  }
  int64_t reserveTokens_;
  std::shared_ptr<EngineState> state_;
  std::vector<int32_t> ids_, typeIds_, cuSeqlens_;
  EncodeOutputs out_;
};

std::vector<int32_t> CopyInt32(Napi::Env env, Napi::Value v, const char* name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    ThrowTypeError(env, std::string(name) + " must be an Int32Array");
  }
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  return std::vector<int32_t>(a.Data(), a.Data() + a.ElementLength());
}

Napi::Value Engine::Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (state_->disposed.load()) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(MakeError(env, "ERR_DISPOSED", "the encoder has been disposed").Value());
    return d.Promise();
  }
  std::vector<int32_t> ids = CopyInt32(env, info[0], "ids");
  std::vector<int32_t> typeIds;
  if (!info[1].IsNull() && !info[1].IsUndefined()) typeIds = CopyInt32(env, info[1], "typeIds");
  std::vector<int32_t> cu = CopyInt32(env, info[2], "cuSeqlens");
  if (cu.empty() || cu[0] != 0) ThrowRangeError(env, "cuSeqlens must start with 0 and have n + 1 entries");
  if (static_cast<size_t>(cu.back()) != ids.size() || cu.back() < 0) {
    ThrowRangeError(env, "cuSeqlens ends at " + std::to_string(cu.back()) + " but ids has " +
                             std::to_string(ids.size()) + " tokens");
  }
  if (!typeIds.empty() && typeIds.size() != ids.size()) ThrowRangeError(env, "typeIds must have as many entries as ids");
  EncodeOutputs out;
  int64_t reserveTokens = 0;
  if (info[3].IsObject()) {
    Napi::Object o = info[3].As<Napi::Object>();
    Napi::Value rt = o.Get("reserveTokens");
    if (rt.IsNumber()) {
      double v = rt.As<Napi::Number>().DoubleValue();
      if (!(v >= 0 && v <= 9.0e15)) ThrowRangeError(env, "options.reserveTokens must be a non-negative integer");
      reserveTokens = static_cast<int64_t>(v);
    }
    out.wantSentence = o.Get("sentence").ToBoolean().Value();
    out.wantTokens = o.Get("tokens").ToBoolean().Value();
    Napi::Value n = o.Get("normalize");
    std::string mode = n.IsString() ? n.As<Napi::String>().Utf8Value() : "model";
    if (mode == "model") {
      out.applyNormalize = true;
    } else if (mode == "force") {
      out.forceNormalize = true;
    } else if (mode == "none") {
      out.applyNormalize = false;
    } else {
      ThrowRangeError(env, "options.normalize must be 'model', 'force' or 'none'");
    }
  }
  auto* worker = new EncodeWorker(env, state_, std::move(ids), std::move(typeIds), std::move(cu), std::move(out),
                                  reserveTokens);
  Napi::Promise p = worker->Promise();
  worker->Queue();
  return p;
}

Napi::Value CreateEngine(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RawSpec spec = ReadSpec(env, info[0]);
  auto* worker = new CreateEngineWorker(env, std::move(spec));
  Napi::Promise p = worker->Promise();
  worker->Queue();
  return p;
}

}  // namespace

void RegisterEngine(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = Engine::Define(env);
  // The constructor lives in the environment's instance data (one per main thread or worker
  // thread that loads the addon); other binding files must not use the instance-data slot.
  env.SetInstanceData<Napi::FunctionReference>(new Napi::FunctionReference(Napi::Persistent(ctor)));
  exports.Set("Engine", ctor);
  exports.Set("createEngine", Napi::Function::New(env, CreateEngine, "createEngine"));
}

}  // namespace sbert::binding
