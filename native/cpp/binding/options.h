// The one way every binding reads its arguments (engine, trainer, model spec, similarity,
// hamming): an `Options` wraps a JS object with its path ("options", "spec.shape",
// "spec.params[3]") and each reader names the option by its full path in the TypeError /
// RangeError it throws, with the same wording everywhere:
//   "<path> must be a number" · "… a string" · "… a boolean" · "… an object" · "… an array"
//   "<path> must be an integer from MIN to MAX (got V)" · "<path> must not be NaN"
//   "<path> must be one of 'a', 'b' (got 'x')" · "<path> must be a Float32Array"
// A missing option is `undefined`: the readers with a fallback return it, the others throw.
// (In the spirit of sharp's AttrAs* and better-sqlite3's argument macros.)
#pragma once

#include <napi.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "js_error.h"

namespace sbert::binding {

constexpr int64_t kMaxSafeInteger = 9007199254740991;  // 2^53 - 1
constexpr int64_t kMaxInt32 = 2147483647;

// A value that must be an integer in [min, max], named `path` in the error.
int64_t IntegerValue(const Napi::Value& value, const std::string& path, int64_t min, int64_t max = kMaxSafeInteger);

class Options {
 public:
  Options(Napi::Object object, std::string path) : object_(object), path_(std::move(path)) {}
  // info[index] as an options object (a plain object, not an array), named `path`.
  static Options Arg(const Napi::CallbackInfo& info, size_t index, std::string path = "options");
  // `value` as an options object named `path`.
  static Options Of(Napi::Value value, std::string path);

  Napi::Env Env() const { return object_.Env(); }
  const std::string& path() const { return path_; }
  std::string pathOf(const char* key) const { return path_ + "." + key; }
  Napi::Value value(const char* key) const { return object_.Get(key); }
  // Present and not undefined.
  bool has(const char* key) const { return !object_.Get(key).IsUndefined(); }

  double number(const char* key) const;
  double number(const char* key, double fallback) const;
  int64_t integer(const char* key, int64_t min, int64_t max = kMaxSafeInteger) const;
  int64_t integer(const char* key, int64_t min, int64_t max, int64_t fallback) const;
  bool boolean(const char* key, bool fallback) const;
  std::string string(const char* key) const;
  Options object(const char* key) const;
  Napi::Array array(const char* key) const;
  // Copies of typed arrays (a worker must own what it reads: JS may reuse or detach its buffers).
  std::vector<int32_t> int32s(const char* key) const;
  std::vector<float> float32s(const char* key) const;

  // A string option that must be one of `table`'s names; the matching value.
  template <typename T>
  T oneOf(const char* key, std::initializer_list<std::pair<const char*, T>> table) const {
    return Choose(Env(), string(key), pathOf(key), table);
  }
  template <typename T>
  T oneOf(const char* key, std::initializer_list<std::pair<const char*, T>> table, T fallback) const {
    return has(key) ? oneOf(key, table) : fallback;
  }

  // `name` looked up in `table` (names listed in the error), for values outside an object.
  template <typename T>
  static T Choose(Napi::Env env, const std::string& name, const std::string& path,
                  std::initializer_list<std::pair<const char*, T>> table) {
    std::string names;
    for (const auto& [candidate, v] : table) {
      if (name == candidate) return v;
      names += (names.empty() ? "'" : ", '") + std::string(candidate) + "'";
    }
    ThrowRangeError(env, path + " must be one of " + names + " (got '" + name + "')");
  }

 private:
  Napi::Object object_;
  std::string path_;
};

// A new JS typed array (Napi::Int32Array, Napi::Float32Array, ...) holding a copy of `values`:
// how workers hand their results over in Result(), on the main thread.
template <class TypedArray, class T>
TypedArray CopyToJs(Napi::Env env, const std::vector<T>& values) {
  TypedArray out = TypedArray::New(env, values.size());
  if (!values.empty()) std::memcpy(out.Data(), values.data(), values.size() * sizeof(T));
  return out;
}

// The result of a top-k search: { indices, <valuesName>, k } with `k` results per query row.
template <class ValuesArray, class T>
Napi::Object TopKResult(Napi::Env env, const std::vector<int32_t>& indices, const char* valuesName,
                        const std::vector<T>& values, int64_t k) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("indices", CopyToJs<Napi::Int32Array>(env, indices));
  out.Set(valuesName, CopyToJs<ValuesArray>(env, values));
  out.Set("k", Napi::Number::New(env, static_cast<double>(k)));
  return out;
}

// Queues a PromiseWorker and returns its promise: the tail of every async export.
template <class Worker>
Napi::Value QueueWorker(Worker* worker) {
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace sbert::binding
