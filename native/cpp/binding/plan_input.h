// Reads the JS model spec (lib/native.ts NativeModelSpec) into a PlanInput whose tensor data
// are views of the JS buffers, and keeps those buffers alive until the holder is destroyed
// (destroy it on the main thread, e.g. with the AsyncWorker that used it). One reader for every
// binding that builds something from a model: createEngine and createTrainer.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "engine/model_plan.h"

namespace sbert::binding {

struct PlanInputHolder {
  PlanInput input;
  std::vector<Napi::ObjectReference> keepAlive;  // the weight buffers' ArrayBuffers
};

// Throws TypeError/RangeError (as JS exceptions) naming the field when the spec is malformed.
PlanInputHolder ReadPlanInput(Napi::Env env, Napi::Value spec);

}  // namespace sbert::binding
