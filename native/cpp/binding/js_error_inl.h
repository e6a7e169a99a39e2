#pragma once

namespace sbert::binding {

template <typename F>
auto Guard(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    ErrorInfo info = CurrentErrorInfo();
    throw MakeError(env, info.code, info.message);
  }
}

}  // namespace sbert::binding
