// Varlen (unpadded) multi-head self-attention over packed sequences, flash-attention style:
//
//   out[t, h·D:(h+1)·D] = softmax_k(q_t·k_kᵀ / √D + bias_h(k − t)) · v_k   over the keys k of
//   t's own sequence (bias: MPNet's relative position bias by distance, AttentionBias; none for
//   the other families)
//
// qkv: [T, 3·H] (H = heads·D), row t = [q heads | k heads | v heads] — the fused QKV GEMM's
// output, read in place (no transposes, no padding). out: [T, H]. cuSeqlens [n + 1] (device).
// dtype fp16 / bf16 / fp32 (one for qkv and out); softmax and accumulation fp32; no [s, s]
// matrix anywhere: scores live in registers, online softmax (running max and sum per row).
//
// Tiling over the PACKED token axis: block (x, head) owns query rows [64·x, 64·x + 64) of the
// batch, which may span several short sequences. Its key range is the union of those rows'
// sequences; each score is masked to its row's own sequence. Short sentences therefore share
// one tile (no per-sequence padding to 64), long ones are tiled within the sequence, and no
// host-side tile map is needed. Keys past the range are zero-filled so masked p = 0 never
// multiplies garbage.
//
// Tensor-core kernel (fp16/bf16, head dim 32 or 64, template on D): 4 warps × 16 query rows.
//   Q tile → shared (cp.async) → registers (ldmatrix) once; K/V tiles of 64 keys double-buffered
//   with cp.async; S = Q·Kᵀ via mma.sync m16n8k16 (K with ldmatrix), P = exp2(S − m) kept in
//   registers and re-packed as the A operand of O += P·V (V with ldmatrix.trans) — the
//   accumulator→A-fragment identity of m16n8k16. Shared rows of D 16-bit values are XOR-swizzled
//   in 16-byte chunks (conflict-free ldmatrix). Shared memory: 40 KB (D = 64), 20 KB (D = 32).
// Generic kernel (any D in 1..256, any dtype; the fp32 precision path): SIMT, 4 warps × 4 query
//   rows, 32-key chunks staged in shared memory as fp32, lane-per-key scores, lanes over D for
//   the P·V accumulation.
#include <type_traits>

#include "cuda_common.cuh"

