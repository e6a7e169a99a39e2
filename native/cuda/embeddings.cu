// Embeddings + LayerNorm, fused: one pass reads the three table rows of a token, sums them,
// normalizes and writes the hidden state once.
//
//   out[t, :] = LN((word[ids[t]] + tokenType[typeIds[t]]) + position[pos(t)]) · γ + β
//   pos(t) = positionIds[t] when given, else t − cuSeqlens[s]; no type term without a type table
//
// Shapes: ids/typeIds/positionIds [T] int32 (device), cuSeqlens [n + 1] int32 (device), tables
// fp32 ([vocab, H], [maxPos, H], [types, H]), γ/β fp32 [H], out [T, H] fp16 / bf16 / fp32.
// Math fp32, two-pass variance (mean first, then Σ(x − mean)²) from registers.
//
// Kernels: a warp per token when H % 8 == 0 and H ≤ 1024 (each lane holds up to 4 chunks of
// 8 values, 32-byte fp32 table loads, 16-byte fp16 stores); otherwise a block per token with the
// row staged in shared memory (any H). The sequence of a token (for its position) is found by
// binary search over cuSeqlens.
#include "cuda_common.cuh"

namespace sbert {
namespace cuda {
namespace {

struct TokenLookup {
  int32_t id, type, pos;
};

__device__ __forceinline__ TokenLookup lookupToken(const int32_t* __restrict__ ids, const int32_t* __restrict__ typeIds,
                                                   const int32_t* __restrict__ positionIds,
                                                   const int32_t* __restrict__ cuSeqlens, int n, int64_t t,
                                                   const EmbeddingTables& tb) {
  TokenLookup r;
  if (positionIds) {
    r.pos = __ldg(positionIds + t);
  } else {
    const int s = findSequence(cuSeqlens, n, t);
    r.pos = static_cast<int32_t>(t - __ldg(cuSeqlens + s));
  }
  r.id = __ldg(ids + t);
  r.type = typeIds ? __ldg(typeIds + t) : 0;
  // Defensive clamps: validateBatch rejects these on the host; never read out of bounds.
  r.id = min(max(r.id, 0), tb.vocabSize - 1);
  r.type = min(max(r.type, 0), max(tb.typeVocabSize - 1, 0));
  r.pos = min(max(r.pos, 0), tb.maxPositions - 1);
  return r;
}

template <int CH, typename TOut>
__global__ void __launch_bounds__(128) embeddingsWarpKernel(const int32_t* __restrict__ ids,
                                                            const int32_t* __restrict__ typeIds,
                                                            const int32_t* __restrict__ positionIds,
                                                            const int32_t* __restrict__ cuSeqlens, int n,
                                                            int64_t numTokens, EmbeddingTables tb,
                                                            TOut* __restrict__ out) {
  const int lane = threadIdx.x & 31;
  const int64_t t = static_cast<int64_t>(blockIdx.x) * (blockDim.x >> 5) + (threadIdx.x >> 5);
  if (t >= numTokens) return;
  const int H = tb.hidden;
  const TokenLookup tok = lookupToken(ids, typeIds, positionIds, cuSeqlens, n, t, tb);
  const float* w = tb.word + static_cast<int64_t>(tok.id) * H;
  const float* p = tb.position + static_cast<int64_t>(tok.pos) * H;
  const float* ty = tb.tokenType ? tb.tokenType + static_cast<int64_t>(tok.type) * H : nullptr;

  float v[CH][8];
  float sum = 0.f;
#pragma unroll
  for (int c = 0; c < CH; ++c) {
    const int base = (c * 32 + lane) * 8;
    if (base < H) {
      float a[8], b[8], d[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};  // no type table: + 0
      load8(w + base, a);
      load8(p + base, b);
      if (ty) load8(ty + base, d);
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        v[c][j] = (a[j] + d[j]) + b[j];  // (word + type) + position, transformers' order
        sum += v[c][j];
      }
    } else {
#pragma unroll
      for (int j = 0; j < 8; ++j) v[c][j] = 0.f;
    }
  }
  const float mean = warpSum(sum) / H;
  float sq = 0.f;
#pragma unroll
  for (int c = 0; c < CH; ++c) {
    const int base = (c * 32 + lane) * 8;
    if (base < H) {
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        const float d = v[c][j] - mean;
        sq += d * d;
      }
    }
  }
  const float rstd = rsqrtf(warpSum(sq) / H + tb.eps);
  TOut* o = out + t * H;
#pragma unroll
  for (int c = 0; c < CH; ++c) {
    const int base = (c * 32 + lane) * 8;
    if (base < H) {
      float g[8], b[8], r[8];
      load8(tb.gamma + base, g);
      load8(tb.beta + base, b);
#pragma unroll
      for (int j = 0; j < 8; ++j) r[j] = (v[c][j] - mean) * rstd * g[j] + b[j];
      store8(o + base, r);
    }
  }
}

// Any hidden size: a block per token, the summed row in shared memory.
template <typename TOut>
__global__ void __launch_bounds__(256) embeddingsBlockKernel(const int32_t* __restrict__ ids,
                                                             const int32_t* __restrict__ typeIds,
                                                             const int32_t* __restrict__ positionIds,
                                                             const int32_t* __restrict__ cuSeqlens, int n,
                                                             EmbeddingTables tb, TOut* __restrict__ out) {
  extern __shared__ float row[];  // [H] + 32 scratch
  float* scratch = row + tb.hidden;
  const int64_t t = blockIdx.x;
  const int H = tb.hidden;
  const TokenLookup tok = lookupToken(ids, typeIds, positionIds, cuSeqlens, n, t, tb);
  const float* w = tb.word + static_cast<int64_t>(tok.id) * H;
  const float* p = tb.position + static_cast<int64_t>(tok.pos) * H;
  const float* ty = tb.tokenType ? tb.tokenType + static_cast<int64_t>(tok.type) * H : nullptr;
  float sum = 0.f;
  for (int h = threadIdx.x; h < H; h += blockDim.x) {
    const float x = (__ldg(w + h) + (ty ? __ldg(ty + h) : 0.f)) + __ldg(p + h);
    row[h] = x;
    sum += x;
  }
  const float mean = blockSum(sum, scratch) / H;
  float sq = 0.f;
  for (int h = threadIdx.x; h < H; h += blockDim.x) {
    const float d = row[h] - mean;
    sq += d * d;
  }
  const float rstd = rsqrtf(blockSum(sq, scratch) / H + tb.eps);
  TOut* o = out + t * H;
  for (int h = threadIdx.x; h < H; h += blockDim.x) {
    o[h] = fromFloat<TOut>((row[h] - mean) * rstd * __ldg(tb.gamma + h) + __ldg(tb.beta + h));
  }
}

template <typename TOut>
void launchTyped(const int32_t* ids, const int32_t* typeIds, const int32_t* positionIds, const int32_t* cuSeqlens,
                 int n, int64_t T, const EmbeddingTables& tb, TOut* out, cudaStream_t stream) {
  const int H = tb.hidden;
  const bool vec = H % 8 == 0 && H <= 1024 && aligned16(tb.word) && aligned16(tb.position) &&
                   (!tb.tokenType || aligned16(tb.tokenType)) && aligned16(tb.gamma) && aligned16(tb.beta) &&
                   aligned16(out);
  if (vec) {
    const int warpsPerBlock = 4;
    const int64_t blocks = ceilDiv(T, warpsPerBlock);
    SBERT_CUDA_REQUIRE(blocks <= 0x7fffffff, "embeddings: too many tokens for one launch");
    const int ch = (H + 255) / 256;
    const dim3 grid(static_cast<unsigned>(blocks));
    switch (ch) {
      case 1: embeddingsWarpKernel<1><<<grid, 128, 0, stream>>>(ids, typeIds, positionIds, cuSeqlens, n, T, tb, out); break;
      case 2: embeddingsWarpKernel<2><<<grid, 128, 0, stream>>>(ids, typeIds, positionIds, cuSeqlens, n, T, tb, out); break;
      case 3: embeddingsWarpKernel<3><<<grid, 128, 0, stream>>>(ids, typeIds, positionIds, cuSeqlens, n, T, tb, out); break;
      default: embeddingsWarpKernel<4><<<grid, 128, 0, stream>>>(ids, typeIds, positionIds, cuSeqlens, n, T, tb, out); break;
    }
  } else {
    const size_t smem = (static_cast<size_t>(H) + 32) * sizeof(float);
    SBERT_CUDA_REQUIRE(smem <= 48 * 1024, "embeddings: hidden size too large (max 12,000)");
    SBERT_CUDA_REQUIRE(T <= 0x7fffffff, "embeddings: too many tokens for one launch");
    embeddingsBlockKernel<<<static_cast<unsigned>(T), 256, smem, stream>>>(ids, typeIds, positionIds, cuSeqlens, n, tb,
                                                                          out);
  }
  SBERT_CUDA_CHECK_LAUNCH();
}

}  // namespace

