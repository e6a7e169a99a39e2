// CUDA similarity search: tensor-core GEMM of fp16 query/corpus rows (fp32 accumulation) with the
// per-row top-k fused into the epilogue, so the [nq, nc] score matrix is never written to global
// memory. Built only with CUDA (SBERT_WITH_CUDA); see similarity_topk.cu for the kernels.
//
// UNVERIFIED: written and compiled (sm_80, sm_90) on a machine without a GPU; the first run on a
// GPU is test/gpu/similarity.test.js (CUDA vs CPU results).
//
// This header is plain C++ (no CUDA headers) so the N-API binding can include it.
#pragma once

#include <cstdint>

namespace sbert {

// Largest k the fused kernel keeps per row (its per-row lists live in shared memory).
constexpr int kCudaSimilarityTopKMaxK = 128;

// The largest k this device's shared memory per block allows (128 on sm_90, 64 on sm_80, 32 on
// sm_86/sm_89; 0 if none): callers run larger k on the CPU. Throws like cudaSimilarityTopK for a
// missing device.
int cudaSimilarityTopKMaxKFor(int device);

// Host entry: fp32 host arrays in, per query row the kk = min(k, nc) best corpus rows out
// (outIndex/outScore hold nq * kk values, best first, ties: lower index first among equal fp32
// scores). Cosine normalises rows first (|x| clamped at 1e-12), exactly like the CPU kernel;
// scores come from fp16 inputs, so they differ from the CPU's by ~1e-3. Throws sbert::Error:
// ERR_NO_CUDA (no device), ERR_OUT_OF_RANGE (bad k / device index), ERR_CUDA / ERR_CUDA_OOM.
// Inputs must be finite (the caller checks).
void cudaSimilarityTopK(const float* queries, int64_t nq, const float* corpus, int64_t nc, int64_t dim, int64_t k,
                        bool cosine, int device, int32_t* outIndex, float* outScore);

}  // namespace sbert
