// CUDA similarity search with the top-k fused into the GEMM epilogue.
//
// UNVERIFIED ON HARDWARE: this file was written and compiled for sm_80/sm_90 on a machine with
// nvcc but no GPU. test/gpu/similarity.test.js compares it with the CPU kernel; until that has
// run on a GPU, treat the CUDA path as untested.
//
// Pipeline (cudaSimilarityTopK):
//   1. rowScaleKernel   fp32 rows -> per-row scale (1/max(|x|, 1e-12) for cosine, 1 for dot) and
//                       the max |scaled value| of the whole matrix (atomicMax on the float bits).
//   2. toHalfKernel     scaled rows * 2^e -> fp16 [rowsPad, dimPad], the power of two chosen so the
//                       largest value is <= 2^14 (no fp16 overflow for dot, no subnormals for
//                       small values); padding rows/columns are zero.
//   3. scoreScaleKernel 1 / (2^eq * 2^ec): multiplied into each fp32 dot product.
//   4. gemmTopKKernel   grid (query tiles of 128, corpus segments). Each block computes 128 x 128
//                       score tiles with mma.sync m16n8k16 (fp16 in, fp32 accumulate; cp.async
//                       double-buffered 128x32 operand tiles), stages one tile of scores in
//                       shared memory and lets each warp update the sorted top-k lists of its 16
//                       rows (kept in shared memory across the block's corpus tiles): a ballot
//                       finds the scores above the row's k-th best, which are inserted one by one.
//                       Only the lists ([nq, segments, k]) are written to global memory.
//   5. mergeKernel      one warp per query row merges its `segments` sorted lists (k-way merge,
//                       warp arg-max per output) into the final top kk.
// Ordering matches the CPU kernel: score descending, then lower corpus index.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "cuda_check.h"
#include "similarity_topk.h"

namespace sbert {
namespace {

constexpr int kBM = 128;              // query rows per block
constexpr int kBN = 128;              // corpus rows per tile
constexpr int kBK = 32;               // k-slice per pipeline stage
constexpr int kThreads = 256;         // 8 warps: 2 (M) x 4 (N), warp tile 64 x 32
constexpr int kLds = kBK + 8;         // halves per staged row (80 B): conflict-free fragment loads
constexpr int kSld = kBN + 4;         // floats per row of the staged score tile
constexpr int kMaxSegments = 128;     // merge kernel: up to 4 lists per lane
constexpr unsigned kFull = 0xffffffffu;

constexpr size_t kStagingBytes = size_t(2) * (kBM + kBN) * kLds * sizeof(__half);
constexpr size_t kScoreTileBytes = size_t(kBM) * kSld * sizeof(float);
constexpr size_t kUnionBytes = kStagingBytes > kScoreTileBytes ? kStagingBytes : kScoreTileBytes;

template <int KCAP>
constexpr size_t gemmTopKSmemBytes() {
  return kUnionBytes + size_t(kBM) * KCAP * (sizeof(float) + sizeof(int)) + size_t(kBM) * sizeof(int);
}

__host__ __device__ inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// ---- small device helpers -----------------------------------------------------------------------

__device__ __forceinline__ void cpAsync16(void* smem, const void* gmem) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(s), "l"(gmem));
}
__device__ __forceinline__ void cpAsyncCommit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cpAsyncWait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

// D += A(16x16, row) * B(16x8, col), fp16 inputs, fp32 accumulators.
__device__ __forceinline__ void mma16816(float* d, const uint32_t* a, const uint32_t* b) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// The result order: higher score, then lower index.
__device__ __forceinline__ bool better(float s, int j, float t, int i) { return s > t || (s == t && j < i); }

__device__ __forceinline__ float pow2ScaleFor(unsigned maxBits) {
  const float m = __uint_as_float(maxBits);
  if (!(m > 0.0f) || isinf(m)) return 1.0f;
  int e = 0;
  frexpf(m, &e);  // m < 2^e
  e = max(-60, min(128, e));
  return ldexpf(1.0f, 14 - e);
}

// ---- 1-3: preparation ---------------------------------------------------------------------------

