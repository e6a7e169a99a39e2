// Similarity exports (lib/similarity.ts is the typed, validated JS surface). Every function takes
// one options object:
//
//   similarityRows({ data, count, dim }) -> rows handle     (synchronous: copies data now)
//   similarityMatrix({ queries, corpus, queryRange?, corpusRange?, scoreFunction, names? })
//       -> Promise<Float32Array [nq * nc]>
//   topKSimilarity({ queries, corpus, queryRange?, corpusRange?, topK, scoreFunction, device?,
//                    deviceIndex?, names? })
//       -> Promise<{ indices: Int32Array, scores: Float32Array, k }>  (k = min(topK, nc) per row)
//   thresholdSimilarity({ queries, corpus, queryRange?, corpusRange?, threshold, minCount,
//                         scoreFunction, names? })
//       -> Promise<{ rowPtr: Float64Array, indices: Int32Array, scores: Float32Array }>
//   similarityInfo() -> { kernel, cudaMaxK }
//
// `queries` / `corpus` are rows handles; `queryRange` / `corpusRange` an optional [begin, end) of
// their rows (default: all); `scoreFunction` 'cosine' | 'dot' | 'euclidean' | 'manhattan';
// `device` 'cpu' (default) | 'cuda'; `names` an optional [queriesName, corpusName] used in error
// messages ("queries row 17 contains NaN").
//
// Why handles: a worker must own the memory it reads. Keeping a reference to a Float32Array
// does not stop its ArrayBuffer from being detached (transferred, structuredClone'd) and freed
// while the search runs on another thread. similarityRows copies the values once, on the main
// thread, into an OwnedMatrix that every worker using it shares (std::shared_ptr), so one copy
// serves all the batches of communityDetection or paraphraseMining.
//
// Failures reject with a code: RangeError (ERR_OUT_OF_RANGE) for non-finite rows / dim mismatch,
// ERR_NO_CUDA when CUDA is asked of a build or machine without it, ERR_CUDA* from the device.
#include <napi.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "kernels/similarity.h"
#include "promise_worker.h"
#include "registry.h"
#include "options.h"

#ifdef SBERT_WITH_CUDA
#include "similarity_topk.h"
#endif

namespace sbert::binding {
namespace {

#ifdef SBERT_WITH_CUDA
constexpr int kCudaMaxK = kCudaSimilarityTopKMaxK;
#else
constexpr int kCudaMaxK = 0;
#endif

using SharedRows = std::shared_ptr<const OwnedMatrix>;

// Marks the externals similarityRows makes, so a foreign External is refused rather than misread.
constexpr napi_type_tag kRowsTag = {0x5e6a0b1c2d3e4f50ULL, 0x8a7b6c5d4e3f2a1bULL};

SimilarityFn FnOption(const Options& options) {
  return options.oneOf<SimilarityFn>("scoreFunction", {{"cosine", SimilarityFn::Cosine},
                                                      {"dot", SimilarityFn::Dot},
                                                      {"euclidean", SimilarityFn::Euclidean},
                                                      {"manhattan", SimilarityFn::Manhattan}});
}

// The rows of options[name] in options[rangeName] (default all) as a view named `label`; `keep`
// receives the owner so the view stays valid for the worker's lifetime.
MatrixView RowsOption(const Options& options, const char* name, const char* rangeName, const std::string& label,
                      SharedRows& keep) {
  Napi::Env env = options.Env();
  Napi::Value v = options.value(name);
  if (!v.IsExternal() || !v.As<Napi::External<SharedRows>>().CheckTypeTag(&kRowsTag)) {
    ThrowTypeError(env, options.pathOf(name) + " must be a rows handle from similarityRows()");
  }
  keep = *v.As<Napi::External<SharedRows>>().Data();
  int64_t begin = 0, end = keep->rows();
  if (options.has(rangeName)) {
    Napi::Array r = options.array(rangeName);
    if (r.Length() != 2) ThrowTypeError(env, options.pathOf(rangeName) + " must be [begin, end]");
    begin = IntegerValue(r.Get(0u), options.pathOf(rangeName) + "[0]", 0);
    end = IntegerValue(r.Get(1u), options.pathOf(rangeName) + "[1]", 0);
    if (begin > end || end > keep->rows()) {
      ThrowRangeError(env, options.pathOf(rangeName) + " [" + std::to_string(begin) + ", " + std::to_string(end) +
                               ") is not within the " + std::to_string(keep->rows()) + " rows");
    }
  }
  return keep->view(begin, end, label);
}

// The [queriesName, corpusName] pair for error messages.
void NamesOption(const Options& options, std::string& queries, std::string& corpus) {
  if (!options.has("names")) return;
  Napi::Array arr = options.array("names");
  if (arr.Length() != 2 || !arr.Get(0u).IsString() || !arr.Get(1u).IsString()) {
    ThrowTypeError(options.Env(), options.pathOf("names") + " must be an array of two strings");
  }
  queries = arr.Get(0u).As<Napi::String>().Utf8Value();
  corpus = arr.Get(1u).As<Napi::String>().Utf8Value();
}

// What every similarity worker reads: two views and the owners that keep them valid.
struct PairArgs {
  MatrixView q, c;
  SharedRows qOwner, cOwner;
  SimilarityFn fn = SimilarityFn::Cosine;
};

PairArgs PairOptions(const Options& options) {
  PairArgs a;
  std::string qn = "queries", cn = "corpus";
  NamesOption(options, qn, cn);
  a.q = RowsOption(options, "queries", "queryRange", qn, a.qOwner);
  a.c = RowsOption(options, "corpus", "corpusRange", cn, a.cOwner);
  a.fn = FnOption(options);
  return a;
}

class MatrixWorker : public PromiseWorker {
 public:
  MatrixWorker(Napi::Env env, PairArgs args, Napi::ArrayBuffer out)
      : PromiseWorker(env, "sbert.similarityMatrix"), args_(std::move(args)),
        out_(static_cast<float*>(out.Data())), buffer_(Napi::Persistent(out)) {}

