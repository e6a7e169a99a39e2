// buildInfo() and cudaDevices(): what this binary was built with and which GPUs it can see.
#include <napi.h>

#include <thread>

#include "common/thread_pool.h"
#include "engine/devices.h"
#include "kernels/cpu_features.h"
#include "registry.h"

#ifndef SBERT_VERSION
#define SBERT_VERSION "0.0.0"
#endif

namespace sbert::binding {
namespace {

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
