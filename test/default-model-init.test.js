// The default model's teacher-aligned student initialisation (tools/default-model/teacher-init.js),
// with a fake teacher whose embeddings are known: the principal directions it finds, the token
// rows and Dense layer it writes, and that Dense(token row) gives back the teacher's vector.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const { teacherTokenInit } = require('../tools/default-model/teacher-init');
const { rng } = require('./helpers/random');

const OUT = 12;

/** Orthonormal directions a_0..a_{k-1} in R^OUT (Gram-Schmidt of seeded random vectors). */
function directions(k, next) {
  const dirs = [];
  for (let j = 0; j < k; j++) {
    const v = Array.from({ length: OUT }, () => next() - 0.5);
    for (const d of dirs) {
      const dot = v.reduce((s, x, i) => s + x * d[i], 0);
      for (let i = 0; i < OUT; i++) v[i] -= dot * d[i];
    }
    const n = Math.hypot(...v);
    dirs.push(v.map((x) => x / n));
  }
  return dirs;
}

/**
 * A vocabulary of `size` pieces (with specials and "##" pieces) and a fake teacher embedding each
 * text as mu + sum_j scale_j z_j a_j, with z_j fixed per text; records the texts it was asked.
 */
function fakeTeacher({ size, scales, seed }) {
  const next = rng(seed);
  const dirs = directions(scales.length, next);
  const mu = Array.from({ length: OUT }, () => next());
  const vocab = ['[PAD]', '[unused0]', '[CLS]'];
  for (let i = 0; vocab.length < size; i++) vocab.push(i % 5 === 0 ? `##p${i}` : `w${i}`);
  const vectors = new Map();
  const asked = [];
  const vectorOf = (text) => {
    if (!vectors.has(text)) {
      const v = mu.slice();
      scales.forEach((s, j) => {
        const z = s * (next() * 2 - 1);
        for (let i = 0; i < OUT; i++) v[i] += z * dirs[j][i];
      });
      vectors.set(text, v);
    }
    return vectors.get(text);
  };
  const embed = async (texts) => {
    asked.push(...texts);
    const out = new Float32Array(texts.length * OUT);
    texts.forEach((t, r) => out.set(vectorOf(t), r * OUT));
    return out;
  };
  return { vocab, embed, asked, dirs, vectorOf };
}

test('teacher init: rows for every non-special piece ("##" dropped), Dense(row) gives back the teacher vector', async () => {
  const hidden = 4;
  const t = fakeTeacher({ size: 300, scales: [5, 3, 2, 1], seed: 3 });
  const init = await teacherTokenInit({ embed: t.embed, vocab: t.vocab, hidden, outDim: OUT, seed: 1 });
  assert.is(init.rows.size, 297);
  for (const id of [0, 1, 2]) assert.not.ok(init.rows.has(id), `special ${t.vocab[id]} keeps BERT's init`);
  assert.ok(t.asked.includes('p5') && !t.asked.some((s) => s.startsWith('##') || s.startsWith('[')), 'pieces asked without "##", specials never');
  assert.is(init.denseWeight.length, OUT * hidden);
  assert.is(init.denseBias.length, OUT);

  let sq = 0;
  for (const u of init.rows.values()) for (const x of u) sq += x * x;
  assert.ok(Math.abs(Math.sqrt(sq / (init.rows.size * hidden)) - 0.1) < 1e-6, 'rows at per-dimension rms 0.1');

  // The data has rank 4 = hidden, so nothing is lost: (W u) / 0.1 + b = e for every piece.
  let worst = 0;
  for (const [id, u] of init.rows) {
    const token = t.vocab[id];
    const e = t.vectorOf(token.startsWith('##') ? token.slice(2) : token);
    for (let k = 0; k < OUT; k++) {
      let s = 0;
      for (let j = 0; j < hidden; j++) s += init.denseWeight[k * hidden + j] * u[j];
      worst = Math.max(worst, Math.abs(s / 0.1 + init.denseBias[k] - e[k]));
    }
  }
  assert.ok(worst < 1e-3, `reconstruction error ${worst}`);
});

test('teacher init: keeps the top principal directions when the teacher has more than `hidden`', async () => {
  const hidden = 3;
  const t = fakeTeacher({ size: 2000, scales: [8, 6, 4, 1, 0.5, 0.25], seed: 9 });
  const init = await teacherTokenInit({ embed: t.embed, vocab: t.vocab, hidden, outDim: OUT, seed: 2 });
  // Columns of W are orthogonal with a common norm (the rms); they span a_0, a_1, a_2.
  const col = (j) => Array.from({ length: OUT }, (_, k) => init.denseWeight[k * hidden + j]);
  const norms = [0, 1, 2].map((j) => Math.hypot(...col(j)));
  for (const n of norms) assert.ok(Math.abs(n - norms[0]) < 1e-4 * norms[0], `column norms ${norms}`);
  for (let a = 0; a < hidden; a++) {
    for (let b = a + 1; b < hidden; b++) {
      const dot = col(a).reduce((s, x, i) => s + x * col(b)[i], 0) / norms[0] ** 2;
      assert.ok(Math.abs(dot) < 1e-4, `columns ${a},${b} orthogonal (${dot})`);
    }
  }
  for (let j = 0; j < 6; j++) {
    // squared length of a_j's projection onto the span of W's columns: 1 for the top 3, ~0 after
    const inSpan = [0, 1, 2].reduce((s, c) => s + (col(c).reduce((d, x, i) => d + x * t.dirs[j][i], 0) / norms[c]) ** 2, 0);
    if (j < hidden) assert.ok(inSpan > 0.99, `direction ${j} kept (${inSpan})`);
    else assert.ok(inSpan < 0.02, `direction ${j} dropped (${inSpan})`);
  }
});

test.run();
