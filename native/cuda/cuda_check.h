// CUDA error handling: every runtime call goes through SBERT_CUDA_CHECK, which records the
// failing statement, file and line and throws sbert::Error (ERR_CUDA_OOM for allocation
// failures, ERR_CUDA otherwise). Native code never exits or aborts on a device failure.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "common/error.h"

namespace sbert {

[[noreturn]] inline void throwCudaError(cudaError_t err, const char* stmt, const char* file, int line) {
  const bool oom = err == cudaErrorMemoryAllocation;
  // Clear the sticky-free error state so the engine stays usable after e.g. an OOM.
  (void)cudaGetLastError();
  throw Error(oom ? "ERR_CUDA_OOM" : "ERR_CUDA",
              std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err) + " in `" + stmt +
                  "` at " + file + ":" + std::to_string(line));
}

}  // namespace sbert

#define SBERT_CUDA_CHECK(stmt)                                                  \
  do {                                                                          \
    cudaError_t sbert_err_ = (stmt);                                            \
    if (sbert_err_ != cudaSuccess) ::sbert::throwCudaError(sbert_err_, #stmt, __FILE__, __LINE__); \
  } while (0)

// After a kernel launch: launch-configuration errors surface here, not at the next sync.
#define SBERT_CUDA_CHECK_LAUNCH() SBERT_CUDA_CHECK(cudaGetLastError())
