// Varlen multi-head attention, see attention.h.
//
// Per (sequence, head) pair the thread gathers Kᵀ [d][sp] and V [s][dp] (sp = s rounded up to
// 16, dp = d rounded up to 16, zero padded) into its scratch, then walks the queries in blocks
// of QB = 4: a register-blocked score kernel (4 queries × 2W keys per pass, one sequential FMA
// chain over the head dimension per score), softmax on each score row, and a register-blocked
// P·V kernel (4 queries × 2W output columns per pass, one sequential chain over keys). The body
// is written once with GCC/Clang vector extensions of W floats and compiled three times —
// AVX-512 (W = 16), AVX2+FMA (W = 8) and baseline (W = 4) — behind the runtime dispatch; each
// query's arithmetic is the same whichever block or batch it sits in.
#include "attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "common/thread_pool.h"
#include "dropout.h"
#include "cpu_features.h"
#include "simd_math.h"

#define SBERT_INLINE __attribute__((always_inline)) inline

// The vector types never cross a call boundary (everything is inlined into the per-ISA entry
// points, and helpers take them by reference), so GCC's by-value ABI warning does not apply.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace sbert {
namespace {

constexpr int kPad = 16;  // score rows and V rows are padded to a multiple of this
constexpr int QB = 4;     // queries per block

// W-float vectors: 16 (AVX-512), 8 (AVX2) or 4 (baseline SSE2 / NEON), so the 4×2 accumulator
// blocks below always fit in registers.
template <int W>
struct Vec {
  typedef float f __attribute__((vector_size(4 * W)));
  typedef int32_t i __attribute__((vector_size(4 * W)));
};

template <int W>
SBERT_INLINE typename Vec<W>::f vload(const float* p) {
  typename Vec<W>::f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <int W>
SBERT_INLINE void vstore(float* p, const typename Vec<W>::f& v) {
  std::memcpy(p, &v, sizeof v);
}
// Splat via a lane-0 shuffle: compiles to one (embedded) broadcast, where an initializer list or
// `v{} + x` make GCC build the vector lane by lane or add a zero.
template <int W>
SBERT_INLINE typename Vec<W>::f vset(float x) {
  using F = typename Vec<W>::f;
#if defined(__clang__)
  const F v = {x};
  if constexpr (W == 16) {
    return __builtin_shufflevector(v, v, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  } else if constexpr (W == 8) {
    return __builtin_shufflevector(v, v, 0, 0, 0, 0, 0, 0, 0, 0);
  } else {
    return __builtin_shufflevector(v, v, 0, 0, 0, 0);
  }
#else
  return __builtin_shuffle(F{x}, typename Vec<W>::i{});
#endif
}
// Lanes [valid, W) of v replaced by −inf (padding keys get probability 0). Done in registers:
// writing the padding as scalars and then loading the row as a vector stalled store forwarding.
template <int W>
SBERT_INLINE typename Vec<W>::f maskKeys(const typename Vec<W>::f& v, int valid) {
  using I = typename Vec<W>::i;
  I lane;
  for (int l = 0; l < W; ++l) lane[l] = l;
  const I limit = __builtin_convertvector(vset<W>(float(valid)), I);
  return lane < limit ? v : vset<W>(-std::numeric_limits<float>::infinity());
}
template <int W>
SBERT_INLINE typename Vec<W>::f vmax(const typename Vec<W>::f& a, const typename Vec<W>::f& b) {
  return a > b ? a : b;
}

// exp for softmax inputs (x ≤ 0 after max subtraction; any x works): simd_math.h's vector exp
// (≈ 1 ulp; x < −87.33 → 0; capped at x = 88).
template <int W>
SBERT_INLINE typename Vec<W>::f vexp(const typename Vec<W>::f& in) {
  return simd::expGeneric<typename Vec<W>::f, typename Vec<W>::i>(in);
}

struct Scratch {
  std::vector<float> kt;  // [d][sp]
  std::vector<float> v;   // [s][dp]
  std::vector<float> p;   // [QB][sp]
  std::vector<float> zero;
};

struct Args {
  const float* qkv;
  const int32_t* cu;
  int heads, d;
  float scale;
  ScoreBias bias;
  float* out;
};

template <int W>
SBERT_INLINE void attendPair(const Args& a, int seq, int head, Scratch& sc) {
  using F = typename Vec<W>::f;
  const int64_t t0 = a.cu[seq];
  const int s = a.cu[seq + 1] - a.cu[seq];
  if (s <= 0) return;
  const int d = a.d;
  const int64_t H = int64_t(a.heads) * d, ld = 3 * H;
  const int sp = (s + kPad - 1) / kPad * kPad;
  const int dp = (d + kPad - 1) / kPad * kPad;
  if (sc.kt.size() < size_t(d) * sp) sc.kt.resize(size_t(d) * sp);
  if (sc.v.size() < size_t(s) * dp) sc.v.resize(size_t(s) * dp);
  if (sc.p.size() < size_t(QB) * sp) sc.p.resize(size_t(QB) * sp);
  if (sc.zero.size() < size_t(d)) sc.zero.assign(size_t(d), 0.f);
  float* kt = sc.kt.data();
  float* vh = sc.v.data();
  float* pr = sc.p.data();

  // Gather Kᵀ and V for this head.
  const float* kBase = a.qkv + t0 * ld + H + int64_t(head) * d;
  const float* vBase = kBase + H;
  for (int j = 0; j < s; ++j) {
    const float* kj = kBase + j * ld;
    for (int c = 0; c < d; ++c) kt[int64_t(c) * sp + j] = kj[c];
    float* vj = vh + int64_t(j) * dp;
    std::memcpy(vj, vBase + j * ld, sizeof(float) * d);
    for (int c = d; c < dp; ++c) vj[c] = 0.f;
  }
  for (int c = 0; c < d; ++c)
    for (int j = s; j < sp; ++j) kt[int64_t(c) * sp + j] = 0.f;

  const float scale = a.scale;
  for (int i0 = 0; i0 < s; i0 += QB) {
    const int qn = std::min(QB, s - i0);
    const float* q[QB];
    for (int b = 0; b < QB; ++b)
      q[b] = b < qn ? a.qkv + (t0 + i0 + b) * ld + int64_t(head) * d : sc.zero.data();

    // Scores: pr[b][j] = (q_b · k_j) · scale (+ bias by key − query distance). The bias row of
    // query i starts at column maxLen − 1 − i (key 0); its zero tail covers the padded keys.
    const float* biasRow[QB];
    for (int b = 0; b < QB; ++b) {
      biasRow[b] = a.bias.byDelta && b < qn
                       ? a.bias.byDelta + int64_t(head) * a.bias.stride + (a.bias.maxLen - 1 - (i0 + b))
                       : nullptr;
    }
    int jb = 0;
    for (; jb + 2 * W <= sp; jb += 2 * W) {
      F acc[QB][2];
      for (int b = 0; b < QB; ++b) acc[b][0] = acc[b][1] = F{};
      for (int c = 0; c < d; ++c) {
        const float* kr = kt + int64_t(c) * sp + jb;
        const F k0 = vload<W>(kr), k1 = vload<W>(kr + W);
        for (int b = 0; b < QB; ++b) {
          const F qv = vset<W>(q[b][c]);
          acc[b][0] += qv * k0;
          acc[b][1] += qv * k1;
        }
      }
      for (int b = 0; b < QB; ++b) {
        F s0 = acc[b][0] * scale, s1 = acc[b][1] * scale;
        if (biasRow[b]) {
          s0 += vload<W>(biasRow[b] + jb);
          s1 += vload<W>(biasRow[b] + jb + W);
        }
        vstore<W>(pr + b * sp + jb, maskKeys<W>(s0, s - jb));
        vstore<W>(pr + b * sp + jb + W, maskKeys<W>(s1, s - jb - W));
      }
    }
    if (jb < sp) {  // one block of W keys left
      F acc[QB];
      for (int b = 0; b < QB; ++b) acc[b] = F{};
      for (int c = 0; c < d; ++c) {
        const F k0 = vload<W>(kt + int64_t(c) * sp + jb);
        for (int b = 0; b < QB; ++b) acc[b] += vset<W>(q[b][c]) * k0;
      }
      for (int b = 0; b < QB; ++b) {
        F s0 = acc[b] * scale;
        if (biasRow[b]) s0 += vload<W>(biasRow[b] + jb);
        vstore<W>(pr + b * sp + jb, maskKeys<W>(s0, s - jb));
      }
    }

    // Softmax per row (padding keys are −inf → probability 0), normalised by × 1/sum.
    for (int b = 0; b < qn; ++b) {
      float* row = pr + b * sp;
      F m = vload<W>(row);
      for (int j = W; j < sp; j += W) m = vmax<W>(m, vload<W>(row + j));
      float mxs = m[0];
      for (int l = 1; l < W; ++l) mxs = std::max(mxs, m[l]);
      const F mx = vset<W>(mxs);
      F sum = F{};
      for (int j = 0; j < sp; j += W) {
        const F e = vexp<W>(vload<W>(row + j) - mx);
        vstore<W>(row + j, e);
        sum += e;
      }
      float total = 0.f;  // lanes in a fixed order
      for (int l = 0; l < W; ++l) total += sum[l];
      const float inv = 1.f / total;
      for (int j = 0; j < sp; j += W) vstore<W>(row + j, vload<W>(row + j) * inv);
    }

    // Output: o_b = Σ_j p[b][j] · v_j.
    float* o[QB];
    for (int b = 0; b < QB; ++b) o[b] = a.out + (t0 + i0 + b) * H + int64_t(head) * d;
    for (int cb = 0; cb < d; cb += 2 * W) {  // V rows are padded to dp ≥ cb + 2W or cb + W
      const bool two = cb + 2 * W <= dp;
      F acc[QB][2];
      for (int b = 0; b < QB; ++b) acc[b][0] = acc[b][1] = F{};
      if (two) {
        for (int j = 0; j < s; ++j) {
          const float* vr = vh + int64_t(j) * dp + cb;
          const F v0 = vload<W>(vr), v1 = vload<W>(vr + W);
          for (int b = 0; b < QB; ++b) {
            const F pv = vset<W>(pr[b * sp + j]);
            acc[b][0] += pv * v0;
            acc[b][1] += pv * v1;
          }
        }
      } else {
        for (int j = 0; j < s; ++j) {
          const F v0 = vload<W>(vh + int64_t(j) * dp + cb);
          for (int b = 0; b < QB; ++b) acc[b][0] += vset<W>(pr[b * sp + j]) * v0;
        }
      }
      const int cols = std::min(two ? 2 * W : W, d - cb);
      for (int b = 0; b < qn; ++b) {
        if (cols == 2 * W) {
          vstore<W>(o[b] + cb, acc[b][0]);
          vstore<W>(o[b] + cb + W, acc[b][1]);
        } else {
          float tmp[2 * W];
          vstore<W>(tmp, acc[b][0]);
          vstore<W>(tmp + W, acc[b][1]);
          std::memcpy(o[b] + cb, tmp, sizeof(float) * cols);
        }
      }
    }
  }
}

template <int W>
SBERT_INLINE void attendRange(const Args& a, int64_t b, int64_t e) {
  static thread_local Scratch scratch;
  const int64_t H = int64_t(a.heads) * a.d, ld = 3 * H;
  const int64_t lastSeq = (e - 1) / a.heads;
  for (int64_t it = b; it < e; ++it) {
    const int seq = static_cast<int>(it / a.heads), head = static_cast<int>(it % a.heads);
    // While this pair runs, fetch the next sequence's Q, K and V of the same head: the rows were
    // written by the QKV GEMM long ago and come from memory; the loads that gather them were
    // the largest cost of a short sequence.
    if (seq < lastSeq) {
      for (int64_t t = a.cu[seq + 1]; t < a.cu[seq + 2]; ++t) {
        const char* row = reinterpret_cast<const char*>(a.qkv + t * ld + int64_t(head) * a.d);
        for (int part = 0; part < 3; ++part) {
          const char* p0 = row + part * H * int64_t(sizeof(float));
          for (int64_t off = 0; off < int64_t(a.d) * int64_t(sizeof(float)); off += 64) {
            __builtin_prefetch(p0 + off);
          }
        }
      }
    }
    attendPair<W>(a, seq, head, scratch);
  }
}

void rangePortable(const Args& a, int64_t b, int64_t e) { attendRange<4>(a, b, e); }
#if SBERT_X86
SBERT_TARGET_AVX2 void rangeAvx2(const Args& a, int64_t b, int64_t e) { attendRange<8>(a, b, e); }
SBERT_TARGET_AVX512 void rangeAvx512(const Args& a, int64_t b, int64_t e) {
  attendRange<16>(a, b, e);
}
#endif

}  // namespace

void attention(const float* qkv, const int32_t* cuSeqlens, int n, int numHeads, int headDim,
               const ScoreBias& bias, float* out) {
  if (n <= 0 || numHeads <= 0 || headDim <= 0) return;
  Args a{qkv, cuSeqlens, numHeads, headDim, 1.0f / std::sqrt(float(headDim)), bias, out};
  void (*fn)(const Args&, int64_t, int64_t) = rangePortable;
#if SBERT_X86
  if (cpuHasAvx512()) fn = rangeAvx512;
  else if (cpuHasAvx2Fma()) fn = rangeAvx2;
#endif
  parallelFor(0, int64_t(n) * numHeads, 1, [&](int64_t b, int64_t e) { fn(a, b, e); });
}

}  // namespace sbert

// ---- training ----------------------------------------------------------------------------
//
// Per (sequence, head) pair of length L the training forward keeps P = softmax(scale·QKᵀ)
// [L, L] (before dropout) and, with attention dropout, the keep mask; backward recomputes
// nothing else. Rows are short (sentences), so the pair's work is written as dot products and
// axpys over the head dimension on W-float vectors (same three ISA builds as above).

namespace sbert {
namespace {

struct TrainArgs {
  const float* qkv;
  const int32_t* cu;
  const int64_t* probOffset;  // [n + 1]: start of sequence s's heads·L² probabilities
  int heads, d;
  float scale, dropP;
  uint64_t seed;
  ScoreBias bias;
  float* probs;
  uint8_t* mask;
  const float* dOut;           // backward only
  float* io;                   // forward: out [T, H]; backward: dQkv [T, 3H]
  const int64_t* biasOffsets;  // backward with a bias: [n + 1], see attentionBiasGradOffsets
  float* dBiasPairs;
};

// out[j] = x · column j of Mt, for j < L: Mt is [d][ldm] (a gathered Kᵀ or Vᵀ, zero-padded to
// ldm, a multiple of W), so each output vector is W dot products at once, without horizontal
// sums; one sequential FMA chain over c per output.
template <int W>
SBERT_INLINE void rowDotsW(const float* x, const float* Mt, int ldm, int d, int L, float* out) {
  using F = typename Vec<W>::f;
  for (int jb = 0; jb < L; jb += W) {
    F acc{};
    for (int c = 0; c < d; ++c) acc += vset<W>(x[c]) * vload<W>(Mt + int64_t(c) * ldm + jb);
    std::memcpy(out + jb, &acc, sizeof(float) * std::min(W, L - jb));
  }
}

// Gathers the head's d columns of L rows (row stride ld) transposed into Mt [d][ldm], zero
// padding columns L..ldm.
SBERT_INLINE void gatherTransposed(const float* src, int64_t ld, int L, int d, int ldm, float* Mt) {
  for (int c = 0; c < d; ++c) {
    float* row = Mt + int64_t(c) * ldm;
    for (int j = 0; j < L; ++j) row[j] = src[j * ld + c];
    for (int j = L; j < ldm; ++j) row[j] = 0.f;
  }
}

// y[0..d) += s·x
template <int W>
SBERT_INLINE void axpyW(float s, const float* x, float* y, int d) {
  using F = typename Vec<W>::f;
  const F sv = vset<W>(s);
  int c = 0;
  for (; c + W <= d; c += W) vstore<W>(y + c, vload<W>(y + c) + sv * vload<W>(x + c));
  for (; c < d; ++c) y[c] += s * x[c];
}

// In-place softmax of one row of L scores (max subtraction, × 1/sum), vector exp.
template <int W>
SBERT_INLINE void softmaxRowW(float* row, int L) {
  using F = typename Vec<W>::f;
  float mx = row[0];
  for (int j = 1; j < L; ++j) mx = std::max(mx, row[j]);
  float sum = 0.f;
  for (int j = 0; j < L; j += W) {
    const int cnt = std::min(W, L - j);
    F x = vset<W>(mx);
    std::memcpy(&x, row + j, sizeof(float) * cnt);
    const F e = vexp<W>(x - mx);
    std::memcpy(row + j, &e, sizeof(float) * cnt);
    for (int l = 0; l < cnt; ++l) sum += e[l];
  }
  const float inv = 1.f / sum;
  for (int j = 0; j < L; ++j) row[j] *= inv;
}

template <int W>
SBERT_INLINE void trainForwardPair(const TrainArgs& a, int seq, int head, std::vector<float>& pd,
                                   std::vector<float>& mt) {
  const int64_t t0 = a.cu[seq];
  const int L = a.cu[seq + 1] - a.cu[seq];
  if (L <= 0) return;
  const int d = a.d;
  const int64_t H = int64_t(a.heads) * d, ld = 3 * H;
  const int64_t off = a.probOffset[seq] + int64_t(head) * L * L;
  float* P = a.probs + off;
  const float* q = a.qkv + t0 * ld + int64_t(head) * d;
  const float* k = q + H;
  const float* v = q + 2 * H;
  const bool drop = a.dropP > 0.f;
  if (pd.size() < size_t(L)) pd.resize(size_t(L));
  const int ldm = (L + kPad - 1) / kPad * kPad;
  if (mt.size() < size_t(d) * ldm) mt.resize(size_t(d) * ldm);
  gatherTransposed(k, ld, L, d, ldm, mt.data());
  for (int i = 0; i < L; ++i) {
    float* row = P + int64_t(i) * L;
    rowDotsW<W>(q + i * ld, mt.data(), ldm, d, L, row);
    for (int j = 0; j < L; ++j) row[j] *= a.scale;
    if (a.bias.byDelta) {
      const float* b = a.bias.byDelta + int64_t(head) * a.bias.stride + (a.bias.maxLen - 1 - i);
      for (int j = 0; j < L; ++j) row[j] += b[j];
    }
    softmaxRowW<W>(row, L);
    const float* pr = row;
    if (drop) {
      // The row's elements are indices off + i·L + j of the stream (the layout of probs).
      std::copy(row, row + L, pd.data());
      dropoutForward(pd.data(), L, a.dropP, a.seed, a.mask + off + int64_t(i) * L,
                     uint64_t(off + int64_t(i) * L));
      pr = pd.data();
    }
    float* o = a.io + (t0 + i) * H + int64_t(head) * d;
    std::fill(o, o + d, 0.f);
    for (int j = 0; j < L; ++j) axpyW<W>(pr[j], v + j * ld, o, d);
  }
}

template <int W>
SBERT_INLINE void trainBackwardPair(const TrainArgs& a, int seq, int head, std::vector<float>& buf,
                                    std::vector<float>& mt) {
  const int64_t t0 = a.cu[seq];
  const int L = a.cu[seq + 1] - a.cu[seq];
  if (L <= 0) return;
  const int d = a.d;
  const int64_t H = int64_t(a.heads) * d, ld = 3 * H;
  const int64_t off = a.probOffset[seq] + int64_t(head) * L * L;
  const float* P = a.probs + off;
  const uint8_t* mask = a.dropP > 0.f ? a.mask + off : nullptr;
  const float keepScale = 1.f / (1.f - a.dropP);
  const int64_t col = int64_t(head) * d;
  const float* q = a.qkv + t0 * ld + col;
  const float* k = q + H;
  const float* v = q + 2 * H;
  float* dq = a.io + t0 * ld + col;
  float* dk = dq + H;
  float* dv = dq + 2 * H;
  for (int j = 0; j < L; ++j) {
    std::fill(dq + j * ld, dq + j * ld + d, 0.f);
    std::fill(dk + j * ld, dk + j * ld + d, 0.f);
    std::fill(dv + j * ld, dv + j * ld + d, 0.f);
  }
  if (buf.size() < size_t(L)) buf.resize(size_t(L));
  float* dS = buf.data();
  const int ldm = (L + kPad - 1) / kPad * kPad;
  if (mt.size() < size_t(d) * ldm) mt.resize(size_t(d) * ldm);
  gatherTransposed(v, ld, L, d, ldm, mt.data());
  for (int i = 0; i < L; ++i) {
    const float* pRow = P + int64_t(i) * L;
    const float* go = a.dOut + (t0 + i) * H + col;
    // out_i = Σ_j P'_ij v_j with P' = P·keep/(1 − p): dP'_ij = dO_i · v_j, dV_j += P'_ij dO_i.
    rowDotsW<W>(go, mt.data(), ldm, d, L, dS);
    float dot = 0.f;
    for (int j = 0; j < L; ++j) {
      const bool kept = !mask || mask[int64_t(i) * L + j];
      const float pk = mask ? (kept ? pRow[j] * keepScale : 0.f) : pRow[j];
      axpyW<W>(pk, go, dv + j * ld, d);
      const float dp = mask ? (kept ? dS[j] * keepScale : 0.f) : dS[j];
      dS[j] = dp;
      dot += pRow[j] * dp;
    }
    // Softmax backward (the score's gradient, which is the bias's), then the 1/√d scale.
    float* dBias = a.dBiasPairs ? a.dBiasPairs + a.biasOffsets[seq] + int64_t(head) * (2 * L - 1) + (L - 1 - i)
                                : nullptr;
    for (int j = 0; j < L; ++j) {
      const float dScore = pRow[j] * (dS[j] - dot);
      if (dBias) dBias[j] += dScore;
      const float ds = dScore * a.scale;
      axpyW<W>(ds, k + j * ld, dq + i * ld, d);
      axpyW<W>(ds, q + i * ld, dk + j * ld, d);
    }
  }
}

template <int W>
SBERT_INLINE void trainRange(const TrainArgs& a, bool backward, int64_t b, int64_t e) {
  static thread_local std::vector<float> buf, mt;
  for (int64_t it = b; it < e; ++it) {
    const int seq = static_cast<int>(it / a.heads), head = static_cast<int>(it % a.heads);
    if (backward) trainBackwardPair<W>(a, seq, head, buf, mt);
    else trainForwardPair<W>(a, seq, head, buf, mt);
  }
}

void trainRangePortable(const TrainArgs& a, bool bw, int64_t b, int64_t e) {
  trainRange<4>(a, bw, b, e);
}
#if SBERT_X86
SBERT_TARGET_AVX2 void trainRangeAvx2(const TrainArgs& a, bool bw, int64_t b, int64_t e) {
  trainRange<8>(a, bw, b, e);
}
SBERT_TARGET_AVX512 void trainRangeAvx512(const TrainArgs& a, bool bw, int64_t b, int64_t e) {
  trainRange<16>(a, bw, b, e);
}
#endif

void runTrain(const TrainArgs& a, int n, bool backward) {
  void (*fn)(const TrainArgs&, bool, int64_t, int64_t) = trainRangePortable;
#if SBERT_X86
  if (cpuHasAvx512()) fn = trainRangeAvx512;
  else if (cpuHasAvx2Fma()) fn = trainRangeAvx2;
#endif
  parallelFor(0, int64_t(n) * a.heads, 1, [&](int64_t b, int64_t e) { fn(a, backward, b, e); });
}

}  // namespace

void attentionProbOffsets(const int32_t* cuSeqlens, int n, int numHeads, int64_t* offsets) {
  offsets[0] = 0;
  for (int s = 0; s < n; ++s) {
    const int64_t L = cuSeqlens[s + 1] - cuSeqlens[s];
    offsets[s + 1] = offsets[s] + int64_t(numHeads) * L * L;
  }
}

void attentionBiasGradOffsets(const int32_t* cuSeqlens, int n, int numHeads, int64_t* offsets) {
  offsets[0] = 0;
  for (int s = 0; s < n; ++s) {
    const int64_t L = cuSeqlens[s + 1] - cuSeqlens[s];
    offsets[s + 1] = offsets[s] + int64_t(numHeads) * (2 * L - 1);
  }
}

void attentionForwardTrain(const float* qkv, const int32_t* cuSeqlens, int n, int numHeads,
                           int headDim, const ScoreBias& bias, const int64_t* probOffsets, float dropP,
                           uint64_t seed, float* probs, uint8_t* mask, float* out) {
  if (n <= 0 || numHeads <= 0 || headDim <= 0) return;
  TrainArgs a{qkv,  cuSeqlens, probOffsets, numHeads, headDim, 1.0f / std::sqrt(float(headDim)),
              dropP, seed, bias, probs, mask, nullptr, out, nullptr, nullptr};
  runTrain(a, n, false);
}

void attentionBackward(const float* qkv, const int32_t* cuSeqlens, int n, int numHeads,
                       int headDim, const ScoreBias& bias, const int64_t* probOffsets, float dropP,
                       const float* probs, const uint8_t* mask, const float* dOut, float* dQkv,
                       const int64_t* biasOffsets, float* dBiasPairs) {
  if (n <= 0 || numHeads <= 0 || headDim <= 0) return;
  TrainArgs a{qkv,   cuSeqlens, probOffsets, numHeads,
              headDim, 1.0f / std::sqrt(float(headDim)), dropP, 0, bias,
              const_cast<float*>(probs), const_cast<uint8_t*>(mask), dOut, dQkv,
              biasOffsets, bias.byDelta ? dBiasPairs : nullptr};
  runTrain(a, n, true);
}

}  // namespace sbert
