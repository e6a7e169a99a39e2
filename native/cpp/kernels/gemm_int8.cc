// Int8 GEMM with per-channel weights and per-row dynamic activations; see gemm_int8.h for the
// contract.
//
// Blocking: the task grid of gemm_blocking.h (row blocks × chunks of nr-wide weight panels).
// A task first quantizes its row block of A into a per-thread buffer (kept when the same thread
// runs the next column chunk of the same block), then walks its panels; per panel it runs the
// MR×nr micro-kernel down the row block over the whole of K (an int32 accumulator never leaves
// its register, so there is no K blocking: a panel's [K/4][nr][4] slice, 12 KB at K = 384 and
// nr = 32, stays in L1 while the row block stays in L2). What this file holds is what is int8's
// own: the quantizers, the packed format and the micro-kernels up to their int32 dot products;
// the dequantized rows go through the epilogue all GEMMs share (gemm_epilogue.h).
#include "gemm_int8.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <new>

#include "common/error.h"
#include "common/thread_pool.h"
#include "cpu_features.h"
#include "gemm_amx.h"
#include "gemm_blocking.h"
#include "gemm_epilogue.h"
#include "gemm_paths.h"
#include "simd_math.h"

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports its own _mm512_undefined_ps() (inside _mm512_cvtepi32_ps) as uninitialized.
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#if SBERT_X86
#define SBERT_TARGET_VNNI512 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma")))
#endif

namespace sbert {

void PackedWeightInt8::Free::operator()(int8_t* p) const {
  ::operator delete[](p, std::align_val_t(64));
}

namespace {

constexpr float kMinRange = 0x1p-119f;  // below: the vector quantizes to zeros (scale 0)

// ---- quantization (scalar definition; the SIMD versions compute the same bits) -------------

struct RowScale {
  float scale;  // s = amax / 127, 0 for a (near-)zero vector, NaN for a non-finite one
  float inv;    // 127 / amax, or 0
};

inline RowScale scaleFromAmax(float amax, bool finite) {
  if (!finite) return {NAN, 0.f};
  if (!(amax >= kMinRange)) return {0.f, 0.f};
  return {amax / 127.f, 127.f / amax};
}

inline int8_t quantizeOne(float x, float inv) {
  const float y = std::min(std::max(x * inv, -127.f), 127.f);
  return static_cast<int8_t>(std::nearbyint(y));
}

RowScale quantizeRowPortable(const float* x, int K, int8_t* q) {
  float amax = 0.f;
  bool finite = true;
  for (int k = 0; k < K; ++k) {
    const float a = std::fabs(x[k]);
    finite = finite && a <= FLT_MAX;  // false for ±Inf and NaN
    amax = std::max(amax, a);
  }
  const RowScale rs = scaleFromAmax(amax, finite);
  for (int k = 0; k < K; ++k) q[k] = quantizeOne(x[k], rs.inv);
  return rs;
}

// ---- path properties ----------------------------------------------------------------------

struct PathShape {
  int mr, nr, mcMax;
  bool u8;  // activations stored as qa + 128 (vpdpbusd), else as s8
};

// Groups of 4 k per packed row: ceil(K/4), and a whole number of 16-group AMX tiles for AMX.
int groupsOf(Int8Path p, int K) {
  const int kg = (K + 3) / 4;
  return p == Int8Path::Amx ? (kg + 15) / 16 * 16 : kg;
}

PathShape shapeOf(Int8Path p) {
  switch (p) {
    case Int8Path::Amx: return {32, 32, 256, false};
    case Int8Path::Avx512Vnni: return {12, 32, 144, true};
    case Int8Path::AvxVnni: return {6, 16, 96, true};
    case Int8Path::Avx2: return {4, 16, 96, false};
    default: return {4, 16, 64, false};
  }
}

// What a micro-kernel does after its dot products (gemm_epilogue.h): y = (float(acc)·sa)·sw,
// then the epilogue, Accumulate included (C + y).
using gemm::TileEpilogue;

// Micro-kernel: rows 0..MR-1 of `a` (kq/4 groups of 4 bytes per row, row stride lda), one
// weight panel `b` ([kg][NR][4]), per-channel accInit/colScale (NR entries, padded), per-row
// rowScale; writes nr ≤ NR columns of C.
using KernelFn = void (*)(int kg, const uint8_t* a, int64_t lda, const int8_t* b,
                          const int32_t* accInit, const float* colScale, const float* rowScale,
                          float* c, int64_t ldc, int nr, const TileEpilogue& epi);

inline int32_t load4(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// ---- portable -----------------------------------------------------------------------------

typedef int32_t v4i __attribute__((vector_size(16)));

// Generic 4-lane vectors (SSE2 / NEON / scalar). Written with explicit vectors: GCC 12's loop
// vectorizer turned the plain scalar loops into code that read past the last row of A.
template <int MR>
void kernelPortable(int kg, const uint8_t* a, int64_t lda, const int8_t* b,
                    const int32_t* accInit, const float* colScale, const float* rowScale,
                    float* c, int64_t ldc, int nr, const TileEpilogue& epi) {
  constexpr int NR = 16;
  v4i accv[MR][4];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < 4; ++v)
      accv[i][v] = v4i{accInit[4 * v], accInit[4 * v + 1], accInit[4 * v + 2], accInit[4 * v + 3]};
  for (int g = 0; g < kg; ++g) {
    const int8_t* bg = b + int64_t(g) * NR * 4;
    v4i w[4][4];  // [byte t of the group][columns 4v..4v+3]
    for (int t = 0; t < 4; ++t)
      for (int v = 0; v < 4; ++v)
        w[t][v] = v4i{bg[16 * v + t], bg[16 * v + 4 + t], bg[16 * v + 8 + t], bg[16 * v + 12 + t]};
    for (int i = 0; i < MR; ++i) {
      const int8_t* ai = reinterpret_cast<const int8_t*>(a + i * lda + 4 * g);
      for (int t = 0; t < 4; ++t) {
        const int32_t at = ai[t];
        for (int v = 0; v < 4; ++v) accv[i][v] += at * w[t][v];
      }
    }
  }
  int32_t acc[MR][NR];
  std::memcpy(acc, accv, sizeof acc);
  for (int i = 0; i < MR; ++i) {
    float y[NR];
    for (int j = 0; j < NR; ++j) y[j] = (static_cast<float>(acc[i][j]) * rowScale[i]) * colScale[j];
    gemm::storeRowPortable<NR>(y, c + i * ldc, nr, i, epi);
  }
}

#if SBERT_X86

// ---- the dequantization of the SIMD paths: (float(acc) · sa) · sw -------------------------

SBERT_TARGET_AVX512 SBERT_GEMM_INLINE __m512 dequant512(__m512i acc, __m512 rowScale,
                                                        __m512 colScale) {
  return _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), rowScale), colScale);
}

