// The sbert-native addon's entry point: one N-API module whose exports are registered by the
// binding files (build info, engine, similarity). See lib/native.ts for the typed JS surface.
#include <napi.h>

#include "registry.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData<sbert::binding::AddonData>(new sbert::binding::AddonData());
  sbert::binding::RegisterErrors(env, exports);
  sbert::binding::RegisterBuildInfo(env, exports);
  sbert::binding::RegisterEngine(env, exports);
  sbert::binding::RegisterSimilarity(env, exports);
  sbert::binding::RegisterHamming(env, exports);
  sbert::binding::RegisterTrainer(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(sbert_native, Init)
