// Reading the single options object every search binding takes (similarity_binding.cc,
// hamming_binding.cc). Each reader names the option in the TypeError / RangeError it throws, so a
// bad call says which option was wrong.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "js_error.h"

namespace sbert::binding {

constexpr double kMaxSafeInteger = 9007199254740991.0;

// info[0], which must be a plain object.
inline Napi::Object OptionsArg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject() || info[0].IsArray()) {
    ThrowTypeError(info.Env(), "options must be an object");
  }
  return info[0].As<Napi::Object>();
}

// True when options[name] is neither missing nor undefined.
inline bool HasOption(const Napi::Object& options, const char* name) {
  return options.Has(name) && !options.Get(name).IsUndefined();
}

inline double NumberOption(const Napi::Object& options, const char* name) {
  Napi::Value v = options.Get(name);
  if (!v.IsNumber()) ThrowTypeError(options.Env(), std::string(name) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

// An integer in [min, 2^53 - 1]; anything else is a TypeError / RangeError naming it.
inline int64_t IntegerValue(const Napi::Value& value, const std::string& name, int64_t min) {
  if (!value.IsNumber()) ThrowTypeError(value.Env(), name + " must be a number");
  const double v = value.As<Napi::Number>().DoubleValue();
  if (!(v == std::floor(v)) || v < static_cast<double>(min) || v > kMaxSafeInteger) {
    ThrowRangeError(value.Env(), name + " must be an integer from " + std::to_string(min) + " to 2^53 - 1 (got " +
                                     value.ToString().Utf8Value() + ")");
  }
  return static_cast<int64_t>(v);
}

inline int64_t IntegerOption(const Napi::Object& options, const char* name, int64_t min) {
  return IntegerValue(options.Get(name), name, min);
}

inline std::string StringOption(const Napi::Object& options, const char* name) {
  Napi::Value v = options.Get(name);
  if (!v.IsString()) ThrowTypeError(options.Env(), std::string(name) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

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
