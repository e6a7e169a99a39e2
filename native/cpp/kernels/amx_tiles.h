// Internal (not a public kernel API): the AMX tile setup shared by the int8 and bf16 GEMMs.
// One palette-1 configuration for both: all eight tiles are 16 rows × 64 bytes — C00 C01 C10
// C11 in tmm0-3 (a 32 × 32 block of int32 or fp32 accumulators), A0 A1 in tmm4-5 (32 rows of A,
// 64 bytes of K each), B0 B1 in tmm6-7 (16 groups of K × 16 output channels each). The tile
// state belongs to the thread: a GEMM task loads this configuration before its first tile
// instruction and releases the tiles when it ends (so a context switch does not carry 8 KB of
// tile data, and whatever else runs on the thread finds no configuration of ours). Linux needs
// enableAmxTiles() (cpu_features.h) once per process before any of this.
//
// The tile loads, stores and the configuration go through this header's own inline asm: GCC
// 12's _tile_loadconfig declares only 8 bytes of its 64-byte operand as read (the compiler
// dropped the stores of the row and column sizes), and its _tile_loadd / _tile_stored take
// plain register operands, so the compiler does not know they touch memory. Here the whole
// configuration is the operand, and loads/stores clobber "memory".
#pragma once

#include <cstdint>
#include <cstring>

#include "simd_math.h"

#if SBERT_X86
#define SBERT_TARGET_AMX                                                                    \
  __attribute__((target("amx-tile,amx-int8,amx-bf16,avx512f,avx512bw,avx512vl,avx512dq,"  \
                        "avx512bf16,avx512vnni,avx2,fma")))

namespace sbert::amx {

SBERT_TARGET_AMX inline void configureTiles() {
  struct alignas(64) Config {
    uint8_t palette, startRow, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
  } cfg;
  std::memset(&cfg, 0, sizeof cfg);
  cfg.palette = 1;
  for (int t = 0; t < 8; ++t) {
    cfg.colsb[t] = 64;
    cfg.rows[t] = 16;
  }
  __asm__ volatile("ldtilecfg %0" : : "m"(cfg));
}

// tmm<T> = 16 rows of 64 bytes at p, rows `stride` bytes apart; and the reverse.
#define SBERT_TILE_LOAD(T, p, stride) \
  __asm__ volatile("tileloadd (%0,%1,1), %%tmm" #T : : "r"(p), "r"(int64_t(stride)) : "memory")
#define SBERT_TILE_STORE(T, p, stride) \
  __asm__ volatile("tilestored %%tmm" #T ", (%0,%1,1)" : : "r"(p), "r"(int64_t(stride)) : "memory")

SBERT_TARGET_AMX inline void releaseTiles() { _tile_release(); }

}  // namespace sbert::amx
#endif
