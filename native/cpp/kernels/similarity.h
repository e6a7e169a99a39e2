// Similarity kernels (CPU): score matrices, fused top-k search and threshold search over two
// sets of fp32 vectors.
//
// Shapes and layouts: queries Q [nq, dim] and corpus C [nc, dim], both row-major fp32 (rows are
// contiguous, stride = dim). Scores are S[i][j] = <q_i, c_j> (fn Dot) or <q_i/|q_i|, c_j/|c_j|>
// (fn Cosine, |x| clamped below at 1e-12 like torch.nn.functional.normalize, so a zero vector
// scores 0 against everything), or a negative distance, so that higher is more similar
// everywhere (sentence-transformers' euclidean_sim / manhattan_sim): -sqrt(sum_k (q_ik - c_jk)^2)
// (fn Euclidean) or -sum_k |q_ik - c_jk| (fn Manhattan). Distances are summed directly from the
// differences (not as |q|^2 + |c|^2 - 2<q, c>, which cancels badly for close vectors). Computed
// with fp32 arithmetic and fp32 accumulation.
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
// up to fp32 rounding differences between ISA paths). The ISA path comes from the one CPU
// dispatch (cpu_features.h): SimilarityConfig::isa, clamped to what the CPU has. A NaN score (only possible for Dot with
// inputs so large that the products overflow) ranks as -Infinity.
//
// The scores are symmetric: when Q and C hold the same vectors, S[i][j] and S[j][i] are bitwise
// equal (same packed values, same accumulation order), which paraphrase mining relies on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cpu_features.h"

namespace sbert {

enum class SimilarityFn { Cosine, Dot, Euclidean, Manhattan };

struct SimilarityConfig {
  SimilarityFn fn = SimilarityFn::Cosine;
  // The micro-kernel's instruction set; clamped by clampCpuIsa, so tests may ask for any level.
  CpuIsa isa = activeCpuIsa();
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

// An owned, immutable copy of a [rows, dim] fp32 matrix, shared by whoever reads it (an async
// search must not read memory it does not own: a JS ArrayBuffer can be detached and freed while
// the search runs). The copy is made in parallel into 2 MiB-aligned memory marked for huge
// pages, so it runs at memory bandwidth rather than at page-fault speed.
class OwnedMatrix {
 public:
  OwnedMatrix(const float* src, int64_t rows, int64_t dim);
  ~OwnedMatrix();
  OwnedMatrix(const OwnedMatrix&) = delete;
  OwnedMatrix& operator=(const OwnedMatrix&) = delete;
  int64_t rows() const { return rows_; }
  int64_t dim() const { return dim_; }
  size_t bytes() const { return static_cast<size_t>(rows_ * dim_) * sizeof(float); }
  // Rows [begin, end) as a view named `name` (the caller checks 0 <= begin <= end <= rows()).
  MatrixView view(int64_t begin, int64_t end, std::string name) const;

 private:
  float* data_ = nullptr;
  int64_t rows_ = 0, dim_ = 0;
  size_t align_ = 64;
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


}  // namespace sbert
