// The CUDA entry points for builds without CUDA (SBERT_CUDA=OFF, no nvcc, node-gyp): they
// report that CUDA is not compiled in instead of failing to link.
#ifndef SBERT_WITH_CUDA

#include "common/error.h"
#include "engine/backend.h"
#include "engine/devices.h"

namespace sbert {

CudaRuntimeInfo cudaRuntimeInfo() {
  CudaRuntimeInfo info;
  info.status = "this build of sbert-native has no CUDA engine (built without nvcc or with SBERT_CUDA=OFF)";
  return info;
}

std::vector<CudaDeviceInfo> listCudaDevices() { return {}; }

std::unique_ptr<Backend> makeCudaBackend(const ModelPlan&, int, Precision) {
  throw Error("ERR_NO_CUDA",
              "this build of sbert-native has no CUDA engine; rebuild with nvcc on PATH "
              "(SBERT_CUDA=ON npm rebuild) or use device: 'cpu'");
}

}  // namespace sbert

#endif  // SBERT_WITH_CUDA
