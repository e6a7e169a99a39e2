// Shared by the CUDA tests (cuda_ops_test.cc, cuda_engine_test.cc) and the CUDA kernel
// benchmark (bench/native/cuda_kernels_bench.cc): device buffers, uploads in a storage dtype,
// the normalized-error measures every check uses, and the section runner behind their command
// line. Only compiled with SBERT_WITH_CUDA.
//
// Errors (see the tests' headers): the whole-tensor error
//   err = ‖gpu − cpu‖₂ / ‖cpu‖₂
// and the worst ROW (a token's hidden vector, one head of one token, one pooled sentence)
//   rowErr = max_r ‖gpu_r − cpu_r‖₂ / max(‖cpu_r‖₂, ¼·rms_r ‖cpu_r‖₂)   ≤ kRowFactor × tol
// (the floor keeps rows whose reference is near zero from dividing by nothing).
//
// The runner: `PROGRAM [--only a,b] [--list] [--quick]` — every section, or only the named ones
// (case-insensitive; rerun a failing one alone, or under compute-sanitizer); --list prints the
// section names; --quick sets gQuick (tests skip their 2,000-sequence batches). Without a device
// it prints "PROGRAM: skipped: no CUDA device" and exits 0 (test/gpu/cuda.test.js and
// bench/device-check.sh treat that line as a failure). Each section's time and any sticky CUDA
// error after it are printed; the exit code is Tally::finish()'s.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "cuda_check.h"
#include "cuda_ops.h"
#include "test_util.h"

namespace sbert::test {

using sbert::cuda::DType;

// Tests read it to leave out their largest batches (--quick).
inline bool gQuick = false;

// ---- device buffers -------------------------------------------------------------------------
struct DevBuf {
  void* p = nullptr;
  size_t bytes = 0;
  explicit DevBuf(size_t b) : bytes(b) { SBERT_CUDA_CHECK(cudaMalloc(&p, b ? b : 16)); }
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  ~DevBuf() { cudaFree(p); }
  template <typename T>
  T* as() const { return static_cast<T*>(p); }
  void poison() { SBERT_CUDA_CHECK(cudaMemset(p, 0xff, bytes)); }  // NaN in fp32, fp16 and bf16
};

// Uploads v in dtype dt; `seen` receives the values the device holds (v rounded to dt).
inline std::unique_ptr<DevBuf> upload(const std::vector<float>& v, DType dt, std::vector<float>* seen = nullptr) {
  const size_t es = cuda::dtypeSize(dt);
  std::vector<char> host(v.size() * es);
  cuda::floatToDtypeHost(v.data(), host.data(), v.size(), dt);
  auto buf = std::make_unique<DevBuf>(host.size());
  SBERT_CUDA_CHECK(cudaMemcpy(buf->p, host.data(), host.size(), cudaMemcpyHostToDevice));
  if (seen) {
    seen->resize(v.size());
    cuda::dtypeToFloatHost(host.data(), seen->data(), v.size(), dt);
  }
  return buf;
}
inline std::unique_ptr<DevBuf> uploadInts(const std::vector<int32_t>& v) {
  auto buf = std::make_unique<DevBuf>(v.size() * 4);
  SBERT_CUDA_CHECK(cudaMemcpy(buf->p, v.data(), v.size() * 4, cudaMemcpyHostToDevice));
  return buf;
}
inline std::vector<float> download(const DevBuf& b, size_t count, DType dt) {
  SBERT_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<char> host(count * cuda::dtypeSize(dt));
  SBERT_CUDA_CHECK(cudaMemcpy(host.data(), b.p, host.size(), cudaMemcpyDeviceToHost));
  std::vector<float> out(count);
  cuda::dtypeToFloatHost(host.data(), out.data(), count, dt);
  return out;
}

// ‖a − b‖ / ‖b‖ (inf on NaN/Inf anywhere).
inline double relErr(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i])) return INFINITY;
    const double d = double(a[i]) - double(b[i]);
    num += d * d;
    den += double(b[i]) * b[i];
  }
  return std::sqrt(num) / std::max(std::sqrt(den), 1e-30);
}

