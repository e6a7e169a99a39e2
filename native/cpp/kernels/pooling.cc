#include "pooling.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/thread_pool.h"

namespace sbert {

void pool(const float* tokens, int H, const int32_t* cuSeqlens, int n,
          const std::vector<PoolMode>& modes, float* out, int skipTokens) {
  if (n <= 0 || H <= 0 || modes.empty()) return;
  const int64_t outDim = int64_t(H) * modes.size();
  const int64_t skip = std::max(skipTokens, 0);
  parallelFor(0, n, 1, [&](int64_t s0, int64_t s1) {
    std::vector<double> acc(H);
    for (int64_t s = s0; s < s1; ++s) {
      const int64_t t0 = cuSeqlens[s];
      const int64_t L = cuSeqlens[s + 1] - t0;
      const float* x = tokens + t0 * H;
      const int64_t p = std::min(skip, std::max<int64_t>(L, 0));  // first pooled token
      const int64_t count = L - p;                                 // tokens pooled
      for (size_t m = 0; m < modes.size(); ++m) {
        float* o = out + s * outDim + int64_t(m) * H;
        if (L <= 0) {
          std::fill(o, o + H, 0.f);
          continue;
        }
        if (count == 0 && modes[m] != PoolMode::Cls) {
          // Every token is masked: sentence-transformers' max sees only its -1e9 fill, the
          // sums are 0 over a clamped count, and the last-token gather is multiplied by 0.
          std::fill(o, o + H, modes[m] == PoolMode::Max ? -1e9f : 0.f);
          continue;
        }
        switch (modes[m]) {
          case PoolMode::Cls:
            std::copy(x, x + H, o);
            break;
          case PoolMode::LastToken:
            std::copy(x + (L - 1) * H, x + L * H, o);
            break;
          case PoolMode::Max:
            std::copy(x + p * H, x + (p + 1) * H, o);
            for (int64_t i = p + 1; i < L; ++i) {
              const float* xi = x + i * H;
              for (int j = 0; j < H; ++j) o[j] = std::max(o[j], xi[j]);
            }
            break;
          case PoolMode::Mean:
          case PoolMode::MeanSqrtLen: {
            std::fill(acc.begin(), acc.end(), 0.0);
            for (int64_t i = p; i < L; ++i) {
              const float* xi = x + i * H;
              for (int j = 0; j < H; ++j) acc[j] += xi[j];
            }
            const float div = modes[m] == PoolMode::Mean ? float(count) : std::sqrt(float(count));
            for (int j = 0; j < H; ++j) o[j] = static_cast<float>(acc[j]) / div;
            break;
          }
          case PoolMode::WeightedMean: {
            std::fill(acc.begin(), acc.end(), 0.0);
            for (int64_t i = p; i < L; ++i) {
              const float* xi = x + i * H;
              const double w = double(i + 1);
              for (int j = 0; j < H; ++j) acc[j] += w * xi[j];
            }
            // Σ_{i=p}^{L-1} (i+1) = (L(L+1) − p(p+1)) / 2
            const float div = float((double(L) * double(L + 1) - double(p) * double(p + 1)) / 2.0);
            for (int j = 0; j < H; ++j) o[j] = static_cast<float>(acc[j]) / div;
            break;
          }
        }
      }
    }
  });
}

}  // namespace sbert

// ---- training ----------------------------------------------------------------------------

namespace sbert {

void poolBackward(const float* tokens, int H, const int32_t* cuSeqlens, int n,
                  const std::vector<PoolMode>& modes, const float* dOut, float* dTokens) {
  if (n <= 0 || H <= 0) return;
  const int64_t outDim = int64_t(H) * modes.size();
  parallelFor(0, n, 1, [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s) {
      const int64_t t0 = cuSeqlens[s];
      const int64_t L = cuSeqlens[s + 1] - t0;
      const float* x = tokens + t0 * H;
      float* dx = dTokens + t0 * H;
      std::fill(dx, dx + L * H, 0.f);
      if (L <= 0) continue;
      for (size_t m = 0; m < modes.size(); ++m) {
        const float* g = dOut + s * outDim + int64_t(m) * H;
        switch (modes[m]) {
          case PoolMode::Cls:
            for (int j = 0; j < H; ++j) dx[j] += g[j];
            break;
          case PoolMode::LastToken:
            for (int j = 0; j < H; ++j) dx[(L - 1) * H + j] += g[j];
            break;
          case PoolMode::Max:
            // The gradient goes to the first token holding the maximum (torch's max indices).
            for (int j = 0; j < H; ++j) {
              int64_t best = 0;
              for (int64_t i = 1; i < L; ++i)
                if (x[i * H + j] > x[best * H + j]) best = i;
              dx[best * H + j] += g[j];
            }
            break;
          case PoolMode::Mean:
          case PoolMode::MeanSqrtLen: {
            const float div = modes[m] == PoolMode::Mean ? float(L) : std::sqrt(float(L));
            for (int64_t i = 0; i < L; ++i)
              for (int j = 0; j < H; ++j) dx[i * H + j] += g[j] / div;
            break;
          }
          case PoolMode::WeightedMean: {
            const float div = float(double(L) * double(L + 1) / 2.0);
            for (int64_t i = 0; i < L; ++i) {
              const float w = float(i + 1) / div;
              for (int j = 0; j < H; ++j) dx[i * H + j] += w * g[j];
            }
            break;
          }
        }
      }
    }
  });
}

}  // namespace sbert
