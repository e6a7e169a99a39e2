// Embeddings + LayerNorm backward (embeddings.h) against central finite differences of a
// double-precision BertEmbeddings: scatter-add into the word / position / type tables (ids
// repeat within and across sequences; rows the batch does not use get nothing), dGamma, dBeta,
// over packed sequences of lengths 1, 7, 33, 2 — for BERT's embeddings (token types, positions
// from 0) and for RoBERTa/MPNet's (no token types, positions after the padding index, with
// padding ids inside sequences), where a frozen position table (null gradient) gets nothing.
#include <vector>

#include "grad_check.h"
#include "kernels/embeddings.h"

using namespace sbert;
using sbert::test::Tally;

namespace {

void checkEmbeddings(Tally& t, bool bertStyle, uint32_t seed) {
  std::mt19937 rng(seed);
  const int vocab = 13, maxPos = 40, types = 2, H = 19, padIdx = 1;
  const float eps = 1e-12f;
  const auto lens = test::oddLengths();
  const auto cu = test::cuSeqlensOf(lens);
  const int n = int(lens.size()), T = cu.back();
  std::vector<int32_t> ids(T), tids(T), positions(T);
  for (int i = 0; i < T; ++i) {
    ids[i] = int32_t(rng() % (vocab - 2));  // the last two rows stay unused (padIdx 1 occurs)
    tids[i] = int32_t(rng() % types);
  }
  // The reference's positions: BERT's 0-based, or RoBERTa's cumulative count after padIdx,
  // written here from transformers' create_position_ids_from_input_ids.
  for (int q = 0; q < n; ++q) {
    int count = 0;
    for (int tok = cu[q]; tok < cu[q + 1]; ++tok) {
      if (bertStyle) positions[tok] = tok - cu[q];
      else positions[tok] = ids[tok] == padIdx ? padIdx : padIdx + ++count;
    }
  }
  const int32_t* typeIds = bertStyle ? tids.data() : nullptr;
  const int32_t* posIds = bertStyle ? nullptr : positions.data();
  if (!bertStyle) {
    std::vector<int32_t> got(T);
    positionIdsAfterPadding(ids.data(), cu.data(), n, padIdx, got.data());
    t.check(got == positions, "positionIdsAfterPadding = create_position_ids_from_input_ids");
  }
  auto word = test::randomVec(rng, vocab * H), pos = test::randomVec(rng, maxPos * H),
       type = test::randomVec(rng, types * H), g = test::randomVec(rng, H, 0.5f, 1.5f),
       b = test::randomVec(rng, H), w = test::randomVec(rng, size_t(T) * H);
  auto wordD = test::toDouble(word), posD = test::toDouble(pos), typeD = test::toDouble(type),
       gD = test::toDouble(g), bD = test::toDouble(b);
  const auto wD = test::toDouble(w);
  auto loss = [&]() {
    double s = 0;
    std::vector<double> y(H);
    for (int q = 0; q < n; ++q) {
      for (int tok = cu[q]; tok < cu[q + 1]; ++tok) {
        const int p = positions[tok];
        for (int j = 0; j < H; ++j)
          y[j] = wordD[ids[tok] * H + j] + (bertStyle ? typeD[tids[tok] * H + j] : 0.0) + posD[p * H + j];
        double mean = 0, var = 0;
        for (int j = 0; j < H; ++j) mean += y[j];
        mean /= H;
        for (int j = 0; j < H; ++j) var += (y[j] - mean) * (y[j] - mean);
        var /= H;
        for (int j = 0; j < H; ++j)
          s += wD[size_t(tok) * H + j] * ((y[j] - mean) / std::sqrt(var + eps) * gD[j] + bD[j]);
      }
    }
    return s;
  };

  std::vector<float> out(size_t(T) * H), z(out.size()), rstd(T), ref(out.size());
  const float* typeTable = bertStyle ? type.data() : nullptr;
  embeddingsForwardTrain(ids.data(), typeIds, posIds, cu.data(), n, word.data(), pos.data(), typeTable, g.data(),
                         b.data(), H, eps, out.data(), z.data(), rstd.data());
  embeddingsLayerNorm(ids.data(), typeIds, posIds, cu.data(), n, word.data(), pos.data(), typeTable, g.data(),
                      b.data(), H, eps, ref.data());
  const double fwd = test::maxAbsDiff(out.data(), ref.data(), out.size());
  t.check(fwd <= 2e-6, "embeddingsForwardTrain = embeddingsLayerNorm (%s): max diff %.3g",
          bertStyle ? "BERT" : "RoBERTa", fwd);

  std::vector<float> dWord(word.size(), 0.f), dPos(pos.size(), 0.f), dType(type.size(), 0.f),
      dG(H, 0.f), dB(H, 0.f);
  embeddingsBackward(w.data(), z.data(), rstd.data(), ids.data(), typeIds, posIds, cu.data(), n, g.data(), H,
                     dWord.data(), dPos.data(), bertStyle ? dType.data() : nullptr, dG.data(), dB.data());
  double e = test::gradError(loss, wordD, dWord.data(), wordD.size(), rng);
  t.check(e <= 2e-5, "embeddings dWord (every row, unused rows 0): err %.3g", e);
  bool unusedZero = true;
  for (int j = (vocab - 2) * H; j < vocab * H; ++j) unusedZero = unusedZero && dWord[j] == 0.f;
  t.check(unusedZero, "embeddings: rows of ids not in the batch get no gradient");
  e = test::gradError(loss, posD, dPos.data(), posD.size(), rng);
  t.check(e <= 2e-5, "embeddings dPos: err %.3g", e);
  if (bertStyle) {
    e = test::gradError(loss, typeD, dType.data(), typeD.size(), rng);
    t.check(e <= 2e-5, "embeddings dType: err %.3g", e);
  }
  e = test::gradError(loss, gD, dG.data(), H, rng);
  t.check(e <= 2e-5, "embeddings dGamma: err %.3g", e);
  e = test::gradError(loss, bD, dB.data(), H, rng);
  t.check(e <= 2e-5, "embeddings dBeta: err %.3g", e);

  // Accumulation: a second backward adds the same amount again.
  std::vector<float> once = dWord;
  embeddingsBackward(w.data(), z.data(), rstd.data(), ids.data(), typeIds, posIds, cu.data(), n, g.data(), H,
                     dWord.data(), dPos.data(), bertStyle ? dType.data() : nullptr, dG.data(), dB.data());
  double worst = 0;
  for (size_t i = 0; i < once.size(); ++i)
    worst = std::max(worst, std::fabs(double(dWord[i]) - 2.0 * once[i]));
  t.check(worst <= 1e-5, "embeddingsBackward accumulates (+=): max diff %.3g", worst);

  // A frozen position table (null gradient) is left alone; the others still get theirs.
  std::vector<float> dWord2(word.size(), 0.f), dG2(H, 0.f), dB2(H, 0.f);
  embeddingsBackward(w.data(), z.data(), rstd.data(), ids.data(), typeIds, posIds, cu.data(), n, g.data(), H,
                     dWord2.data(), nullptr, nullptr, dG2.data(), dB2.data());
  t.check(test::maxAbsDiff(dWord2.data(), once.data(), once.size()) == 0.0,
          "embeddingsBackward without position/type gradients: same word gradient");
}

}  // namespace

int main() {
  Tally t;
  checkEmbeddings(t, true, 11);
  checkEmbeddings(t, false, 12);
  return t.finish();
}
