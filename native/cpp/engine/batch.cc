// The batch validation every backend runs before touching the data.
#include <string>

#include "backend.h"
#include "common/error.h"

namespace sbert {
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
    const int maxLen = shape.maxSequenceLength();
    if (len < 1 || len > maxLen) {
      badInput("sequence " + std::to_string(i) + " has length " + std::to_string(len) + "; lengths must be in 1.." +
               std::to_string(maxLen) +
               (shape.positionIds == PositionIds::AfterPadding
                    ? " (the model's max_position_embeddings less padding_idx + 1)"
                    : " (the model's max_position_embeddings)"));
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
        const int32_t type = batch.typeIds[t];
        if (shape.typeVocabSize == 0) {
          badInput("token type ids were given but the model has no token type embeddings");
        }
        if (type < 0 || type >= shape.typeVocabSize) {
          badInput("sequence " + std::to_string(i) + ", token " + std::to_string(t - cu[i]) + ": token type id " +
                   std::to_string(type) + " is out of range [0, " + std::to_string(shape.typeVocabSize) + ")");
        }
      }
    }
  }
}

void validateOutputs(const EncodeOutputs& out) {
  if (out.poolSkipTokens < 0) {
    badInput("poolSkipTokens must be >= 0 (got " + std::to_string(out.poolSkipTokens) + ")");
  }
}

}  // namespace sbert