SBERT_TARGET_AVX2 SBERT_GEMM_INLINE __m256 dequant256(__m256i acc, __m256 rowScale,
                                                      __m256 colScale) {
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc), rowScale), colScale);
}

// Dequantizes and finishes the rows of a 32-column tile (the VNNI and AMX kernels).
struct DequantStore512 {
  gemm::RowStore512 out;
  __m512 cs0, cs1;

  SBERT_TARGET_AVX512 SBERT_GEMM_INLINE DequantStore512(const float* colScale, int nr,
                                                        const TileEpilogue& epi)
      : out(nr, epi), cs0(_mm512_loadu_ps(colScale)), cs1(_mm512_loadu_ps(colScale + 16)) {}

  // Row i with int32 dot products acc0 | acc1 and activation scale rowScale.
  SBERT_TARGET_AVX512 SBERT_GEMM_INLINE void store(__m512i acc0, __m512i acc1, float rowScale,
                                                   float* ci, int i,
                                                   const TileEpilogue& epi) const {
    const __m512 rs = _mm512_set1_ps(rowScale);
    out.store(dequant512(acc0, rs, cs0), dequant512(acc1, rs, cs1), ci, i, epi);
  }
};

// ---- AVX-512 VNNI: 12 × 32, 24 zmm accumulators -------------------------------------------

// acc += Σ4 u8(a)·s8(b) per lane. Inline asm rather than the intrinsic: GCC 12 copied and
// spilled the tied accumulators of the intrinsic form (a third of the throughput).
SBERT_TARGET_VNNI512 inline __m512i dpbusd512(__m512i acc, __m512i a, __m512i b) {
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
  return acc;
}