// One warp per row.
__global__ void rowScaleKernel(const float* __restrict__ x, int64_t rows, int dim, bool cosine,
                               float* __restrict__ rowScale, unsigned* __restrict__ maxBits) {
  const int64_t row = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x & 31;
  if (row >= rows) return;
  const float* r = x + row * dim;
  float ss = 0.0f, mx = 0.0f;
  for (int k = lane; k < dim; k += 32) {
    const float v = r[k];
    ss = fmaf(v, v, ss);
    mx = fmaxf(mx, fabsf(v));
  }
  for (int off = 16; off > 0; off >>= 1) {
    ss += __shfl_xor_sync(kFull, ss, off);
    mx = fmaxf(mx, __shfl_xor_sync(kFull, mx, off));
  }
  const float s = cosine ? 1.0f / fmaxf(sqrtf(ss), 1e-12f) : 1.0f;
  if (lane == 0) {
    rowScale[row] = s;
    atomicMax(maxBits, __float_as_uint(mx * s));  // non-negative floats order like their bits
  }
}

__global__ void toHalfKernel(const float* __restrict__ x, int64_t rows, int dim, int dimPad,
                             const float* __restrict__ rowScale, const unsigned* __restrict__ maxBits,
                             __half* __restrict__ y) {
  const float p = pow2ScaleFor(*maxBits);
  const int64_t total = rows * dimPad;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / dimPad;
    const int k = static_cast<int>(i - r * dimPad);
    const float v = k < dim ? x[r * dim + k] * rowScale[r] * p : 0.0f;
    y[i] = __float2half_rn(v);
  }
}

__global__ void scoreScaleKernel(const unsigned* __restrict__ maxQ, const unsigned* __restrict__ maxC,
                                 float* __restrict__ out) {
  // 1 / (pq * pc) as one exact power of two (may under/overflow only where fp32 scores would).
  // Same exponents as pow2ScaleFor: p = 2^(14 - e), or 1 when the matrix is all zeros.
  auto exponent = [](unsigned bits) {
    const float m = __uint_as_float(bits);
    if (!(m > 0.0f) || isinf(m)) return 0;
    int e = 0;
    frexpf(m, &e);
    return 14 - max(-60, min(128, e));
  };
  *out = ldexpf(1.0f, -(exponent(*maxQ) + exponent(*maxC)));
}

// ---- 4: GEMM + fused top-k --------------------------------------------------------------------

// Inserts (s, j) into the warp's sorted list L/I of `cnt` entries (capacity k). Caller guarantees
// the entry belongs in the top k. All lanes call it with the same arguments.
template <int KCAP>
__device__ __forceinline__ void warpInsert(float* L, int* I, int cnt, int k, float s, int j, int lane) {
  int pos = 0;
  for (int base = 0; base < cnt; base += 32) {
    const int t = base + lane;
    const bool b = t < cnt && better(L[t], I[t], s, j);
    pos += __popc(__ballot_sync(kFull, b));
  }
  const int end = min(cnt, k - 1);  // entries [pos, end) move down one; a full list drops its last
  float vs[KCAP / 32 > 0 ? KCAP / 32 : 1];
  int vi[KCAP / 32 > 0 ? KCAP / 32 : 1];
#pragma unroll
  for (int m = 0; m * 32 < KCAP; ++m) {
    const int t = pos + m * 32 + lane;
    if (t < end) {
      vs[m] = L[t];
      vi[m] = I[t];
    }
  }
  __syncwarp();
#pragma unroll
  for (int m = 0; m * 32 < KCAP; ++m) {
    const int t = pos + m * 32 + lane;
    if (t < end) {
      L[t + 1] = vs[m];
      I[t + 1] = vi[m];
    }
  }
  if (lane == 0) {
    L[pos] = s;
    I[pos] = j;
  }
  __syncwarp();
}

