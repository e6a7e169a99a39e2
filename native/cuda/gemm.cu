// GEMM with fused epilogues — every Linear layer of the encoder:
//
//   C[M, N] = act(A[M, K] · W[N, K]ᵀ + bias[N]) + residual[M, N]
//
// A, W: fp16 or bf16 (tensor-core path) or any dtype (SIMT path), row-major, W in the PyTorch
// [out, in] layout. C, residual: the input dtype or fp32. bias fp32. Accumulation fp32.
// Fused: bias (QKV / output projections), bias + exact erf GELU (FFN up), bias + residual
// (FFN down / output projection when the caller wants the sum in 16 bits), and for the Dense
// modules any Activation. M is unrestricted (tail rows are predicated).
//
// Tensor-core path (F16/BF16, K % 8 == 0, N % 8 == 0, 16-byte aligned pointers):
//   mma.sync.m16n8k16 (fp32 accumulate), operands loaded from shared memory with ldmatrix.x4,
//   tiles streamed global → shared with cp.async (16-byte, zero-fill for tails) through a
//   4-stage ring, one __syncthreads per 32-wide k-step. Shared-memory rows are 64 bytes with an
//   XOR swizzle of the 16-byte chunks, so ldmatrix is bank-conflict free without padding.
//   Two tile configurations, picked per call by how many blocks the big one would give:
//     big:   128×128×32, 8 warps (2×4), warp tile 64×32, 64 KB shared memory (opt-in)
//     small:  64× 64×32, 4 warps (2×2), warp tile 32×32, 32 KB shared memory
//   Grid: x over N tiles (fastest), y over M tiles, so the blocks that share an A tile run
//   together and A streams from DRAM about once (W stays in L2). The epilogue goes straight
//   from the accumulator registers to global memory, two adjacent columns per store.
// SIMT path (fallback for other shapes/alignments, and the fp32 precision mode): 64×64×16
//   tiles, 256 threads, 4×4 outputs per thread, operands converted to fp32 in shared memory.
#include "cuda_common.cuh"

