// Pooling (all sentence-transformers modes, concatenated) + optional L2 normalize, fused; and a
// standalone row L2-normalize for after the Dense modules.
//
//   out[i, m·H + h] = mode_m(tokens[cuSeqlens[i] .. cuSeqlens[i+1]), h)
//     Cls         tokens[start, h]
//     Max         max_t tokens[t, h]
//     Mean        Σ_t tokens[t, h] / len
//     MeanSqrtLen Σ_t tokens[t, h] / √len
//     WeightedMean Σ_t (t − start + 1)·tokens[t, h] / Σ (1..len)
//     LastToken   tokens[end − 1, h]
//   then, if normalize: out[i, :] /= max(‖out[i, :]‖₂, 1e-12)
//   skipTokens = p > 0 (include_prompt: false) leaves tokens start .. start+p-1 out of every
//   mode but Cls (t runs over [start + p, end), weights stay t − start + 1); a sequence with no
//   token left gives -1e9 for Max and 0 for the others, as sentence-transformers (see
//   native/cpp/kernels/pooling.h, the reference).
//
// tokens [T, H] fp16 / bf16 / fp32, cuSeqlens [n + 1] (device), out [n, H·modes] fp32.
// One block per sequence (256 threads over h, coalesced row reads; every mode accumulated in
// the same pass over the tokens, fp32). The normalize pass re-reads only the values the same
// thread wrote, after a block-wide sum of squares.
#include "cuda_common.cuh"

namespace sbert {
namespace cuda {
namespace {

constexpr int kMaxModes = 6;

struct ModeList {
  int count;
  PoolMode modes[kMaxModes];
};

template <typename T>
__global__ void __launch_bounds__(256) poolKernel(const T* __restrict__ tokens, const int32_t* __restrict__ cuSeqlens,
                                                  int H, ModeList ml, bool normalize, int skip,
                                                  float* __restrict__ out) {
  __shared__ float scratch[32];
  const int seq = blockIdx.x;
  const int start = __ldg(cuSeqlens + seq);
  const int end = __ldg(cuSeqlens + seq + 1);
  const int len = end - start;
  const int width = H * ml.count;
  float* o = out + static_cast<int64_t>(seq) * width;
  const int from = len > 0 ? min(skip, len) : 0;  // first pooled token
  const int count = len > 0 ? len - from : 0;      // tokens pooled
  const float fl = static_cast<float>(count > 0 ? count : 1);
  // Σ_{j=from}^{len-1} (j + 1), exact in int64 before the conversion.
  const int64_t wTotal = (static_cast<int64_t>(len) * (len + 1) - static_cast<int64_t>(from) * (from + 1)) / 2;
  const float weightSum = static_cast<float>(count > 0 ? wTotal : 1);
  float sq = 0.f;
  for (int h = threadIdx.x; h < H; h += blockDim.x) {
    float sum = 0.f, wsum = 0.f, mx = -INFINITY;
    const T* p = tokens + static_cast<int64_t>(start) * H + h;
    for (int j = from; j < len; ++j) {
      const float v = toFloat(p[static_cast<int64_t>(j) * H]);
      sum += v;
      wsum = fmaf(static_cast<float>(j + 1), v, wsum);
      mx = fmaxf(mx, v);
    }
    const float first = len > 0 ? toFloat(p[0]) : 0.f;
    const float last = count > 0 ? toFloat(p[static_cast<int64_t>(len - 1) * H]) : 0.f;
    if (count == 0) mx = len == 0 ? 0.f : -1e9f;
    for (int m = 0; m < ml.count; ++m) {
      float v = 0.f;
      switch (ml.modes[m]) {
        case PoolMode::Cls: v = first; break;
        case PoolMode::Max: v = mx; break;
        case PoolMode::Mean: v = sum / fl; break;
        case PoolMode::MeanSqrtLen: v = sum / sqrtf(fl); break;
        case PoolMode::WeightedMean: v = wsum / weightSum; break;
        case PoolMode::LastToken: v = last; break;
      }
      o[m * H + h] = v;
      sq += v * v;
    }
  }
  if (!normalize) return;  // uniform across the block
  const float total = blockSum(sq, scratch);
  const float inv = 1.f / fmaxf(sqrtf(total), 1e-12f);
  for (int h = threadIdx.x; h < H; h += blockDim.x) {
    for (int m = 0; m < ml.count; ++m) o[m * H + h] *= inv;
  }
}

__global__ void __launch_bounds__(256) l2NormalizeKernel(float* __restrict__ x, int cols) {
  __shared__ float scratch[32];
  float* row = x + static_cast<int64_t>(blockIdx.x) * cols;
  float sq = 0.f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) sq += row[c] * row[c];
  const float inv = 1.f / fmaxf(sqrtf(blockSum(sq, scratch)), 1e-12f);
  for (int c = threadIdx.x; c < cols; c += blockDim.x) row[c] *= inv;
}

}  // namespace

void launchPool(const void* tokens, DType dt, const int32_t* cuSeqlens, int numSequences, int hidden,
                const std::vector<PoolMode>& modes, bool normalize, float* out, cudaStream_t stream,
                int skipTokens) {
  SBERT_CUDA_REQUIRE(numSequences >= 0 && hidden > 0, "pool: bad shape");
  SBERT_CUDA_REQUIRE(skipTokens >= 0, "pool: skipTokens must be >= 0");
  SBERT_CUDA_REQUIRE(!modes.empty() && modes.size() <= kMaxModes, "pool: 1..6 pooling modes");
  if (numSequences == 0) return;
  SBERT_CUDA_REQUIRE(tokens && cuSeqlens && out, "pool: null input/output");
  ModeList ml{};
  ml.count = static_cast<int>(modes.size());
  for (size_t i = 0; i < modes.size(); ++i) ml.modes[i] = modes[i];
  const dim3 grid(static_cast<unsigned>(numSequences));
  switch (dt) {
    case DType::F32:
      poolKernel<<<grid, 256, 0, stream>>>(static_cast<const float*>(tokens), cuSeqlens, hidden, ml, normalize,
                                           skipTokens, out);
      break;
    case DType::F16:
      poolKernel<<<grid, 256, 0, stream>>>(static_cast<const __half*>(tokens), cuSeqlens, hidden, ml, normalize,
                                           skipTokens, out);
      break;
    case DType::BF16:
      poolKernel<<<grid, 256, 0, stream>>>(static_cast<const __nv_bfloat16*>(tokens), cuSeqlens, hidden, ml,
                                           normalize, skipTokens, out);
      break;
  }
  SBERT_CUDA_CHECK_LAUNCH();
}

void launchL2Normalize(float* x, int64_t rows, int cols, cudaStream_t stream) {
  SBERT_CUDA_REQUIRE(rows >= 0 && cols > 0, "l2Normalize: bad shape");
  if (rows == 0) return;
  SBERT_CUDA_REQUIRE(x != nullptr, "l2Normalize: null pointer");
  SBERT_CUDA_REQUIRE(rows <= 0x7fffffff, "l2Normalize: too many rows");
  l2NormalizeKernel<<<static_cast<unsigned>(rows), 256, 0, stream>>>(x, cols);
  SBERT_CUDA_CHECK_LAUNCH();
}

}  // namespace cuda
}  // namespace sbert