template <int MR>
SBERT_TARGET_VNNI512 void kernelVnni512(int kg, const uint8_t* __restrict a, int64_t lda,
                                        const int8_t* __restrict b, const int32_t* accInit,
                                        const float* colScale, const float* rowScale, float* c,
                                        int64_t ldc, int nr, const TileEpilogue& epi) {
  const __m512i init0 = _mm512_loadu_si512(accInit), init1 = _mm512_loadu_si512(accInit + 16);
  __m512i acc0[MR], acc1[MR];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) {
    acc0[i] = init0;
    acc1[i] = init1;
  }
  for (int g = 0; g < kg; ++g) {
    if (MR <= 4) {  // short tiles stream the panel from memory: fetch ahead
      _mm_prefetch(reinterpret_cast<const char*>(b + g * 128 + 1024), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(b + g * 128 + 1088), _MM_HINT_T0);
    }
    const __m512i b0 = _mm512_load_si512(b + g * 128);
    const __m512i b1 = _mm512_load_si512(b + g * 128 + 64);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      const __m512i ai = _mm512_set1_epi32(load4(a + i * lda + 4 * g));
      acc0[i] = dpbusd512(acc0[i], ai, b0);
      acc1[i] = dpbusd512(acc1[i], ai, b1);
    }
  }
  const DequantStore512 out(colScale, nr, epi);
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) out.store(acc0[i], acc1[i], rowScale[i], c + i * ldc, i, epi);
}

// ---- 16-wide ymm paths: AVX-VNNI (6 × 16) and AVX2 (4 × 16), one kernel ------------------

// The dot-product step, acc += Σ4 a·b per int32 lane. Both are compiled for avx2,fma: the
// AVX-VNNI instruction is inline asm (GCC 12 copied and spilled the tied accumulators of the
// intrinsic form), which needs no target attribute, so one kernel serves both paths.
struct DotAvxVnni {  // VEX vpdpbusd on u8 activations (qa + 128; accInit removes the offset)
  static constexpr int kPrefetchRows = 3;  // tiles this short stream the panel from memory
  SBERT_TARGET_AVX2 SBERT_GEMM_INLINE __m256i operator()(__m256i acc, __m256i a, __m256i b) const {
    __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(a), "x"(b));
    return acc;
  }
};
struct DotAvx2 {  // vpmaddubsw on |qa| and sign(qa)·qw, then vpmaddwd by ones (s8 activations)
  static constexpr int kPrefetchRows = 2;
  __m256i ones;
  SBERT_TARGET_AVX2 SBERT_GEMM_INLINE DotAvx2() : ones(_mm256_set1_epi16(1)) {}
  SBERT_TARGET_AVX2 SBERT_GEMM_INLINE __m256i operator()(__m256i acc, __m256i a, __m256i b) const {
    // |qa|·(sign(qa)·qw) = qa·qw; both factors ≤ 127 in magnitude, so no int16 saturation.
    const __m256i p = _mm256_maddubs_epi16(_mm256_abs_epi8(a), _mm256_sign_epi8(b, a));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p, ones));
  }
};

template <int MR, typename Dot>
SBERT_TARGET_AVX2 void kernelYmm(int kg, const uint8_t* __restrict a, int64_t lda,
                                 const int8_t* __restrict b, const int32_t* accInit,
                                 const float* colScale, const float* rowScale, float* c,
                                 int64_t ldc, int nr, const TileEpilogue& epi) {
  const Dot dot;
  const __m256i init0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(accInit));
  const __m256i init1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(accInit + 8));
  __m256i acc0[MR], acc1[MR];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    acc0[i] = init0;
    acc1[i] = init1;
  }
  for (int g = 0; g < kg; ++g) {
    if (MR <= Dot::kPrefetchRows) {
      _mm_prefetch(reinterpret_cast<const char*>(b + g * 64 + 1024), _MM_HINT_T0);
    }
    const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + g * 64));
    const __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + g * 64 + 32));
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      const __m256i ai = _mm256_set1_epi32(load4(a + i * lda + 4 * g));
      acc0[i] = dot(acc0[i], ai, b0);
      acc1[i] = dot(acc1[i], ai, b1);
    }
  }
  const gemm::RowStore256 out(nr, epi);
  const __m256 cs0 = _mm256_loadu_ps(colScale), cs1 = _mm256_loadu_ps(colScale + 8);
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    const __m256 rs = _mm256_set1_ps(rowScale[i]);
    out.store(dequant256(acc0[i], rs, cs0), dequant256(acc1[i], rs, cs1), c + i * ldc, i, epi);
  }
}

// ---- AMX-INT8: 32 × 32 blocks of 2 × 2 tiles, tdpbssd (s8 × s8) -----------------------------

