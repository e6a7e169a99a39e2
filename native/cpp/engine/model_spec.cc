// ModelSpec lookups and the batch validation every backend runs before touching the data.
#include <string>

#include "backend.h"
#include "common/error.h"
#include "model_spec.h"

namespace sbert {

const HostTensor& ModelSpec::tensor(const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) throw Error("ERR_BAD_MODEL", "missing tensor " + name);
  return it->second;
}

namespace {

[[noreturn]] void badInput(const std::string& msg) { throw Error("ERR_BAD_INPUT", msg); }

}  // namespace

void validateBatch(const BertShape& shape, const EncodeBatch& batch) {
  const int n = batch.numSequences;
  if (n < 0) badInput("numSequences must be >= 0 (got " + std::to_string(n) + ")");
  if (n == 0) return;
  if (!batch.cuSeqlens) {
    badInput("cuSeqlens is missing for a batch of " + std::to_string(n) + " sequences");
  }
  const int32_t* cu = batch.cuSeqlens;
  if (cu[0] != 0) badInput("cuSeqlens[0] must be 0 (got " + std::to_string(cu[0]) + ")");
  for (int i = 0; i < n; ++i) {
    const int64_t len = int64_t(cu[i + 1]) - int64_t(cu[i]);
    if (len < 0) {
      badInput("cuSeqlens must be non-decreasing: cuSeqlens[" + std::to_string(i + 1) + "] = " +
               std::to_string(cu[i + 1]) + " < cuSeqlens[" + std::to_string(i) + "] = " +
               std::to_string(cu[i]));
    }
    if (len < 1 || len > shape.maxPositions) {
      badInput("sequence " + std::to_string(i) + " has length " + std::to_string(len) +
               "; lengths must be in 1.." + std::to_string(shape.maxPositions) +
               " (the model's max_position_embeddings)");
    }
  }
  if (!batch.ids) badInput("ids is missing");
  for (int i = 0; i < n; ++i) {
    for (int32_t t = cu[i]; t < cu[i + 1]; ++t) {
      const int32_t id = batch.ids[t];
      if (id < 0 || id >= shape.vocabSize) {
        badInput("sequence " + std::to_string(i) + ", token " + std::to_string(t - cu[i]) +
                 ": token id " + std::to_string(id) + " is out of range [0, " +
                 std::to_string(shape.vocabSize) + ")");
      }
      if (batch.typeIds) {
        const int32_t ty = batch.typeIds[t];
        if (ty < 0 || ty >= shape.typeVocabSize) {
          badInput("sequence " + std::to_string(i) + ", token " + std::to_string(t - cu[i]) +
                   ": token type id " + std::to_string(ty) + " is out of range [0, " +
                   std::to_string(shape.typeVocabSize) + ")");
        }
      }
    }
  }
}

}  // namespace sbert
