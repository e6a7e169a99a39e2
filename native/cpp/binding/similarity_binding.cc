// Similarity exports (lib/similarity.ts is the typed, validated JS surface):
//
//   similarityMatrix(a, na, b, nb, dim, fn, names?) -> Float32Array [na * nb]      (synchronous)
//   topKSimilarity(queries, nq, corpus, nc, dim, k, fn, device, deviceIndex, names?)
//       -> Promise<{ indices: Int32Array, scores: Float32Array, k }>  (k = min(k, nc) per row)
//   thresholdSimilarity(queries, nq, corpus, nc, dim, threshold, minCount, fn, names?)
//       -> Promise<{ rowPtr: Float64Array, indices: Int32Array, scores: Float32Array }>
//   similarityInfo() -> { kernel, cudaMaxK }
//
// `fn` is 'cosine' | 'dot', `device` 'cpu' | 'cuda', `names` an optional [queriesName, corpusName]
// used in error messages ("queries row 17 contains NaN"). Inputs are Float32Arrays holding at
// least rows * dim values, read row-major from their start.
//
// The async calls run on a Napi::AsyncWorker: Execute() touches no N-API. The input arrays are
// not copied (a 100k x 384 corpus is 150 MB); the worker holds references to them, so they stay
// alive until the promise settles — callers must not mutate them meanwhile (the JS layer passes
// its own arrays and awaits). Failures reject with a code: RangeError (ERR_OUT_OF_RANGE) for
// non-finite rows / dim mismatch, ERR_NO_CUDA when CUDA is asked of a build without it, ERR_CUDA*
// from the device.
#include <napi.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "common/error.h"
#include "js_error.h"
#include "promise_worker.h"
#include "kernels/similarity.h"
#include "registry.h"

#ifdef SBERT_WITH_CUDA
#include "similarity_topk.h"
#endif