namespace sbert {
namespace cuda {
namespace {

template <int BM_, int BN_, int WM_, int WN_, int STAGES_>
struct TcConfig {
  static constexpr int BM = BM_, BN = BN_, BK = 32, WM = WM_, WN = WN_, STAGES = STAGES_;
  static constexpr int THREADS = WM * WN * 32;
  static constexpr int WTM = BM / WM, WTN = BN / WN;  // warp tile
  static constexpr int MI = WTM / 16, NI = WTN / 8;   // mma tiles per warp
  static constexpr int SMEM = STAGES * (BM + BN) * BK * 2;
  static_assert(WTM % 16 == 0 && WTN % 16 == 0, "warp tile must be a multiple of 16×16");
  static_assert((BM * 4) % THREADS == 0 && (BN * 4) % THREADS == 0, "whole chunks per thread");
};
using BigConfig = TcConfig<128, 128, 2, 4, 4>;
using SmallConfig = TcConfig<64, 64, 2, 2, 4>;

template <typename T, typename TOut, class Cfg>
__global__ void __launch_bounds__(Cfg::THREADS) gemmTcKernel(const T* __restrict__ A, const T* __restrict__ W,
                                                             TOut* C, int M, int N, int K,
                                                             const float* __restrict__ bias, const TOut* residual,
                                                             Activation act) {
  constexpr int BM = Cfg::BM, BN = Cfg::BN, BK = Cfg::BK, STAGES = Cfg::STAGES, THREADS = Cfg::THREADS;
  constexpr int MI = Cfg::MI, NI = Cfg::NI;
  extern __shared__ __align__(128) unsigned char smemRaw[];
  T* sA = reinterpret_cast<T*>(smemRaw);  // [STAGES][BM][BK], swizzled
  T* sB = sA + STAGES * BM * BK;          // [STAGES][BN][BK], swizzled

  const int tid = threadIdx.x;
  const int lane = tid & 31;
  const int warp = tid >> 5;
  const int wm = warp / Cfg::WN;
  const int wn = warp % Cfg::WN;
  const int m0 = blockIdx.y * BM;
  const int n0 = blockIdx.x * BN;
  const int KT = (K + BK - 1) / BK;

  auto loadStage = [&](int stage, int kt) {
    const int k0 = kt * BK;
    T* a = sA + stage * BM * BK;
    T* b = sB + stage * BN * BK;
#pragma unroll
    for (int j = 0; j < BM * 4 / THREADS; ++j) {
      const int i = tid + j * THREADS;
      const int r = i >> 2, c = i & 3;
      const int gr = m0 + r, gk = k0 + c * 8;
      const bool ok = gr < M && gk < K;
      const T* src = ok ? A + static_cast<int64_t>(gr) * K + gk : A;
      cpAsync16(a + r * BK + swizzleChunk<4>(r, c) * 8, src, ok ? 16 : 0);
    }
#pragma unroll
    for (int j = 0; j < BN * 4 / THREADS; ++j) {
      const int i = tid + j * THREADS;
      const int r = i >> 2, c = i & 3;
      const int gn = n0 + r, gk = k0 + c * 8;
      const bool ok = gn < N && gk < K;
      const T* src = ok ? W + static_cast<int64_t>(gn) * K + gk : W;
      cpAsync16(b + r * BK + swizzleChunk<4>(r, c) * 8, src, ok ? 16 : 0);
    }
  };

#pragma unroll
  for (int s = 0; s < STAGES - 1; ++s) {
    if (s < KT) loadStage(s, s);
    cpAsyncCommit();
  }

  float acc[MI][NI][4];
#pragma unroll
  for (int i = 0; i < MI; ++i)
#pragma unroll
    for (int j = 0; j < NI; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[i][j][e] = 0.f;

  for (int kt = 0; kt < KT; ++kt) {
    cpAsyncWait<STAGES - 2>();  // stage kt has landed (for this thread)
    __syncthreads();            // ... for all threads; and stage kt-1 is no longer being read
    {
      const int nk = kt + STAGES - 1;
      if (nk < KT) loadStage(nk % STAGES, nk);
      cpAsyncCommit();
    }
    const T* a = sA + (kt % STAGES) * BM * BK;
    const T* b = sB + (kt % STAGES) * BN * BK;
#pragma unroll
    for (int kk = 0; kk < BK / 16; ++kk) {
      uint32_t af[MI][4];
      uint32_t bf[NI][2];
#pragma unroll
      for (int mi = 0; mi < MI; ++mi) {
        const int r = wm * Cfg::WTM + mi * 16 + (lane & 15);
        const int c = kk * 2 + (lane >> 4);
        ldmatrixX4(af[mi], a + r * BK + swizzleChunk<4>(r, c) * 8);
      }
#pragma unroll
      for (int p = 0; p < NI / 2; ++p) {
        const int r = wn * Cfg::WTN + p * 16 + (lane & 7) + ((lane >> 4) << 3);
        const int c = kk * 2 + ((lane >> 3) & 1);
        uint32_t t[4];
        ldmatrixX4(t, b + r * BK + swizzleChunk<4>(r, c) * 8);
        bf[2 * p][0] = t[0];
        bf[2 * p][1] = t[1];
        bf[2 * p + 1][0] = t[2];
        bf[2 * p + 1][1] = t[3];
      }
#pragma unroll
      for (int mi = 0; mi < MI; ++mi)
#pragma unroll
        for (int ni = 0; ni < NI; ++ni) mma16816<T>(acc[mi][ni], af[mi], bf[ni][0], bf[ni][1]);
    }
  }
  cpAsyncWait<0>();

  // Epilogue: accumulator layout of m16n8 — c0,c1 at (row g, cols 2q, 2q+1), c2,c3 at row g+8.
#pragma unroll
  for (int ni = 0; ni < NI; ++ni) {
    const int col = n0 + wn * Cfg::WTN + ni * 8 + (lane & 3) * 2;
    if (col >= N) continue;  // N % 8 == 0, so col + 1 < N too
    const float b0 = bias ? __ldg(bias + col) : 0.f;
    const float b1 = bias ? __ldg(bias + col + 1) : 0.f;
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = m0 + wm * Cfg::WTM + mi * 16 + (lane >> 2) + h * 8;
        if (row >= M) continue;
        float v0 = applyAct(acc[mi][ni][2 * h] + b0, act);
        float v1 = applyAct(acc[mi][ni][2 * h + 1] + b1, act);
        const int64_t off = static_cast<int64_t>(row) * N + col;
        if (residual) {
          const float2 r = loadTwo(residual + off);
          v0 += r.x;
          v1 += r.y;
        }
        storeTwo(C + off, v0, v1);
      }
    }
  }
}

template <typename TIn, typename TOut>
__global__ void __launch_bounds__(256) gemmSimtKernel(const TIn* __restrict__ A, const TIn* __restrict__ W, TOut* C,
                                                      int M, int N, int K, const float* __restrict__ bias,
                                                      const TOut* residual, Activation act) {
  constexpr int BM = 64, BN = 64, BK = 16;
  __shared__ float As[BK][BM + 4];
  __shared__ float Ws[BK][BN + 4];
  const int tid = threadIdx.x;
  const int tx = tid & 15, ty = tid >> 4;
  const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
  float acc[4][4];
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) acc[i][j] = 0.f;

