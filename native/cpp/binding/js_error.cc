#include "js_error.h"

#include <exception>
#include <new>

#include "common/error.h"

namespace sbert::binding {

Napi::Error MakeError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
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
