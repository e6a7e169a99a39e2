// Wall time of ModelGraph's training step per op family ("linear dW", "attention bwd", ...),
// for the training benchmark's breakdown. Off unless enabled; when off an op costs one branch.
// Not thread-safe: enable, step, read from one thread.
#pragma once

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

}  // namespace stepProfile
}  // namespace sbert
