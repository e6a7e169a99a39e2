// CUDA kernel timings at BERT-base shapes (hidden 768, 12 heads, ffn 3072; 16,384 tokens as
// 128 × 128 and 1,024 × 16): the four GEMMs of a layer (with their fused epilogues), attention
// and residual + LayerNorm, in fp16, bf16 and fp32; median of 20 launches by CUDA events, with
// TFLOP/s or GB/s. Never asserted (correctness: native/cpp/tests/cuda_ops_test.cc).
//   build/bench/cuda_kernels_bench     (bench/device-check.sh's kernel-bench step)
// Without CUDA compiled in, or without a device, it prints "skipped: no CUDA device", exits 0.
#include <cstdio>

#ifndef SBERT_WITH_CUDA

int main() {
  std::printf("cuda_kernels_bench: skipped: no CUDA device (this build has no CUDA engine)\n");
  return 0;
}

#else

#include <algorithm>
#include <random>
#include <vector>

#include "cuda_test_util.h"
#include "kernels/activation.h"

using namespace sbert;
using namespace sbert::test;
using sbert::cuda::DType;

namespace {

template <typename F>
float medianMs(F&& fn, int reps = 20) {
  cudaEvent_t a, b;
  SBERT_CUDA_CHECK(cudaEventCreate(&a));
  SBERT_CUDA_CHECK(cudaEventCreate(&b));
  for (int i = 0; i < 3; ++i) fn();
  std::vector<float> ms;
  for (int i = 0; i < reps; ++i) {
    SBERT_CUDA_CHECK(cudaEventRecord(a));
    fn();
    SBERT_CUDA_CHECK(cudaEventRecord(b));
    SBERT_CUDA_CHECK(cudaEventSynchronize(b));
    float x = 0;
    SBERT_CUDA_CHECK(cudaEventElapsedTime(&x, a, b));
    ms.push_back(x);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

void bench() {
  std::printf("# bench (median of 20, CUDA events; BERT-base shapes)\n");
  const int H = 768, F = 3072, heads = 12;
  for (int len : {128, 16}) {
    const int n = 16384 / len;
    const int T = n * len;
    std::vector<int> lens(n, len);
    auto cu = test::cuSeqlensOf(lens);
    auto dCu = uploadInts(cu);
    std::mt19937 rng(1);
    for (DType dt : {DType::F16, DType::BF16, DType::F32}) {
      auto x = upload(test::randomVec(rng, size_t(T) * F), dt);
      auto w = upload(test::randomVec(rng, size_t(F) * H, -0.05f, 0.05f), dt);
      auto qkv = upload(test::randomVec(rng, size_t(T) * 3 * H), dt);
      auto bias = upload(test::randomVec(rng, F), DType::F32);
      auto g = upload(test::randomVec(rng, H), DType::F32);
      DevBuf out(size_t(T) * F * cuda::dtypeSize(dt));
      struct G { const char* name; int N, K; Activation act; };
      for (const G& gm : {G{"qkv", 3 * H, H, Activation::Identity}, G{"attn-out", H, H, Activation::Identity},
                          G{"ffn-up+gelu", F, H, Activation::Gelu}, G{"ffn-down", H, F, Activation::Identity}}) {
        cuda::GemmEpilogue ep;
        ep.bias = bias->as<float>();
        ep.act = gm.act;
        const float ms = medianMs([&] { cuda::launchGemm(x->p, w->p, out.p, T, gm.N, gm.K, dt, dt, ep, nullptr); });
        std::printf("bench gemm %-4s %-12s M=%-6d N=%-5d K=%-5d %8.3f ms %8.1f TFLOP/s\n", cuda::dtypeName(dt),
                    gm.name, T, gm.N, gm.K, ms, 2.0 * T * gm.N * gm.K / (ms * 1e-3) / 1e12);
      }
      const float ams = medianMs([&] {
        cuda::launchAttention(qkv->p, dCu->as<int32_t>(), n, T, heads, H / heads, cuda::AttentionBias{}, out.p, dt,
                              nullptr);
      });
      const double aflops = 4.0 * n * double(len) * len * H;
      std::printf("bench attention %-4s %d seqs × %d, 12 heads, D=64 %8.3f ms %8.1f TFLOP/s\n", cuda::dtypeName(dt), n,
                  len, ams, aflops / (ams * 1e-3) / 1e12);
      const float lms = medianMs([&] {
        cuda::launchLayerNorm(qkv->p, x->p, g->as<float>(), g->as<float>(), T, H, 1e-12f, out.p, dt, nullptr);
      });
      std::printf("bench layerNorm+residual %-4s rows=%d cols=%d %8.3f ms %8.1f GB/s\n", cuda::dtypeName(dt), T, H, lms,
                  3.0 * T * H * cuda::dtypeSize(dt) / (lms * 1e-3) / 1e9);
    }
  }
}

}  // namespace

int main() {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    std::printf("cuda_kernels_bench: skipped: no CUDA device (%s)\n",
                err != cudaSuccess ? cudaGetErrorString(err) : "the driver reports none");
    return 0;
  }
  cudaDeviceProp prop;
  SBERT_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("# cuda_kernels_bench, device 0: %s, compute capability %d.%d, %d SMs\n", prop.name, prop.major,
              prop.minor, prop.multiProcessorCount);
  try {
    bench();
  } catch (const std::exception& e) {
    std::printf("bench threw: %s\n", e.what());
    return 1;
  }
  return 0;
}

#endif  // SBERT_WITH_CUDA