template <int KCAP>
__global__ void __launch_bounds__(kThreads) gemmTopKKernel(const __half* __restrict__ Q, const __half* __restrict__ C,
                                                           int64_t nq, int64_t nc, int dimPad, int k,
                                                           const float* __restrict__ scoreScale, int tilesPerSeg,
                                                           int segments, float* __restrict__ partScore,
                                                           int32_t* __restrict__ partIndex) {
  extern __shared__ __align__(16) unsigned char smem[];
  __half* sA = reinterpret_cast<__half*>(smem);  // [2][kBM][kLds]
  __half* sB = sA + 2 * kBM * kLds;              // [2][kBN][kLds]
  float* sS = reinterpret_cast<float*>(smem);    // [kBM][kSld], aliases the staging buffers
  float* lScore = reinterpret_cast<float*>(smem + kUnionBytes);  // [kBM][KCAP]
  int* lIdx = reinterpret_cast<int*>(lScore + kBM * KCAP);       // [kBM][KCAP]
  int* lCount = lIdx + kBM * KCAP;                                // [kBM]

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wm = warp >> 2, wn = warp & 3;
  const int group = lane >> 2, tig = lane & 3;
  const int64_t row0 = int64_t(blockIdx.x) * kBM;
  const int seg = blockIdx.y;
  const int cTiles = static_cast<int>(ceilDiv(nc, kBN));
  const int tileBegin = seg * tilesPerSeg;
  const int tileEnd = min(cTiles, tileBegin + tilesPerSeg);
  const float scale = *scoreScale;
  const int KT = dimPad / kBK;

  for (int r = tid; r < kBM; r += kThreads) lCount[r] = 0;

  for (int ct = tileBegin; ct < tileEnd; ++ct) {
    const int64_t col0 = int64_t(ct) * kBN;
    float acc[4][4][4];
#pragma unroll
    for (int a = 0; a < 4; ++a)
#pragma unroll
      for (int b = 0; b < 4; ++b)
#pragma unroll
        for (int c = 0; c < 4; ++c) acc[a][b][c] = 0.0f;

    // Each operand tile is 128 rows x 64 B = 512 16-byte chunks: two per thread per operand.
    auto loadStage = [&](int stage, int kt) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int chunk = tid + h * kThreads;
        const int r = chunk >> 2, part = chunk & 3;
        cpAsync16(sA + (stage * kBM + r) * kLds + part * 8, Q + (row0 + r) * dimPad + kt * kBK + part * 8);
        cpAsync16(sB + (stage * kBN + r) * kLds + part * 8, C + (col0 + r) * dimPad + kt * kBK + part * 8);
      }
      cpAsyncCommit();
    };

    loadStage(0, 0);
    for (int kt = 0; kt < KT; ++kt) {
      if (kt + 1 < KT) {
        loadStage((kt + 1) & 1, kt + 1);
        cpAsyncWait<1>();
      } else {
        cpAsyncWait<0>();
      }
      __syncthreads();
      const __half* a = sA + (kt & 1) * kBM * kLds;
      const __half* b = sB + (kt & 1) * kBN * kLds;
#pragma unroll
      for (int kk = 0; kk < kBK; kk += 16) {
        uint32_t af[4][4], bf[4][2];
#pragma unroll
        for (int mt = 0; mt < 4; ++mt) {
          const int r = wm * 64 + mt * 16 + group;
          af[mt][0] = *reinterpret_cast<const uint32_t*>(a + r * kLds + kk + tig * 2);
          af[mt][1] = *reinterpret_cast<const uint32_t*>(a + (r + 8) * kLds + kk + tig * 2);
          af[mt][2] = *reinterpret_cast<const uint32_t*>(a + r * kLds + kk + tig * 2 + 8);
          af[mt][3] = *reinterpret_cast<const uint32_t*>(a + (r + 8) * kLds + kk + tig * 2 + 8);
        }
#pragma unroll
        for (int nt = 0; nt < 4; ++nt) {
          const int n = wn * 32 + nt * 8 + group;
          bf[nt][0] = *reinterpret_cast<const uint32_t*>(b + n * kLds + kk + tig * 2);
          bf[nt][1] = *reinterpret_cast<const uint32_t*>(b + n * kLds + kk + tig * 2 + 8);
        }
#pragma unroll
        for (int mt = 0; mt < 4; ++mt)
#pragma unroll
          for (int nt = 0; nt < 4; ++nt) mma16816(acc[mt][nt], af[mt], bf[nt]);
      }
      __syncthreads();
    }

    // Stage the scaled scores (the staging buffers are free after the loop's last barrier).
#pragma unroll
    for (int mt = 0; mt < 4; ++mt)
