// The one AsyncWorker shape every async export uses: a Promise, Execute() that touches no N-API
// and turns any exception into a rejection carrying its code (RangeError for ERR_OUT_OF_RANGE,
// Error with `code` otherwise), references that keep input arrays alive while the work runs,
// and a Result() built on the main thread when the work succeeded.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "js_error.h"

namespace sbert::binding {

// Rejection value for (code, message): RangeError for argument-shaped failures, Error otherwise.
inline Napi::Value ErrorValue(Napi::Env env, const std::string& code, const std::string& message) {
  if (code == "ERR_OUT_OF_RANGE") {
    Napi::RangeError err = Napi::RangeError::New(env, message);
    err.Set("code", Napi::String::New(env, code));
    return err.Value();
  }
  return MakeError(env, code, message).Value();
}

class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, const char* name)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  // Keeps a JS value (e.g. an input TypedArray) alive until the promise settles.
  void Keep(const Napi::Object& value) { refs_.push_back(Napi::Persistent(value)); }

 protected:
  // Runs on a libuv worker thread: no N-API here. Throw to reject.
  virtual void Run() = 0;
  // Runs on the main thread after Run() succeeded.
  virtual Napi::Value Result(Napi::Env env) = 0;

  void Execute() final {
    try {
      Run();
    } catch (...) {
      ErrorInfo e = CurrentErrorInfo();
      code_ = e.code;
      SetError(e.message.empty() ? std::string("native error") : e.message);
    }
  }
  void OnOK() final {
    Napi::Env env = Env();
    try {
      deferred_.Resolve(Result(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (...) {
      ErrorInfo e = CurrentErrorInfo();
      deferred_.Reject(ErrorValue(env, e.code, e.message));
    }
  }
  void OnError(const Napi::Error& err) final {
    deferred_.Reject(ErrorValue(Env(), code_.empty() ? "ERR_NATIVE" : code_, err.Message()));
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> refs_;
  std::string code_;
};

}  // namespace sbert::binding