// The worst row's normalized error (see the header): rows of `cols` values; inf on NaN/Inf.
struct RowErr {
  double err = 0;
  long long row = -1;
};
inline RowErr rowErr(const std::vector<float>& a, const std::vector<float>& b, size_t cols) {
  RowErr worst;
  if (a.size() != b.size() || cols == 0 || b.size() % cols != 0) return {INFINITY, -1};
  const size_t rows = b.size() / cols;
  std::vector<double> num(rows), den(rows);
  double sumDen = 0;
  for (size_t r = 0; r < rows; ++r) {
    double n2 = 0, d2 = 0;
    for (size_t c = r * cols; c < (r + 1) * cols; ++c) {
      if (!std::isfinite(a[c]) || !std::isfinite(b[c])) return {INFINITY, static_cast<long long>(r)};
      const double d = double(a[c]) - double(b[c]);
      n2 += d * d;
      d2 += double(b[c]) * b[c];
    }
    num[r] = std::sqrt(n2);
    den[r] = std::sqrt(d2);
    sumDen += d2;
  }
  const double floor = std::max(0.25 * std::sqrt(sumDen / std::max<size_t>(rows, 1)), 1e-30);
  for (size_t r = 0; r < rows; ++r) {
    const double e = num[r] / std::max(den[r], floor);
    if (e > worst.err || worst.row < 0) worst = {e, static_cast<long long>(r)};
  }
  return worst;
}

// Both error measures of one check: whole tensor and worst row.
struct Errors {
  double all;
  RowErr row;
  // The row bound is looser than the tensor's: a row averages over fewer values. Measured by
  // emulating the 16-bit roundings in numpy (attention, head dim 8, 20k tokens): the worst row
  // is ≤ 4.2× the tensor error, whose tolerances sit ~10× above it, so 3× tol leaves ≥ 3× room;
  // a wrong row scores ~1.
  static constexpr double kRowFactor = 3.0;
  bool within(double tol) const { return all <= tol && row.err <= kRowFactor * tol; }
};
inline Errors errorsOf(const std::vector<float>& got, const std::vector<float>& ref, size_t cols) {
  return {relErr(got, ref), rowErr(got, ref, cols)};
}

// ---- the command line ------------------------------------------------------------------------
struct Section {
  const char* name;
  void (*fn)(Tally&);
};

inline bool sameName(const std::string& a, const char* b) {
  if (a.size() != std::strlen(b)) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// Parses --only's comma-separated section names into `chosen`; false (after printing the valid
// names) when one is unknown.
inline bool parseOnly(const char* program, const char* list, const std::vector<Section>& sections,
                      std::vector<const Section*>& chosen) {
  std::string rest = list;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string name = rest.substr(0, comma);
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
    if (name.empty()) continue;
    const Section* found = nullptr;
    for (const Section& s : sections) {
      if (sameName(name, s.name)) found = &s;
    }
    if (!found) {
      std::printf("%s: unknown section '%s'; sections:", program, name.c_str());
      for (const Section& s : sections) std::printf(" %s", s.name);
      std::printf("\n");
      return false;
    }
    chosen.push_back(found);
  }
  return true;
}

// main() of a CUDA test: parses the arguments, finds the device, runs the chosen sections.
inline int runSections(const char* program, const std::vector<Section>& sections, int argc, char** argv) {
  std::vector<const Section*> chosen;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      gQuick = true;
    } else if (std::strcmp(argv[i], "--list") == 0) {
      for (const Section& s : sections) std::printf("%s\n", s.name);
      return 0;
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      if (!parseOnly(program, argv[++i], sections, chosen)) return 2;
    } else {
      std::printf("%s: unknown argument '%s' (--only SECTIONS, --list, --quick)\n", program, argv[i]);
      return 2;
    }
  }
  if (chosen.empty()) {
    for (const Section& s : sections) chosen.push_back(&s);
  }
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    std::printf("%s: skipped: no CUDA device (%s)\n", program,
                err != cudaSuccess ? cudaGetErrorString(err) : "the driver reports none");
    return 0;
  }
  cudaDeviceProp prop;
  SBERT_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("# %s, device 0: %s, compute capability %d.%d, %d SMs\n", program, prop.name, prop.major, prop.minor,
              prop.multiProcessorCount);
  Tally t;
  for (const Section* s : chosen) {
    std::printf("# %s\n", s->name);
    std::fflush(stdout);
    const auto t0 = std::chrono::steady_clock::now();
    try {
      s->fn(t);
    } catch (const Error& e) {
      t.check(false, "%s threw %s: %s", s->name, e.code().c_str(), e.what());
    } catch (const std::exception& e) {
      t.check(false, "%s threw: %s", s->name, e.what());
    }
    // A sticky CUDA error (illegal address, ...) poisons every later section: say so here.
    const cudaError_t sticky = cudaDeviceSynchronize();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("# %s: %.1f s%s%s\n", s->name, secs, sticky == cudaSuccess ? "" : ", CUDA error after it: ",
                sticky == cudaSuccess ? "" : cudaGetErrorString(sticky));
    std::fflush(stdout);
  }
  return t.finish();
}

}  // namespace sbert::test