namespace sbert {
namespace cuda {
namespace {

constexpr float kLog2e = 1.4426950408889634f;

struct RowRange {
  int start, end;  // keys [start, end) of the row's sequence; empty for rows past the batch
};

// The bias of a valid (row, key) pair of one head, in the log2 domain of the scores; 0 without
// a bias. Read only for keys of the row's own sequence, so |key − row| < maxLen.
__device__ __forceinline__ float biasLog2(const AttentionBias& bias, int head, int row, int key) {
  if (!bias.byDelta) return 0.f;
  return __ldg(bias.byDelta + static_cast<int64_t>(head) * bias.stride + (key - row) + bias.maxLen - 1) * kLog2e;
}

__device__ __forceinline__ RowRange rowRange(const int32_t* __restrict__ cuSeqlens, int n, int numTokens, int row) {
  if (row >= numTokens) return {0, 0};
  const int s = findSequence(cuSeqlens, n, row);
  return {__ldg(cuSeqlens + s), __ldg(cuSeqlens + s + 1)};
}

// ------------------------------------------------------------------------------------------
template <typename T, int D>
__global__ void __launch_bounds__(128) flashAttentionKernel(const T* __restrict__ qkv,
                                                            const int32_t* __restrict__ cuSeqlens, int n,
                                                            int numTokens, int numHeads, float scaleLog2,
                                                            AttentionBias bias, T* __restrict__ out) {
  constexpr int BQ = 64, BKV = 64;
  constexpr int CH = D / 8;  // 16-byte chunks per row
  constexpr int KD = D / 16; // k-steps of Q·Kᵀ
  constexpr int NT = BKV / 8;  // score n-tiles per warp
  constexpr int DT = D / 8;    // output n-tiles per warp
  static_assert(D == 32 || D == 64, "tensor-core attention is specialised for head dims 32 and 64");
  __shared__ __align__(128) T sQ[BQ * D];
  __shared__ __align__(128) T sK[2][BKV * D];
  __shared__ __align__(128) T sV[2][BKV * D];

  const int tid = threadIdx.x;
  const int lane = tid & 31;
  const int warp = tid >> 5;
  const int head = blockIdx.y;
  const int H = numHeads * D;
  const int64_t ld = 3 * static_cast<int64_t>(H);
  const int q0 = blockIdx.x * BQ;
  const int qLast = min(q0 + BQ, numTokens) - 1;
  const int kStart = __ldg(cuSeqlens + findSequence(cuSeqlens, n, q0));
  const int kEnd = __ldg(cuSeqlens + findSequence(cuSeqlens, n, qLast) + 1);

  const int g = lane >> 2, q4 = lane & 3;
  const int rowA = q0 + warp * 16 + g, rowB = rowA + 8;
  const RowRange rA = rowRange(cuSeqlens, n, numTokens, rowA);
  const RowRange rB = rowRange(cuSeqlens, n, numTokens, rowB);

  const T* qBase = qkv + head * D;
  const T* kBase = qkv + H + head * D;
  const T* vBase = qkv + 2 * H + head * D;

  // Q tile (rows past the batch zero-filled).
#pragma unroll
  for (int j = 0; j < BQ * CH / 128; ++j) {
    const int i = tid + j * 128;
    const int r = i / CH, c = i % CH;
    const int gr = q0 + r;
    const bool ok = gr < numTokens;
    const T* src = ok ? qBase + gr * ld + c * 8 : qkv;
    cpAsync16(sQ + r * D + swizzleChunk<CH>(r, c) * 8, src, ok ? 16 : 0);
  }
  auto loadKV = [&](int buf, int kb) {
#pragma unroll
    for (int j = 0; j < BKV * CH / 128; ++j) {
      const int i = tid + j * 128;
      const int r = i / CH, c = i % CH;
      const int key = kb + r;
      const bool ok = key < kEnd;
      const int64_t off = ok ? key * ld + c * 8 : 0;
      const int dst = r * D + swizzleChunk<CH>(r, c) * 8;
      cpAsync16(&sK[buf][dst], ok ? kBase + off : qkv, ok ? 16 : 0);
      cpAsync16(&sV[buf][dst], ok ? vBase + off : qkv, ok ? 16 : 0);
    }
  };
  loadKV(0, kStart);
  cpAsyncCommit();

  uint32_t qf[KD][4];
  float o[DT][4];
#pragma unroll
  for (int i = 0; i < DT; ++i)
#pragma unroll
    for (int e = 0; e < 4; ++e) o[i][e] = 0.f;
  float mA = -INFINITY, mB = -INFINITY;  // running max (log2 domain, scaled)
  float lA = 0.f, lB = 0.f;              // this thread's partial running sums

  int it = 0;
  for (int kb = kStart; kb < kEnd; kb += BKV, ++it) {
    const int buf = it & 1;
    if (kb + BKV < kEnd) {
      loadKV(buf ^ 1, kb + BKV);
      cpAsyncCommit();
      cpAsyncWait<1>();
    } else {
      cpAsyncWait<0>();
    }
    __syncthreads();
    if (it == 0) {
#pragma unroll
      for (int kk = 0; kk < KD; ++kk) {
        const int r = warp * 16 + (lane & 15);
        const int c = kk * 2 + (lane >> 4);
        ldmatrixX4(qf[kk], sQ + r * D + swizzleChunk<CH>(r, c) * 8);
      }
    }

    // S = Q·Kᵀ for 16 rows × 64 keys per warp.
    float s[NT][4];
#pragma unroll
    for (int i = 0; i < NT; ++i)
#pragma unroll
      for (int e = 0; e < 4; ++e) s[i][e] = 0.f;
#pragma unroll
    for (int kk = 0; kk < KD; ++kk) {
#pragma unroll
      for (int p = 0; p < NT / 2; ++p) {
        const int r = p * 16 + (lane & 7) + ((lane >> 4) << 3);
        const int c = kk * 2 + ((lane >> 3) & 1);
        uint32_t t[4];
        ldmatrixX4(t, &sK[buf][r * D + swizzleChunk<CH>(r, c) * 8]);
        mma16816<T>(s[2 * p], qf[kk], t[0], t[1]);
        mma16816<T>(s[2 * p + 1], qf[kk], t[2], t[3]);
      }
    }

    // Mask to each row's sequence, scale into the log2 domain, online softmax.
    float mxA = -INFINITY, mxB = -INFINITY;
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int key = kb + nt * 8 + q4 * 2 + (e & 1);
        const RowRange& rr = e < 2 ? rA : rB;
        const bool valid = key >= rr.start && key < rr.end;
        s[nt][e] = valid ? s[nt][e] * scaleLog2 + biasLog2(bias, head, e < 2 ? rowA : rowB, key) : -INFINITY;
      }
      mxA = fmaxf(mxA, fmaxf(s[nt][0], s[nt][1]));
      mxB = fmaxf(mxB, fmaxf(s[nt][2], s[nt][3]));
    }
    mxA = fmaxf(mxA, __shfl_xor_sync(0xffffffffu, mxA, 1));
    mxA = fmaxf(mxA, __shfl_xor_sync(0xffffffffu, mxA, 2));
    mxB = fmaxf(mxB, __shfl_xor_sync(0xffffffffu, mxB, 1));
    mxB = fmaxf(mxB, __shfl_xor_sync(0xffffffffu, mxB, 2));
    const float newA = fmaxf(mA, mxA), newB = fmaxf(mB, mxB);
    // A row with no valid key so far keeps max −inf: subtract 0 instead (all its p are 0).
    const float useA = newA == -INFINITY ? 0.f : newA;
    const float useB = newB == -INFINITY ? 0.f : newB;
    const float alphaA = exp2f(mA - useA), alphaB = exp2f(mB - useB);
    mA = newA;
    mB = newB;
    float sumA = 0.f, sumB = 0.f;
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) {
      s[nt][0] = exp2f(s[nt][0] - useA);
      s[nt][1] = exp2f(s[nt][1] - useA);
      s[nt][2] = exp2f(s[nt][2] - useB);
      s[nt][3] = exp2f(s[nt][3] - useB);
      sumA += s[nt][0] + s[nt][1];
      sumB += s[nt][2] + s[nt][3];
    }
    lA = lA * alphaA + sumA;
    lB = lB * alphaB + sumB;
#pragma unroll
    for (int dt = 0; dt < DT; ++dt) {
      o[dt][0] *= alphaA;
      o[dt][1] *= alphaA;
      o[dt][2] *= alphaB;
      o[dt][3] *= alphaB;
    }

