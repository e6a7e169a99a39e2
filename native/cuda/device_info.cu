// CUDA runtime and device discovery for buildInfo() and cudaDevices(). With the runtime linked
// statically, these calls work on machines without a driver: they return an error code, which
// we report as "no devices" rather than throwing.
#include <cuda_runtime.h>

#include "engine/devices.h"

namespace sbert {

CudaRuntimeInfo cudaRuntimeInfo() {
  CudaRuntimeInfo info;
  info.compiled = true;
  cudaRuntimeGetVersion(&info.runtimeVersion);
  if (cudaDriverGetVersion(&info.driverVersion) != cudaSuccess) info.driverVersion = 0;
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    info.status = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
    (void)cudaGetLastError();
  } else if (count == 0) {
    info.status = "no CUDA devices";
  } else {
    info.status = "ok";
  }
  return info;
}

std::vector<CudaDeviceInfo> listCudaDevices() {
  std::vector<CudaDeviceInfo> out;
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();
    return out;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) {
      (void)cudaGetLastError();
      continue;
    }
    CudaDeviceInfo d;
    d.index = i;
    d.name = prop.name;
    d.major = prop.major;
    d.minor = prop.minor;
    d.totalMemory = static_cast<int64_t>(prop.totalGlobalMem);
    d.multiProcessorCount = prop.multiProcessorCount;
    out.push_back(d);
  }
  return out;
}

}  // namespace sbert
