// Workspace growth shared by the forward's trace and the trainer's backward scratch.
#pragma once

#include <cstdint>
#include <vector>

namespace sbert {

// Grows v to at least n elements; contents are not kept (every user overwrites the buffer).
// 25% slack, so batches of slightly different sizes do not reallocate each step; the old
// buffer is released first, so peak memory is not old + new.
template <typename T>
void growDiscarding(std::vector<T>& v, int64_t n) {
  if (int64_t(v.size()) >= n) return;
  v = std::vector<T>();
  v.resize(size_t(n + n / 4));
}

}  // namespace sbert