    // O += P·V: the score accumulators of n-tiles 2j, 2j+1 are the A fragment of k-step j.
#pragma unroll
    for (int j = 0; j < BKV / 16; ++j) {
      uint32_t a[4];
      a[0] = packTwo<T>(s[2 * j][0], s[2 * j][1]);
      a[1] = packTwo<T>(s[2 * j][2], s[2 * j][3]);
      a[2] = packTwo<T>(s[2 * j + 1][0], s[2 * j + 1][1]);
      a[3] = packTwo<T>(s[2 * j + 1][2], s[2 * j + 1][3]);
#pragma unroll
      for (int dp = 0; dp < D / 16; ++dp) {
        const int r = j * 16 + (lane & 7) + (((lane >> 3) & 1) << 3);
        const int c = dp * 2 + (lane >> 4);
        uint32_t t[4];
        ldmatrixX4Trans(t, &sV[buf][r * D + swizzleChunk<CH>(r, c) * 8]);
        mma16816<T>(o[2 * dp], a, t[0], t[1]);
        mma16816<T>(o[2 * dp + 1], a, t[2], t[3]);
      }
    }
    __syncthreads();  // this buffer is refilled two iterations later
  }

  lA += __shfl_xor_sync(0xffffffffu, lA, 1);
  lA += __shfl_xor_sync(0xffffffffu, lA, 2);
  lB += __shfl_xor_sync(0xffffffffu, lB, 1);
  lB += __shfl_xor_sync(0xffffffffu, lB, 2);
  const float invA = lA > 0.f ? 1.f / lA : 0.f;
  const float invB = lB > 0.f ? 1.f / lB : 0.f;
#pragma unroll
  for (int dt = 0; dt < DT; ++dt) {
    const int col = head * D + dt * 8 + q4 * 2;
    if (rowA < numTokens) storeTwo(out + static_cast<int64_t>(rowA) * H + col, o[dt][0] * invA, o[dt][1] * invA);
    if (rowB < numTokens) storeTwo(out + static_cast<int64_t>(rowB) * H + col, o[dt][2] * invB, o[dt][3] * invB);
  }
}

