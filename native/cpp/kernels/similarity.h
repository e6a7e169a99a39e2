// Similarity kernels (CPU): score matrices, fused top-k search and threshold search over two
// sets of fp32 vectors.
//
// Shapes and layouts: queries Q [nq, dim] and corpus C [nc, dim], both row-major fp32 (rows are
// contiguous, stride = dim). Scores are S[i][j] = <q_i, c_j> (fn Dot) or <q_i/|q_i|, c_j/|c_j|>
// (fn Cosine, |x| clamped below at 1e-12 like torch.nn.functional.normalize, so a zero vector
// scores 0 against everything). Computed with fp32 multiplies and fp32 accumulation.
//
// How: a blocked GEMM. The corpus is packed chunk by chunk (<= 64 MiB at a time, in parallel)
// into NR-wide panels and each task packs its block of queries into MR-wide panels (the cosine
// scaling is fused into the packing). A register-blocked micro-kernel (AVX-512, AVX2+FMA or
// portable C++, picked at run time) produces an MR x NR tile of scores and, in the same pass, a
// bitmask of the tile rows holding a value above that row's current threshold. The epilogue
// consumes tiles while they are in L1:
//   - matrix:    stores the tile into the [nq, nc] output;
//   - top-k:     inserts the few candidates above the row's k-th best score into a bounded heap
//                (the score matrix is never materialised: memory is the packed corpus chunk,
//                O(threads x block) and O(nq x k));
//   - threshold: appends (j, score) for scores >= threshold.
// Work is split into (query block x corpus segment) tasks on sbert::parallelFor; segments are
// used only when there are too few query blocks to keep the threads busy, and their per-row
// top-k lists are merged afterwards.
//
// Ordering: results are sorted by score descending, ties broken by the lower corpus index, so
// the output is exact and deterministic (the same for every ISA path, thread count and blocking
// up to fp32 rounding differences between ISA paths). A NaN score (only possible for Dot with
// inputs so large that the products overflow) ranks as -Infinity.
//
// The scores are symmetric: when Q and C hold the same vectors, S[i][j] and S[j][i] are bitwise
// equal (same packed values, same accumulation order), which paraphrase mining relies on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sbert {

enum class SimilarityFn { Cosine, Dot };

// Which micro-kernel to use. Auto picks the best the CPU has (capped by SBERT_CPU_FEATURES).
enum class SimilarityIsa { Auto, Portable, Avx2, Avx512 };

struct SimilarityConfig {
  SimilarityFn fn = SimilarityFn::Cosine;
  SimilarityIsa isa = SimilarityIsa::Auto;
  // Blocking overrides for tests (0 = automatic). queryBlock is rounded up to the micro-kernel's
  // MR, corpusBlock to its NR, corpusChunk to corpusBlock; corpusSegments splits the corpus into
  // that many tasks per query block.
  int64_t queryBlock = 0;
  int64_t corpusBlock = 0;
  int64_t corpusChunk = 0;
  int64_t corpusSegments = 0;
};

// A read-only [rows, dim] row-major fp32 matrix; `name` is used in error messages
// ("queries row 17 contains NaN").
struct MatrixView {
  const float* data = nullptr;
  int64_t rows = 0;
  int64_t dim = 0;
  std::string name;
};

// Throws sbert::Error("ERR_OUT_OF_RANGE", "<name> row <r> contains NaN|Infinity") for the first
// row holding a non-finite value.
void checkFinite(const MatrixView& m);

// Every entry point checks its inputs like checkFinite (queries first, then corpus) and throws
// for the first non-finite row; the outputs are unspecified then. q.dim must equal c.dim
// (ERR_OUT_OF_RANGE otherwise).

// out[i * c.rows + j] = S[i][j]. `out` holds q.rows * c.rows floats.
void similarityMatrix(const MatrixView& q, const MatrixView& c, const SimilarityConfig& cfg, float* out);

// Per query row the kk = min(k, c.rows) best corpus rows, best first (ties: lower index first).
// outIndex/outScore hold q.rows * kk values. k must be >= 1.
void similarityTopK(const MatrixView& q, const MatrixView& c, int64_t k, const SimilarityConfig& cfg,
                    int32_t* outIndex, float* outScore);

// Per query row, every corpus row j with S[i][j] >= threshold, best first (ties: lower index).
// Rows with fewer than minCount such entries are returned empty. CSR layout: row i's entries
// are [rowPtr[i], rowPtr[i+1]).
struct ThresholdResult {
  std::vector<int64_t> rowPtr;
  std::vector<int32_t> index;
  std::vector<float> score;
};
ThresholdResult similarityThreshold(const MatrixView& q, const MatrixView& c, float threshold,
                                    int64_t minCount, const SimilarityConfig& cfg);

// The micro-kernel `isa` resolves to on this CPU: "avx512", "avx2-fma" or "portable".
const char* similarityKernelName(SimilarityIsa isa = SimilarityIsa::Auto);

}  // namespace sbert
