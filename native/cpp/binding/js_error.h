// Turning native failures into JS errors with a `code` (DESIGN.md "The native boundary").
#pragma once

#include <napi.h>

#include <string>

namespace sbert::binding {

// A JS Error whose `code` property is set, e.g. MakeError(env, "ERR_CUDA", "...").
Napi::Error MakeError(Napi::Env env, const std::string& code, const std::string& message);

// Argument validation: TypeError / RangeError whose message names the argument.
[[noreturn]] void ThrowTypeError(Napi::Env env, const std::string& message);
[[noreturn]] void ThrowRangeError(Napi::Env env, const std::string& message);

// The (code, message) pair of the exception in flight; used inside catch blocks.
struct ErrorInfo {
  std::string code;
  std::string message;
};
ErrorInfo CurrentErrorInfo();

}  // namespace sbert::binding