// ------------------------------------------------------------------------------------------
constexpr int kGenericRowsPerWarp = 4;
constexpr int kGenericBQ = 4 * kGenericRowsPerWarp;  // 4 warps
constexpr int kGenericBKV = 32;

size_t genericSmemBytes(int D) {
  return (static_cast<size_t>(kGenericBQ) * D + static_cast<size_t>(kGenericBKV) * (D + 1) +
          static_cast<size_t>(kGenericBKV) * D) * sizeof(float);
}

template <typename T, int DC>
__global__ void __launch_bounds__(128) genericAttentionKernel(const T* __restrict__ qkv,
                                                              const int32_t* __restrict__ cuSeqlens, int n,
                                                              int numTokens, int numHeads, int D, float scaleLog2,
                                                              AttentionBias bias, T* __restrict__ out) {
  constexpr int ROWS = kGenericRowsPerWarp, BQ = kGenericBQ, BKV = kGenericBKV;
  extern __shared__ float smem[];
  float* sQ = smem;                 // [BQ][D], pre-scaled into the log2 domain
  float* sK = sQ + BQ * D;          // [BKV][D + 1] (padded: lane-per-key reads are conflict-free)
  float* sV = sK + BKV * (D + 1);   // [BKV][D]

  const int tid = threadIdx.x;
  const int lane = tid & 31;
  const int warp = tid >> 5;
  const int head = blockIdx.y;
  const int H = numHeads * D;
  const int64_t ld = 3 * static_cast<int64_t>(H);
  const int q0 = blockIdx.x * BQ;
  const int qLast = min(q0 + BQ, numTokens) - 1;
  const int kStart = __ldg(cuSeqlens + findSequence(cuSeqlens, n, q0));
  const int kEnd = __ldg(cuSeqlens + findSequence(cuSeqlens, n, qLast) + 1);

  for (int i = tid; i < BQ * D; i += blockDim.x) {
    const int r = i / D, d = i % D;
    const int gr = q0 + r;
    sQ[i] = gr < numTokens ? toFloat(qkv[gr * ld + head * D + d]) * scaleLog2 : 0.f;
  }
  RowRange range[ROWS];
  float m[ROWS], l[ROWS], o[ROWS][DC];
#pragma unroll
  for (int j = 0; j < ROWS; ++j) {
    range[j] = rowRange(cuSeqlens, n, numTokens, q0 + warp * ROWS + j);
    m[j] = -INFINITY;
    l[j] = 0.f;
#pragma unroll
    for (int i = 0; i < DC; ++i) o[j][i] = 0.f;
  }

  for (int kb = kStart; kb < kEnd; kb += BKV) {
    __syncthreads();  // previous chunk fully consumed (and sQ written, on the first pass)
    for (int i = tid; i < BKV * D; i += blockDim.x) {
      const int r = i / D, d = i % D;
      const int key = kb + r;
      float kv = 0.f, vv = 0.f;
      if (key < kEnd) {
        const int64_t off = key * ld + head * D + d;
        kv = toFloat(qkv[off + H]);
        vv = toFloat(qkv[off + 2 * H]);
      }
      sK[r * (D + 1) + d] = kv;
      sV[r * D + d] = vv;
    }
    __syncthreads();

    const int key = kb + lane;
    float p[ROWS];
#pragma unroll
    for (int j = 0; j < ROWS; ++j) {
      const float* q = sQ + (warp * ROWS + j) * D;
      const float* k = sK + lane * (D + 1);
      float s = 0.f;
      for (int d = 0; d < D; ++d) s = fmaf(q[d], k[d], s);
      const bool valid = key >= range[j].start && key < range[j].end;
      s = valid ? s + biasLog2(bias, head, q0 + warp * ROWS + j, key) : -INFINITY;
      const float newM = fmaxf(m[j], warpMax(s));
      const float use = newM == -INFINITY ? 0.f : newM;
      const float alpha = exp2f(m[j] - use);
      p[j] = valid ? exp2f(s - use) : 0.f;
      l[j] = l[j] * alpha + warpSum(p[j]);
      m[j] = newM;
#pragma unroll
      for (int i = 0; i < DC; ++i) o[j][i] *= alpha;
    }
    const int chunk = min(BKV, kEnd - kb);
    for (int jj = 0; jj < chunk; ++jj) {
      float v[DC];
#pragma unroll
      for (int i = 0; i < DC; ++i) {
        const int d = lane + 32 * i;
        v[i] = d < D ? sV[jj * D + d] : 0.f;
      }
#pragma unroll
      for (int j = 0; j < ROWS; ++j) {
        const float pj = __shfl_sync(0xffffffffu, p[j], jj);
#pragma unroll
        for (int i = 0; i < DC; ++i) o[j][i] = fmaf(pj, v[i], o[j][i]);
      }
    }
  }

#pragma unroll
  for (int j = 0; j < ROWS; ++j) {
    const int row = q0 + warp * ROWS + j;
    if (row >= numTokens) continue;
    const float inv = l[j] > 0.f ? 1.f / l[j] : 0.f;
#pragma unroll
    for (int i = 0; i < DC; ++i) {
      const int d = lane + 32 * i;
      if (d < D) out[static_cast<int64_t>(row) * H + head * D + d] = fromFloat<T>(o[j][i] * inv);
    }
  }
}

