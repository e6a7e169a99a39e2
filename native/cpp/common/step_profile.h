// Wall time of the CPU forward and the trainer's backward per op family ("linear dW",
// "attention bwd", ...), for the training benchmark's breakdown. Off unless enabled; when off an
// op costs one branch. Not thread-safe: enable, step, read from one thread.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace sbert {
namespace stepProfile {

void enable(bool on);
bool enabled();
void reset();
// Adds `seconds` to op's total (ops are listed in first-seen order).
void add(const char* op, double seconds);
// (op, total seconds) in first-seen order.
std::vector<std::pair<std::string, double>> totals();

// Runs f, adding its wall time to `op` when the profile is on.
template <typename F>
void timed(const char* op, F&& f) {
  if (!enabled()) {
    f();
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  f();
  add(op, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

}  // namespace stepProfile
}  // namespace sbert
