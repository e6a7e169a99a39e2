// The interface every compute backend (CPU engine, CUDA engine) implements. One backend object
// per loaded model, built from a ModelPlan; `encode` may be called from any thread but never
// concurrently on the same backend (the binding serialises calls per engine), so backends may
// reuse workspaces.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "model_plan.h"

namespace sbert {

// A packed, unpadded batch: sequence i occupies tokens [cuSeqlens[i], cuSeqlens[i+1]).
struct EncodeBatch {
  const int32_t* ids = nullptr;
  const int32_t* cuSeqlens = nullptr;  // n + 1 entries, cuSeqlens[0] == 0
  // Token type (segment) ids, one per token; null = all 0 (single sentences). Only models with
  // token type embeddings take them.
  const int32_t* typeIds = nullptr;
  int numSequences = 0;
  int64_t numTokens() const { return numSequences > 0 ? cuSeqlens[numSequences] : 0; }
};

// Where results go: caller-owned buffers (the binding passes the memory of the Float32Array
// the user will get, so results are written once). Null = not wanted.
struct EncodeOutputs {
  float* sentence = nullptr;     // [n, plan.sentenceDim]
  float* tokens = nullptr;       // [numTokens, hidden] (last_hidden_state, packed)
  bool forceNormalize = false;   // L2-normalize even when the model has no Normalize module
  // Pooling leaves out the first poolSkipTokens tokens of every sequence (sentence-transformers'
  // `include_prompt: false`: the prompt's tokens, [CLS] included; see kernels/pooling.h for
  // each mode, and for sequences with nothing left). Token embeddings are not affected.
  // Must be >= 0 (ERR_BAD_INPUT otherwise).
  int poolSkipTokens = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Validates the batch (validateBatch) and throws ERR_BAD_INPUT before any work when it is
  // not valid. Workspaces grow to the batch's token count; after a batch larger than
  // `retainTokens` they are released again, so one oversized call does not pin its memory.
  virtual void encode(const EncodeBatch& batch, const EncodeOutputs& out) = 0;
  // Grows the workspaces to hold a batch of `tokens` now (ERR_CUDA_OOM / ERR_OUT_OF_MEMORY when
  // they cannot be allocated; the backend then holds none and stays usable).
  virtual void reserveWorkspace(int64_t tokens) = 0;
  virtual std::string deviceName() const = 0;
  // Bytes of weights and workspaces this backend holds now (host or device), for reporting.
  virtual int64_t memoryBytes() const = 0;
  // Token count whose workspaces are kept between calls (the encoder's token budget).
  void setRetainTokens(int64_t tokens) { retainTokens_ = tokens; }

 protected:
  int64_t retainTokens_ = 8192;
};

// The precision an engine computes its encoder Linears in. CUDA: fp16 / bf16 / fp32 storage
// (tensor cores, fp32 accumulation). CPU: fp32 (default), int8 (per-channel weights, per-row
// dynamic activations, int32 accumulation) or bf16 (AMX / AVX512-BF16); there the rest of the
// forward (embeddings, attention, LayerNorm, GELU, pooling, Dense) stays fp32.
enum class Precision { Fp16, Bf16, Fp32, Int8 };
// "fp16", "bf16", "fp32", "int8".
const char* precisionName(Precision precision);

// Throws ERR_UNSUPPORTED, naming what is missing, when the CPU engine cannot run `precision`
// here: fp16 (a GPU storage format; the CPU has no fp16 GEMM), bf16 without avx512_bf16, int8
// without AVX2+FMA (the portable int8 GEMM is ~14x slower than fp32, so it is not offered), or
// an SBERT_CPU_ISA this CPU cannot honour (cpuIsaOverrideError()).
void checkCpuPrecision(Precision precision);
// The CPU engine; checkCpuPrecision(precision) first.
std::unique_ptr<Backend> makeCpuBackend(const ModelPlan& plan, Precision precision = Precision::Fp32);

// Defined in native/cuda when CUDA is compiled in; otherwise throws ERR_NO_CUDA. Int8 is a CPU
// precision only (ERR_UNSUPPORTED).
std::unique_ptr<Backend> makeCudaBackend(const ModelPlan& plan, int device, Precision precision);

// Shared batch validation, used by every backend before it touches the data: monotone
// cuSeqlens starting at 0, lengths in 1..shape.maxSequenceLength(), ids in [0, vocabSize),
// type ids in [0, typeVocabSize) (none at all for a model without token types).
void validateBatch(const BertShape& shape, const EncodeBatch& batch);
// The outputs' options: poolSkipTokens >= 0.
void validateOutputs(const EncodeOutputs& out);

}  // namespace sbert