template <typename T>
void runFlash(const T* qkv, const int32_t* cuSeqlens, int n, int numTokens, int numHeads, int D,
              const AttentionBias& bias, T* out, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>(ceilDiv(numTokens, 64)), static_cast<unsigned>(numHeads));
  const float scaleLog2 = kLog2e / sqrtf(static_cast<float>(D));
  if (D == 32) {
    flashAttentionKernel<T, 32><<<grid, 128, 0, stream>>>(qkv, cuSeqlens, n, numTokens, numHeads, scaleLog2, bias,
                                                          out);
  } else {
    flashAttentionKernel<T, 64><<<grid, 128, 0, stream>>>(qkv, cuSeqlens, n, numTokens, numHeads, scaleLog2, bias,
                                                          out);
  }
  SBERT_CUDA_CHECK_LAUNCH();
}

template <typename T, int DC>
void runGenericDc(const T* qkv, const int32_t* cuSeqlens, int n, int numTokens, int numHeads, int D,
                  const AttentionBias& bias, T* out, cudaStream_t stream) {
  static std::atomic<uint64_t> smemDone{0};
  auto kernel = genericAttentionKernel<T, DC>;
  const int smem = static_cast<int>(genericSmemBytes(D));
  // The limit is raised once per device, so raise it to what the largest head dim this
  // instantiation serves needs (D ≤ 32·DC), not to this call's D: a later, larger D would
  // otherwise launch above it.
  ensureSharedMemory(kernel, static_cast<int>(genericSmemBytes(DC * 32)), smemDone);
  const dim3 grid(static_cast<unsigned>(ceilDiv(numTokens, kGenericBQ)), static_cast<unsigned>(numHeads));
  const float scaleLog2 = kLog2e / sqrtf(static_cast<float>(D));
  kernel<<<grid, 128, smem, stream>>>(qkv, cuSeqlens, n, numTokens, numHeads, D, scaleLog2, bias, out);
  SBERT_CUDA_CHECK_LAUNCH();
}