void launchEmbeddingsLayerNorm(const int32_t* ids, const int32_t* typeIds, const int32_t* positionIds,
                               const int32_t* cuSeqlens, int numSequences, int64_t numTokens,
                               const EmbeddingTables& tables, void* out, DType outType, cudaStream_t stream) {
  SBERT_CUDA_REQUIRE(numTokens >= 0 && numSequences >= 0, "embeddings: negative size");
  if (numTokens == 0) return;
  SBERT_CUDA_REQUIRE(numSequences > 0, "embeddings: tokens without sequences");
  SBERT_CUDA_REQUIRE(ids && cuSeqlens && out, "embeddings: null input/output");
  SBERT_CUDA_REQUIRE(tables.word && tables.position && tables.gamma && tables.beta, "embeddings: null table");
  SBERT_CUDA_REQUIRE(tables.hidden > 0 && tables.vocabSize > 0 && tables.maxPositions > 0 &&
                         (tables.tokenType ? tables.typeVocabSize > 0 : !typeIds),
                     "embeddings: empty table, or type ids without a type table");
  switch (outType) {
    case DType::F32:
      launchTyped(ids, typeIds, positionIds, cuSeqlens, numSequences, numTokens, tables, static_cast<float*>(out),
                  stream);
      break;
    case DType::F16:
      launchTyped(ids, typeIds, positionIds, cuSeqlens, numSequences, numTokens, tables, static_cast<__half*>(out),
                  stream);
      break;
    case DType::BF16:
      launchTyped(ids, typeIds, positionIds, cuSeqlens, numSequences, numTokens, tables,
                  static_cast<__nv_bfloat16*>(out), stream);
      break;
  }
}

}  // namespace cuda
}  // namespace sbert
