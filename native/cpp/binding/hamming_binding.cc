// Hamming search exports (lib/quantize.ts is the typed, validated JS surface):
//
//   hammingSearch({ queries, queryCount, corpus, corpusCount, rowBytes, topK })
//       -> Promise<{ indices: Int32Array, distances: Int32Array, k }>  (k = min(topK, corpusCount))
//   hammingInfo() -> { kernel }   ("avx512-vpopcntdq" | "popcnt" | "portable")
//
// `queries` / `corpus` are Uint8Array or Int8Array (the same type: 'ubinary' or 'binary'
// embeddings) of packed bits, row-major, rowBytes per row. The worker must own what it reads (a
// JS ArrayBuffer can be detached and freed while it runs), so both are copied on the main thread
// — 1/32 of the bytes of the float32 embeddings they came from.
#include <napi.h>

#include <cstring>
#include <string>
#include <vector>

#include "kernels/hamming.h"
#include "promise_worker.h"
#include "registry.h"
#include "options.h"

namespace sbert::binding {
namespace {

// options[name] (a Uint8Array or Int8Array of at least rows * rowBytes bytes), copied.
std::vector<uint8_t> PackedRowsOption(const Options& options, const char* name, int64_t rows, int64_t rowBytes,
                                      napi_typedarray_type& type) {
  Napi::Env env = options.Env();
  Napi::Value v = options.value(name);
  if (!v.IsTypedArray()) ThrowTypeError(env, options.pathOf(name) + " must be a Uint8Array or Int8Array");
  Napi::TypedArray array = v.As<Napi::TypedArray>();
  type = array.TypedArrayType();
  if (type != napi_uint8_array && type != napi_int8_array) {
    ThrowTypeError(env, options.pathOf(name) + " must be a Uint8Array or Int8Array");
  }
  if (rowBytes > 0 && rows > static_cast<int64_t>(array.ByteLength()) / rowBytes) {
    ThrowRangeError(env, options.pathOf(name) + " has " + std::to_string(array.ByteLength()) + " bytes, fewer than " +
                             std::to_string(rows) + " x " + std::to_string(rowBytes));
  }
  const size_t bytes = static_cast<size_t>(rows * rowBytes);
  std::vector<uint8_t> out(bytes);
  if (bytes) {
    const uint8_t* base = static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
    std::memcpy(out.data(), base, bytes);
  }
  return out;
}

class HammingWorker : public PromiseWorker {
 public:
  HammingWorker(Napi::Env env, std::vector<uint8_t> q, int64_t nq, std::vector<uint8_t> c, int64_t nc, int64_t rowBytes,
                int64_t k)
      : PromiseWorker(env, "sbert.hammingSearch"), q_(std::move(q)), c_(std::move(c)), nq_(nq), nc_(nc),
        rowBytes_(rowBytes), k_(k) {}

 protected:
  void Run() override {
    kk_ = std::min(k_, nc_);
    index_.assign(static_cast<size_t>(nq_ * kk_), 0);
    distance_.assign(static_cast<size_t>(nq_ * kk_), 0);
    hammingTopK(q_.data(), nq_, c_.data(), nc_, rowBytes_, k_, HammingConfig{}, index_.data(), distance_.data());
  }
  Napi::Value Result(Napi::Env env) override {
    return TopKResult<Napi::Int32Array>(env, index_, "distances", distance_, kk_);
  }

 private:
  std::vector<uint8_t> q_, c_;
  int64_t nq_, nc_, rowBytes_, k_, kk_ = 0;
  std::vector<int32_t> index_, distance_;
};

Napi::Value HammingSearch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Options options = Options::Arg(info, 0);
  const int64_t nq = options.integer("queryCount", 0);
  const int64_t nc = options.integer("corpusCount", 0, kMaxInt32);
  const int64_t rowBytes = options.integer("rowBytes", 0);
  const int64_t k = options.integer("topK", 1);
  napi_typedarray_type qType, cType;
  std::vector<uint8_t> q = PackedRowsOption(options, "queries", nq, rowBytes, qType);
  std::vector<uint8_t> c = PackedRowsOption(options, "corpus", nc, rowBytes, cType);
  // 'binary' bytes are 'ubinary' bytes with the top bit flipped: mixing them would add one to the
  // distance for every byte.
  if (qType != cType) ThrowTypeError(env, "options.queries and options.corpus must both be Uint8Array ('ubinary') or both Int8Array ('binary')");
  return QueueWorker(new HammingWorker(env, std::move(q), nq, std::move(c), nc, rowBytes, k));
}

Napi::Value HammingInfo(const Napi::CallbackInfo& info) {
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("kernel", hammingKernelName(activeCpuIsa()));
  return out;
}

}  // namespace

void RegisterHamming(Napi::Env env, Napi::Object exports) {
  exports.Set("hammingSearch", Napi::Function::New(env, HammingSearch, "hammingSearch"));
  exports.Set("hammingInfo", Napi::Function::New(env, HammingInfo, "hammingInfo"));
}

}  // namespace sbert::binding