  for (int k0 = 0; k0 < K; k0 += BK) {
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int i = tid + j * 256;
      const int r = i >> 4, kk = i & 15;
      const int gk = k0 + kk;
      const int gm = m0 + r, gn = n0 + r;
      As[kk][r] = (gm < M && gk < K) ? toFloat(A[static_cast<int64_t>(gm) * K + gk]) : 0.f;
      Ws[kk][r] = (gn < N && gk < K) ? toFloat(W[static_cast<int64_t>(gn) * K + gk]) : 0.f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      float a[4], b[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) a[i] = As[kk][ty + 16 * i];
#pragma unroll
      for (int j = 0; j < 4; ++j) b[j] = Ws[kk][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int row = m0 + ty + 16 * i;
    if (row >= M) continue;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int col = n0 + tx + 16 * j;
      if (col >= N) continue;
      float v = applyAct(acc[i][j] + (bias ? __ldg(bias + col) : 0.f), act);
      const int64_t off = static_cast<int64_t>(row) * N + col;
      if (residual) v += toFloat(residual[off]);
      C[off] = fromFloat<TOut>(v);
    }
  }
}

constexpr int kMaxGridY = 65535;

template <typename T, typename TOut, class Cfg>
void runTc(const T* A, const T* W, TOut* C, int M, int N, int K, const GemmEpilogue& ep, cudaStream_t stream) {
  static std::atomic<uint64_t> smemDone{0};
  auto kernel = gemmTcKernel<T, TOut, Cfg>;
  ensureSharedMemory(kernel, Cfg::SMEM, smemDone);
  const TOut* residual = static_cast<const TOut*>(ep.residual);
  const int rowsPerLaunch = kMaxGridY * Cfg::BM;
  for (int r0 = 0; r0 < M; r0 += rowsPerLaunch) {
    const int rows = M - r0 < rowsPerLaunch ? M - r0 : rowsPerLaunch;
    const dim3 grid(static_cast<unsigned>(ceilDiv(N, Cfg::BN)), static_cast<unsigned>(ceilDiv(rows, Cfg::BM)));
    const int64_t off = static_cast<int64_t>(r0);
    kernel<<<grid, Cfg::THREADS, Cfg::SMEM, stream>>>(A + off * K, W, C + off * N, rows, N, K, ep.bias,
                                                      residual ? residual + off * N : nullptr, ep.act);
    SBERT_CUDA_CHECK_LAUNCH();
  }
}

template <typename T, typename TOut>
void dispatchTc(const T* A, const T* W, TOut* C, int M, int N, int K, const GemmEpilogue& ep, cudaStream_t stream) {
  const int64_t bigBlocks = ceilDiv(M, BigConfig::BM) * ceilDiv(N, BigConfig::BN);
  if (bigBlocks >= currentDeviceSmCount()) {
    runTc<T, TOut, BigConfig>(A, W, C, M, N, K, ep, stream);
  } else {
    runTc<T, TOut, SmallConfig>(A, W, C, M, N, K, ep, stream);
  }
}

template <typename TIn, typename TOut>
void runSimt(const TIn* A, const TIn* W, TOut* C, int M, int N, int K, const GemmEpilogue& ep, cudaStream_t stream) {
  const TOut* residual = static_cast<const TOut*>(ep.residual);
  const int rowsPerLaunch = kMaxGridY * 64;
  for (int r0 = 0; r0 < M; r0 += rowsPerLaunch) {
    const int rows = M - r0 < rowsPerLaunch ? M - r0 : rowsPerLaunch;
    const dim3 grid(static_cast<unsigned>(ceilDiv(N, 64)), static_cast<unsigned>(ceilDiv(rows, 64)));
    const int64_t off = static_cast<int64_t>(r0);
    gemmSimtKernel<TIn, TOut><<<grid, 256, 0, stream>>>(A + off * K, W, C + off * N, rows, N, K, ep.bias,
                                                        residual ? residual + off * N : nullptr, ep.act);
    SBERT_CUDA_CHECK_LAUNCH();
  }
}

template <typename TIn>
void simtOut(const TIn* A, const TIn* W, void* C, DType outType, int M, int N, int K, const GemmEpilogue& ep,
             cudaStream_t stream) {
  if (outType == DType::F32) {
    runSimt(A, W, static_cast<float*>(C), M, N, K, ep, stream);
  } else {
    runSimt(A, W, static_cast<TIn*>(C), M, N, K, ep, stream);
  }
}

template <typename T>
void tcOut(const T* A, const T* W, void* C, DType outType, int M, int N, int K, const GemmEpilogue& ep,
           cudaStream_t stream) {
  if (outType == DType::F32) {
    dispatchTc(A, W, static_cast<float*>(C), M, N, K, ep, stream);
  } else {
    dispatchTc(A, W, static_cast<T*>(C), M, N, K, ep, stream);
  }
}

}  // namespace

