#!/usr/bin/env node
// Longest event-loop stall while encoding many sentences (issue: "nothing big on the event
// loop"): monitorEventLoopDelay at 1 ms resolution around one `encode` of N STSb sentences.
//   node bench/event-loop.js [--model DIR] [--n 100000]
// Issue 27's bar: p99.9 under 20 ms for 100,000 sentences of the MiniLM-L6 shape
// (--model bench/.models/minilm-l6-random).
'use strict';
const { monitorEventLoopDelay } = require('node:perf_hooks');
const path = require('node:path');
const { SentenceEncoder } = require('../dist');
const { stsSentences } = require('./stsb');

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const n = Number(opt('--n', '100000'));
  const model = opt('--model', path.join(__dirname, '..', 'test', 'fixtures', 'tiny'));
  const base = stsSentences().sentences;
  const texts = Array.from({ length: n }, (_, i) => base[i % base.length]);
  const enc = await SentenceEncoder.load(model, { device: 'cpu' });
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t0 = process.hrtime.bigint();
  const emb = await enc.encode(texts);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  h.disable();
  enc.dispose();
  const result = { sentences: emb.count, encodeMs: Math.round(ms), maxStallMs: +(h.max / 1e6).toFixed(1), p999StallMs: +(h.percentile(99.9) / 1e6).toFixed(1), p99StallMs: +(h.percentile(99) / 1e6).toFixed(1), meanDelayMs: +(h.mean / 1e6).toFixed(2) };
  console.log(JSON.stringify(result));
}
main().catch((e) => { console.error(e); process.exit(1); });