#pragma unroll
      for (int nt = 0; nt < 4; ++nt) {
        const int r = wm * 64 + mt * 16 + group;
        const int c = wn * 32 + nt * 8 + tig * 2;
        sS[r * kSld + c] = acc[mt][nt][0] * scale;
        sS[r * kSld + c + 1] = acc[mt][nt][1] * scale;
        sS[(r + 8) * kSld + c] = acc[mt][nt][2] * scale;
        sS[(r + 8) * kSld + c + 1] = acc[mt][nt][3] * scale;
      }
    __syncthreads();

    // Each warp updates the lists of its 16 rows, visiting columns in increasing order so a
    // later equal score (higher index) never displaces an earlier one.
    for (int rr = 0; rr < kBM / 8; ++rr) {
      const int r = warp * (kBM / 8) + rr;
      if (row0 + r >= nq) break;
      float* L = lScore + r * KCAP;
      int* I = lIdx + r * KCAP;
      int cnt = lCount[r];
      float thr = cnt == k ? L[k - 1] : -INFINITY;
#pragma unroll
      for (int ch = 0; ch < kBN / 32; ++ch) {
        const int c = ch * 32 + lane;
        const int64_t j = col0 + c;
        const float s = sS[r * kSld + c];
        const bool pass = j < nc && (cnt < k || s > thr);
        unsigned mask = __ballot_sync(kFull, pass);
        while (mask) {
          const int src = __ffs(mask) - 1;
          mask &= mask - 1;
          const float cs = __shfl_sync(kFull, s, src);
          const int cj = static_cast<int>(col0) + ch * 32 + src;
          if (cnt < k || cs > thr) {
            warpInsert<KCAP>(L, I, cnt, k, cs, cj, lane);
            cnt = min(cnt + 1, k);
            thr = cnt == k ? L[k - 1] : -INFINITY;
          }
        }
      }
      if (lane == 0) lCount[r] = cnt;
    }
    __syncthreads();  // sS aliases the next tile's staging buffers
  }

  // Publish this segment's lists; missing entries are (-inf, INT_MAX) sentinels.
  for (int rr = 0; rr < kBM / 8; ++rr) {
    const int r = warp * (kBM / 8) + rr;
    const int64_t row = row0 + r;
    if (row >= nq) break;
    const int cnt = lCount[r];
    float* ps = partScore + (row * segments + seg) * k;
    int32_t* pi = partIndex + (row * segments + seg) * k;
    for (int t = lane; t < k; t += 32) {
      ps[t] = t < cnt ? lScore[r * KCAP + t] : -INFINITY;
      pi[t] = t < cnt ? lIdx[r * KCAP + t] : INT_MAX;
    }
  }
}

// ---- 5: merge the per-segment lists ---------------------------------------------------------

__global__ void mergeKernel(const float* __restrict__ partScore, const int32_t* __restrict__ partIndex, int64_t nq,
                            int segments, int k, int kk, float* __restrict__ outScore, int32_t* __restrict__ outIndex) {
  constexpr int kPer = kMaxSegments / 32;
  const int64_t row = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x & 31;
  if (row >= nq) return;
  const float* ps = partScore + row * segments * k;
  const int32_t* pi = partIndex + row * segments * k;
  int pos[kPer];
  float hs[kPer];
  int hi[kPer];
#pragma unroll
  for (int m = 0; m < kPer; ++m) {
    const int list = lane + 32 * m;
    pos[m] = 0;
    hs[m] = list < segments ? ps[list * k] : -INFINITY;
    hi[m] = list < segments ? pi[list * k] : INT_MAX;
  }
  for (int t = 0; t < kk; ++t) {
    float bs = hs[0];
    int bi = hi[0], bl = lane;
#pragma unroll
    for (int m = 1; m < kPer; ++m) {
      if (better(hs[m], hi[m], bs, bi)) {
        bs = hs[m];
        bi = hi[m];
        bl = lane + 32 * m;
      }
    }
    for (int off = 16; off > 0; off >>= 1) {
      const float os = __shfl_xor_sync(kFull, bs, off);
      const int oi = __shfl_xor_sync(kFull, bi, off);
      const int ol = __shfl_xor_sync(kFull, bl, off);
      if (better(os, oi, bs, bi) || (os == bs && oi == bi && ol < bl)) {
        bs = os;
        bi = oi;
        bl = ol;
      }
    }
    if (lane == 0) {
      outScore[row * kk + t] = bs;
      outIndex[row * kk + t] = bi;
    }
    if ((bl & 31) == lane) {
      const int mWin = bl >> 5;
#pragma unroll
      for (int m = 0; m < kPer; ++m) {
        if (m == mWin) {
          const int p = ++pos[m];
          hs[m] = p < k ? ps[bl * k + p] : -INFINITY;
          hi[m] = p < k ? pi[bl * k + p] : INT_MAX;
        }
      }
    }
  }
}

