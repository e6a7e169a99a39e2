#include "common/step_profile.h"

namespace sbert {
namespace stepProfile {
namespace {

bool on = false;
std::vector<std::pair<std::string, double>> table;

}  // namespace

void enable(bool value) { on = value; }
bool enabled() { return on; }
void reset() { table.clear(); }

void add(const char* op, double seconds) {
  for (auto& e : table) {
    if (e.first == op) {
      e.second += seconds;
      return;
    }
  }
  table.emplace_back(op, seconds);
}

std::vector<std::pair<std::string, double>> totals() { return table; }

}  // namespace stepProfile
}  // namespace sbert
