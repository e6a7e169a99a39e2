// PLACEHOLDER — replaced by the similarity binding.
#include "registry.h"
namespace sbert::binding {
void RegisterSimilarity(Napi::Env, Napi::Object) {}
}
