// Similarity kernels vs a naive float64 reference, on every ISA path this CPU has, at several
// blockings (query block, corpus block, corpus segments) so every edge of the tiling is hit.
// Prints `N passed, M failed` and exits non-zero on failure.
//
// (The kernel's speed and the machine's FMA peak: bench/native/similarity_bench.cc.)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/thread_pool.h"
#include "kernels/cpu_features.h"
#include "kernels/similarity.h"
#include "similarity_inputs.h"

using namespace sbert;

namespace {

using test::availableIsas;
using test::randomMatrix;

int g_passed = 0, g_failed = 0;

void check(bool ok, const std::string& what) {
  if (ok) {
    ++g_passed;
  } else {
    ++g_failed;
    std::printf("FAIL: %s\n", what.c_str());
  }
}

// Scores in float64 straight from the definitions (cosine / dot / negative L2 / negative L1).
std::vector<double> naiveScores(const std::vector<float>& q, int64_t nq, const std::vector<float>& c, int64_t nc,
                                int64_t dim, SimilarityFn fn) {
  const bool cosine = fn == SimilarityFn::Cosine;
  std::vector<double> qn(nq, 1.0), cn(nc, 1.0);
  auto norm = [&](const float* x) {
    double s = 0;
    for (int64_t k = 0; k < dim; ++k) s += double(x[k]) * x[k];
    return std::max(std::sqrt(s), 1e-12);
  };
  if (cosine) {
    for (int64_t i = 0; i < nq; ++i) qn[i] = norm(q.data() + i * dim);
    for (int64_t j = 0; j < nc; ++j) cn[j] = norm(c.data() + j * dim);
  }
  std::vector<double> s(static_cast<size_t>(nq * nc));
  for (int64_t i = 0; i < nq; ++i)
    for (int64_t j = 0; j < nc; ++j) {
      double d = 0;
      for (int64_t k = 0; k < dim; ++k) {
        const double a = q[i * dim + k], b = c[j * dim + k];
        if (fn == SimilarityFn::Euclidean) d += (a - b) * (a - b);
        else if (fn == SimilarityFn::Manhattan) d += std::fabs(a - b);
        else d += a * b;
      }
      if (fn == SimilarityFn::Euclidean) s[i * nc + j] = -std::sqrt(d);
      else if (fn == SimilarityFn::Manhattan) s[i * nc + j] = -d;
      else s[i * nc + j] = d / (qn[i] * cn[j]);
    }
  return s;
}

const char* fnName(SimilarityFn fn) {
  switch (fn) {
    case SimilarityFn::Cosine: return "cosine";
    case SimilarityFn::Dot: return "dot";
    case SimilarityFn::Euclidean: return "euclidean";
    default: return "manhattan";
  }
}

struct Case {
  int64_t nq, nc, dim, k;
};

// Top-k against the float64 reference: scores within tol of the reference score of the same
// index, sorted (score desc, index asc), and the returned set is the true top-k up to tol.
void checkTopK(const std::string& tag, const std::vector<double>& ref, int64_t nq, int64_t nc, int64_t kk,
               const std::vector<int32_t>& idx, const std::vector<float>& sc, double tol) {
  bool ok = true;
  std::string why;
  std::vector<double> row(nc);
  for (int64_t i = 0; i < nq && ok; ++i) {
    for (int64_t j = 0; j < nc; ++j) row[j] = ref[i * nc + j];
    std::vector<double> sorted(row);
    std::sort(sorted.begin(), sorted.end(), std::greater<double>());
    const double kth = sorted[kk - 1];
    std::vector<char> seen(nc, 0);
    for (int64_t t = 0; t < kk; ++t) {
      const int32_t j = idx[i * kk + t];
      if (j < 0 || j >= nc || seen[j]) {
        ok = false;
        why = "bad/duplicate index";
        break;
      }
      seen[j] = 1;
      if (std::fabs(sc[i * kk + t] - row[j]) > tol) {
        ok = false;
        why = "score " + std::to_string(sc[i * kk + t]) + " vs " + std::to_string(row[j]);
        break;
      }
      if (row[j] < kth - tol) {
        ok = false;
        why = "index not in top-k";
        break;
      }
      if (t > 0) {
        const float ps = sc[i * kk + t - 1], cs = sc[i * kk + t];
        if (ps < cs || (ps == cs && idx[i * kk + t - 1] > j)) {
          ok = false;
          why = "not sorted";
          break;
        }
      }
    }
    for (int64_t j = 0; j < nc && ok; ++j) {
      if (row[j] > kth + tol && !seen[j]) {
        ok = false;
        why = "missed index " + std::to_string(j);
      }
    }
    if (!ok) why += " (row " + std::to_string(i) + ")";
  }
  check(ok, tag + (ok ? "" : ": " + why));
}

void testTopKAndMatrix() {
  const std::vector<Case> cases = {
      {1, 1, 1, 1},     {1, 1, 1, 5},    {3, 17, 3, 4},     {17, 17, 3, 17},  {17, 100, 384, 10},
      {50, 333, 768, 7}, {5, 1000, 64, 3}, {200, 150, 13, 200}, {9, 2000, 32, 1}, {130, 97, 5, 100},
  };
  struct Blocking {
    int64_t qb, cb, segs, chunk;
  };
  const std::vector<Blocking> blockings = {{0, 0, 0, 0}, {1, 1, 1, 1}, {16, 48, 3, 0}, {5, 100, 7, 150}, {8, 16, 2, 40}};
  uint32_t seed = 1;
  for (CpuIsa isa : availableIsas()) {
    for (const Case& cs : cases) {
      const auto q = randomMatrix(cs.nq, cs.dim, seed++);
      const auto c = randomMatrix(cs.nc, cs.dim, seed++);
      for (SimilarityFn fn : {SimilarityFn::Cosine, SimilarityFn::Dot, SimilarityFn::Euclidean, SimilarityFn::Manhattan}) {
        const bool cosine = fn == SimilarityFn::Cosine;
        const auto ref = naiveScores(q, cs.nq, c, cs.nc, cs.dim, fn);
        // Dot and distance scores grow with dim; the tolerance is relative to that scale.
        const double tol = cosine ? 1e-5 : 1e-5 * std::max(1.0, double(cs.dim));
        for (const Blocking& b : blockings) {
          SimilarityConfig cfg;
          cfg.fn = fn;
          cfg.isa = isa;
          cfg.queryBlock = b.qb;
          cfg.corpusBlock = b.cb;
          cfg.corpusSegments = b.segs;
          cfg.corpusChunk = b.chunk;
          const std::string tag = std::string(cpuIsaName(isa)) + " " + fnName(fn) + " nq=" +
                                  std::to_string(cs.nq) + " nc=" + std::to_string(cs.nc) + " dim=" +
                                  std::to_string(cs.dim) + " k=" + std::to_string(cs.k) + " blocks=" +
                                  std::to_string(b.qb) + "/" + std::to_string(b.cb) + "/" + std::to_string(b.segs) + "/" +
                                  std::to_string(b.chunk);
          MatrixView qv{q.data(), cs.nq, cs.dim, "queries"}, cv{c.data(), cs.nc, cs.dim, "corpus"};
          const int64_t kk = std::min(cs.k, cs.nc);
          std::vector<int32_t> idx(cs.nq * kk, -1);
          std::vector<float> sc(cs.nq * kk, 0.0f);
          similarityTopK(qv, cv, cs.k, cfg, idx.data(), sc.data());
          checkTopK("topk " + tag, ref, cs.nq, cs.nc, kk, idx, sc, tol);

          std::vector<float> mat(cs.nq * cs.nc, NAN);
          similarityMatrix(qv, cv, cfg, mat.data());
          double maxErr = 0;
          for (size_t i = 0; i < mat.size(); ++i) maxErr = std::max(maxErr, std::fabs(double(mat[i]) - ref[i]));
          check(maxErr <= tol, "matrix " + tag + " maxErr " + std::to_string(maxErr));

          // Threshold at the reference median: entries >= threshold, sorted, rows below
          // minCount empty.
          if (cs.nq * cs.nc > 0) {
            std::vector<double> sorted(ref);
            std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
            const float thr = static_cast<float>(sorted[sorted.size() / 2]);
            const int64_t minCount = std::max<int64_t>(1, cs.nc / 2);
            ThresholdResult tr = similarityThreshold(qv, cv, thr, minCount, cfg);
            bool ok = tr.rowPtr.size() == size_t(cs.nq + 1);
            for (int64_t i = 0; i < cs.nq && ok; ++i) {
              // Expected count from the kernel's own matrix (so rounding cannot flip an entry).
              int64_t n = 0;
              for (int64_t j = 0; j < cs.nc; ++j) n += mat[i * cs.nc + j] >= thr;
              if (n < minCount) n = 0;
              ok = tr.rowPtr[i + 1] - tr.rowPtr[i] == n;
              for (int64_t t = tr.rowPtr[i]; t < tr.rowPtr[i + 1] && ok; ++t) {
                ok = tr.score[t] >= thr && std::fabs(tr.score[t] - ref[i * cs.nc + tr.index[t]]) <= tol;
                if (ok && t > tr.rowPtr[i]) {
                  ok = tr.score[t - 1] > tr.score[t] || (tr.score[t - 1] == tr.score[t] && tr.index[t - 1] < tr.index[t]);
                }
              }
            }
            check(ok, "threshold " + tag);
          }
        }
      }
    }
  }
}

void testTiesSymmetryEdges() {
  for (CpuIsa isa : availableIsas()) {
    const std::string tag = cpuIsaName(isa);
    SimilarityConfig cfg;
    cfg.isa = isa;
    // Duplicate corpus rows tie exactly: lower index first, and the top-k cut keeps the lowest.
    const int64_t dim = 24, nc = 40;
    auto base = randomMatrix(4, dim, 99);
    std::vector<float> c(nc * dim);
    for (int64_t j = 0; j < nc; ++j) std::memcpy(&c[j * dim], &base[(j % 4) * dim], dim * sizeof(float));
    std::vector<float> q(base.begin(), base.begin() + dim);  // equal to corpus rows 0, 4, 8, ...
    for (int64_t segs : {1, 3, 7}) {
      cfg.corpusSegments = segs;
      cfg.corpusBlock = 8;
      cfg.corpusChunk = segs == 3 ? 16 : 0;
      std::vector<int32_t> idx(5);
      std::vector<float> sc(5);
      similarityTopK({q.data(), 1, dim, "queries"}, {c.data(), nc, dim, "corpus"}, 5, cfg, idx.data(), sc.data());
      bool ok = true;
      for (int t = 0; t < 5; ++t) ok &= idx[t] == 4 * t && sc[t] == sc[0];
      check(ok, tag + " ties: lower index first, segments=" + std::to_string(segs));
    }
    cfg.corpusSegments = 0;
    cfg.corpusBlock = 0;
    cfg.corpusChunk = 0;
    // Symmetry: Q == C gives bitwise S[i][j] == S[j][i].
    const int64_t n = 70, d = 384;
    auto x = randomMatrix(n, d, 7);
    std::vector<float> m(n * n);
    for (SimilarityFn fn : {SimilarityFn::Cosine, SimilarityFn::Dot, SimilarityFn::Euclidean, SimilarityFn::Manhattan}) {
      cfg.fn = fn;
      similarityMatrix({x.data(), n, d, "a"}, {x.data(), n, d, "b"}, cfg, m.data());
      bool sym = true;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j) sym &= std::memcmp(&m[i * n + j], &m[j * n + i], sizeof(float)) == 0;
      check(sym, tag + " symmetric scores " + fnName(fn));
      // A vector is at distance 0 from itself: the diagonal is exactly 0 for the distances.
      if (fn == SimilarityFn::Euclidean || fn == SimilarityFn::Manhattan) {
        bool zeroDiag = true;
        for (int64_t i = 0; i < n; ++i) zeroDiag &= m[i * n + i] == 0.0f;
        check(zeroDiag, tag + " zero self-distance " + fnName(fn));
      }
    }
    cfg.fn = SimilarityFn::Cosine;
    // Zero vectors score 0 under cosine.
    std::vector<float> z(3 * 5, 0.0f), o = randomMatrix(2, 5, 3);
    std::vector<float> zm(3 * 2);
    similarityMatrix({z.data(), 3, 5, "a"}, {o.data(), 2, 5, "b"}, cfg, zm.data());
    bool zeros = true;
    for (float v : zm) zeros &= v == 0.0f;
    check(zeros, tag + " zero vectors score 0");
  }
  // Errors: NaN / Infinity rows, dim mismatch, k < 1 — thrown, with codes.
  auto expectError = [](const std::function<void()>& f, const std::string& code, const std::string& msg,
                        const std::string& tag) {
    try {
      f();
      check(false, tag + ": no error");
    } catch (const Error& e) {
      check(e.code() == code && std::string(e.what()).find(msg) != std::string::npos,
            tag + ": got " + e.code() + " " + e.what());
    }
  };
  std::vector<float> a = randomMatrix(20, 4, 5), b = randomMatrix(6, 4, 6);
  std::vector<int32_t> idx(20 * 3);
  std::vector<float> sc(20 * 3);
  a[17 * 4 + 2] = NAN;
  a[18 * 4 + 1] = INFINITY;
  expectError([&] { similarityTopK({a.data(), 20, 4, "queries"}, {b.data(), 6, 4, "corpus"}, 3, {}, idx.data(), sc.data()); },
              "ERR_OUT_OF_RANGE", "queries row 17 contains NaN", "NaN row");
  a[17 * 4 + 2] = 0;
  expectError([&] { similarityTopK({a.data(), 20, 4, "queries"}, {b.data(), 6, 4, "corpus"}, 3, {}, idx.data(), sc.data()); },
              "ERR_OUT_OF_RANGE", "queries row 18 contains Infinity", "Infinity row");
  a[18 * 4 + 1] = 0;
  expectError([&] { similarityTopK({a.data(), 20, 4, "queries"}, {b.data(), 8, 3, "corpus"}, 3, {}, idx.data(), sc.data()); },
              "ERR_OUT_OF_RANGE", "queries dim 4 differs from corpus dim 3", "dim mismatch");
  expectError([&] { similarityTopK({a.data(), 20, 4, "queries"}, {b.data(), 6, 4, "corpus"}, 0, {}, idx.data(), sc.data()); },
              "ERR_OUT_OF_RANGE", "k must be", "k = 0");
  // Corpus rows: checked up front (many query blocks) or block by block (one query block); the
  // first bad row is reported either way.
  {
    std::vector<float> big = randomMatrix(300, 4, 8), corpus = randomMatrix(5000, 4, 9);
    corpus[4321 * 4 + 3] = NAN;
    corpus[4999 * 4] = INFINITY;
    std::vector<int32_t> bi(300 * 2);
    std::vector<float> bs(300 * 2);
    for (int64_t nq : {1, 300}) {
      for (SimilarityFn fn : {SimilarityFn::Cosine, SimilarityFn::Dot}) {
        SimilarityConfig cfg;
        cfg.fn = fn;
        cfg.corpusBlock = 64;
        expectError([&] { similarityTopK({big.data(), nq, 4, "queries"}, {corpus.data(), 5000, 4, "corpus"}, 2, cfg, bi.data(), bs.data()); },
                    "ERR_OUT_OF_RANGE", "corpus row 4321 contains NaN", "corpus NaN, nq=" + std::to_string(nq));
      }
    }
  }
  // Empty inputs are fine: no error and nothing written (kk = 0 or no query rows).
  std::fill(idx.begin(), idx.end(), -7);
  std::fill(sc.begin(), sc.end(), -7.0f);
  bool emptyOk = true;
  try {
    similarityTopK({a.data(), 0, 4, "queries"}, {b.data(), 6, 4, "corpus"}, 3, {}, idx.data(), sc.data());
    similarityTopK({a.data(), 20, 4, "queries"}, {nullptr, 0, 4, "corpus"}, 3, {}, idx.data(), sc.data());
    similarityMatrix({a.data(), 0, 4, "a"}, {b.data(), 6, 4, "b"}, {}, sc.data());
  } catch (const std::exception& e) {
    emptyOk = false;
    std::printf("empty inputs threw: %s\n", e.what());
  }
  for (size_t i = 0; i < idx.size(); ++i) emptyOk &= idx[i] == -7 && sc[i] == -7.0f;
  check(emptyOk, "empty inputs: no error, outputs untouched");
  // The owned copy holds the same values at the same shape, and views address its rows.
  {
    const std::vector<float> src = randomMatrix(1000, 7, 11);
    OwnedMatrix owned(src.data(), 1000, 7);
    const MatrixView v = owned.view(10, 25, "rows");
    check(owned.rows() == 1000 && owned.dim() == 7 && v.rows == 15 && v.dim == 7 && v.name == "rows" &&
              std::memcmp(v.data, src.data() + 10 * 7, 15 * 7 * sizeof(float)) == 0 &&
              std::memcmp(owned.view(0, 1000, "all").data, src.data(), src.size() * sizeof(float)) == 0,
          "OwnedMatrix copies every value and views its rows");
    OwnedMatrix none(nullptr, 0, 7);
    check(none.rows() == 0 && none.view(0, 0, "none").rows == 0, "OwnedMatrix of zero rows");
  }
}

}  // namespace

int main() {
  std::printf("similarity kernels: %s (threads %d)\n", cpuIsaName(activeCpuIsa()), numThreads());
  try {
    testTopKAndMatrix();
    testTiesSymmetryEdges();
  } catch (const std::exception& e) {
    std::printf("FAIL: unexpected exception: %s\n", e.what());
    ++g_failed;
  }
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
