// Internal (not a public kernel API): the AMX block shared by the int8 and bf16 GEMMs. Both
// lay their operands out the same way in bytes — a row of A is K padded to whole 64-byte tile
// rows, a weight panel is 32 output channels of [16 tile rows][32 channels][4 bytes] per
// 64-byte step of K (int8: 4 k per channel and step row, bf16: 2) — so one block walks both:
// C00 C01 (C10 C11 when the tile has more than 16 rows) in tmm0-3, A in tmm4-5, B in tmm6-7,
// amx_tiles.h's configuration. Only the dot-product instruction differs: tdpbssd (s8 × s8 →
// int32) or tdpbf16ps (bf16 pairs → fp32).
#pragma once

#include <cstdint>

#include "amx_tiles.h"

#if SBERT_X86
namespace sbert::amx {

enum class TileDot { Int8, Bf16 };

// acc[32][32] (4-byte int32 or fp32 accumulators, 64-byte aligned, rows past mr undefined) =
// rows 0..mr-1 of A (32 rows readable: the row block carries zero rows past its end) times
// one 32-channel weight panel, over `steps` 64-byte steps of K; strideA is A's row stride in
// bytes, the panel's rows are 128 bytes.
template <TileDot kDot>
SBERT_TARGET_AMX inline void block32x32(int steps, const void* a, int64_t strideA, const void* b,
                                        int mr, void* acc) {
  const char* A = static_cast<const char*>(a);
  const char* B = static_cast<const char*>(b);
  char* out = static_cast<char*>(acc);
// tmm<C> += tmm<A>·tmm<B> (the tile instructions take literal tile numbers, hence a macro).
#define SBERT_AMX_DOT(C, A, B)                        \
  do {                                                \
    if constexpr (kDot == TileDot::Int8) {            \
      _tile_dpbssd(C, A, B);                          \
    } else {                                          \
      _tile_dpbf16ps(C, A, B);                        \
    }                                                 \
  } while (0)
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int q = 0; q < steps; ++q) {
    SBERT_TILE_LOAD(4, A + q * 64, strideA);
    SBERT_TILE_LOAD(6, B + q * 16 * 128, 128);
    SBERT_TILE_LOAD(7, B + q * 16 * 128 + 64, 128);
    SBERT_AMX_DOT(0, 4, 6);
    SBERT_AMX_DOT(1, 4, 7);
    if (mr > 16) {
      SBERT_TILE_LOAD(5, A + 16 * strideA + q * 64, strideA);
      SBERT_AMX_DOT(2, 5, 6);
      SBERT_AMX_DOT(3, 5, 7);
    }
  }
#undef SBERT_AMX_DOT
  SBERT_TILE_STORE(0, out, 128);
  SBERT_TILE_STORE(1, out + 64, 128);
  if (mr > 16) {
    SBERT_TILE_STORE(2, out + 16 * 128, 128);
    SBERT_TILE_STORE(3, out + 16 * 128 + 64, 128);
  }
}

}  // namespace sbert::amx
#endif
