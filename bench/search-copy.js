#!/usr/bin/env node
'use strict';
/**
 * The main-thread cost of a search (issue #12): every search copies its inputs before returning
 * its promise, so no native worker reads memory JS could detach. Not a test: prints a table and
 * one JSON line.
 *
 *   node bench/search-copy.js [--nc 200000] [--dim 384] [--reps 3]
 *
 * Per repetition: the time semanticSearch(8 queries, corpus) takes to return its promise (checks
 * + the copy), the longest event-loop stall while the search runs (monitorEventLoopDelay), and
 * for scale a plain `corpus.data.slice()` of the same bytes on the same thread.
 */
const { monitorEventLoopDelay } = require('node:perf_hooks');
const os = require('node:os');
const { semanticSearch } = require('../dist/similarity');

const args = { nc: 200000, dim: 384, reps: 3 };
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = Number(process.argv[i + 1]);

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

async function main() {
  const corpus = { data: new Float32Array(args.nc * args.dim), count: args.nc, dim: args.dim };
  for (let i = 0; i < corpus.data.length; i++) corpus.data[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  const queries = { data: corpus.data.slice(0, 8 * args.dim), count: 8, dim: args.dim };
  const rows = [];
  for (let r = 0; r < args.reps; r++) {
    const h = monitorEventLoopDelay({ resolution: 1 });
    let t0 = process.hrtime.bigint();
    const pending = semanticSearch(queries, corpus, { topK: 10 });
    const callMs = ms(t0);
    h.enable();
    t0 = process.hrtime.bigint();
    await pending;
    const searchMs = ms(t0);
    h.disable();
    t0 = process.hrtime.bigint();
    const copy = corpus.data.slice();
    const sliceMs = ms(t0);
    if (copy.length !== corpus.data.length) throw new Error('unreachable');
    rows.push({ callMs, searchMs, stallMs: h.max / 1e6, sliceMs });
  }
  const mb = (corpus.data.byteLength / 1e6).toFixed(0);
  console.log(`semanticSearch(8 x ${args.dim}, ${args.nc} x ${args.dim}) — ${mb} MB corpus; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs`);
  console.log('call returns (ms)  search after (ms)  max stall during search (ms)  data.slice() (ms)');
  for (const r of rows) {
    console.log(`${r.callMs.toFixed(1).padStart(17)}  ${r.searchMs.toFixed(1).padStart(17)}  ${r.stallMs.toFixed(1).padStart(28)}  ${r.sliceMs.toFixed(1).padStart(17)}`);
  }
  console.log(JSON.stringify({ bench: 'search-copy', ...args, loadAverage: os.loadavg()[0], rows }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