// kg is a multiple of 16; `a` holds 32 rows (rows past mr are zero padding of the row block).
SBERT_TARGET_AMX void kernelAmxInt8(int kg, const uint8_t* a, int64_t lda, const int8_t* b,
                                    const float* colScale, const float* rowScale, float* c,
                                    int64_t ldc, int nr, int mr, const TileEpilogue& epi) {
  alignas(64) int32_t acc[32 * 32];
  amx::block32x32<amx::TileDot::Int8>(kg / 16, a, lda, b, mr, acc);
  const DequantStore512 out(colScale, nr, epi);
  for (int i = 0; i < mr; ++i) {
    out.store(_mm512_load_si512(acc + i * 32), _mm512_load_si512(acc + i * 32 + 16), rowScale[i],
              c + i * ldc, i, epi);
  }
}

// ---- activation quantizers ----------------------------------------------------------------

// One row of K floats → kq bytes (u8 = q + 128 when `u8`, else s8; the padding K..kq-1 is 0).
SBERT_TARGET_VNNI512 RowScale quantizeRowAvx512(const float* x, int K, int kq, bool u8,
                                                uint8_t* q) {
  __m512 amax = _mm512_setzero_ps();
  __mmask16 bad = 0;
  const __m512 absMask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7FFFFFFF));
  const __m512 fltMax = _mm512_set1_ps(FLT_MAX);
  for (int k = 0; k < K; k += 16) {
    const __mmask16 m = gemm::lowMask16(K - k);
    const __m512 v = _mm512_and_ps(_mm512_maskz_loadu_ps(m, x + k), absMask);
    bad |= _mm512_cmp_ps_mask(v, fltMax, _CMP_NLE_UQ);  // Inf or NaN
    amax = _mm512_max_ps(amax, v);
  }
  const RowScale rs = scaleFromAmax(_mm512_reduce_max_ps(amax), bad == 0);
  const __m512 inv = _mm512_set1_ps(rs.inv);
  const __m512 lo = _mm512_set1_ps(-127.f), hi = _mm512_set1_ps(127.f);
  const __m128i offset = _mm_set1_epi8(u8 ? char(0x80) : 0);
  for (int k = 0; k < K; k += 16) {
    const __mmask16 m = gemm::lowMask16(K - k);
    __m512 y = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + k), inv);
    y = _mm512_min_ps(_mm512_max_ps(y, lo), hi);
    const __m128i b = _mm_xor_si128(_mm512_cvtepi32_epi8(_mm512_cvtps_epi32(y)), offset);
    _mm_mask_storeu_epi8(q + k, m, b);
  }
  for (int k = K; k < kq; ++k) q[k] = 0;
  return rs;
}

SBERT_TARGET_AVX2 RowScale quantizeRowAvx2(const float* x, int K, int kq, bool u8, uint8_t* q) {
  const __m256 absMask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  const __m256 fltMax = _mm256_set1_ps(FLT_MAX);
  __m256 amax = _mm256_setzero_ps(), bad = _mm256_setzero_ps();
  int k = 0;
  for (; k + 8 <= K; k += 8) {
    const __m256 v = _mm256_and_ps(_mm256_loadu_ps(x + k), absMask);
    bad = _mm256_or_ps(bad, _mm256_cmp_ps(v, fltMax, _CMP_NLE_UQ));
    amax = _mm256_max_ps(amax, v);
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, amax);
  float m = 0.f;
  for (float l : lanes) m = std::max(m, l);
  bool finite = _mm256_movemask_ps(bad) == 0;
  for (int t = k; t < K; ++t) {
    const float a = std::fabs(x[t]);
    finite = finite && a <= FLT_MAX;
    m = std::max(m, a);
  }
  const RowScale rs = scaleFromAmax(m, finite);
  const __m256 inv = _mm256_set1_ps(rs.inv);
  const __m256 lo = _mm256_set1_ps(-127.f), hi = _mm256_set1_ps(127.f);
  const __m128i offset = _mm_set1_epi8(u8 ? char(0x80) : 0);
  k = 0;
  for (; k + 8 <= K; k += 8) {
    __m256 y = _mm256_mul_ps(_mm256_loadu_ps(x + k), inv);
    y = _mm256_min_ps(_mm256_max_ps(y, lo), hi);
    const __m256i i32 = _mm256_cvtps_epi32(y);
    const __m128i i16 = _mm_packs_epi32(_mm256_castsi256_si128(i32), _mm256_extracti128_si256(i32, 1));
    const __m128i i8 = _mm_xor_si128(_mm_packs_epi16(i16, i16), offset);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(q + k), i8);
  }
  for (; k < K; ++k) q[k] = uint8_t(quantizeOne(x[k], rs.inv)) ^ (u8 ? 0x80 : 0);
  for (k = K; k < kq; ++k) q[k] = 0;
  return rs;
}

