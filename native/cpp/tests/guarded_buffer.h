// Test helper (header only): a float buffer that ends exactly where an inaccessible page begins
// (Linux; elsewhere a plain buffer), so a kernel that reads or writes one element past an
// operand faults instead of passing by luck.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace sbert::test {

class GuardedFloats {
 public:
  explicit GuardedFloats(const std::vector<float>& init) : n_(init.size()) {
#if defined(__linux__)
    const size_t page = size_t(sysconf(_SC_PAGESIZE));
    const size_t bytes = std::max<size_t>(n_ * sizeof(float), 1);
    total_ = (bytes + page - 1) / page * page + page;
    void* m = mmap(nullptr, total_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED) {
      base_ = static_cast<char*>(m);
      mprotect(base_ + total_ - page, page, PROT_NONE);
      data_ = reinterpret_cast<float*>(base_ + total_ - page - n_ * sizeof(float));
    }
#endif
    if (!data_) {
      fallback_.resize(n_ + 1);
      data_ = fallback_.data();
    }
    std::copy(init.begin(), init.end(), data_);
  }
  ~GuardedFloats() {
#if defined(__linux__)
    if (base_) munmap(base_, total_);
#endif
  }
  GuardedFloats(const GuardedFloats&) = delete;
  GuardedFloats& operator=(const GuardedFloats&) = delete;
  float* data() { return data_; }

 private:
  size_t n_, total_ = 0;
  char* base_ = nullptr;
  float* data_ = nullptr;
  std::vector<float> fallback_;
};

}  // namespace sbert::test
