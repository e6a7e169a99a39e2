// What the process knows about CUDA: whether the CUDA engine was compiled in, the runtime's
// version, and the devices the driver reports. None of these throw: on a machine without a
// driver or GPU they report "no devices" so the same binary runs everywhere.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sbert {

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  int major = 0;
  int minor = 0;
  int64_t totalMemory = 0;
  int multiProcessorCount = 0;
};

struct CudaRuntimeInfo {
  bool compiled = false;
  int runtimeVersion = 0;  // e.g. 13000 for CUDA 13.0; 0 when not compiled
  int driverVersion = 0;   // 0 when no driver is installed
  std::string status;      // why there are no devices, when there are none
};

CudaRuntimeInfo cudaRuntimeInfo();
std::vector<CudaDeviceInfo> listCudaDevices();

}  // namespace sbert
