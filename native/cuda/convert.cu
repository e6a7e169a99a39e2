// dtype utilities: sizes and names, host-side fp32 ↔ fp16/bf16 conversion (round to nearest
// even, used to upload weights and by the tests), an elementwise device cast, and the cached
// multiprocessor count the launchers size their grids with.
//
// launchCast: dst[i] = (dstType) src[i], i < count, any pair of F32 / F16 / BF16; grid-stride,
// one element per thread per step (it runs once per batch on the token output only).
#include <atomic>

#include "cuda_common.cuh"

namespace sbert {
namespace cuda {

size_t dtypeSize(DType dt) { return dt == DType::F32 ? 4 : 2; }

const char* dtypeName(DType dt) {
  switch (dt) {
    case DType::F32: return "fp32";
    case DType::F16: return "fp16";
    case DType::BF16: return "bf16";
  }
  return "?";
}

void floatToDtypeHost(const float* src, void* dst, size_t count, DType dt) {
  switch (dt) {
    case DType::F32:
      for (size_t i = 0; i < count; ++i) static_cast<float*>(dst)[i] = src[i];
      break;
    case DType::F16:
      for (size_t i = 0; i < count; ++i) static_cast<__half*>(dst)[i] = __float2half_rn(src[i]);
      break;
    case DType::BF16:
      for (size_t i = 0; i < count; ++i) static_cast<__nv_bfloat16*>(dst)[i] = __float2bfloat16_rn(src[i]);
      break;
  }
}

void dtypeToFloatHost(const void* src, float* dst, size_t count, DType dt) {
  switch (dt) {
    case DType::F32:
      for (size_t i = 0; i < count; ++i) dst[i] = static_cast<const float*>(src)[i];
      break;
    case DType::F16:
      for (size_t i = 0; i < count; ++i) dst[i] = __half2float(static_cast<const __half*>(src)[i]);
      break;
    case DType::BF16:
      for (size_t i = 0; i < count; ++i) dst[i] = __bfloat162float(static_cast<const __nv_bfloat16*>(src)[i]);
      break;
  }
}

namespace {

template <typename TIn, typename TOut>
__global__ void castKernel(const TIn* __restrict__ src, TOut* __restrict__ dst, int64_t count) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) {
    dst[i] = fromFloat<TOut>(toFloat(src[i]));
  }
}

template <typename TIn>
void castFrom(const TIn* src, void* dst, DType dstType, int64_t count, cudaStream_t stream) {
  const int threads = 256;
  const int64_t wanted = ceilDiv(count, threads);
  const int blocks = static_cast<int>(wanted < 65536 ? wanted : 65536);
  switch (dstType) {
    case DType::F32: castKernel<<<blocks, threads, 0, stream>>>(src, static_cast<float*>(dst), count); break;
    case DType::F16: castKernel<<<blocks, threads, 0, stream>>>(src, static_cast<__half*>(dst), count); break;
    case DType::BF16:
      castKernel<<<blocks, threads, 0, stream>>>(src, static_cast<__nv_bfloat16*>(dst), count);
      break;
  }
}

}  // namespace

void launchCast(const void* src, DType srcType, void* dst, DType dstType, int64_t count, cudaStream_t stream) {
  SBERT_CUDA_REQUIRE(count >= 0, "launchCast: negative count");
  if (count == 0) return;
  SBERT_CUDA_REQUIRE(src != nullptr && dst != nullptr, "launchCast: null pointer");
  switch (srcType) {
    case DType::F32: castFrom(static_cast<const float*>(src), dst, dstType, count, stream); break;
    case DType::F16: castFrom(static_cast<const __half*>(src), dst, dstType, count, stream); break;
    case DType::BF16: castFrom(static_cast<const __nv_bfloat16*>(src), dst, dstType, count, stream); break;
  }
  SBERT_CUDA_CHECK_LAUNCH();
}

int currentDeviceSmCount() {
  static std::atomic<int> cache[64];  // zero-initialised: 0 = not read yet
  int dev = 0;
  SBERT_CUDA_CHECK(cudaGetDevice(&dev));
  if (dev >= 0 && dev < 64) {
    int v = cache[dev].load(std::memory_order_relaxed);
    if (v > 0) return v;
  }
  int sms = 0;
  SBERT_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  if (sms <= 0) sms = 1;
  if (dev >= 0 && dev < 64) cache[dev].store(sms, std::memory_order_relaxed);
  return sms;
}

}  // namespace cuda
}  // namespace sbert