bool gemmTensorCoreEligible(const void* A, const void* W, const void* C, const void* residual, DType inType,
                            DType outType, int M, int N, int K) {
  (void)M;
  if (inType == DType::F32) return false;
  if (outType != inType && outType != DType::F32) return false;
  if (K <= 0 || N <= 0 || K % 8 != 0 || N % 8 != 0) return false;
  return aligned16(A) && aligned16(W) && aligned16(C) && (!residual || aligned16(residual));
}

void launchGemm(const void* A, const void* W, void* C, int M, int N, int K, DType inType, DType outType,
                const GemmEpilogue& ep, cudaStream_t stream, GemmPath path) {
  SBERT_CUDA_REQUIRE(M >= 0 && N > 0 && K > 0, "gemm: bad shape");
  SBERT_CUDA_REQUIRE(outType == inType || outType == DType::F32, "gemm: output dtype must be the input's or fp32");
  if (M == 0) return;
  SBERT_CUDA_REQUIRE(A && W && C, "gemm: null operand");
  const bool eligible = gemmTensorCoreEligible(A, W, C, ep.residual, inType, outType, M, N, K);
  SBERT_CUDA_REQUIRE(path != GemmPath::TensorCore || eligible,
                     "gemm: tensor-core path needs fp16/bf16, K % 8 == 0, N % 8 == 0 and 16-byte alignment");
  if (eligible && path != GemmPath::Simt) {
    if (inType == DType::F16) {
      tcOut(static_cast<const __half*>(A), static_cast<const __half*>(W), C, outType, M, N, K, ep, stream);
    } else {
      tcOut(static_cast<const __nv_bfloat16*>(A), static_cast<const __nv_bfloat16*>(W), C, outType, M, N, K, ep,
            stream);
    }
    return;
  }
  switch (inType) {
    case DType::F32:
      runSimt(static_cast<const float*>(A), static_cast<const float*>(W), static_cast<float*>(C), M, N, K, ep,
              stream);
      break;
    case DType::F16:
      simtOut(static_cast<const __half*>(A), static_cast<const __half*>(W), C, outType, M, N, K, ep, stream);
      break;
    case DType::BF16:
      simtOut(static_cast<const __nv_bfloat16*>(A), static_cast<const __nv_bfloat16*>(W), C, outType, M, N, K, ep,
              stream);
      break;
  }
}

void launchDense(const float* in, int rows, int inFeatures, const float* W, const float* bias, int outFeatures,
                 Activation act, float* out, cudaStream_t stream) {
  GemmEpilogue ep;
  ep.bias = bias;
  ep.act = act;
  launchGemm(in, W, out, rows, outFeatures, inFeatures, DType::F32, DType::F32, ep, stream, GemmPath::Simt);
}

}  // namespace cuda
}  // namespace sbert
