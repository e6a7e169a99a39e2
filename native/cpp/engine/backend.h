// The interface every compute backend (CPU engine, CUDA engine) implements. One backend object
// per loaded model; `encode` may be called from any thread but never concurrently on the same
// backend (the binding serialises calls per engine), so backends may reuse workspaces.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model_spec.h"

namespace sbert {

// A packed, unpadded batch: sequence i occupies tokens [cuSeqlens[i], cuSeqlens[i+1]).
struct EncodeBatch {
  const int32_t* ids = nullptr;
  const int32_t* typeIds = nullptr;   // may be null → all zeros
  const int32_t* cuSeqlens = nullptr; // n + 1 entries, cuSeqlens[0] == 0
  int numSequences = 0;
  // Workspace hint (the caller's token budget): backends that keep activation buffers (CUDA)
  // size them for max(numTokens(), reserveTokens), so later batches of the same budget reuse
  // them and a budget too large for the device fails early with ERR_CUDA_OOM. 0 = this batch.
  int64_t reserveTokens = 0;
  int64_t numTokens() const { return numSequences > 0 ? cuSeqlens[numSequences] : 0; }
};

struct EncodeOutputs {
  bool wantSentence = true;      // fill `sentence` [n, sentenceDim]
  bool wantTokens = false;       // fill `tokens` [numTokens, hidden] (last_hidden_state, packed)
  bool applyNormalize = true;    // apply the model's Normalize module when it has one
  bool forceNormalize = false;   // L2-normalize even when the model has no Normalize module
  std::vector<float> sentence;
  std::vector<float> tokens;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Validates the batch (ids in vocab range, type ids in range, sequence lengths in
  // 1..maxPositions, monotone cuSeqlens) and throws sbert::Error("ERR_BAD_INPUT", ...) before
  // any work when it is not valid.
  virtual void encode(const EncodeBatch& batch, EncodeOutputs& out) = 0;
  virtual std::string deviceName() const = 0;
  // Bytes of weights and workspaces this backend holds (host or device), for reporting.
  virtual int64_t memoryBytes() const = 0;
};

std::unique_ptr<Backend> makeCpuBackend(const ModelSpec& spec);

// Defined in native/cuda when CUDA is compiled in; otherwise throws ERR_NO_CUDA.
enum class Precision { Fp16, Bf16, Fp32 };
std::unique_ptr<Backend> makeCudaBackend(const ModelSpec& spec, int device, Precision precision);

// Shared batch validation, used by every backend before it touches the data.
void validateBatch(const BertShape& shape, const EncodeBatch& batch);

}  // namespace sbert
