// Each binding file registers its exports here; addon.cc calls them all once per environment.
#pragma once

#include <napi.h>

namespace sbert::binding {

// Per-environment state of the addon (one per main thread or worker thread that loads it), in
// the environment's instance data; addon.cc creates it before any Register* runs.
struct AddonData {
  Napi::FunctionReference engineConstructor;
  Napi::FunctionReference trainerConstructor;
  Napi::FunctionReference errorClass;  // lib/errors.ts SbertError, registered by setErrorClass
};

void RegisterErrors(Napi::Env env, Napi::Object exports);
void RegisterBuildInfo(Napi::Env env, Napi::Object exports);
void RegisterEngine(Napi::Env env, Napi::Object exports);
void RegisterSimilarity(Napi::Env env, Napi::Object exports);
void RegisterHamming(Napi::Env env, Napi::Object exports);
void RegisterTrainer(Napi::Env env, Napi::Object exports);

}  // namespace sbert::binding
