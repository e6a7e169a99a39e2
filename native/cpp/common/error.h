// Errors that cross the native boundary. Native code never exits or aborts on bad input or a
// device failure: it throws sbert::Error with a stable `code`, and the N-API layer turns it
// into a JS error carrying that code (see binding/js_error.cc).
#pragma once

#include <stdexcept>
#include <string>

namespace sbert {

class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

// Precondition failures inside the engine (a caller bug, or input the JS layer should have
// rejected): thrown, never asserted, so a bad call cannot take the process down.
#define SBERT_CHECK(cond, code, msg)                                                       \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      throw ::sbert::Error((code), std::string(msg) + " (" #cond ", " + __FILE__ + ":" +   \
                                       std::to_string(__LINE__) + ")");                    \
    }                                                                                      \
  } while (0)

}  // namespace sbert
