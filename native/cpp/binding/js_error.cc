#include "js_error.h"

#include <exception>
#include <new>

#include "common/error.h"
#include "registry.h"

namespace sbert::binding {

Napi::Error MakeError(Napi::Env env, const std::string& code, const std::string& message) {
  // The library's SbertError when it has been registered (lib/native.ts does so when it loads
  // the addon), so no call site re-wraps errors; a plain Error with `code` otherwise.
  AddonData* data = env.GetInstanceData<AddonData>();
  if (data && !data->errorClass.IsEmpty()) {
    Napi::Object err = data->errorClass.New({Napi::String::New(env, code), Napi::String::New(env, message)});
    return Napi::Error(env, err);
  }
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

namespace {

// setErrorClass(SbertError): registers the class MakeError constructs as new Class(code, message).
Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) ThrowTypeError(info.Env(), "setErrorClass expects a class");
  info.Env().GetInstanceData<AddonData>()->errorClass = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

}  // namespace

void RegisterErrors(Napi::Env env, Napi::Object exports) {
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass, "setErrorClass"));
}

void ThrowTypeError(Napi::Env env, const std::string& message) {
  Napi::TypeError err = Napi::TypeError::New(env, message);
  err.Set("code", Napi::String::New(env, "ERR_INVALID_ARG_TYPE"));
  throw err;
}

void ThrowRangeError(Napi::Env env, const std::string& message) {
  Napi::RangeError err = Napi::RangeError::New(env, message);
  err.Set("code", Napi::String::New(env, "ERR_OUT_OF_RANGE"));
  throw err;
}

ErrorInfo CurrentErrorInfo() {
  try {
    throw;
  } catch (const sbert::Error& e) {
    return {e.code(), e.what()};
  } catch (const std::bad_alloc&) {
    return {"ERR_OUT_OF_MEMORY", "out of host memory"};
  } catch (const std::exception& e) {
    return {"ERR_NATIVE", e.what()};
  } catch (...) {
    return {"ERR_NATIVE", "unknown native exception"};
  }
}

}  // namespace sbert::binding