// ---- host-side helpers ---------------------------------------------------------------------

template <class T>
struct DeviceBuffer {
  T* p = nullptr;
  explicit DeviceBuffer(size_t count) {
    if (count) SBERT_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&p), count * sizeof(T)));
  }
  ~DeviceBuffer() {
    if (p) cudaFree(p);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

struct Stream {
  cudaStream_t s = nullptr;
  Stream() { SBERT_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking)); }
  ~Stream() {
    if (s) cudaStreamDestroy(s);
  }
};

template <int KCAP>
void launchGemmTopK(dim3 grid, const __half* q, const __half* c, int64_t nq, int64_t nc, int dimPad, int k,
                    const float* scoreScale, int tilesPerSeg, int segments, float* partScore, int32_t* partIndex,
                    cudaStream_t stream) {
  constexpr size_t smem = gemmTopKSmemBytes<KCAP>();
  int dev = 0, optin = 0;
  SBERT_CUDA_CHECK(cudaGetDevice(&dev));
  SBERT_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
  if (static_cast<size_t>(optin) < smem) {
    throw Error("ERR_CUDA", "similarity top-k with k=" + std::to_string(k) + " needs " + std::to_string(smem) +
                                " bytes of shared memory per block; this GPU allows " + std::to_string(optin) +
                                " (use a smaller topK or device 'cpu')");
  }
  SBERT_CUDA_CHECK(cudaFuncSetAttribute(gemmTopKKernel<KCAP>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(smem)));
  gemmTopKKernel<KCAP><<<grid, kThreads, smem, stream>>>(q, c, nq, nc, dimPad, k, scoreScale, tilesPerSeg, segments,
                                                         partScore, partIndex);
  SBERT_CUDA_CHECK_LAUNCH();
}

// Uploads one fp32 matrix and converts it to the padded fp16 layout; maxBits receives the
// max |scaled value| bits.
void prepareMatrix(const float* host, int64_t rows, int dim, int dimPad, bool cosine, __half* out, unsigned* maxBits,
                   cudaStream_t stream) {
  const int64_t rowsPad = ceilDiv(std::max<int64_t>(rows, 1), kBM) * kBM;
  SBERT_CUDA_CHECK(cudaMemsetAsync(out, 0, size_t(rowsPad) * dimPad * sizeof(__half), stream));
  SBERT_CUDA_CHECK(cudaMemsetAsync(maxBits, 0, sizeof(unsigned), stream));
  if (rows == 0) return;
  DeviceBuffer<float> x(size_t(rows) * std::max(dim, 1));
  DeviceBuffer<float> rowScale(static_cast<size_t>(rows));
  if (dim > 0) {
    SBERT_CUDA_CHECK(cudaMemcpyAsync(x.p, host, size_t(rows) * dim * sizeof(float), cudaMemcpyHostToDevice, stream));
  }
  const int64_t warpsPerBlock = 8;
  rowScaleKernel<<<static_cast<unsigned>(ceilDiv(rows, warpsPerBlock)), 256, 0, stream>>>(x.p, rows, dim, cosine,
                                                                                          rowScale.p, maxBits);
  SBERT_CUDA_CHECK_LAUNCH();
  const int64_t total = rows * dimPad;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(ceilDiv(total, 256), 65535));
  toHalfKernel<<<blocks, 256, 0, stream>>>(x.p, rows, dim, dimPad, rowScale.p, maxBits, out);
  SBERT_CUDA_CHECK_LAUNCH();
  // x and rowScale are freed when this returns: wait until the kernels above are done with them.
  SBERT_CUDA_CHECK(cudaStreamSynchronize(stream));
}

// How many corpus segments launchSimilarityTopK should use for this shape on a GPU with `sms`
// multiprocessors (enough blocks to fill it).
int similarityTopKSegments(int64_t nq, int64_t nc, int sms) {
  const int64_t qTiles = std::max<int64_t>(1, ceilDiv(nq, kBM));
  const int64_t cTiles = std::max<int64_t>(1, ceilDiv(nc, kBN));
  const int64_t wanted = int64_t(std::max(sms, 1)) * 8;  // a few waves of blocks
  int64_t segs = std::clamp<int64_t>(ceilDiv(wanted, qTiles), 1, std::min<int64_t>(cTiles, kMaxSegments));
  const int64_t tilesPerSeg = ceilDiv(cTiles, segs);
  return static_cast<int>(ceilDiv(cTiles, tilesPerSeg));
}