 protected:
  void Run() override {
    SimilarityConfig cfg;
    cfg.fn = args_.fn;
    similarityMatrix(args_.q, args_.c, cfg, out_);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::ArrayBuffer buf = buffer_.Value();
    return Napi::Float32Array::New(env, buf.ByteLength() / sizeof(float), buf, 0);
  }

 private:
  PairArgs args_;
  // The result buffer: allocated on the main thread and reachable by no JS code until the promise
  // resolves, so nothing can detach it while the worker writes into it.
  float* out_;
  Napi::Reference<Napi::ArrayBuffer> buffer_;
};

class TopKWorker : public PromiseWorker {
 public:
  TopKWorker(Napi::Env env, PairArgs args, int64_t k, bool cuda, int deviceIndex)
      : PromiseWorker(env, "sbert.topKSimilarity"), args_(std::move(args)), k_(k), cuda_(cuda), device_(deviceIndex) {}

 protected:
  void Run() override {
    const MatrixView& q = args_.q;
    const MatrixView& c = args_.c;
    kk_ = std::min<int64_t>(k_, c.rows);
    index_.assign(static_cast<size_t>(q.rows * kk_), 0);
    score_.assign(static_cast<size_t>(q.rows * kk_), 0.0f);
    SimilarityConfig cfg;
    cfg.fn = args_.fn;
    if (!cuda_) {
      similarityTopK(q, c, k_, cfg, index_.data(), score_.data());
      return;
    }
#ifdef SBERT_WITH_CUDA
    SBERT_CHECK(q.dim == c.dim, "ERR_OUT_OF_RANGE",
                q.name + " dim " + std::to_string(q.dim) + " differs from " + c.name + " dim " + std::to_string(c.dim));
    // Throws ERR_NO_CUDA for a missing device, whatever runs the search.
    const int64_t deviceMaxK = cudaSimilarityTopKMaxKFor(device_);
    const bool fused = args_.fn == SimilarityFn::Cosine || args_.fn == SimilarityFn::Dot;
    if (!fused || k_ > deviceMaxK) {
      // The fused kernel scores cosine/dot only, and keeps per-row lists in shared memory (A100:
      // k <= 64, RTX 30/40: k <= 32): the CPU kernel gives the same results otherwise.
      similarityTopK(q, c, k_, cfg, index_.data(), score_.data());
      return;
    }
    checkFinite(q);
    checkFinite(c);
    cudaSimilarityTopK(q.data, q.rows, c.data, c.rows, q.dim, k_, args_.fn == SimilarityFn::Cosine, device_,
                       index_.data(), score_.data());
#else
    throw Error("ERR_NO_CUDA",
                "this build of sbert-native has no CUDA engine; rebuild with nvcc on PATH or use device: 'cpu'");
#endif
  }
  Napi::Value Result(Napi::Env env) override {
    return TopKResult<Napi::Float32Array>(env, index_, "scores", score_, kk_);
  }

 private:
  PairArgs args_;
  int64_t k_, kk_ = 0;
  bool cuda_;
  int device_;
  std::vector<int32_t> index_;
  std::vector<float> score_;
};

class ThresholdWorker : public PromiseWorker {
 public:
  ThresholdWorker(Napi::Env env, PairArgs args, float threshold, int64_t minCount)
      : PromiseWorker(env, "sbert.thresholdSimilarity"), args_(std::move(args)), threshold_(threshold),
        minCount_(minCount) {}

