'use strict';
/**
 * Teacher-aligned initialisation of the student's token embeddings and Dense layer.
 *
 * Every vocabulary piece of bert-base-uncased ("##" dropped; bracketed specials skipped) is
 * embedded by the teacher as if it were a sentence, giving e_t in the teacher's 512-d output
 * space. With mu the mean of those and P the top-`hidden` principal directions (512 x hidden),
 * the token embedding is u_t = P^T (e_t - mu) scaled to a per-dimension rms of 0.1, and the
 * Dense layer is W = P * (rms of u before scaling, per LayerNorm-ed unit), b = mu. So before any
 * training the student (whose random layers leave the embedding LayerNorm's output nearly
 * untouched) maps a sentence close to the mean of its words' teacher embeddings, in the
 * teacher's own space, and a word the corpus never shows still starts where the teacher puts it.
 */
const { normalSampler } = require('./random');

/**
 * `embed(texts)` -> Float32Array [texts.length * outDim] (the teacher); `vocab` the student's
 * vocabulary (index = token id). Returns { rows: Map<id, Float32Array(hidden)>, denseWeight
 * Float32Array [outDim * hidden] (row-major, nn.Linear layout), denseBias Float32Array [outDim] }.
 */
async function teacherTokenInit({ embed, vocab, hidden, outDim = 512, seed = 11, onProgress }) {
  const ids = [];
  const words = [];
  vocab.forEach((token, id) => {
    if (!token || token.startsWith('[')) return;
    ids.push(id);
    words.push(token.startsWith('##') ? token.slice(2) : token);
  });
  const n = ids.length;
  const e = new Float32Array(n * outDim);
  for (let i = 0; i < n; i += 512) {
    e.set(await embed(words.slice(i, i + 512)), i * outDim);
    onProgress?.(Math.min(i + 512, n), n);
  }
  const mu = new Float64Array(outDim);
  for (let i = 0; i < n; i++) for (let k = 0; k < outDim; k++) mu[k] += e[i * outDim + k] / n;
  for (let i = 0; i < n; i++) for (let k = 0; k < outDim; k++) e[i * outDim + k] -= mu[k];
  const cov = covariance(e, n, outDim);
  const P = topEigenvectors(cov, outDim, hidden, seed); // [outDim * hidden], column j = direction j
  const rows = new Map();
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const u = new Float32Array(hidden);
    for (let j = 0; j < hidden; j++) {
      let s = 0;
      for (let k = 0; k < outDim; k++) s += P[k * hidden + j] * e[i * outDim + k];
      u[j] = s;
      sq += s * s;
    }
    rows.set(ids[i], u);
  }
  const rms = Math.sqrt(sq / (n * hidden));
  const scale = 0.1 / rms;
  for (const u of rows.values()) for (let j = 0; j < hidden; j++) u[j] *= scale;
  // LayerNorm leaves each token at unit rms per dimension: W = P * rms maps that back.
  const denseWeight = new Float32Array(outDim * hidden);
  for (let k = 0; k < outDim; k++) for (let j = 0; j < hidden; j++) denseWeight[k * hidden + j] = P[k * hidden + j] * rms;
  return { rows, denseWeight, denseBias: Float32Array.from(mu) };
}

function covariance(x, n, d) {
  const c = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) row[k] = x[i * d + k];
    for (let a = 0; a < d; a++) {
      const va = row[a];
      if (va === 0) continue;
      const off = a * d;
      for (let b = a; b < d; b++) c[off + b] += va * row[b];
    }
  }
  for (let a = 0; a < d; a++) for (let b = a; b < d; b++) c[b * d + a] = c[a * d + b] /= n;
  return c;
}

/** Top-m eigenvectors of the symmetric d x d matrix c by orthogonal (subspace) iteration. */
function topEigenvectors(c, d, m, seed) {
  const normal = normalSampler(seed);
  let q = Float64Array.from({ length: d * m }, () => normal());
  orthonormalize(q, d, m);
  for (let it = 0; it < 60; it++) {
    const z = new Float64Array(d * m);
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) {
        const cab = c[a * d + b];
        if (cab === 0) continue;
        const qb = b * m;
        const za = a * m;
        for (let j = 0; j < m; j++) z[za + j] += cab * q[qb + j];
      }
    }
    orthonormalize(z, d, m);
    q = z;
  }
  return Float32Array.from(q);
}

/** Modified Gram-Schmidt on the m columns of the row-major d x m matrix q. */
function orthonormalize(q, d, m) {
  for (let j = 0; j < m; j++) {
    for (let p = 0; p < j; p++) {
      let dot = 0;
      for (let a = 0; a < d; a++) dot += q[a * m + j] * q[a * m + p];
      for (let a = 0; a < d; a++) q[a * m + j] -= dot * q[a * m + p];
    }
    let norm = 0;
    for (let a = 0; a < d; a++) norm += q[a * m + j] ** 2;
    norm = Math.sqrt(norm);
    for (let a = 0; a < d; a++) q[a * m + j] /= norm;
  }
}

module.exports = { teacherTokenInit };