// The launcher on device buffers.
//   q16: [roundUp(nq, 128), dimPad] fp16 bits, rows >= nq and columns >= dim zero
//   c16: [roundUp(nc, 128), dimPad] fp16 bits, likewise; dimPad a positive multiple of 32
//   scoreScale: device pointer to one float multiplied into every accumulated dot product
//   partScore/partIndex: [nq, segments, k] workspace; segments in [1, 128]
//   outScore/outIndex: [nq, min(k, nc)]
// Checks its preconditions (throws sbert::Error) and launch errors; does not synchronize.
void launchSimilarityTopK(const uint16_t* q16, int64_t nq, const uint16_t* c16, int64_t nc, int dimPad, int k,
                          const float* scoreScale, int segments, float* partScore, int32_t* partIndex,
                          float* outScore, int32_t* outIndex, cudaStream_t stream) {
  SBERT_CHECK(k >= 1 && k <= kCudaSimilarityTopKMaxK, "ERR_OUT_OF_RANGE",
              "k must be in [1, " + std::to_string(kCudaSimilarityTopKMaxK) + "] on CUDA");
  SBERT_CHECK(dimPad > 0 && dimPad % kBK == 0, "ERR_NATIVE", "dimPad must be a positive multiple of 32");
  SBERT_CHECK(nq >= 0 && nc >= 0 && nc <= INT_MAX, "ERR_OUT_OF_RANGE", "bad matrix sizes");
  SBERT_CHECK(segments >= 1 && segments <= kMaxSegments, "ERR_NATIVE", "segments must be in [1, 128]");
  const int kk = static_cast<int>(std::min<int64_t>(k, nc));
  if (nq == 0 || kk == 0) return;
  SBERT_CHECK(q16 && c16 && scoreScale && partScore && partIndex && outScore && outIndex, "ERR_NATIVE",
              "null device pointer");
  const int64_t qTiles = ceilDiv(nq, kBM);
  const int64_t cTiles = ceilDiv(nc, kBN);
  SBERT_CHECK(qTiles <= INT_MAX, "ERR_OUT_OF_RANGE", "too many queries");
  const int tilesPerSeg = static_cast<int>(ceilDiv(cTiles, segments));
  SBERT_CHECK(ceilDiv(cTiles, tilesPerSeg) == segments, "ERR_NATIVE",
              "segments must be similarityTopKSegments()-shaped (no empty segment)");
  const dim3 grid(static_cast<unsigned>(qTiles), static_cast<unsigned>(segments));
  const __half* q = reinterpret_cast<const __half*>(q16);
  const __half* c = reinterpret_cast<const __half*>(c16);
  if (k <= 16) {
    launchGemmTopK<16>(grid, q, c, nq, nc, dimPad, k, scoreScale, tilesPerSeg, segments, partScore, partIndex, stream);
  } else if (k <= 32) {
    launchGemmTopK<32>(grid, q, c, nq, nc, dimPad, k, scoreScale, tilesPerSeg, segments, partScore, partIndex, stream);
  } else if (k <= 64) {
    launchGemmTopK<64>(grid, q, c, nq, nc, dimPad, k, scoreScale, tilesPerSeg, segments, partScore, partIndex, stream);
  } else {
    launchGemmTopK<128>(grid, q, c, nq, nc, dimPad, k, scoreScale, tilesPerSeg, segments, partScore, partIndex, stream);
  }
  const unsigned mergeBlocks = static_cast<unsigned>(ceilDiv(nq, kThreads / 32));
  mergeKernel<<<mergeBlocks, kThreads, 0, stream>>>(partScore, partIndex, nq, segments, k, kk, outScore, outIndex);
  SBERT_CUDA_CHECK_LAUNCH();
}

// Throws ERR_NO_CUDA when there is no device, ERR_OUT_OF_RANGE when `device` is not one of them.
void checkDeviceIndex(int device) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    (void)cudaGetLastError();
    throw Error("ERR_NO_CUDA", std::string("no CUDA device is available") +
                                   (err != cudaSuccess ? std::string(" (") + cudaGetErrorString(err) + ")" : ""));
  }
  SBERT_CHECK(device >= 0 && device < count, "ERR_OUT_OF_RANGE",
              "CUDA device " + std::to_string(device) + " does not exist (" + std::to_string(count) + " found)");
}

}  // namespace

