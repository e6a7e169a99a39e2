#!/usr/bin/env node
'use strict';
/**
 * The exact number of bytes the device tool sends with a command (its README, "Limits": the
 * working tree that travels is the tracked files and the untracked files git does not ignore,
 * the folder shared/ where the checkout has one, and the paths named in `carry`; 64 MiB in all).
 * Sizes are lstat sizes (a symbolic link travels as a link); a tracked file deleted from the
 * working tree does not travel; a file counted once even when two of those sets hold it.
 *
 *   node tools/travel-size.js [--limit-mib 63] [--json] CARRIED_PATH...
 *
 * Prints the total, the largest folders of the tree and every carried file, and exits 1 (after
 * saying what to drop) when the total is above --limit-mib. Run it in the checkout the device
 * tool sends (the session's own, not a helper's worktree).
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const MIB = 1024 * 1024;

function parseArgs(argv) {
  const a = { limitMib: 63, json: false, carry: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--limit-mib') a.limitMib = Number(argv[++i]);
    else if (argv[i] === '--json') a.json = true;
    else if (argv[i].startsWith('--')) throw new Error(`unknown option ${argv[i]}`);
    else a.carry.push(argv[i]);
  }
  if (!(a.limitMib > 0)) throw new Error('--limit-mib must be a positive number');
  return a;
}

/** lstat size of a path, or undefined when nothing is there. */
function sizeOf(file) {
  try {
    const st = fs.lstatSync(file);
    return st.isDirectory() ? undefined : st.size;
  } catch {
    return undefined;
  }
}

/** Every file (and link) under `dir`, as paths relative to the repository root. */
function walk(dir, out) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    const size = sizeOf(dir);
    if (size !== undefined) out.push(dir);
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** { tree: Map(path → bytes), carried: Map(path → bytes), missing: [carried paths not found] }. */
function measure(carry) {
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  })
    .split('\0')
    .filter(Boolean);
  const tree = new Map();
  for (const f of listed) {
    const size = sizeOf(f);
    if (size !== undefined) tree.set(path.normalize(f), size);
  }
  if (fs.existsSync('shared')) {
    for (const f of walk('shared', [])) if (!tree.has(f)) tree.set(f, sizeOf(f));
  }
  const carried = new Map();
  const missing = [];
  for (const c of carry) {
    if (sizeOf(c) === undefined && !fs.existsSync(c)) {
      missing.push(c);
      continue;
    }
    for (const f of walk(path.normalize(c), [])) {
      if (!tree.has(f)) carried.set(f, sizeOf(f));
    }
  }
  return { tree, carried, missing };
}

/** Bytes per folder at `depth` levels (files above that depth count under their own folder). */
function byFolder(files, depth) {
  const out = new Map();
  for (const [f, size] of files) {
    const parts = f.split(path.sep);
    const key = parts.length > depth ? `${parts.slice(0, depth).join('/')}/` : parts.length > 1 ? `${parts.slice(0, -1).join('/')}/` : '(root files)';
    out.set(key, (out.get(key) || 0) + size);
  }
  return [...out].sort((x, y) => y[1] - x[1]);
}

const sum = (m) => [...m.values()].reduce((x, y) => x + y, 0);
const mib = (b) => `${(b / MIB).toFixed(2)} MiB`;

function main() {
  const a = parseArgs(process.argv.slice(2));
  const { tree, carried, missing } = measure(a.carry);
  const treeBytes = sum(tree);
  const carriedBytes = sum(carried);
  const total = treeBytes + carriedBytes;
  const limit = Math.floor(a.limitMib * MIB);
  const report = {
    treeFiles: tree.size,
    treeBytes,
    carriedFiles: carried.size,
    carriedBytes,
    totalBytes: total,
    limitBytes: limit,
    toolLimitBytes: 64 * MIB,
    missingCarried: missing,
    ok: total <= limit && missing.length === 0,
  };
  if (a.json) {
    console.log(JSON.stringify(report));
  } else {
    console.log(`tree (tracked + untracked-not-ignored${fs.existsSync('shared') ? ' + shared/' : ''}): ${tree.size} files, ${treeBytes} bytes (${mib(treeBytes)})`);
    for (const [dir, bytes] of byFolder(tree, 3).slice(0, 8)) console.log(`  ${mib(bytes).padStart(11)}  ${dir}`);
    console.log(`carried (${a.carry.join(', ') || 'nothing'}): ${carried.size} files, ${carriedBytes} bytes (${mib(carriedBytes)})`);
    const carriedList = [...carried].sort((x, y) => y[1] - x[1]);
    for (const [f, bytes] of carriedList.slice(0, 12)) console.log(`  ${mib(bytes).padStart(11)}  ${f}`);
    if (carriedList.length > 12) console.log(`  … and ${carriedList.length - 12} smaller files`);
    console.log(`TOTAL travelling: ${total} bytes = ${mib(total)} (refused above ${a.limitMib} MiB = ${limit} bytes; the tool's limit is 64 MiB)`);
  }
  for (const m of missing) console.error(`carried path ${m} does not exist`);
  if (total > limit) {
    const over = total - limit;
    console.error(`TOO BIG by ${over} bytes (${mib(over)}). Drop one of these (largest first):`);
    const candidates = [...byFolder(tree, 3).map(([d, b]) => [`tree ${d}`, b]), ...[...carried].map(([f, b]) => [`carried ${f}`, b])]
      .sort((x, y) => y[1] - x[1])
      .slice(0, 6);
    for (const [what, bytes] of candidates) console.error(`  ${mib(bytes).padStart(11)}  ${what}${bytes >= over ? '  (enough alone)' : ''}`);
    console.error('  (untracked files: delete or git-ignore them; carried files: rebuild smaller or leave out)');
  }
  process.exit(report.ok ? 0 : 1);
}

main();
