// buildInfo() and cudaDevices(): what this binary was built with and which GPUs it can see.
#include <napi.h>

#include <thread>

#include "common/thread_pool.h"
#include "engine/devices.h"
#include "engine/backend.h"
#include "kernels/cpu_features.h"
#include "kernels/gemm_bf16.h"
#include "kernels/gemm_int8.h"
#include "registry.h"

#ifndef SBERT_VERSION
#define SBERT_VERSION "0.0.0"
#endif

namespace sbert::binding {
namespace {

template <class Path, class Name>
Napi::Array PathNames(Napi::Env env, const std::vector<Path>& paths, Name name) {
  Napi::Array out = Napi::Array::New(env, paths.size());
  for (size_t i = 0; i < paths.size(); ++i) out.Set(i, name(paths[i]));
  return out;
}

// What the CPU engine can run here, after SBERT_CPU_ISA: the precisions a load accepts and the
// GEMM path each would use (the same functions the engine asks at load).
void SetCpuPaths(Napi::Env env, Napi::Object cpu) {
  cpu.Set("features", cpuFeatureNames(activeCpuFeatures()));
  Napi::Array precisions = Napi::Array::New(env);
  for (Precision p : {Precision::Fp32, Precision::Int8, Precision::Bf16}) {
    try {
      checkCpuPrecision(p);
      precisions.Set(precisions.Length(), precisionName(p));
    } catch (const std::exception&) {
    }
  }
  cpu.Set("precisions", precisions);

  Napi::Object int8 = Napi::Object::New(env);
  int8.Set("paths", PathNames(env, availableInt8Paths(), int8PathName));
  int8.Set("best", int8PathName(bestInt8Path()));
  cpu.Set("int8", int8);

  const Bf16Support s = bf16Support();
  Napi::Object bf16 = Napi::Object::New(env);
  bf16.Set("supported", s.supported);
  bf16.Set("paths", PathNames(env, availableBf16Paths(), bf16PathName));
  bf16.Set("best", bf16PathName(s.path));
  if (!s.supported) bf16.Set("missing", s.missingFeature);
  cpu.Set("bf16", bf16);
  if (!cpuIsaOverrideError().empty()) cpu.Set("isaOverrideError", cpuIsaOverrideError());
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("version", SBERT_VERSION);

  CudaRuntimeInfo rt = cudaRuntimeInfo();
  Napi::Object cuda = Napi::Object::New(env);
  cuda.Set("compiled", rt.compiled);
  if (rt.compiled) {
    cuda.Set("runtimeVersion", rt.runtimeVersion);
    cuda.Set("driverVersion", rt.driverVersion);
  }
  cuda.Set("status", rt.status);
  out.Set("cuda", cuda);

  Napi::Object cpu = Napi::Object::New(env);
  cpu.Set("threads", numThreads());
  cpu.Set("hardwareConcurrency", static_cast<double>(std::thread::hardware_concurrency()));
  cpu.Set("avx2", cpuHasAvx2Fma());
  cpu.Set("avx512", cpuHasAvx512());
  cpu.Set("gemmKernel", gemmKernelName());
  SetCpuPaths(env, cpu);
  out.Set("cpu", cpu);
#ifdef SBERT_SANITIZE_BUILD
  out.Set("sanitize", true);
#endif
  return out;
}

Napi::Value CudaDevices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<CudaDeviceInfo> devices = listCudaDevices();
  Napi::Array out = Napi::Array::New(env, devices.size());
  for (size_t i = 0; i < devices.size(); ++i) {
    const CudaDeviceInfo& d = devices[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("index", d.index);
    o.Set("name", d.name);
    o.Set("computeCapability", std::to_string(d.major) + "." + std::to_string(d.minor));
    o.Set("totalMemory", static_cast<double>(d.totalMemory));
    o.Set("multiProcessorCount", d.multiProcessorCount);
    out.Set(i, o);
  }
  return out;
}

}  // namespace

void RegisterBuildInfo(Napi::Env env, Napi::Object exports) {
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo, "buildInfo"));
  exports.Set("cudaDevices", Napi::Function::New(env, CudaDevices, "cudaDevices"));
}

}  // namespace sbert::binding
