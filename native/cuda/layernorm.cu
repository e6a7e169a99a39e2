// Residual add + LayerNorm, fused (the post-attention and post-FFN "Add & Norm" of BERT):
//
//   out[r, :] = LN(x[r, :] + residual[r, :]) · γ + β      (residual may be null)
//
// Shapes: x, residual, out [rows, cols] in fp16 / bf16 / fp32 (one dtype); γ, β fp32 [cols].
// Math fp32: the sum x + residual is formed in fp32 (never rounded to 16 bits), two-pass
// variance from registers. out may alias x or residual: every element is read and written by
// the same thread, reads before writes (plain loads, not the read-only cache).
//
// Kernels: a warp per row when cols % 8 == 0, cols ≤ 1024 and the pointers are 16-byte aligned
// (16-byte vector loads/stores, up to 4 chunks of 8 per lane, 4 rows per 128-thread block);
// otherwise a block per row with the row staged in shared memory (any cols up to 12,000).
#include "cuda_common.cuh"

namespace sbert {
namespace cuda {
namespace {

template <int CH, typename T>
__global__ void __launch_bounds__(128) layerNormWarpKernel(const T* x, const T* residual,
                                                           const float* __restrict__ gamma,
                                                           const float* __restrict__ beta, int64_t rows,
                                                           int cols, float eps, T* out) {
  const int lane = threadIdx.x & 31;
  const int64_t r = static_cast<int64_t>(blockIdx.x) * (blockDim.x >> 5) + (threadIdx.x >> 5);
  if (r >= rows) return;
  const T* xr = x + r * cols;
  const T* rr = residual ? residual + r * cols : nullptr;
  float v[CH][8];
  float sum = 0.f;
#pragma unroll
  for (int c = 0; c < CH; ++c) {
    const int base = (c * 32 + lane) * 8;
    if (base < cols) {
      load8rw(xr + base, v[c]);
      if (rr) {
        float a[8];
        load8rw(rr + base, a);
#pragma unroll
        for (int j = 0; j < 8; ++j) v[c][j] += a[j];
      }
#pragma unroll
      for (int j = 0; j < 8; ++j) sum += v[c][j];
    } else {
#pragma unroll
      for (int j = 0; j < 8; ++j) v[c][j] = 0.f;
    }
  }
  const float mean = warpSum(sum) / cols;
  float sq = 0.f;
#pragma unroll
  for (int c = 0; c < CH; ++c) {
    const int base = (c * 32 + lane) * 8;
    if (base < cols) {
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        const float d = v[c][j] - mean;
        sq += d * d;
      }
    }
  }
  const float rstd = rsqrtf(warpSum(sq) / cols + eps);
  T* o = out + r * cols;
#pragma unroll
  for (int c = 0; c < CH; ++c) {
    const int base = (c * 32 + lane) * 8;
    if (base < cols) {
      float g[8], b[8], y[8];
      load8(gamma + base, g);
      load8(beta + base, b);
#pragma unroll
      for (int j = 0; j < 8; ++j) y[j] = (v[c][j] - mean) * rstd * g[j] + b[j];
      store8(o + base, y);
    }
  }
}

template <typename T>
__global__ void __launch_bounds__(256) layerNormBlockKernel(const T* x, const T* residual,
                                                            const float* __restrict__ gamma,
                                                            const float* __restrict__ beta, int cols, float eps,
                                                            T* out) {
  extern __shared__ float row[];  // [cols] + 32 scratch
  float* scratch = row + cols;
  const int64_t r = blockIdx.x;
  const T* xr = x + r * cols;
  const T* rr = residual ? residual + r * cols : nullptr;
  float sum = 0.f;
  for (int h = threadIdx.x; h < cols; h += blockDim.x) {
    float v = toFloat(xr[h]);
    if (rr) v += toFloat(rr[h]);
    row[h] = v;
    sum += v;
  }
  const float mean = blockSum(sum, scratch) / cols;
  float sq = 0.f;
  for (int h = threadIdx.x; h < cols; h += blockDim.x) {
    const float d = row[h] - mean;
    sq += d * d;
  }
  const float rstd = rsqrtf(blockSum(sq, scratch) / cols + eps);
  T* o = out + r * cols;
  for (int h = threadIdx.x; h < cols; h += blockDim.x) {
    o[h] = fromFloat<T>((row[h] - mean) * rstd * __ldg(gamma + h) + __ldg(beta + h));
  }
}

template <typename T>
void launchTyped(const T* x, const T* residual, const float* gamma, const float* beta, int64_t rows, int cols,
                 float eps, T* out, cudaStream_t stream) {
  const bool vec = cols % 8 == 0 && cols <= 1024 && aligned16(x) && (!residual || aligned16(residual)) &&
                   aligned16(out) && aligned16(gamma) && aligned16(beta);
  if (vec) {
    const int64_t blocks = ceilDiv(rows, 4);
    SBERT_CUDA_REQUIRE(blocks <= 0x7fffffff, "layerNorm: too many rows for one launch");
    const dim3 grid(static_cast<unsigned>(blocks));
    switch ((cols + 255) / 256) {
      case 1: layerNormWarpKernel<1><<<grid, 128, 0, stream>>>(x, residual, gamma, beta, rows, cols, eps, out); break;
      case 2: layerNormWarpKernel<2><<<grid, 128, 0, stream>>>(x, residual, gamma, beta, rows, cols, eps, out); break;
      case 3: layerNormWarpKernel<3><<<grid, 128, 0, stream>>>(x, residual, gamma, beta, rows, cols, eps, out); break;
      default: layerNormWarpKernel<4><<<grid, 128, 0, stream>>>(x, residual, gamma, beta, rows, cols, eps, out); break;
    }
  } else {
    const size_t smem = (static_cast<size_t>(cols) + 32) * sizeof(float);
    SBERT_CUDA_REQUIRE(smem <= 48 * 1024, "layerNorm: too many columns (max 12,000)");
    SBERT_CUDA_REQUIRE(rows <= 0x7fffffff, "layerNorm: too many rows for one launch");
    layerNormBlockKernel<<<static_cast<unsigned>(rows), 256, smem, stream>>>(x, residual, gamma, beta, cols, eps, out);
  }
  SBERT_CUDA_CHECK_LAUNCH();
}

}  // namespace

void launchLayerNorm(const void* x, const void* residual, const float* gamma, const float* beta, int64_t rows,
                     int cols, float eps, void* out, DType dt, cudaStream_t stream) {
  SBERT_CUDA_REQUIRE(rows >= 0 && cols > 0, "layerNorm: bad shape");
  if (rows == 0) return;
  SBERT_CUDA_REQUIRE(x && out && gamma && beta, "layerNorm: null pointer");
  switch (dt) {
    case DType::F32:
      launchTyped(static_cast<const float*>(x), static_cast<const float*>(residual), gamma, beta, rows, cols, eps,
                  static_cast<float*>(out), stream);
      break;
    case DType::F16:
      launchTyped(static_cast<const __half*>(x), static_cast<const __half*>(residual), gamma, beta, rows, cols, eps,
                  static_cast<__half*>(out), stream);
      break;
    case DType::BF16:
      launchTyped(static_cast<const __nv_bfloat16*>(x), static_cast<const __nv_bfloat16*>(residual), gamma, beta,
                  rows, cols, eps, static_cast<__nv_bfloat16*>(out), stream);
      break;
  }
}

}  // namespace cuda
}  // namespace sbert
