// Options, see options.h.
#include "options.h"

#include <cmath>

namespace sbert::binding {

namespace {

template <typename T, napi_typedarray_type kType>
std::vector<T> CopyTyped(Napi::Value v, const std::string& path, const char* typeName) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != kType) {
    ThrowTypeError(v.Env(), path + " must be " + typeName);
  }
  Napi::TypedArrayOf<T> a = v.As<Napi::TypedArrayOf<T>>();
  return std::vector<T>(a.Data(), a.Data() + a.ElementLength());
}

}  // namespace

int64_t IntegerValue(const Napi::Value& value, const std::string& path, int64_t min, int64_t max) {
  if (!value.IsNumber()) ThrowTypeError(value.Env(), path + " must be a number");
  const double v = value.As<Napi::Number>().DoubleValue();
  if (!(v == std::floor(v)) || v < static_cast<double>(min) || v > static_cast<double>(max)) {
    const std::string hi = max == kMaxSafeInteger ? "2^53 - 1" : max == kMaxInt32 ? "2^31 - 1" : std::to_string(max);
    ThrowRangeError(value.Env(), path + " must be an integer from " + std::to_string(min) + " to " + hi + " (got " +
                                     value.ToString().Utf8Value() + ")");
  }
  return static_cast<int64_t>(v);
}

Options Options::Arg(const Napi::CallbackInfo& info, size_t index, std::string path) {
  return Of(info.Length() > index ? info[index] : info.Env().Undefined(), std::move(path));
}

Options Options::Of(Napi::Value value, std::string path) {
  if (!value.IsObject() || value.IsArray()) ThrowTypeError(value.Env(), path + " must be an object");
  return Options(value.As<Napi::Object>(), std::move(path));
}

double Options::number(const char* key) const {
  Napi::Value v = value(key);
  if (!v.IsNumber()) ThrowTypeError(Env(), pathOf(key) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (std::isnan(d)) ThrowRangeError(Env(), pathOf(key) + " must not be NaN");
  return d;
}

double Options::number(const char* key, double fallback) const { return has(key) ? number(key) : fallback; }

int64_t Options::integer(const char* key, int64_t min, int64_t max) const {
  return IntegerValue(value(key), pathOf(key), min, max);
}

int64_t Options::integer(const char* key, int64_t min, int64_t max, int64_t fallback) const {
  return has(key) ? integer(key, min, max) : fallback;
}

bool Options::boolean(const char* key, bool fallback) const {
  Napi::Value v = value(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) ThrowTypeError(Env(), pathOf(key) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string Options::string(const char* key) const {
  Napi::Value v = value(key);
  if (!v.IsString()) ThrowTypeError(Env(), pathOf(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Options Options::object(const char* key) const { return Of(value(key), pathOf(key)); }

Napi::Array Options::array(const char* key) const {
  Napi::Value v = value(key);
  if (!v.IsArray()) ThrowTypeError(Env(), pathOf(key) + " must be an array");
  return v.As<Napi::Array>();
}

std::vector<int32_t> Options::int32s(const char* key) const {
  return CopyTyped<int32_t, napi_int32_array>(value(key), pathOf(key), "an Int32Array");
}

std::vector<float> Options::float32s(const char* key) const {
  return CopyTyped<float, napi_float32_array>(value(key), pathOf(key), "a Float32Array");
}

}  // namespace sbert::binding