template <typename T>
void runGeneric(const T* qkv, const int32_t* cuSeqlens, int n, int numTokens, int numHeads, int D,
                const AttentionBias& bias, T* out, cudaStream_t stream) {
  if (D <= 32) runGenericDc<T, 1>(qkv, cuSeqlens, n, numTokens, numHeads, D, bias, out, stream);
  else if (D <= 64) runGenericDc<T, 2>(qkv, cuSeqlens, n, numTokens, numHeads, D, bias, out, stream);
  else if (D <= 128) runGenericDc<T, 4>(qkv, cuSeqlens, n, numTokens, numHeads, D, bias, out, stream);
  else runGenericDc<T, 8>(qkv, cuSeqlens, n, numTokens, numHeads, D, bias, out, stream);
}

template <typename T>
void dispatch(bool tensorCores, const void* qkv, const int32_t* cuSeqlens, int n, int numTokens, int numHeads,
              int D, const AttentionBias& bias, void* out, cudaStream_t stream) {
  const T* q = static_cast<const T*>(qkv);
  T* o = static_cast<T*>(out);
  if constexpr (!std::is_same_v<T, float>) {
    if (tensorCores) {
      runFlash(q, cuSeqlens, n, numTokens, numHeads, D, bias, o, stream);
      return;
    }
  }
  runGeneric(q, cuSeqlens, n, numTokens, numHeads, D, bias, o, stream);
}

}  // namespace

bool attentionTensorCoreEligible(int headDim, DType dt, const void* qkv, const void* out) {
  return (headDim == 32 || headDim == 64) && dt != DType::F32 && aligned16(qkv) && aligned16(out);
}

void launchAttention(const void* qkv, const int32_t* cuSeqlens, int numSequences, int64_t numTokens, int numHeads,
                     int headDim, const AttentionBias& bias, void* out, DType dt, cudaStream_t stream,
                     AttentionPath path) {
  SBERT_CUDA_REQUIRE(numTokens >= 0 && numSequences >= 0 && numHeads > 0, "attention: bad shape");
  SBERT_CUDA_REQUIRE(headDim >= 1 && headDim <= 256, "attention: head dim must be in 1..256");
  SBERT_CUDA_REQUIRE(numTokens < (int64_t{1} << 31) - 64, "attention: too many tokens for one launch");
  if (numTokens == 0) return;
  SBERT_CUDA_REQUIRE(numSequences > 0 && qkv && out && cuSeqlens, "attention: null input/output");
  SBERT_CUDA_REQUIRE(numHeads <= 65535, "attention: too many heads");
  const bool eligible = attentionTensorCoreEligible(headDim, dt, qkv, out);
  SBERT_CUDA_REQUIRE(path != AttentionPath::TensorCore || eligible,
                     "attention: tensor-core path needs fp16/bf16, head dim 32 or 64, 16-byte alignment");
  SBERT_CUDA_REQUIRE(!bias.byDelta || (bias.maxLen > 0 && bias.stride >= 2 * bias.maxLen - 1),
                     "attention: bias table too small for its maxLen");
  const bool tc = eligible && path != AttentionPath::Generic;
  const int T = static_cast<int>(numTokens);
  switch (dt) {
    case DType::F32:
      dispatch<float>(false, qkv, cuSeqlens, numSequences, T, numHeads, headDim, bias, out, stream);
      break;
    case DType::F16:
      dispatch<__half>(tc, qkv, cuSeqlens, numSequences, T, numHeads, headDim, bias, out, stream);
      break;
    case DType::BF16:
      dispatch<__nv_bfloat16>(tc, qkv, cuSeqlens, numSequences, T, numHeads, headDim, bias, out, stream);
      break;
  }
}

}  // namespace cuda
}  // namespace sbert