namespace sbert::binding {
namespace {

constexpr double kMaxSafeInt = 9007199254740991.0;

#ifdef SBERT_WITH_CUDA
constexpr int kCudaMaxK = kCudaSimilarityTopKMaxK;
#else
constexpr int kCudaMaxK = 0;
#endif

Napi::Float32Array argF32(const Napi::CallbackInfo& info, size_t i, const std::string& name) {
  if (info.Length() <= i || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    ThrowTypeError(info.Env(), name + " must be a Float32Array");
  }
  return info[i].As<Napi::Float32Array>();
}

double argNumber(const Napi::CallbackInfo& info, size_t i, const std::string& name) {
  if (info.Length() <= i || !info[i].IsNumber()) ThrowTypeError(info.Env(), name + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

int64_t argInt(const Napi::CallbackInfo& info, size_t i, const std::string& name, int64_t min) {
  const double v = argNumber(info, i, name);
  if (!(v == std::floor(v)) || v < static_cast<double>(min) || v > kMaxSafeInt) {
    ThrowRangeError(info.Env(), name + " must be an integer >= " + std::to_string(min) + " (got " +
                                    Napi::Number::New(info.Env(), v).ToString().Utf8Value() + ")");
  }
  return static_cast<int64_t>(v);
}

std::string argString(const Napi::CallbackInfo& info, size_t i, const std::string& name) {
  if (info.Length() <= i || !info[i].IsString()) ThrowTypeError(info.Env(), name + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

SimilarityFn argFn(const Napi::CallbackInfo& info, size_t i) {
  const std::string fn = argString(info, i, "fn");
  if (fn == "cosine") return SimilarityFn::Cosine;
  if (fn == "dot") return SimilarityFn::Dot;
  ThrowRangeError(info.Env(), "fn must be 'cosine' or 'dot' (got '" + fn + "')");
}

// Optional [queriesName, corpusName].
void argNames(const Napi::CallbackInfo& info, size_t i, std::string& a, std::string& b) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return;
  if (!info[i].IsArray()) ThrowTypeError(info.Env(), "names must be an array of two strings");
  Napi::Array arr = info[i].As<Napi::Array>();
  if (arr.Length() != 2 || !arr.Get(0u).IsString() || !arr.Get(1u).IsString()) {
    ThrowTypeError(info.Env(), "names must be an array of two strings");
  }
  a = arr.Get(0u).As<Napi::String>().Utf8Value();
  b = arr.Get(1u).As<Napi::String>().Utf8Value();
}

// A matrix argument: the array plus its shape, checked against the array's length.
struct MatrixArg {
  Napi::Float32Array array;
  MatrixView view;
};

MatrixArg argMatrix(const Napi::CallbackInfo& info, size_t arrayIdx, size_t rowsIdx, size_t dimIdx,
                    const std::string& name) {
  MatrixArg m;
  m.array = argF32(info, arrayIdx, name);
  const int64_t rows = argInt(info, rowsIdx, name + " count", 0);
  const int64_t dim = argInt(info, dimIdx, "dim", 0);
  if (dim > 0 && rows > static_cast<int64_t>(m.array.ElementLength()) / dim) {
    ThrowRangeError(info.Env(), name + " has " + std::to_string(m.array.ElementLength()) + " values, fewer than " +
                                    std::to_string(rows) + " x " + std::to_string(dim));
  }
  m.view.data = m.array.ElementLength() ? m.array.Data() : nullptr;
  m.view.rows = rows;
  m.view.dim = dim;
  m.view.name = name;
  return m;
}

class TopKWorker : public PromiseWorker {
 public:
  TopKWorker(Napi::Env env, MatrixView q, MatrixView c, int64_t k, SimilarityFn fn, bool cuda, int deviceIndex)
      : PromiseWorker(env, "sbert.topKSimilarity"), q_(std::move(q)), c_(std::move(c)), k_(k), fn_(fn), cuda_(cuda),
        device_(deviceIndex) {}

 protected:
  void Run() override {
    kk_ = std::min<int64_t>(k_, c_.rows);
    index_.assign(static_cast<size_t>(q_.rows * kk_), 0);
    score_.assign(static_cast<size_t>(q_.rows * kk_), 0.0f);
    if (!cuda_) {
      SimilarityConfig cfg;
      cfg.fn = fn_;
      similarityTopK(q_, c_, k_, cfg, index_.data(), score_.data());
      return;
    }
#ifdef SBERT_WITH_CUDA
    SBERT_CHECK(q_.dim == c_.dim, "ERR_OUT_OF_RANGE",
                q_.name + " dim " + std::to_string(q_.dim) + " differs from " + c_.name + " dim " + std::to_string(c_.dim));
    checkFinite(q_);
    checkFinite(c_);
    if (k_ > cudaSimilarityTopKMaxKFor(device_)) {
      // This GPU's shared memory per block is too small for the fused kernel's per-row lists at
      // this k (A100: k ≤ 64, RTX 30/40: k ≤ 32): same results from the CPU kernel.
      SimilarityConfig cfg;
      cfg.fn = fn_;
      similarityTopK(q_, c_, k_, cfg, index_.data(), score_.data());
      return;
    }
    cudaSimilarityTopK(q_.data, q_.rows, c_.data, c_.rows, q_.dim, k_, fn_ == SimilarityFn::Cosine, device_,
                       index_.data(), score_.data());
#else
    throw Error("ERR_NO_CUDA",
                "this build of sbert-native has no CUDA engine; rebuild with nvcc on PATH or use device: 'cpu'");
#endif
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Int32Array idx = Napi::Int32Array::New(env, index_.size());
    Napi::Float32Array sc = Napi::Float32Array::New(env, score_.size());
    if (!index_.empty()) {
      std::memcpy(idx.Data(), index_.data(), index_.size() * sizeof(int32_t));
      std::memcpy(sc.Data(), score_.data(), score_.size() * sizeof(float));
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("indices", idx);
    out.Set("scores", sc);
    out.Set("k", Napi::Number::New(env, static_cast<double>(kk_)));
    return out;
  }

 private:
  MatrixView q_, c_;
  int64_t k_, kk_ = 0;
  SimilarityFn fn_;
  bool cuda_;
  int device_;
  std::vector<int32_t> index_;
  std::vector<float> score_;
};

class ThresholdWorker : public PromiseWorker {
 public:
  ThresholdWorker(Napi::Env env, MatrixView q, MatrixView c, float threshold, int64_t minCount, SimilarityFn fn)
      : PromiseWorker(env, "sbert.thresholdSimilarity"), q_(std::move(q)), c_(std::move(c)), threshold_(threshold),
        minCount_(minCount), fn_(fn) {}

 protected:
  void Run() override {
    SimilarityConfig cfg;
    cfg.fn = fn_;
    res_ = similarityThreshold(q_, c_, threshold_, minCount_, cfg);
    SBERT_CHECK(res_.index.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()), "ERR_OUT_OF_MEMORY",
                "too many scores above the threshold to return (" + std::to_string(res_.index.size()) + ")");
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Float64Array rowPtr = Napi::Float64Array::New(env, res_.rowPtr.size());
    for (size_t i = 0; i < res_.rowPtr.size(); ++i) rowPtr[i] = static_cast<double>(res_.rowPtr[i]);
    Napi::Int32Array idx = Napi::Int32Array::New(env, res_.index.size());
    Napi::Float32Array sc = Napi::Float32Array::New(env, res_.score.size());
    if (!res_.index.empty()) {
      std::memcpy(idx.Data(), res_.index.data(), res_.index.size() * sizeof(int32_t));
      std::memcpy(sc.Data(), res_.score.data(), res_.score.size() * sizeof(float));
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("rowPtr", rowPtr);
    out.Set("indices", idx);
    out.Set("scores", sc);
    return out;
  }

 private:
  MatrixView q_, c_;
  float threshold_;
  int64_t minCount_;
  SimilarityFn fn_;
  ThresholdResult res_;
};

// similarityMatrix(a, na, b, nb, dim, fn, names?)
Napi::Value SimilarityMatrix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string an = "a", bn = "b";
  argNames(info, 6, an, bn);
  MatrixArg a = argMatrix(info, 0, 1, 4, an);
  MatrixArg b = argMatrix(info, 2, 3, 4, bn);
  const SimilarityFn fn = argFn(info, 5);
  const double cells = static_cast<double>(a.view.rows) * static_cast<double>(b.view.rows);
  if (cells > 4294967295.0) {
    ThrowRangeError(env, "the score matrix would have " + std::to_string(static_cast<int64_t>(cells)) +
                             " entries, more than a Float32Array can hold; use semanticSearch");
  }
  Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(cells));
  try {
    SimilarityConfig cfg;
    cfg.fn = fn;
    similarityMatrix(a.view, b.view, cfg, out.Data());
  } catch (...) {
    ErrorInfo e = CurrentErrorInfo();
    if (e.code == "ERR_OUT_OF_RANGE") ThrowRangeError(env, e.message);
    throw MakeError(env, e.code, e.message);
  }
  return out;
}

// topKSimilarity(queries, nq, corpus, nc, dim, k, fn, device, deviceIndex, names?)
Napi::Value TopKSimilarity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string qn = "queries", cn = "corpus";
  argNames(info, 9, qn, cn);
  MatrixArg q = argMatrix(info, 0, 1, 4, qn);
  MatrixArg c = argMatrix(info, 2, 3, 4, cn);
  const int64_t k = argInt(info, 5, "k", 1);
  const SimilarityFn fn = argFn(info, 6);
  const std::string device = argString(info, 7, "device");
  if (device != "cpu" && device != "cuda") ThrowRangeError(env, "device must be 'cpu' or 'cuda' (got '" + device + "')");
  const int64_t deviceIndex = argInt(info, 8, "deviceIndex", 0);
  if (device == "cuda" && kCudaMaxK > 0 && k > kCudaMaxK) {
    ThrowRangeError(env, "k must be <= " + std::to_string(kCudaMaxK) + " on device 'cuda' (got " + std::to_string(k) + ")");
  }
  auto* worker = new TopKWorker(env, q.view, c.view, k, fn, device == "cuda", static_cast<int>(deviceIndex));
  worker->Keep(q.array);
  worker->Keep(c.array);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// thresholdSimilarity(queries, nq, corpus, nc, dim, threshold, minCount, fn, names?)
Napi::Value ThresholdSimilarity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string qn = "queries", cn = "corpus";
  argNames(info, 8, qn, cn);
  MatrixArg q = argMatrix(info, 0, 1, 4, qn);
  MatrixArg c = argMatrix(info, 2, 3, 4, cn);
  const double threshold = argNumber(info, 5, "threshold");
  if (!std::isfinite(threshold)) ThrowRangeError(env, "threshold must be a finite number");
  const int64_t minCount = argInt(info, 6, "minCount", 0);
  const SimilarityFn fn = argFn(info, 7);
  auto* worker = new ThresholdWorker(env, q.view, c.view, static_cast<float>(threshold), minCount, fn);
  worker->Keep(q.array);
  worker->Keep(c.array);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value SimilarityInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("kernel", similarityKernelName());
  out.Set("cudaMaxK", kCudaMaxK);
  return out;
}

}  // namespace

void RegisterSimilarity(Napi::Env env, Napi::Object exports) {
  exports.Set("similarityMatrix", Napi::Function::New(env, SimilarityMatrix, "similarityMatrix"));
  exports.Set("topKSimilarity", Napi::Function::New(env, TopKSimilarity, "topKSimilarity"));
  exports.Set("thresholdSimilarity", Napi::Function::New(env, ThresholdSimilarity, "thresholdSimilarity"));
  exports.Set("similarityInfo", Napi::Function::New(env, SimilarityInfo, "similarityInfo"));
}

}  // namespace sbert::binding