#endif  // SBERT_X86

RowScale quantizeRowToBuffer(Int8Path path, const float* x, int K, int kq, uint8_t* q) {
  const bool u8 = shapeOf(path).u8;
#if SBERT_X86
  if (path == Int8Path::Avx512Vnni || path == Int8Path::Amx) return quantizeRowAvx512(x, K, kq, u8, q);
  if (path != Int8Path::Portable) return quantizeRowAvx2(x, K, kq, u8, q);
#endif
  const RowScale rs = quantizeRowPortable(x, K, reinterpret_cast<int8_t*>(q));
  if (u8)
    for (int k = 0; k < K; ++k) q[k] ^= 0x80;
  for (int k = K; k < kq; ++k) q[k] = 0;
  return rs;
}

// ---- kernel tables -------------------------------------------------------------------------

const auto kPortableKernels = blocking::rowKernels<KernelFn, 4>(
    [](auto r) -> KernelFn { return kernelPortable<decltype(r)::value>; });
#if SBERT_X86
const auto kVnni512Kernels = blocking::rowKernels<KernelFn, 12>(
    [](auto r) -> KernelFn { return kernelVnni512<decltype(r)::value>; });
const auto kAvxVnniKernels = blocking::rowKernels<KernelFn, 6>(
    [](auto r) -> KernelFn { return kernelYmm<decltype(r)::value, DotAvxVnni>; });
const auto kAvx2Kernels = blocking::rowKernels<KernelFn, 4>(
    [](auto r) -> KernelFn { return kernelYmm<decltype(r)::value, DotAvx2>; });
#endif

// The table of `p` (AMX has one kernel for every tile height, kernelAmxInt8).
const KernelFn* kernelsFor(Int8Path p) {
#if SBERT_X86
  if (p == Int8Path::Avx512Vnni) return kVnni512Kernels.data();
  if (p == Int8Path::AvxVnni) return kAvxVnniKernels.data();
  if (p == Int8Path::Avx2) return kAvx2Kernels.data();
#endif
  return kPortableKernels.data();
}

}  // namespace

bool int8PathAvailable(Int8Path path) {
  const CpuFeatures& f = activeCpuFeatures();
#if SBERT_X86
  switch (path) {
    case Int8Path::Portable: return true;
    case Int8Path::Avx2: return f.avx2 && f.fma;
    case Int8Path::AvxVnni: return f.avx2 && f.fma && f.avxvnni;
    case Int8Path::Avx512Vnni:
      return f.avx2 && f.fma && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq &&
             f.avx512vnni;
    case Int8Path::Amx:
      // The quantizer and the epilogue are the AVX-512 VNNI path's.
      return int8PathAvailable(Int8Path::Avx512Vnni) && f.amxTile && f.amxInt8 &&
             enableAmxTiles();
  }
  return false;
#else
  (void)f;
  return path == Int8Path::Portable;
#endif
}

Int8Path bestInt8Path() { return availableInt8Paths().back(); }

std::vector<Int8Path> availableInt8Paths() {
  return gemm::availablePaths({Int8Path::Portable, Int8Path::Avx2, Int8Path::AvxVnni,
                               Int8Path::Avx512Vnni, Int8Path::Amx},
                              int8PathAvailable);
}

const char* int8PathName(Int8Path path) {
  switch (path) {
    case Int8Path::Amx: return "amx-int8";
    case Int8Path::Avx512Vnni: return "avx512-vnni";
    case Int8Path::AvxVnni: return "avx-vnni";
    case Int8Path::Avx2: return "avx2";
    default: return "portable";
  }
}

PackedWeightInt8 packWeightInt8(const float* W, int N, int K) {
  return packWeightInt8(W, N, K, bestInt8Path());
}

