// Each binding file registers its exports here; addon.cc calls them all once per environment.
#pragma once

#include <napi.h>

namespace sbert::binding {

void RegisterBuildInfo(Napi::Env env, Napi::Object exports);
void RegisterEngine(Napi::Env env, Napi::Object exports);
void RegisterSimilarity(Napi::Env env, Napi::Object exports);
void RegisterTrainer(Napi::Env env, Napi::Object exports);

}  // namespace sbert::binding
