// A naive double-precision forward of a TestModel (test_plan.h), one sequence at a time, written
// from the transformers / sentence-transformers definitions (BERT family with positions from 0,
// exact-erf GELU): the reference the CPU engine tests compare with. The encoder's four Linears
// per layer go through `encoderLinear`, so a test can put a precision's exact arithmetic there
// (int8 quantization, bf16 rounding) and check the engine against it; the Dense modules after
// pooling always use the plain linear (they stay fp32 in every precision). Header only.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "test_plan.h"

namespace sbert::test {

using Mat = std::vector<double>;  // row-major

// y[rows, N] = x[rows, K] · Wᵀ + b in double.
inline Mat linearRef(const Mat& x, int rows, int K, const TestTensor& W, const TestTensor* b) {
  const int N = int(W.shape[0]);
  Mat y(size_t(rows) * N);
  for (int r = 0; r < rows; ++r)
    for (int n = 0; n < N; ++n) {
      double s = b ? b->data[n] : 0.0;
      for (int k = 0; k < K; ++k) s += x[size_t(r) * K + k] * W.data[size_t(n) * K + k];
      y[size_t(r) * N + n] = s;
    }
  return y;
}

using LinearRef = std::function<Mat(const Mat& x, int rows, int K, const TestTensor& W, const TestTensor* b)>;

inline void layerNormRef(Mat& x, int rows, int H, const TestTensor& g, const TestTensor& b, double eps) {
  for (int r = 0; r < rows; ++r) {
    double* v = &x[size_t(r) * H];
    double m = 0, var = 0;
    for (int j = 0; j < H; ++j) m += v[j];
    m /= H;
    for (int j = 0; j < H; ++j) var += (v[j] - m) * (v[j] - m);
    var /= H;
    for (int j = 0; j < H; ++j) v[j] = (v[j] - m) / std::sqrt(var + eps) * g.data[j] + b.data[j];
  }
}

struct RefOut {
  Mat tokens;    // [L, H]
  Mat sentence;  // [dim]
};

// ids (and types, null = all 0) of one sequence of L tokens.
inline RefOut forwardRef(const TestModel& spec, const int32_t* ids, const int32_t* types, int L,
                         const LinearRef& encoderLinear = linearRef) {
  const BertShape& shape = spec.shape;
  const int H = shape.hiddenSize, heads = shape.numHeads, d = H / heads, I = shape.intermediateSize;
  const double eps = shape.layerNormEps;
  auto& t = spec.tensors;
  const TestTensor* typeEmb = t.count("embeddings.token_type_embeddings.weight")
                                  ? &t.at("embeddings.token_type_embeddings.weight")
                                  : nullptr;
  Mat x(size_t(L) * H);
  for (int i = 0; i < L; ++i)
    for (int j = 0; j < H; ++j)
      x[size_t(i) * H + j] = double(t.at("embeddings.word_embeddings.weight").data[size_t(ids[i]) * H + j]) +
                             (typeEmb ? typeEmb->data[size_t(types ? types[i] : 0) * H + j] : 0.0) +
                             t.at("embeddings.position_embeddings.weight").data[size_t(i) * H + j];
  layerNormRef(x, L, H, t.at("embeddings.LayerNorm.weight"), t.at("embeddings.LayerNorm.bias"), eps);
  for (int l = 0; l < shape.numLayers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    Mat q = encoderLinear(x, L, H, t.at(p + "attention.self.query.weight"), &t.at(p + "attention.self.query.bias"));
    Mat k = encoderLinear(x, L, H, t.at(p + "attention.self.key.weight"), &t.at(p + "attention.self.key.bias"));
    Mat v = encoderLinear(x, L, H, t.at(p + "attention.self.value.weight"), &t.at(p + "attention.self.value.bias"));
    Mat ctx(size_t(L) * H, 0.0);
    for (int h = 0; h < heads; ++h)
      for (int i = 0; i < L; ++i) {
        std::vector<double> sc(L);
        double mx = -INFINITY, sum = 0;
        for (int j = 0; j < L; ++j) {
          double s = 0;
          for (int c = 0; c < d; ++c) s += q[size_t(i) * H + h * d + c] * k[size_t(j) * H + h * d + c];
          sc[j] = s / std::sqrt(double(d));
          mx = std::max(mx, sc[j]);
        }
        for (int j = 0; j < L; ++j) sum += (sc[j] = std::exp(sc[j] - mx));
        for (int j = 0; j < L; ++j)
          for (int c = 0; c < d; ++c) ctx[size_t(i) * H + h * d + c] += sc[j] / sum * v[size_t(j) * H + h * d + c];
      }
    Mat a = encoderLinear(ctx, L, H, t.at(p + "attention.output.dense.weight"), &t.at(p + "attention.output.dense.bias"));
    for (size_t i = 0; i < a.size(); ++i) a[i] += x[i];
    layerNormRef(a, L, H, t.at(p + "attention.output.LayerNorm.weight"), t.at(p + "attention.output.LayerNorm.bias"), eps);
    Mat f = encoderLinear(a, L, H, t.at(p + "intermediate.dense.weight"), &t.at(p + "intermediate.dense.bias"));
    for (double& z : f) z = 0.5 * z * std::erfc(-z / std::sqrt(2.0));
    Mat o = encoderLinear(f, L, I, t.at(p + "output.dense.weight"), &t.at(p + "output.dense.bias"));
    for (size_t i = 0; i < o.size(); ++i) o[i] += a[i];
    layerNormRef(o, L, H, t.at(p + "output.LayerNorm.weight"), t.at(p + "output.LayerNorm.bias"), eps);
    x = o;
  }
  RefOut out;
  out.tokens = x;
  Mat s;
  for (PoolMode m : spec.pooling) {
    for (int j = 0; j < H; ++j) {
      double v = 0, w = 0;
      switch (m) {
        case PoolMode::Cls: v = x[j]; break;
        case PoolMode::LastToken: v = x[size_t(L - 1) * H + j]; break;
        case PoolMode::Max:
          v = -INFINITY;
          for (int i = 0; i < L; ++i) v = std::max(v, x[size_t(i) * H + j]);
          break;
        case PoolMode::Mean:
          for (int i = 0; i < L; ++i) v += x[size_t(i) * H + j];
          v /= L;
          break;
        case PoolMode::MeanSqrtLen:
          for (int i = 0; i < L; ++i) v += x[size_t(i) * H + j];
          v /= std::sqrt(double(L));
          break;
        case PoolMode::WeightedMean:
          for (int i = 0; i < L; ++i) v += (i + 1) * x[size_t(i) * H + j], w += i + 1;
          v /= w;
          break;
      }
      s.push_back(v);
    }
  }
  for (const TestDense& dn : spec.dense) {
    Mat y = linearRef(s, 1, dn.inFeatures, dn.weight, dn.bias.data.empty() ? nullptr : &dn.bias);
    for (double& z : y) {
      if (dn.activation == Activation::Tanh) z = std::tanh(z);
    }
    s = y;
  }
  if (spec.normalize) {
    double nrm = 0;
    for (double z : s) nrm += z * z;
    nrm = std::max(std::sqrt(nrm), 1e-12);
    for (double& z : s) z /= nrm;
  }
  out.sentence = s;
  return out;
}

}  // namespace sbert::test