PackedWeightInt8 packWeightInt8(const float* W, int N, int K, Int8Path path) {
  SBERT_CHECK(N >= 0 && K >= 0, "ERR_INTERNAL", "packWeightInt8: negative shape");
  SBERT_CHECK(K <= kMaxInt8K, "ERR_INTERNAL", "packWeightInt8: K is too large for int32 accumulation");
  SBERT_CHECK(W != nullptr || int64_t(N) * K == 0, "ERR_INTERNAL", "packWeightInt8: null weight");
  if (!int8PathAvailable(path)) gemm::refuseUnavailablePath("int8", int8PathName(path));
  const PathShape shape = shapeOf(path);
  PackedWeightInt8 pw;
  pw.N = N;
  pw.K = K;
  pw.nr = shape.nr;
  pw.path = path;
  const int nr = shape.nr, kg = groupsOf(path, K);
  const int64_t panels = (N + nr - 1) / nr;
  pw.packedBytes = panels * kg * nr * 4;
  pw.data.reset(gemm::allocPanels<int8_t>(pw.packedBytes));
  pw.scale.assign(size_t(panels * nr), 0.f);
  pw.accInit.assign(size_t(panels * nr), 0);
  std::vector<char> badRow(size_t(std::max(N, 1)), 0);
  gemm::fillPanels<4>(pw.data.get(), N, nr, kg, [&](int64_t n, int8_t* panel, int j) {
    thread_local std::vector<int8_t> q;  // the row quantized in one (vectorizable) pass
    q.resize(size_t(K));
    const RowScale rs = quantizeRowPortable(W + n * K, K, q.data());
    if (std::isnan(rs.scale)) {
      badRow[size_t(n)] = 1;
      return;
    }
    const int8_t* qk = q.data();
    int32_t sum = 0;
    for (int k = 0; k < K; ++k) sum += qk[k];
    gemm::scatterRow<4>(panel, nr, j, K, [qk](int k) { return qk[k]; });
    pw.scale[size_t(n)] = rs.scale;
    pw.accInit[size_t(n)] = shape.u8 ? -128 * sum : 0;
  });
  for (int n = 0; n < N; ++n) {
    if (badRow[size_t(n)]) {
      throw Error("ERR_BAD_MODEL", "packWeightInt8: output channel " + std::to_string(n) +
                                       " holds a non-finite weight (NaN or Inf)");
    }
  }
  return pw;
}

void linearInt8(const float* A, int64_t M, int K, const PackedWeightInt8& W, const float* bias,
                const float* residual, Epilogue ep, float* C) {
  const int N = W.N;
  if (!gemm::checkLinearCall("linearInt8", W.K, K, M, N, W.data != nullptr,
                             int8PathAvailable(W.path), ep, residual)) {
    return;
  }
  const Int8Path path = W.path;
  const PathShape shape = shapeOf(path);
  const bool amx = path == Int8Path::Amx;
  const KernelFn* kernels = kernelsFor(path);
  const int kg = groupsOf(path, K), kq = kg * 4;
  const uint64_t call = blocking::nextGemmCallId();
  thread_local blocking::RowBlockBuffer<uint8_t> buffer;  // each thread's own row block

  auto prepare = [&](int64_t m0, int rows) {
    blocking::RowBlockBuffer<uint8_t>& buf = buffer;
    buf.load(call, m0, rows, size_t(kq), amx ? 32 : 0, [&](int r, uint8_t* q) {
      buf.rowScale[size_t(r)] = quantizeRowToBuffer(path, A + (m0 + r) * K, K, kq, q).scale;
    });
  };
  auto tile = [&](int64_t m0, int ir, int mr, int p, int n0, int nr) {
    const blocking::RowBlockBuffer<uint8_t>& buf = buffer;
    const TileEpilogue epi = TileEpilogue::at(ep, bias, residual, N, m0 + ir, n0);
    const uint8_t* a = buf.data.data() + size_t(ir) * kq;
    const int8_t* b = W.data.get() + static_cast<int64_t>(p) * kg * W.nr * 4;
    float* c = C + (m0 + ir) * N + n0;
#if SBERT_X86
    if (amx) {
      kernelAmxInt8(kg, a, kq, b, W.scale.data() + n0, buf.rowScale.data() + ir, c, N, nr, mr, epi);
      return;
    }
#endif
    kernels[mr](kg, a, kq, b, W.accInit.data() + n0, W.scale.data() + n0, buf.rowScale.data() + ir,
                c, N, nr, epi);
  };
  blocking::runGemmTiles(M, N, W.nr, shape.mr, shape.mcMax, 2.0 * double(M) * N * std::max(K, 1),
                         amx, prepare, tile);
}

}  // namespace sbert