int cudaSimilarityTopKMaxKFor(int device) {
  checkDeviceIndex(device);
  int optin = 0;
  SBERT_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  const size_t have = static_cast<size_t>(optin);
  if (have >= gemmTopKSmemBytes<128>()) return 128;  // sm_90 (227 KB)
  if (have >= gemmTopKSmemBytes<64>()) return 64;    // sm_80 (163 KB)
  if (have >= gemmTopKSmemBytes<32>()) return 32;    // sm_86 / sm_89 (99 KB)
  return have >= gemmTopKSmemBytes<16>() ? 16 : 0;
}

void cudaSimilarityTopK(const float* queries, int64_t nq, const float* corpus, int64_t nc, int64_t dim, int64_t k,
                        bool cosine, int device, int32_t* outIndex, float* outScore) {
  SBERT_CHECK(k >= 1 && k <= kCudaSimilarityTopKMaxK, "ERR_OUT_OF_RANGE",
              "k must be in [1, " + std::to_string(kCudaSimilarityTopKMaxK) + "] on CUDA");
  SBERT_CHECK(dim >= 0 && dim <= (int64_t(1) << 20), "ERR_OUT_OF_RANGE", "dim out of range");
  const int64_t kk = std::min(k, nc);
  if (nq == 0 || kk == 0) return;

  checkDeviceIndex(device);
  SBERT_CUDA_CHECK(cudaSetDevice(device));
  int sms = 0;
  SBERT_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));

  const int d = static_cast<int>(dim);
  const int dimPad = static_cast<int>(std::max<int64_t>(ceilDiv(std::max<int64_t>(dim, 1), kBK) * kBK, kBK));
  const int64_t nqPad = ceilDiv(nq, kBM) * kBM, ncPad = ceilDiv(nc, kBN) * kBN;
  const bool same = queries == corpus && nq == nc;  // paraphrase mining: upload once
  const int segments = similarityTopKSegments(nq, nc, sms);

  Stream stream;
  DeviceBuffer<__half> q16(size_t(nqPad) * dimPad);
  DeviceBuffer<__half> c16(same ? 0 : size_t(ncPad) * dimPad);
  DeviceBuffer<unsigned> maxBits(2);
  DeviceBuffer<float> scale(1);
  DeviceBuffer<float> partScore(size_t(nq) * segments * k);
  DeviceBuffer<int32_t> partIndex(size_t(nq) * segments * k);
  DeviceBuffer<float> dScore(size_t(nq) * kk);
  DeviceBuffer<int32_t> dIndex(size_t(nq) * kk);

  prepareMatrix(queries, nq, d, dimPad, cosine, q16.p, maxBits.p, stream.s);
  const __half* cp = q16.p;
  if (same) {
    SBERT_CUDA_CHECK(cudaMemcpyAsync(maxBits.p + 1, maxBits.p, sizeof(unsigned), cudaMemcpyDeviceToDevice, stream.s));
  } else {
    prepareMatrix(corpus, nc, d, dimPad, cosine, c16.p, maxBits.p + 1, stream.s);
    cp = c16.p;
  }
  scoreScaleKernel<<<1, 1, 0, stream.s>>>(maxBits.p, maxBits.p + 1, scale.p);
  SBERT_CUDA_CHECK_LAUNCH();
  launchSimilarityTopK(reinterpret_cast<const uint16_t*>(q16.p), nq, reinterpret_cast<const uint16_t*>(cp), nc, dimPad,
                       static_cast<int>(k), scale.p, segments, partScore.p, partIndex.p, dScore.p, dIndex.p, stream.s);
  SBERT_CUDA_CHECK(cudaMemcpyAsync(outScore, dScore.p, size_t(nq) * kk * sizeof(float), cudaMemcpyDeviceToHost, stream.s));
  SBERT_CUDA_CHECK(cudaMemcpyAsync(outIndex, dIndex.p, size_t(nq) * kk * sizeof(int32_t), cudaMemcpyDeviceToHost, stream.s));
  SBERT_CUDA_CHECK(cudaStreamSynchronize(stream.s));
}

}  // namespace sbert