 protected:
  void Run() override {
    SimilarityConfig cfg;
    cfg.fn = args_.fn;
    res_ = similarityThreshold(args_.q, args_.c, threshold_, minCount_, cfg);
    SBERT_CHECK(res_.index.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()), "ERR_OUT_OF_MEMORY",
                "too many scores above the threshold to return (" + std::to_string(res_.index.size()) + ")");
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Float64Array rowPtr = Napi::Float64Array::New(env, res_.rowPtr.size());
    for (size_t i = 0; i < res_.rowPtr.size(); ++i) rowPtr[i] = static_cast<double>(res_.rowPtr[i]);
    Napi::Object out = Napi::Object::New(env);
    out.Set("rowPtr", rowPtr);
    out.Set("indices", CopyToJs<Napi::Int32Array>(env, res_.index));
    out.Set("scores", CopyToJs<Napi::Float32Array>(env, res_.score));
    return out;
  }

 private:
  PairArgs args_;
  float threshold_;
  int64_t minCount_;
  ThresholdResult res_;
};

// similarityRows({ data: Float32Array, count, dim })
Napi::Value SimilarityRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Options options = Options::Arg(info, 0);
  Napi::Value data = options.value("data");
  if (!data.IsTypedArray() || data.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    ThrowTypeError(env, options.pathOf("data") + " must be a Float32Array");
  }
  Napi::Float32Array array = data.As<Napi::Float32Array>();
  const int64_t count = options.integer("count", 0);
  const int64_t dim = options.integer("dim", 0);
  if (dim > 0 && count > static_cast<int64_t>(array.ElementLength()) / dim) {
    ThrowRangeError(env, options.pathOf("data") + " has " + std::to_string(array.ElementLength()) +
                             " values, fewer than count x dim = " + std::to_string(count) + " x " + std::to_string(dim));
  }
  SharedRows rows;
  try {
    rows = std::make_shared<const OwnedMatrix>(count * dim != 0 ? array.Data() : nullptr, count, dim);
  } catch (...) {
    ErrorInfo e = CurrentErrorInfo();
    throw MakeError(env, e.code, e.message);
  }
  const int64_t bytes = static_cast<int64_t>(rows->bytes());
  Napi::MemoryManagement::AdjustExternalMemory(env, bytes);
  auto handle = Napi::External<SharedRows>::New(env, new SharedRows(std::move(rows)), [bytes](Napi::Env e, SharedRows* p) {
    Napi::MemoryManagement::AdjustExternalMemory(e, -bytes);
    delete p;
  });
  handle.TypeTag(&kRowsTag);
  return handle;
}

Napi::Value SimilarityMatrix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PairArgs args = PairOptions(Options::Arg(info, 0));
  const double cells = static_cast<double>(args.q.rows) * static_cast<double>(args.c.rows);
  if (cells > 4294967295.0) {
    ThrowRangeError(env, "the score matrix would have " + std::to_string(static_cast<int64_t>(cells)) +
                             " entries, more than a Float32Array can hold; use semanticSearch");
  }
  Napi::ArrayBuffer out = Napi::ArrayBuffer::New(env, static_cast<size_t>(cells) * sizeof(float));
  return QueueWorker(new MatrixWorker(env, std::move(args), out));
}

Napi::Value TopKSimilarity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Options options = Options::Arg(info, 0);
  PairArgs args = PairOptions(options);
  const int64_t k = options.integer("topK", 1);
  const bool cuda = options.oneOf<bool>("device", {{"cpu", false}, {"cuda", true}}, false);
  const int deviceIndex = static_cast<int>(options.integer("deviceIndex", 0, kMaxInt32, 0));
  return QueueWorker(new TopKWorker(env, std::move(args), k, cuda, deviceIndex));
}

Napi::Value ThresholdSimilarity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Options options = Options::Arg(info, 0);
  PairArgs args = PairOptions(options);
  const double threshold = options.number("threshold");
  if (!std::isfinite(threshold)) ThrowRangeError(env, options.pathOf("threshold") + " must be a finite number");
  const int64_t minCount = options.integer("minCount", 0);
  return QueueWorker(new ThresholdWorker(env, std::move(args), static_cast<float>(threshold), minCount));
}

Napi::Value SimilarityInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("kernel", cpuIsaName(activeCpuIsa()));
  out.Set("cudaMaxK", kCudaMaxK);
  return out;
}

}  // namespace

void RegisterSimilarity(Napi::Env env, Napi::Object exports) {
  exports.Set("similarityRows", Napi::Function::New(env, SimilarityRows, "similarityRows"));
  exports.Set("similarityMatrix", Napi::Function::New(env, SimilarityMatrix, "similarityMatrix"));
  exports.Set("topKSimilarity", Napi::Function::New(env, TopKSimilarity, "topKSimilarity"));
  exports.Set("thresholdSimilarity", Napi::Function::New(env, ThresholdSimilarity, "thresholdSimilarity"));
  exports.Set("similarityInfo", Napi::Function::New(env, SimilarityInfo, "similarityInfo"));
}

}  // namespace sbert::binding
